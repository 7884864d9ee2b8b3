using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tagging;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Data;
using MlNet.Rnn.Logging;
using MlNet.Rnn.Models;
using MlNet.Rnn.Scoring;
using MlNet.Rnn.Tagging;

namespace MlNet.Rnn;

/// <summary>
/// Trains a recurrent tagger (many-to-many aligned): the core's <see cref="SequenceTagger"/>, a network that reads every
/// step and gives C logits per step, <c>z[T, C]</c>, minimising softmax cross-entropy over every step,
/// <c>l = −Σ_t log softmax(z_t)_{y_t}</c>, weighted per row. Bidirectional by default, so each step's tag sees the whole
/// sequence. The feature column holds token keys or numeric steps (as the other recurrent trainers read it); the label is a
/// vector of keys aligned with it, one per step (rows with a missing key are skipped). Outputs <c>PredictedLabel</c>, a key
/// vector of the label's key type as long as the input (so <c>MapKeyToValue</c> works), and <c>Score</c>, the softmax of
/// every step, <c>[T·C]</c> step-major. Create it with <c>mlContext.SequenceTagging.Trainers.Rnn/Lstm/Gru</c>.
/// </summary>
public sealed class SequenceTaggingTrainer : ITrainerEstimator<RecurrentPredictionTransformer, RecurrentModelParameters>
{
    /// <summary>Options of <see cref="SequenceTaggingTrainer"/>; the defaults are those of the simple catalog overloads (bidirectional).</summary>
    public sealed class Options : RecurrentTrainerOptions
    {
        /// <summary>Options with the tagger's defaults: <see cref="RecurrentTrainerOptions.Bidirectional"/> true.</summary>
        public Options() => Bidirectional = true;

        internal override void Validate()
        {
            base.Validate();
            Check(HiddenStateColumnName is null, nameof(HiddenStateColumnName), HiddenStateColumnName,
                "is not offered by the tagger (it outputs per-step scores); leave it null");
        }
    }

    private static readonly TrainerInfo s_info = new(normalization: false, caching: false, supportValid: true);
    private readonly IHost _host;

    internal SequenceTaggingTrainer(IHostEnvironment env, RecurrentCellType cell, Options options)
    {
        _host = Contracts.CheckRef(env, nameof(env)).Register(nameof(SequenceTaggingTrainer));
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Cell = cell;
        TrainerOptions = options;
    }

    /// <summary>The cell this trainer trains.</summary>
    public RecurrentCellType Cell { get; }

    /// <summary>The options this trainer was created with.</summary>
    public Options TrainerOptions { get; }

    /// <summary>Needs no normalisation or caching; accepts validation data.</summary>
    public TrainerInfo Info => s_info;

    /// <summary>The input columns plus <c>Score</c> and <c>PredictedLabel</c>; throws naming a missing or mistyped column.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        SequenceColumn.Check(_host, inputSchema, TrainerOptions.FeatureColumnName);
        var label = TagColumn.Check(_host, inputSchema, TrainerOptions.LabelColumnName, "label");
        CheckWeightShape(inputSchema);
        var columns = inputSchema.ToDictionary(column => column.Name);
        foreach (var column in OutputColumns.Shape(RecurrentTask.SequenceTagging, label, null)) columns[column.Name] = column;
        return new SchemaShape(columns.Values);
    }

    /// <summary>Trains on <paramref name="input"/>.</summary>
    public RecurrentPredictionTransformer Fit(IDataView input) => Train(input, null);

    /// <summary>
    /// Trains on <paramref name="trainData"/>, measuring the loss on <paramref name="validationData"/> after every epoch, with early
    /// stopping as <see cref="RecurrentTrainerOptions.EarlyStoppingPatience"/> says.
    /// </summary>
    public RecurrentPredictionTransformer Fit(IDataView trainData, IDataView validationData)
    {
        _host.CheckValue(validationData, nameof(validationData));
        return Train(trainData, validationData);
    }

    private RecurrentPredictionTransformer Train(IDataView trainData, IDataView? validationData)
    {
        var options = TrainerOptions;
        using var channel = _host.Start("Training");
        var data = Prepare(channel, trainData, validationData);
        int seed = options.Seed ?? _host.Rand.Next();
        var tagger = new SequenceTagger(ModelOptions(Cell, options, data, seed));
        var logger = new ProgressLogger(channel, options.Logger);
        Report(channel, string.Create(CultureInfo.InvariantCulture,
            $"{Cell} sequence tagging: {data.Training.Count} training rows{(data.Validation is null ? "" : $", {data.Validation.Count} validation rows")}, " +
            $"{data.OutputSize} tags, {tagger.Model.Parameters.Count} parameters, seed {seed}"));
        var history = tagger.Train(data.Training, data.Validation, options.ToTrainerOptions(seed, data.Validation is not null, logger));
        if (history.StoppedEarly)
            Report(channel, string.Create(CultureInfo.InvariantCulture, $"Stopped early after epoch {history.Epochs.Count}; kept epoch {history.BestEpoch}."));
        return Wrap(data, tagger.Model, history);
    }

    /// <summary>Checks the columns and reads the rows into the core's per-step data sets, once; experiments train many models on them.</summary>
    internal PreparedSequenceData Prepare(IChannel channel, IDataView trainData, IDataView? validationData)
    {
        _host.CheckValue(trainData, nameof(trainData));
        var options = TrainerOptions;
        var schema = trainData.Schema;
        var column = SequenceColumn.FromSchema(_host, schema, options.FeatureColumnName, options.FeaturesPerStep);
        var label = TagColumn.FromSchema(_host, schema, options.LabelColumnName, "label");
        var training = Read(channel, trainData, "training", column, label);
        SequenceDataset? validation = null;
        if (validationData is not null)
        {
            column.CheckMatches(_host, validationData.Schema);
            var validationLabel = TagColumn.FromSchema(_host, validationData.Schema, options.LabelColumnName, "label");
            if (validationLabel.TagCount != label.TagCount)
                throw _host.ExceptSchemaMismatch(nameof(validationData), "label", label.Column.Name, label.Column.Type.ToString(), validationLabel.Column.Type.ToString());
            validation = Read(channel, validationData, "validation", column, validationLabel);
            if (validation.Count == 0) throw _host.Except("The validation data has no usable row (every row had a missing tag); pass rows with tags.");
        }
        if (training.Count == 0)
            throw _host.Except($"The training data has no usable row: every row had a missing tag in '{label.Column.Name}' or a bad weight.");
        return new PreparedSequenceData(column, schema[column.Name].Type, label.Column, label.TagCount, training, validation);
    }

    /// <summary>The tagger's network: the options' shape with one logit per tag at every step.</summary>
    internal static SequenceModelOptions ModelOptions(RecurrentCellType cell, RecurrentTrainerOptions options, PreparedSequenceData data, int seed) =>
        options.ToModelOptions(cell, data.Column.VocabularySize, data.OutputSize, seed) with { Readout = SequenceReadout.EveryStep };

    /// <summary>Wraps a tagger's model trained on <paramref name="data"/> in the transformer <see cref="Fit(IDataView)"/> returns.</summary>
    internal RecurrentPredictionTransformer Wrap(PreparedSequenceData data, SequenceModel model, TrainingHistory? history) =>
        new(_host, RecurrentTask.SequenceTagging, new RecurrentModelParameters(model, history), data.Column, data.FeatureType, data.Label,
            hiddenStateColumnName: null, TrainerOptions.ScoringBatchSize, TrainerOptions.MaxDegreeOfParallelism);

    /// <summary>Reads every row whose tags are all present and whose weight is usable; checks each row's alignment, naming the row.</summary>
    private SequenceDataset Read(IChannel channel, IDataView data, string role, SequenceColumn column, TagColumn label)
    {
        var active = new List<DataViewSchema.Column> { data.Schema[column.Name], label.Column };
        var weight = CheckWeight(data.Schema);
        if (weight is { } w) active.Add(w);
        using var cursor = data.GetRowCursor(active);
        var reader = column.CreateReader(cursor);
        var tags = label.CreateReader(cursor);
        var weightGetter = weight is { } weightColumn ? cursor.GetGetter<float>(weightColumn) : null;
        var dataset = column.Tokens ? TaggedSequences.CreateTokens() : TaggedSequences.CreateSteps(column.FeaturesPerStep);
        var targets = new List<float>();
        long missing = 0, badWeights = 0;
        while (cursor.MoveNext())
        {
            reader.Read(cursor.Position);
            tags.Read();
            tags.CheckAligned(cursor.Position, reader.Steps, column.Name);
            if (tags.HasMissing) { missing++; continue; }
            float rowWeight = 1;
            weightGetter?.Invoke(ref rowWeight);
            if (!(rowWeight >= 0 && float.IsFinite(rowWeight))) { badWeights++; continue; }
            targets.Clear();
            foreach (int tag in tags.Tags) targets.Add(tag);
            if (column.Tokens) dataset.AddTokens(reader.Ids, targets.ToArray(), rowWeight);
            else dataset.Add(reader.Values, targets.ToArray(), rowWeight);
        }
        if (missing > 0 || badWeights > 0)
            Report(channel, string.Create(CultureInfo.InvariantCulture,
                $"Skipped {missing} {role} rows with a missing tag in '{label.Column.Name}' and {badWeights} with a negative or non-finite weight."));
        return dataset;
    }

    private void CheckWeightShape(SchemaShape inputSchema)
    {
        if (TrainerOptions.ExampleWeightColumnName is not { } name) return;
        if (!inputSchema.TryFindColumn(name, out var weight)) throw _host.ExceptSchemaMismatch(nameof(inputSchema), "weight", name);
        if (weight.Kind != SchemaShape.Column.VectorKind.Scalar || weight.IsKey || weight.ItemType != NumberDataViewType.Single)
            throw _host.ExceptSchemaMismatch(nameof(inputSchema), "weight", name, "Single", SequenceColumn.Describe(weight));
    }

    private DataViewSchema.Column? CheckWeight(DataViewSchema schema)
    {
        if (TrainerOptions.ExampleWeightColumnName is not { } name) return null;
        var weight = schema.GetColumnOrNull(name) ?? throw _host.ExceptSchemaMismatch(nameof(schema), "weight", name);
        if (weight.Type != NumberDataViewType.Single) throw _host.ExceptSchemaMismatch(nameof(schema), "weight", name, "Single", weight.Type.ToString());
        return weight;
    }

    private void Report(IChannel channel, string message)
    {
        channel.Info(message);
        TrainerOptions.Logger?.LogInformation("{Message}", message);
    }
}
