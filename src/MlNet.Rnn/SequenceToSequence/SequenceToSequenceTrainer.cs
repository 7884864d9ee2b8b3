using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Data;
using MlNet.Rnn.SequenceToSequence;

namespace MlNet.Rnn;

/// <summary>
/// Trains a recurrent encoder-decoder (many-to-many unaligned, e.g. translation): the core's
/// <see cref="SequenceToSequenceModel"/> with teacher forcing, softmax cross-entropy over every target step and the end
/// token, and Luong or Bahdanau attention. The feature column is the source, a vector of keys (the source vocabulary); the
/// label is the target, a vector of keys of K values (the target vocabulary), given without start and end tokens. Keys are
/// the model's ids by <c>Vocabulary.OfKeys</c> (key 0, missing, is the unknown id 0; the start and end tokens take ids
/// K + 1 and K + 2). Outputs
/// <c>PredictedLabel</c>, a variable-size key vector of the label's key type with its key values (so <c>MapKeyToValue</c>
/// turns it back into tokens), decoded greedily or by beam search up to <see cref="Options.MaximumOutputLength"/> tokens.
/// Create it with <c>mlContext.SequenceToSequence.Trainers.Rnn/Lstm/Gru</c>.
/// </summary>
public sealed class SequenceToSequenceTrainer : RecurrentEstimator<SequenceToSequenceTrainer.Options, SequenceToSequenceTransformer>
{
    /// <summary>
    /// Options of <see cref="SequenceToSequenceTrainer"/>; the defaults are those of the simple catalog overloads. The source
    /// is <see cref="RecurrentTrainerOptionsBase.FeatureColumnName"/>.
    /// </summary>
    public sealed class Options : RecurrentTrainerOptionsBase
    {
        /// <summary>
        /// Options with the sequence-to-sequence defaults: a bidirectional encoder, 128 hidden units (see the catalog's
        /// <c>Lstm</c> for the evidence), early stopping after 5 epochs without a better validation loss.
        /// </summary>
        public Options()
        {
            HiddenSize = 128;
            Bidirectional = true;
        }

        /// <summary>The target column: a vector of keys (the target vocabulary), without start and end tokens.</summary>
        public string LabelColumnName { get; set; } = DefaultColumnNames.Label;

        /// <summary>Whether each encoder layer also reads the source backwards (D = 2; the default); the decoder reads forwards.</summary>
        public bool Bidirectional { get; set; }

        /// <summary>The attention between decoder and encoder: Luong (the default), Bahdanau or None.</summary>
        public AttentionKind Attention { get; set; } = AttentionKind.Luong;

        /// <summary>K: hypotheses kept per decoding step; 1 (the default) is greedy decoding, batched across rows.</summary>
        public int BeamWidth { get; set; } = 1;

        /// <summary>α: beam search ranks finished hypotheses by <c>log P / n^α</c>; 0 favours short outputs.</summary>
        public float LengthNormalization { get; set; } = 1f;

        /// <summary>Most tokens a prediction holds (the end token counts); decoding stops there without an end token.</summary>
        public int MaximumOutputLength { get; set; } = 100;

        /// <summary>LSTM only: when set, the forget-gate bias starts at this value (1 is the usual choice).</summary>
        public float? ForgetGateBias { get; set; }

        /// <summary>ε ∈ [0, 1]: label smoothing of the training loss; 0 is plain cross-entropy.</summary>
        public float LabelSmoothing { get; set; }

        /// <summary>The name of the output column, a key vector of the label's key type.</summary>
        public string PredictedLabelColumnName { get; set; } = DefaultColumnNames.PredictedLabel;

        internal override void Validate()
        {
            base.Validate();
            Check(!string.IsNullOrWhiteSpace(LabelColumnName), nameof(LabelColumnName), LabelColumnName, "must name a column");
            Check(MaximumOutputLength > 0, nameof(MaximumOutputLength), MaximumOutputLength, "must be at least 1 token (the end token counts)");
            Check(!string.IsNullOrWhiteSpace(PredictedLabelColumnName), nameof(PredictedLabelColumnName), PredictedLabelColumnName, "must name a column");
            Check(LabelSmoothing is >= 0f and <= 1f, nameof(LabelSmoothing), LabelSmoothing, "must be in [0, 1]");
            ToDecodingOptions().Validate();
            ToSequenceToSequenceOptions(RecurrentCellType.Lstm, sourceKeys: 1, targetKeys: 1, seed: 0).Validate();
        }

        /// <summary>How the fitted model decodes.</summary>
        internal DecodingOptions ToDecodingOptions() => new()
        {
            BeamWidth = BeamWidth,
            LengthNormalization = LengthNormalization,
            MaxLength = MaximumOutputLength,
        };

        /// <summary>The core model's shape over the ids of the source and target keys (<see cref="Vocabulary.OfKeys"/>).</summary>
        internal SequenceToSequenceOptions ToSequenceToSequenceOptions(RecurrentCellType cell, int sourceKeys, int targetKeys, int seed) =>
            SequenceToSequenceOptions.For(Vocabulary.OfKeys(sourceKeys), Vocabulary.OfKeys(targetKeys)) with
        {
            Cell = cell,
            RnnActivation = RnnActivation,
            EmbeddingSize = EmbeddingSize,
            HiddenSize = HiddenSize,
            Layers = NumberOfLayers,
            Bidirectional = Bidirectional,
            Attention = Attention,
            Dropout = Dropout,
            ForgetGateBias = cell == RecurrentCellType.Lstm ? ForgetGateBias : null,
            Seed = seed,
            MaxDegreeOfParallelism = MaxDegreeOfParallelism,
        };
    }

    internal SequenceToSequenceTrainer(IHostEnvironment env, RecurrentCellType cell, Options options)
        : base(env, nameof(SequenceToSequenceTrainer), cell, options)
    {
    }

    /// <summary>Checks the source and label; adds the predicted label (a variable-size key vector of the label's key type).</summary>
    private protected override IEnumerable<SchemaShape.Column> OutputShape(SchemaShape inputSchema)
    {
        KeyVectorColumn.Check(Host, inputSchema, TrainerOptions.FeatureColumnName, "source (feature)");
        var label = KeyVectorColumn.Check(Host, inputSchema, TrainerOptions.LabelColumnName, "label");
        yield return new SchemaShape.Column(TrainerOptions.PredictedLabelColumnName, SchemaShape.Column.VectorKind.VariableVector, label.ItemType, true,
            new SchemaShape(label.Annotations.Where(a => a.Name == AnnotationUtils.Kinds.KeyValues)));
    }

    private protected override SequenceToSequenceTransformer Train(FitRun run, IDataView trainData, IDataView? validationData)
    {
        var options = TrainerOptions;
        var source = KeyVectorColumn.FromSchema(Host, trainData.Schema, options.FeatureColumnName, "source (feature)");
        var label = KeyVectorColumn.FromSchema(Host, trainData.Schema, options.LabelColumnName, "label");
        int targetKeys = label.KeyCount;
        var sourceKeys = new KeyUsage(source);
        var labelKeys = new KeyUsage(label);
        SequenceCache? training = null, validation = null;
        // Without validation data and without a set number of epochs, a share of the training pairs decides when to stop.
        float holdOut = validationData is null && options.NumberOfEpochs is null ? options.ValidationFraction : 0;
        try
        {
            (training, validation) = Read(run, trainData, "training", source, label, sourceKeys, labelKeys, holdOut);
            if (validation is { ExampleCount: 0 })
            {
                validation.Dispose();
                validation = null;
            }
            if (validationData is not null)
            {
                var validationSource = KeyVectorColumn.FromSchema(Host, validationData.Schema, options.FeatureColumnName, "source (feature)");
                if (validationSource.KeyCount != source.KeyCount)
                    throw Host.ExceptSchemaMismatch(nameof(validationData), "source (feature)", source.Name, source.Describe(),
                        validationData.Schema[source.Name].Type.ToString());
                var validationLabel = KeyVectorColumn.FromSchema(Host, validationData.Schema, options.LabelColumnName, "label");
                if (validationLabel.KeyCount != targetKeys)
                    throw Host.ExceptSchemaMismatch(nameof(validationData), "label", label.Name, label.Describe(), validationData.Schema[label.Name].Type.ToString());
                validation = Read(run, validationData, "validation", validationSource, validationLabel, null, null).Pairs;
                if (validation.ExampleCount == 0) throw Host.Except("The validation data has no row; pass rows or call Fit(trainData).");
            }
            if (training.ExampleCount == 0) throw Host.Except("The training data has no row.");

            labelKeys.WarnIfSparse(run, "label", "logits per decoder step");
            sourceKeys.WarnIfSparse(run, "source", "embedding rows");

            var model = new SequenceToSequenceModel(options.ToSequenceToSequenceOptions(Cell, source.KeyCount, targetKeys, run.Seed));
            var trainingOptions = run.TrainingOptions(validation is not null);
            string length = "";
            if (options.NumberOfEpochs is null)
                (trainingOptions, length) = RecurrentTrainerOptionsBase.AutomaticLength(trainingOptions, training.ExampleCount, validation is not null, "loss");
            bool heldOut = validationData is null && validation is not null;
            // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
            run.ReportStart(string.Create(CultureInfo.InvariantCulture,
                $"{Cell} sequence-to-sequence ({options.Attention} attention): {training.ExampleCount} training pairs" +
                $"{(validation is null ? "" : $", {validation.ExampleCount} validation pairs{(heldOut ? $" (held out: ValidationFraction {options.ValidationFraction:G3} of the training pairs)" : "")}")}" +
                $", {source.KeyCount} source keys, {targetKeys} target keys") +
                TrainingDataStorage.Describe(training, validation) + length,
                model.ParameterCount);
            var trainer = new SequencePairTrainer(model, trainingOptions, options.LabelSmoothing);
            var history = trainer.Train(training, validation, run.CancellationToken);
            run.ReportEnd(history);
            return new SequenceToSequenceTransformer(Host, model, source, trainData.Schema[source.Name].Type, trainData.Schema[label.Name], options.PredictedLabelColumnName,
                options.ToDecodingOptions(), options.ScoringBatchSize, history);
        }
        finally
        {
            training?.Dispose();
            validation?.Dispose();
        }
    }

    /// <summary>
    /// Reads every row as a pair into a cache, in memory up to <see cref="RecurrentTrainerOptionsBase.TrainingDataMemoryMegabytes"/>
    /// and in a temporary file beyond; an empty source or target is an error naming the data, the row and the column. Counts the
    /// keys used on the way when asked. With <paramref name="holdOut"/> &gt; 0, each pair after the first goes to a second cache
    /// instead with that probability, drawn from the seed (the pairs held out to decide when to stop); the two share the budget.
    /// </summary>
    private (SequenceCache Pairs, SequenceCache? HeldOut) Read(FitRun run, IDataView data, string role, KeyVectorColumn source, KeyVectorColumn label,
        KeyUsage? sourceKeys, KeyUsage? labelKeys, float holdOut = 0)
    {
        using var cursor = data.GetRowCursor([data.Schema[source.Name], data.Schema[label.Name]]);
        var sources = source.CreateReader(cursor);
        var targets = label.CreateReader(cursor);
        var split = new HeldOutSplit(holdOut, run.Seed);
        var (budget, heldOutBudget) = split.Budgets(TrainerOptions.TrainingDataMemoryMegabytes * (1L << 20));
        var pairs = SequencePairs.CreateCache(budget, run.Seed);
        var heldOut = holdOut > 0 ? SequencePairs.CreateCache(heldOutBudget, run.Seed) : null;
        try
        {
            while (cursor.MoveNext())
            {
                if ((cursor.Position & 1023) == 0) run.CancellationToken.ThrowIfCancellationRequested();
                int[] sourceIds, targetIds;
                try
                {
                    sourceIds = sources.ReadNonEmpty(cursor.Position, "source");
                    targetIds = targets.ReadNonEmpty(cursor.Position, "target");
                }
                catch (InvalidOperationException exception)
                {
                    throw new InvalidOperationException($"The {role} data: {exception.Message}", exception);
                }
                sourceKeys?.Add(sourceIds);
                labelKeys?.Add(targetIds);
                SequencePairs.AddTo(heldOut is not null && split.HoldsOut(pairs.ExampleCount) ? heldOut : pairs, sourceIds, targetIds);
            }
            pairs.Complete();
            heldOut?.Complete();
            return (pairs, heldOut);
        }
        catch
        {
            pairs.Dispose();
            heldOut?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The keys of a column the training data uses, counted as rows are read, to warn when a key type is far larger than that
    /// (TokenizeIntoCharactersAsKeys gives 65,535 keys): the model has a row per key, so a compact key type trains much faster.
    /// </summary>
    private sealed class KeyUsage(KeyVectorColumn column)
    {
        private readonly HashSet<int>? _used = column.KeyCount < 1024 ? null : [];

        public void Add(int[] ids) => _used?.UnionWith(ids);

        public void WarnIfSparse(FitRun run, string role, string cost)
        {
            if (_used is null || _used.Count * 8 > column.KeyCount) return;
            // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
            string message = string.Create(CultureInfo.InvariantCulture,
                $"The {role} column '{column.Name}' has a key type of {column.KeyCount} keys but the training data uses only {_used.Count}; the model has " +
                $"{(role == "label" ? column.Vocabulary.Count : column.Vocabulary.SourceCount)} {cost}, which makes it slow. Map the tokens to a compact key type first " +
                $"(e.g. MapKeyToValue then MapValueToKey, or TokenizeIntoCharactersAsKeys replaced by a character split and MapValueToKey).");
            run.Warn(message);
        }
    }
}
