using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Logging;

namespace MlNet.Rnn;

/// <summary>
/// Trains a recurrent language model (one-to-many): the core's <see cref="LanguageModel"/>, next-token prediction over the
/// characters (or white-space separated tokens) of a text column, each row a document read as <c>start, tokens, end</c>,
/// the rows one after another as B streams of k-step chunks with the state carried (truncated BPTT). The vocabulary is
/// built from the training rows in a first pass over them, and a second encodes them; no text is kept. The fitted
/// <see cref="LanguageModelTransformer"/> generates text and adds per-row scores. Create it with
/// <c>mlContext.LanguageModeling.Trainers.Rnn/Lstm/Gru</c>.
/// </summary>
public sealed class LanguageModelTrainer : RecurrentEstimator<LanguageModelTrainer.Options, LanguageModelTransformer>
{
    /// <summary>
    /// Options of <see cref="LanguageModelTrainer"/>; the defaults are those of the simple catalog overloads. The text column is
    /// <see cref="InputColumnName"/> (the same as <see cref="RecurrentTrainerOptionsBase.FeatureColumnName"/>). The text is read
    /// as <see cref="RecurrentTrainerOptionsBase.BatchSize"/> streams side by side, in chunks of <see cref="ChunkSteps"/> steps;
    /// <see cref="RecurrentTrainerOptionsBase.Shuffle"/> starts every epoch's streams at a random offset, so chunk boundaries
    /// move; <see cref="RecurrentTrainerOptionsBase.BucketByLength"/> does not apply. The ids of the text are held in memory up to
    /// <see cref="RecurrentTrainerOptionsBase.TrainingDataMemoryMegabytes"/> (4 bytes each, training and validation each within
    /// it); beyond it they go to a temporary file in the order of the rows, deleted when <c>Fit</c> returns, and every chunk reads
    /// its k + 1 ids per stream from it: the same model as in memory, in memory bounded whatever the text's size.
    /// </summary>
    public sealed class Options : RecurrentTrainerOptionsBase
    {
        /// <summary>Options with the language-model defaults (H = 128, learning rate 2e-3, forget-gate bias 1).</summary>
        public Options()
        {
            FeatureColumnName = "Text";
            HiddenSize = 128;
            LearningRate = 2e-3f;
        }

        /// <summary>The text column (String); another name for <see cref="RecurrentTrainerOptionsBase.FeatureColumnName"/>.</summary>
        public string InputColumnName { get => FeatureColumnName; set => FeatureColumnName = value; }

        /// <summary>Whether the state every stream starts from is learned rather than zeros.</summary>
        public bool LearnedInitialState { get; set; }

        /// <summary>Characters (the default) or white-space separated tokens.</summary>
        public VocabularyLevel Level { get; set; } = VocabularyLevel.Characters;

        /// <summary>Characters or tokens seen fewer times in the training data are read as unknown.</summary>
        public int MinimumTokenCount { get; set; } = 1;

        /// <summary>k: steps per chunk; gradients flow back at most k steps.</summary>
        public int ChunkSteps { get; set; } = 64;

        /// <summary>Most streams of the per-epoch validation.</summary>
        public int ValidationStreams { get; set; } = 32;

        /// <summary>LSTM only: the forget-gate bias starts at this value; null for the default initialisation.</summary>
        public float? ForgetGateBias { get; set; } = 1f;

        internal override void Validate()
        {
            base.Validate();
            Check(Level is VocabularyLevel.Characters or VocabularyLevel.Tokens, nameof(Level), Level, "must be Characters or Tokens (text is read as characters or words)");
            Check(MinimumTokenCount >= 1, nameof(MinimumTokenCount), MinimumTokenCount, "must be at least 1");
            ToLanguageModelTrainingOptions(RecurrentCellType.Lstm, seed: 0, hasValidationData: true, logger: null).Validate(hasValidationData: true);
        }

        /// <summary>The network's shape for the core: V-way embedding and head, every step read out.</summary>
        internal SequenceModelOptions ToLanguageModelOptions(RecurrentCellType cell, int vocabularySize, int seed) => new()
        {
            Cell = cell,
            RnnActivation = RnnActivation,
            VocabularySize = vocabularySize,
            EmbeddingSize = EmbeddingSize,
            HiddenSize = HiddenSize,
            Layers = NumberOfLayers,
            Dropout = Dropout,
            LearnedInitialState = LearnedInitialState,
            OutputSize = vocabularySize,
            Readout = SequenceReadout.EveryStep,
            ForgetGateBias = cell == RecurrentCellType.Lstm ? ForgetGateBias : null,
            Seed = seed,
            MaxDegreeOfParallelism = MaxDegreeOfParallelism,
        };

        /// <summary>The core's training settings; early stopping and reduce-on-plateau only with validation data.</summary>
        internal LanguageModelTrainingOptions ToLanguageModelTrainingOptions(RecurrentCellType cell, int seed, bool hasValidationData, ILogger? logger) => new()
        {
            Training = ToTrainerOptions(cell, seed, hasValidationData, logger),
            ChunkSteps = ChunkSteps,
            ValidationStreams = ValidationStreams,
        };
    }

    internal LanguageModelTrainer(IHostEnvironment env, RecurrentCellType cell, Options options)
        : base(env, nameof(LanguageModelTrainer), cell, options)
    {
    }

    /// <summary>The input columns plus the per-row scores (Single): log-likelihood, token count, bits per token, perplexity.</summary>
    private protected override IEnumerable<SchemaShape.Column> OutputShape(SchemaShape inputSchema)
    {
        string name = TrainerOptions.InputColumnName;
        if (!inputSchema.TryFindColumn(name, out var column)) throw Host.ExceptSchemaMismatch(nameof(inputSchema), "text (input)", name);
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not TextDataViewType)
            throw Host.ExceptSchemaMismatch(nameof(inputSchema), "text (input)", name, "String", column.GetTypeString());
        return LanguageModelTransformer.ScoreColumnNames.Select(score =>
            new SchemaShape.Column(score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false));
    }

    private protected override LanguageModelTransformer Train(FitRun run, IDataView trainData, IDataView? validationData)
    {
        var options = TrainerOptions;
        // Two passes over the rows, none of them kept: the vocabulary counts the characters (or tokens), then every row is
        // encoded into a store, in memory up to TrainingDataMemoryMegabytes and in a temporary file beyond.
        var trainingColumn = LanguageModelTransformer.CheckInput(Host, trainData.Schema, options.InputColumnName, nameof(trainData));
        var validationColumn = validationData is null ? default(DataViewSchema.Column?)
            : LanguageModelTransformer.CheckInput(Host, validationData.Schema, options.InputColumnName, nameof(validationData));
        var texts = LanguageModelTransformer.ReadTexts(trainData, trainingColumn, run.CancellationToken);
        var vocabulary = options.Level == VocabularyLevel.Characters
            ? Vocabulary.FromCharacters(texts, options.MinimumTokenCount)
            : Vocabulary.FromTokens(texts, options.MinimumTokenCount);
        using var training = Store(vocabulary, "training", texts);
        if (training.DocumentCount == 0) throw Host.Except("The training data has no row; give rows of text to learn from.");
        using var validation = validationData is null ? null
            : Store(vocabulary, "validation", LanguageModelTransformer.ReadTexts(validationData, validationColumn!.Value, run.CancellationToken));
        if (validation?.DocumentCount == 0) throw Host.Except("The validation data has no row; pass rows or call Fit(trainData).");
        if (vocabulary.Count == Vocabulary.ReservedCount)
            throw Host.Except($"The training data's column '{options.InputColumnName}' holds no {(options.Level == VocabularyLevel.Characters ? "character" : "token")}" +
                $"{(options.MinimumTokenCount > 1 ? $" seen at least {options.MinimumTokenCount} times" : "")}; give text to learn from.");

        var model = new LanguageModel(vocabulary, options.ToLanguageModelOptions(Cell, vocabulary.Count, run.Seed));
        // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
        run.ReportStart(string.Create(CultureInfo.InvariantCulture,
            $"{Cell} language model ({options.Level}): {training.DocumentCount} training rows{(validation is null ? "" : $", {validation.DocumentCount} validation rows")}, " +
            $"{vocabulary.Count} ids{Storage(training, validation)}"), model.Model.Parameters.Count);
        TrainingHistory history;
        try
        {
            history = model.Train(training, validation, options.ToLanguageModelTrainingOptions(Cell, run.Seed, validation is not null, run.Logger),
                run.CancellationToken);
        }
        catch (ArgumentException exception)
        {
            throw Host.Except(exception, $"Language-model training on column '{options.InputColumnName}' failed: {exception.Message}");
        }
        run.ReportEnd(history);
        return new LanguageModelTransformer(Host, model, options.InputColumnName, history);
    }

    /// <summary>Every row's ids in a store of <see cref="RecurrentTrainerOptionsBase.TrainingDataMemoryMegabytes"/>.</summary>
    private TokenStore Store(Vocabulary vocabulary, string role, IEnumerable<string> texts)
    {
        var store = new TokenStore(vocabulary, role, TrainerOptions.TrainingDataMemoryMegabytes * (1L << 20));
        try
        {
            foreach (string text in texts) store.Add(vocabulary.Encode(text));
            store.Complete();
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Where the ids are held, for the log: nothing when in memory.</summary>
    private static string Storage(TokenStore training, TokenStore? validation) =>
        TrainingDataStorage.Describe(training.BytesOnDisk + (validation?.BytesOnDisk ?? 0), training.FilePath ?? validation?.FilePath, "chunk");
}
