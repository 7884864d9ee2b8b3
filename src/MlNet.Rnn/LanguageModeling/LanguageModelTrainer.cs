using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Logging;

namespace MlNet.Rnn;

/// <summary>
/// Trains a recurrent language model (one-to-many): the core's <see cref="LanguageModel"/>, next-token prediction over the
/// characters (or white-space separated tokens) of a text column, each row a document read as <c>start, tokens, end</c>,
/// the rows one after another as B streams of k-step chunks with the state carried (truncated BPTT). The vocabulary is
/// built from the training rows. The fitted <see cref="LanguageModelTransformer"/> generates text and adds per-row scores.
/// Create it with <c>mlContext.LanguageModeling.Trainers.Rnn/Lstm/Gru</c>.
/// </summary>
public sealed class LanguageModelTrainer : IEstimator<LanguageModelTransformer>
{
    /// <summary>
    /// Options of <see cref="LanguageModelTrainer"/>; the defaults are those of the simple catalog overloads. The text column is
    /// <see cref="InputColumnName"/> (the same as <see cref="RecurrentTrainerOptions.FeatureColumnName"/>); the label, batch
    /// size, shuffling and bucketing do not apply (the text is read as <see cref="Streams"/> streams in order).
    /// </summary>
    public sealed class Options : RecurrentTrainerOptions
    {
        /// <summary>Options with the language-model defaults (H = 128, learning rate 2e-3, forget-gate bias 1).</summary>
        public Options()
        {
            FeatureColumnName = "Text";
            HiddenSize = 128;
            LearningRate = 2e-3f;
        }

        /// <summary>The text column (String); another name for <see cref="RecurrentTrainerOptions.FeatureColumnName"/>.</summary>
        public string InputColumnName { get => FeatureColumnName; set => FeatureColumnName = value; }

        /// <summary>Characters (the default) or white-space separated tokens.</summary>
        public VocabularyLevel Level { get; set; } = VocabularyLevel.Characters;

        /// <summary>Characters or tokens seen fewer times in the training data are read as unknown.</summary>
        public int MinimumTokenCount { get; set; } = 1;

        /// <summary>k: steps per chunk; gradients flow back at most k steps.</summary>
        public int ChunkSteps { get; set; } = 64;

        /// <summary>B: contiguous pieces of the training text read side by side.</summary>
        public int Streams { get; set; } = 32;

        /// <summary>Stop training once this much time has passed; null for no limit.</summary>
        public TimeSpan? MaxTrainingTime { get; set; }

        /// <summary>The clock <see cref="MaxTrainingTime"/> is measured on; leave it <see cref="System.TimeProvider.System"/> (tests give a fake clock).</summary>
        public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

        /// <summary>Start every epoch's streams at a random offset, so chunk boundaries move.</summary>
        public bool RandomOffsets { get; set; } = true;

        /// <summary>Most streams of the per-epoch validation.</summary>
        public int ValidationStreams { get; set; } = 32;

        /// <summary>LSTM only: the forget-gate bias starts at this value; null for the default initialisation.</summary>
        public float? ForgetGateBias { get; set; } = 1f;

        internal override void Validate()
        {
            base.Validate();
            Check(ExampleWeightColumnName is null, nameof(ExampleWeightColumnName), ExampleWeightColumnName, "is not supported by language modeling; leave it null");
            Check(HiddenStateColumnName is null, nameof(HiddenStateColumnName), HiddenStateColumnName, "is not offered by the language model; leave it null");
            Check(!Bidirectional, nameof(Bidirectional), Bidirectional, "does not apply: a language model reads left to right");
            Check(RecurrentDropout == 0, nameof(RecurrentDropout), RecurrentDropout, "is not supported by the language model; use Dropout");
            Check(Enum.IsDefined(Level), nameof(Level), Level, "must be Characters or Tokens");
            Check(MinimumTokenCount >= 1, nameof(MinimumTokenCount), MinimumTokenCount, "must be at least 1");
            ToLanguageModelTrainingOptions(seed: 0, hasValidationData: true, logger: null).Validate(hasValidationData: true);
        }

        /// <summary>The network's shape for the core: V-way embedding and head, every step read out.</summary>
        internal SequenceModelOptions ToLanguageModelOptions(RecurrentCellType cell, int vocabularySize, int seed) =>
            ToModelOptions(cell, vocabularySize, vocabularySize, seed) with
            {
                FeaturesPerStep = 1,
                Readout = SequenceReadout.EveryStep,
                ForgetGateBias = cell == RecurrentCellType.Lstm ? ForgetGateBias : null,
            };

        /// <summary>The core's training settings; early stopping and reduce-on-plateau only with validation data.</summary>
        internal LanguageModelTrainingOptions ToLanguageModelTrainingOptions(int seed, bool hasValidationData, ILogger? logger) => new()
        {
            Training = ToTrainerOptions(seed, hasValidationData, logger) with { BatchSize = Streams, Shuffle = RandomOffsets, MaxTrainingTime = MaxTrainingTime, TimeProvider = TimeProvider },
            ChunkSteps = ChunkSteps,
            ValidationStreams = ValidationStreams,
        };
    }

    private readonly IHost _host;

    internal LanguageModelTrainer(IHostEnvironment env, RecurrentCellType cell, Options options)
    {
        _host = Contracts.CheckRef(env, nameof(env)).Register(nameof(LanguageModelTrainer));
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Cell = cell;
        TrainerOptions = options;
    }

    /// <summary>The recurrent cell.</summary>
    public RecurrentCellType Cell { get; }

    /// <summary>The options this trainer was created with.</summary>
    public Options TrainerOptions { get; }

    /// <summary>The input columns plus the per-row scores (Single): log-likelihood, token count, bits per token, perplexity.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        string name = TrainerOptions.InputColumnName;
        if (!inputSchema.TryFindColumn(name, out var column)) throw _host.ExceptSchemaMismatch(nameof(inputSchema), "text (input)", name);
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not TextDataViewType)
            throw _host.ExceptSchemaMismatch(nameof(inputSchema), "text (input)", name, "String", column.GetTypeString());
        var columns = inputSchema.ToDictionary(c => c.Name);
        foreach (string score in LanguageModelTransformer.ScoreColumnNames)
            columns[score] = new SchemaShape.Column(score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false);
        return new SchemaShape(columns.Values);
    }

    /// <summary>Trains on the text column of <paramref name="input"/>.</summary>
    public LanguageModelTransformer Fit(IDataView input) => Train(input, null);

    /// <summary>
    /// Trains on <paramref name="trainData"/>, measuring the loss on <paramref name="validationData"/> after every epoch, with
    /// early stopping (which keeps the best epoch's weights) as <see cref="RecurrentTrainerOptions.EarlyStoppingPatience"/> says.
    /// </summary>
    public LanguageModelTransformer Fit(IDataView trainData, IDataView validationData)
    {
        _host.CheckValue(validationData, nameof(validationData));
        return Train(trainData, validationData);
    }

    private LanguageModelTransformer Train(IDataView trainData, IDataView? validationData)
    {
        _host.CheckValue(trainData, nameof(trainData));
        var options = TrainerOptions;
        using var channel = _host.Start("Training");
        var training = LanguageModelTransformer.ReadTexts(_host, trainData, options.InputColumnName, nameof(trainData));
        if (training.Count == 0) throw _host.Except("The training data has no row; give rows of text to learn from.");
        List<string>? validation = null;
        if (validationData is not null)
        {
            validation = LanguageModelTransformer.ReadTexts(_host, validationData, options.InputColumnName, nameof(validationData));
            if (validation.Count == 0) throw _host.Except("The validation data has no row; pass rows or call Fit(trainData).");
        }

        var vocabulary = options.Level == VocabularyLevel.Characters
            ? Vocabulary.FromCharacters(training, options.MinimumTokenCount)
            : Vocabulary.FromTokens(training, options.MinimumTokenCount);
        if (vocabulary.Count == Vocabulary.ReservedCount)
            throw _host.Except($"The training data's column '{options.InputColumnName}' holds no {(options.Level == VocabularyLevel.Characters ? "character" : "token")}" +
                $"{(options.MinimumTokenCount > 1 ? $" seen at least {options.MinimumTokenCount} times" : "")}; give text to learn from.");

        int seed = options.Seed ?? _host.Rand.Next();
        var model = new LanguageModel(vocabulary, options.ToLanguageModelOptions(Cell, vocabulary.Count, seed));
        var logger = new ProgressLogger(channel, options.Logger);
        Report(channel, string.Create(CultureInfo.InvariantCulture,
            $"{Cell} language model ({options.Level}): {training.Count} training rows{(validation is null ? "" : $", {validation.Count} validation rows")}, " +
            $"{vocabulary.Count} ids, {model.Model.Parameters.Count} parameters, seed {seed}"));
        TrainingHistory history;
        try
        {
            history = model.Train(training, validation, options.ToLanguageModelTrainingOptions(seed, validation is not null, logger));
        }
        catch (ArgumentException exception)
        {
            throw _host.Except(exception, $"Language-model training on column '{options.InputColumnName}' failed: {exception.Message}");
        }
        if (history.StoppedEarly)
            Report(channel, string.Create(CultureInfo.InvariantCulture, $"Stopped early after epoch {history.Epochs.Count}; kept epoch {history.BestEpoch}."));
        return new LanguageModelTransformer(_host, model, options.InputColumnName, history);
    }

    private void Report(IChannel channel, string message)
    {
        channel.Info(message);
        TrainerOptions.Logger?.LogInformation("{Message}", message);
    }
}
