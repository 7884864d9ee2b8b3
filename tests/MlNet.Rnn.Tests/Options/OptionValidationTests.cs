using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Tests.Options;

/// <summary>
/// The options every recurrent trainer shares are refused where an ML.NET user meets them, when the catalog creates the
/// trainer: for every options class (binary, multiclass, regression, tagging, language model, sequence-to-sequence,
/// forecaster), a value just outside each checked range throws <see cref="ArgumentOutOfRangeException"/> whose
/// <c>ParamName</c> is the property, whose <c>ActualValue</c> is the value and whose message is the edge's own
/// ("<c>HiddenSize = 0 must be at least 1.</c>"), not a later error of the core; the boundary value itself is accepted.
/// Values only the core refuses (a recurrent dropout of 1, β1 = 1) are refused at construction too, with the core's message.
/// </summary>
public sealed class OptionValidationTests
{
    private static readonly MLContext s_mlContext = new(seed: 1);

    /// <summary>Options classes deriving from <see cref="RecurrentTrainerOptions"/> (label, weight, steps, hidden-state column).</summary>
    private static readonly string[] s_labelledKinds = ["binary", "multiclass", "regression", "tagging"];

    /// <summary>Every options class: the labelled ones and the other <see cref="RecurrentTrainerOptionsBase"/> classes.</summary>
    private static readonly string[] s_allKinds = [.. s_labelledKinds, "language model", "sequence to sequence", "forecasting"];

    /// <summary>New options of <paramref name="kind"/> with their defaults.</summary>
    private static RecurrentTrainerOptionsBase NewOptions(string kind) => kind switch
    {
        "binary" => new RecurrentBinaryTrainer.Options(),
        "multiclass" => new RecurrentMulticlassTrainer.Options(),
        "regression" => new RecurrentRegressionTrainer.Options(),
        "tagging" => new SequenceTaggingTrainer.Options(),
        "language model" => new LanguageModelTrainer.Options(),
        "sequence to sequence" => new SequenceToSequenceTrainer.Options(),
        "forecasting" => new RecurrentForecastingEstimator.Options(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown kind"),
    };

    /// <summary>Creates the trainer through its ML.NET catalog (the cell varies with the kind) and returns the options it keeps.</summary>
    private static RecurrentTrainerOptionsBase CreateTrainer(RecurrentTrainerOptionsBase options) => options switch
    {
        RecurrentBinaryTrainer.Options binary => s_mlContext.BinaryClassification.Trainers.Lstm(binary).TrainerOptions,
        RecurrentMulticlassTrainer.Options multiclass => s_mlContext.MulticlassClassification.Trainers.Gru(multiclass).TrainerOptions,
        RecurrentRegressionTrainer.Options regression => s_mlContext.Regression.Trainers.Rnn(regression).TrainerOptions,
        SequenceTaggingTrainer.Options tagging => s_mlContext.SequenceTagging.Trainers.Lstm(tagging).TrainerOptions,
        LanguageModelTrainer.Options language => s_mlContext.LanguageModeling.Trainers.Gru(language).TrainerOptions,
        SequenceToSequenceTrainer.Options translation => s_mlContext.SequenceToSequence.Trainers.Rnn(translation).TrainerOptions,
        RecurrentForecastingEstimator.Options forecasting => s_mlContext.Forecasting.ForecastByLstm(forecasting).TrainerOptions,
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.GetType().Name, "unknown options"),
    };

    /// <summary>An invalid value: how to set it, the property named, the value reported and the edge's exact message.</summary>
    private sealed record Refusal(Action<RecurrentTrainerOptionsBase> Set, string ParamName, object? ActualValue, string Message);

    private static Refusal Base(Action<RecurrentTrainerOptionsBase> set, string name, object? value, string text, string rule) =>
        new(set, name, value, $"{name} = {text} {rule}.");

    private static Refusal Labelled(Action<RecurrentTrainerOptions> set, string name, object? value, string text, string rule) =>
        new(options => set((RecurrentTrainerOptions)options), name, value, $"{name} = {text} {rule}.");

    /// <summary>Every check of <see cref="RecurrentTrainerOptionsBase"/>, each just outside its range (both sides where it has two).</summary>
    private static readonly Dictionary<string, Refusal> s_baseRefusals = new()
    {
        ["FeatureColumnName null"] = Base(o => o.FeatureColumnName = null!, "FeatureColumnName", null, "null", "must name a column"),
        ["FeatureColumnName empty"] = Base(o => o.FeatureColumnName = "", "FeatureColumnName", "", "", "must name a column"),
        ["FeatureColumnName blank"] = Base(o => o.FeatureColumnName = "  ", "FeatureColumnName", "  ", "  ", "must name a column"),
        ["HiddenSize 0"] = Base(o => o.HiddenSize = 0, "HiddenSize", 0, "0", "must be at least 1"),
        ["NumberOfLayers 0"] = Base(o => o.NumberOfLayers = 0, "NumberOfLayers", 0, "0", "must be at least 1"),
        ["NumberOfEpochs 0"] = Base(o => o.NumberOfEpochs = 0, "NumberOfEpochs", 0, "0", "must be at least 1, or null to decide automatically"),
        ["ValidationFraction -0.1"] = Base(o => o.ValidationFraction = -0.1f, "ValidationFraction", -0.1f, "-0.1", "must be in [0, 1)"),
        ["ValidationFraction 1"] = Base(o => o.ValidationFraction = 1, "ValidationFraction", 1f, "1", "must be in [0, 1)"),
        ["BatchSize 0"] = Base(o => o.BatchSize = 0, "BatchSize", 0, "0", "must be at least 1"),
        ["LearningRate 0"] = Base(o => o.LearningRate = 0, "LearningRate", 0f, "0", "must be a positive finite number (try 1e-3), or null for the default"),
        ["LearningRate -1e-3"] = Base(o => o.LearningRate = -1e-3f, "LearningRate", -1e-3f, "-0.001", "must be a positive finite number (try 1e-3), or null for the default"),
        ["LearningRate +Infinity"] = Base(o => o.LearningRate = float.PositiveInfinity, "LearningRate", float.PositiveInfinity, "Infinity",
            "must be a positive finite number (try 1e-3), or null for the default"),
        ["LearningRate NaN"] = Base(o => o.LearningRate = float.NaN, "LearningRate", float.NaN, "NaN", "must be a positive finite number (try 1e-3), or null for the default"),
        ["RnnActivation 99"] = Base(o => o.RnnActivation = (RnnActivation)99, "RnnActivation", (RnnActivation)99, "99", "must be Tanh, Relu or Sigmoid"),
        ["EmbeddingSize 0"] = Base(o => o.EmbeddingSize = 0, "EmbeddingSize", 0, "0", "must be at least 1"),
        ["Dropout -0.1"] = Base(o => o.Dropout = -0.1f, "Dropout", -0.1f, "-0.1", "must be in [0, 1)"),
        ["Dropout 1"] = Base(o => o.Dropout = 1, "Dropout", 1f, "1", "must be in [0, 1)"),
        ["MaxDegreeOfParallelism 0"] = Base(o => o.MaxDegreeOfParallelism = 0, "MaxDegreeOfParallelism", 0, "0", "must be at least 1"),
        ["ScoringBatchSize 0"] = Base(o => o.ScoringBatchSize = 0, "ScoringBatchSize", 0, "0", "must be at least 1"),
        ["EarlyStoppingPatience -1"] = Base(o => o.EarlyStoppingPatience = -1, "EarlyStoppingPatience", -1, "-1", "must be ≥ 0 (0 = off)"),
        ["TimeProvider null"] = Base(o => o.TimeProvider = null!, "TimeProvider", null, "null", "must be a clock; leave it TimeProvider.System"),
    };

    /// <summary>Every check <see cref="RecurrentTrainerOptions"/> adds.</summary>
    private static readonly Dictionary<string, Refusal> s_labelledRefusals = new()
    {
        ["LabelColumnName null"] = Labelled(o => o.LabelColumnName = null!, "LabelColumnName", null, "null", "must name a column"),
        ["LabelColumnName empty"] = Labelled(o => o.LabelColumnName = "", "LabelColumnName", "", "", "must name a column"),
        ["LabelColumnName blank"] = Labelled(o => o.LabelColumnName = " ", "LabelColumnName", " ", " ", "must name a column"),
        ["ExampleWeightColumnName empty"] = Labelled(o => o.ExampleWeightColumnName = "", "ExampleWeightColumnName", "", "",
            "must name a column, or be null for none"),
        ["ExampleWeightColumnName blank"] = Labelled(o => o.ExampleWeightColumnName = " \t", "ExampleWeightColumnName", " \t", " \t",
            "must name a column, or be null for none"),
        ["HiddenStateColumnName empty"] = Labelled(o => o.HiddenStateColumnName = "", "HiddenStateColumnName", "", "",
            "must name a column, or be null for none"),
        ["HiddenStateColumnName blank"] = Labelled(o => o.HiddenStateColumnName = "  ", "HiddenStateColumnName", "  ", "  ",
            "must name a column, or be null for none"),
        ["FeaturesPerStep 0"] = Labelled(o => o.FeaturesPerStep = 0, "FeaturesPerStep", 0, "0", "must be at least 1"),
        // Refused by the core's training options, in its words, before the checks that read them.
        ["TruncatedBpttSteps -1"] = new(o => ((RecurrentTrainerOptions)o).TruncatedBpttSteps = -1, "TruncatedBpttSteps", -1,
            "TruncatedBpttSteps is -1; it must be ≥ 0 (0 = off)."),
        ["MaxBatchMemoryMegabytes -1"] = new(o => ((RecurrentTrainerOptions)o).MaxBatchMemoryMegabytes = -1, "MaxBatchMemoryMegabytes", -1,
            "MaxBatchMemoryMegabytes is -1; it must be ≥ 0 (0 = half of the available memory)."),
        ["Readout EveryStep"] = Labelled(o => o.Readout = SequenceReadout.EveryStep, "Readout", SequenceReadout.EveryStep, "EveryStep",
            "must be LastStep or MeanOverSteps, or null for the task's default (the tagger reads every step)"),
    };

    public static TheoryData<string, string> BaseRefusals => Cases(s_allKinds, s_baseRefusals.Keys);

    public static TheoryData<string, string> LabelledRefusals => Cases(s_labelledKinds, s_labelledRefusals.Keys);

    private static TheoryData<string, string> Cases(IEnumerable<string> kinds, IEnumerable<string> names)
    {
        var data = new TheoryData<string, string>();
        foreach (string kind in kinds)
            foreach (string name in names)
                data.Add(kind, name);
        return data;
    }

    /// <summary>The message without the lines <see cref="ArgumentOutOfRangeException"/> appends (parameter and actual value).</summary>
    private static string OwnMessage(ArgumentException error) => error.Message[..error.Message.IndexOf(" (Parameter '", StringComparison.Ordinal)];

    private static void AssertRefused(string kind, Refusal refusal)
    {
        var options = NewOptions(kind);
        refusal.Set(options);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => CreateTrainer(options));

        Assert.Equal(refusal.ParamName, error.ParamName);
        Assert.Equal(refusal.ActualValue, error.ActualValue);
        Assert.Equal(refusal.Message, OwnMessage(error));
    }

    [Theory]
    [MemberData(nameof(BaseRefusals))]
    public void ASharedOptionOutsideItsRangeIsRefusedByNameWhenTheCatalogCreatesTheTrainer(string kind, string refusal) =>
        AssertRefused(kind, s_baseRefusals[refusal]);

    [Theory]
    [MemberData(nameof(LabelledRefusals))]
    public void ALabelledOptionOutsideItsRangeIsRefusedByNameWhenTheCatalogCreatesTheTrainer(string kind, string refusal) =>
        AssertRefused(kind, s_labelledRefusals[refusal]);

    /// <summary>The value at each boundary, or a valid value where the check is "names a column".</summary>
    private static readonly Dictionary<string, Action<RecurrentTrainerOptionsBase>> s_baseBoundaries = new()
    {
        ["FeatureColumnName x"] = o => o.FeatureColumnName = "x",
        ["HiddenSize 1"] = o => o.HiddenSize = 1,
        ["NumberOfLayers 1"] = o => o.NumberOfLayers = 1,
        ["NumberOfEpochs 1"] = o => o.NumberOfEpochs = 1,
        ["BatchSize 1"] = o => o.BatchSize = 1,
        ["LearningRate epsilon"] = o => o.LearningRate = float.Epsilon,
        ["RnnActivation Sigmoid"] = o => o.RnnActivation = RnnActivation.Sigmoid,
        ["EmbeddingSize 1"] = o => o.EmbeddingSize = 1,
        ["Dropout 0"] = o => o.Dropout = 0,
        ["Dropout below 1"] = o => o.Dropout = MathF.BitDecrement(1f),
        ["MaxDegreeOfParallelism 1"] = o => o.MaxDegreeOfParallelism = 1,
        ["ScoringBatchSize 1"] = o => o.ScoringBatchSize = 1,
        ["EarlyStoppingPatience 0"] = o => o.EarlyStoppingPatience = 0,
    };

    private static readonly Dictionary<string, Action<RecurrentTrainerOptions>> s_labelledBoundaries = new()
    {
        ["LabelColumnName x"] = o => o.LabelColumnName = "x",
        ["ExampleWeightColumnName null"] = o => o.ExampleWeightColumnName = null,
        ["ExampleWeightColumnName x"] = o => o.ExampleWeightColumnName = "x",
        ["HiddenStateColumnName null"] = o => o.HiddenStateColumnName = null,
        ["HiddenStateColumnName x"] = o => o.HiddenStateColumnName = "x",
        ["FeaturesPerStep 1"] = o => o.FeaturesPerStep = 1,
    };

    public static TheoryData<string, string> BaseBoundaries => Cases(s_allKinds, s_baseBoundaries.Keys);

    public static TheoryData<string, string> LabelledBoundaries => Cases(s_labelledKinds, s_labelledBoundaries.Keys);

    [Theory]
    [MemberData(nameof(BaseBoundaries))]
    public void ASharedOptionAtItsBoundaryIsAccepted(string kind, string boundary)
    {
        var options = NewOptions(kind);
        s_baseBoundaries[boundary](options);

        Assert.Same(options, CreateTrainer(options));
    }

    [Theory]
    [MemberData(nameof(LabelledBoundaries))]
    public void ALabelledOptionAtItsBoundaryIsAccepted(string kind, string boundary)
    {
        var options = NewOptions(kind);
        s_labelledBoundaries[boundary]((RecurrentTrainerOptions)options);

        Assert.Same(options, CreateTrainer(options));
    }

    public static TheoryData<string> LabelledKinds => [.. s_labelledKinds];

    public static TheoryData<string> AllKinds => [.. s_allKinds];

    /// <summary>
    /// The edge does not check <see cref="RecurrentTrainerOptions.RecurrentDropout"/> and <see cref="RecurrentTrainerOptions.TokenDropout"/>
    /// itself: the core's network options do. They are still refused when the trainer is created (not at <c>Fit</c>), with the core's message.
    /// </summary>
    [Theory]
    [MemberData(nameof(LabelledKinds))]
    public void ANetworkOptionOnlyTheCoreChecksIsRefusedWhenTheTrainerIsCreated(string kind)
    {
        foreach (var (name, set) in new (string, Action<RecurrentTrainerOptions>)[]
        {
            (nameof(RecurrentTrainerOptions.RecurrentDropout), o => o.RecurrentDropout = 1),
            (nameof(RecurrentTrainerOptions.TokenDropout), o => o.TokenDropout = 1),
        })
        {
            var options = (RecurrentTrainerOptions)NewOptions(kind);
            set(options);

            var error = Assert.Throws<ArgumentOutOfRangeException>(() => CreateTrainer(options));

            Assert.Equal(name, error.ParamName);
            Assert.Equal(1f, error.ActualValue);
            Assert.Equal($"{name} must be in [0, 1).", OwnMessage(error));
        }
    }

    /// <summary>β1 = 1 is checked only by the core's training options, yet refused when the trainer is created, with its message.</summary>
    [Theory]
    [MemberData(nameof(AllKinds))]
    public void ATrainingOptionOnlyTheCoreChecksIsRefusedWhenTheTrainerIsCreated(string kind)
    {
        var options = NewOptions(kind);
        options.Beta1 = 1;

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => CreateTrainer(options));

        Assert.Equal(nameof(RecurrentTrainerOptionsBase.Beta1), error.ParamName);
        Assert.Equal(1f, error.ActualValue);
        Assert.Equal("Beta1 is 1; it must be in [0, 1).", OwnMessage(error));
    }

    /// <summary>
    /// Every boundary at once also trains: a regression with H = 1, one layer, one epoch, batches of 1, dropout 0, early stopping
    /// off (with validation data), one thread and one row per scoring batch fits and scores 4 rows to finite values.
    /// </summary>
    [Fact]
    public void EveryBoundaryAtOnceFitsAndScores()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Synthetic.ToDataView(mlContext, Synthetic.Rows(4, 3, 1, seed: 1));
        var options = new RecurrentRegressionTrainer.Options
        {
            LabelColumnName = "Value", HiddenSize = 1, NumberOfLayers = 1, NumberOfEpochs = 1, BatchSize = 1, EmbeddingSize = 1, Dropout = 0,
            EarlyStoppingPatience = 0, MaxDegreeOfParallelism = 1, ScoringBatchSize = 1, FeaturesPerStep = 1, Seed = 1,
        };

        var scores = mlContext.Regression.Trainers.Gru(options).Fit(data, data).Transform(data).GetColumn<float>("Score").ToArray();

        Assert.Equal(4, scores.Length);
        Assert.All(scores, score => Assert.True(float.IsFinite(score)));
    }
}
