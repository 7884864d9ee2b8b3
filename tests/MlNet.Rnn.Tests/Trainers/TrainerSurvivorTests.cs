using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MlNet.Rnn.Tests.Trainers;

/// <summary>A tiny labelled row with every label and weight type the trainers accept or refuse.</summary>
public sealed class SurvivorRow
{
    public bool Label { get; set; }

    [KeyType(3)]
    public uint Class { get; set; }

    public uint PlainClass { get; set; }

    public float Value { get; set; }

    public float Weight { get; set; } = 1;

    public double DoubleWeight { get; set; } = 1;

    [VectorType(2)]
    public bool[] Flags { get; set; } = [true, false];

    [VectorType(2)]
    public float[] Values { get; set; } = [1, 2];

    [VectorType(2)]
    public float[] Features { get; set; } = [];
}

/// <summary>The same row with a label of four classes instead of three.</summary>
public sealed class FourClassRow
{
    [KeyType(4)]
    public uint Class { get; set; }

    [VectorType(2)]
    public float[] Features { get; set; } = [];
}

/// <summary>A row whose Features column is text, not numbers.</summary>
public sealed class TextFeatureRow
{
    public float Value { get; set; }

    public string Features { get; set; } = "";
}

/// <summary>
/// What an ML.NET user meets at the trainers' edge, on a handful of rows and one epoch: each task's own option checks (the
/// rule, the option's name and value, the boundaries that are accepted), the label and weight column checks at
/// <c>GetOutputSchema</c> and <c>Fit</c> (training and validation data), rows with a missing label or a bad weight skipped and
/// reported to <see cref="MLContext.Log"/> as a warning with their counts, the start and early-stop lines, and the trainers'
/// <see cref="TrainerInfo"/>.
/// </summary>
public sealed class TrainerSurvivorTests
{
    private static SurvivorRow[] Rows(int count) => [.. Enumerable.Range(0, count).Select(r => new SurvivorRow
    {
        Label = r % 2 == 0, Class = (uint)(r % 3 + 1), PlainClass = (uint)(r % 3 + 1), Value = r % 2 == 0 ? 1 : -1,
        Features = [r % 2 == 0 ? 1 : -1, 0.5f],
    })];

    private static IDataView View(MLContext mlContext, IEnumerable<SurvivorRow> rows) => mlContext.Data.LoadFromEnumerable(rows);

    private static (MLContext MlContext, List<(ChannelMessageKind Kind, string Message)> Log) Logged()
    {
        var mlContext = new MLContext(seed: 1);
        var log = new List<(ChannelMessageKind, string)>();
        mlContext.Log += (_, e) => { lock (log) log.Add((e.Kind, e.RawMessage)); };
        return (mlContext, log);
    }

    private static RecurrentRegressionTrainer.Options Regression(string? weight = null) => new()
    {
        LabelColumnName = "Value", FeatureColumnName = "Features", ExampleWeightColumnName = weight, FeaturesPerStep = 1,
        HiddenSize = 2, NumberOfEpochs = 1, BatchSize = 4, Seed = 1,
    };

    private static RecurrentMulticlassTrainer.Options Multiclass(string label = "Class", string? weight = null) => new()
    {
        LabelColumnName = label, FeatureColumnName = "Features", ExampleWeightColumnName = weight, FeaturesPerStep = 1,
        HiddenSize = 2, NumberOfEpochs = 1, BatchSize = 4, Seed = 1,
    };

    private static RecurrentBinaryTrainer.Options Binary(string label = "Label") => new()
    {
        LabelColumnName = label, FeatureColumnName = "Features", FeaturesPerStep = 1, HiddenSize = 2, NumberOfEpochs = 1, BatchSize = 4, Seed = 1,
    };

    private static void AssertRefused(string option, string message, Func<object> create)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(create);
        Assert.Equal(option, error.ParamName);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static SchemaShape ShapeOf(IDataView data) => (SchemaShape)typeof(SchemaShape)
        .GetMethod("Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.Invoke(null, [data.Schema])!;

    private static bool Flag(TrainerInfo info, string name) => (bool)typeof(TrainerInfo)
        .GetProperty(name, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(info)!;

    [Fact]
    public void PositiveClassWeight_MustBePositiveAndFinite_AnyPositiveFiniteIsAccepted()
    {
        var trainers = new MLContext().BinaryClassification.Trainers;
        AssertRefused("PositiveClassWeight", "PositiveClassWeight = 0 must be a positive finite number",
            () => trainers.Gru(new RecurrentBinaryTrainer.Options { PositiveClassWeight = 0 }));
        AssertRefused("PositiveClassWeight", "PositiveClassWeight = Infinity must be a positive finite number",
            () => trainers.Lstm(new RecurrentBinaryTrainer.Options { PositiveClassWeight = float.PositiveInfinity }));
        AssertRefused("PositiveClassWeight", "must be a positive finite number",
            () => trainers.Rnn(new RecurrentBinaryTrainer.Options { PositiveClassWeight = float.NaN }));

        Assert.Equal(1e-30f, trainers.Gru(new RecurrentBinaryTrainer.Options { PositiveClassWeight = 1e-30f }).TrainerOptions.PositiveClassWeight);
    }

    [Fact]
    public void LabelSmoothing_IsInZeroToOne_BothEndsAccepted()
    {
        var trainers = new MLContext().MulticlassClassification.Trainers;
        AssertRefused("LabelSmoothing", "LabelSmoothing = 1.5 must be in [0, 1]",
            () => trainers.Gru(new RecurrentMulticlassTrainer.Options { LabelSmoothing = 1.5f }));
        AssertRefused("LabelSmoothing", "LabelSmoothing = -0.5 must be in [0, 1]",
            () => trainers.Gru(new RecurrentMulticlassTrainer.Options { LabelSmoothing = -0.5f }));

        Assert.Equal(1f, trainers.Gru(new RecurrentMulticlassTrainer.Options { LabelSmoothing = 1 }).TrainerOptions.LabelSmoothing);
        Assert.Equal(0f, trainers.Gru(new RecurrentMulticlassTrainer.Options { LabelSmoothing = 0 }).TrainerOptions.LabelSmoothing);
    }

    [Theory]
    [InlineData(new[] { 1f, -1f }, "ClassWeights = 1, -1 must hold finite weights ≥ 0")]
    [InlineData(new[] { 1f, float.NaN }, "ClassWeights = 1, NaN must hold finite weights ≥ 0")]
    [InlineData(new[] { 2f, float.PositiveInfinity }, "ClassWeights = 2, Infinity must hold finite weights ≥ 0")]
    public void ClassWeights_ANegativeOrNonFiniteWeight_IsRefusedListingTheWeights(float[] weights, string message)
    {
        var trainers = new MLContext().MulticlassClassification.Trainers;
        AssertRefused("ClassWeights", message, () => trainers.Lstm(new RecurrentMulticlassTrainer.Options { ClassWeights = weights }));
    }

    [Fact]
    public void ClassWeights_AZeroWeight_IsAccepted()
    {
        var trainer = new MLContext().MulticlassClassification.Trainers.Lstm(new RecurrentMulticlassTrainer.Options { ClassWeights = [0, 1, 2] });
        Assert.Equal([0f, 1f, 2f], trainer.TrainerOptions.ClassWeights!);
    }

    [Fact]
    public void RegressionLossAndHuberDelta_AreChecked_ATinyPositiveDeltaIsAccepted()
    {
        var trainers = new MLContext().Regression.Trainers;
        AssertRefused("Loss", "Loss = 7 must be MeanSquaredError or Huber", () => trainers.Gru(new RecurrentRegressionTrainer.Options { Loss = (RegressionLoss)7 }));
        AssertRefused("HuberDelta", "HuberDelta = 0 must be a positive finite number", () => trainers.Gru(new RecurrentRegressionTrainer.Options { HuberDelta = 0 }));
        AssertRefused("HuberDelta", "HuberDelta = Infinity must be a positive finite number",
            () => trainers.Gru(new RecurrentRegressionTrainer.Options { HuberDelta = float.PositiveInfinity }));
        AssertRefused("HuberDelta", "HuberDelta = -1 must be a positive finite number", () => trainers.Gru(new RecurrentRegressionTrainer.Options { HuberDelta = -1 }));

        var accepted = trainers.Gru(new RecurrentRegressionTrainer.Options { Loss = RegressionLoss.Huber, HuberDelta = 1e-30f }).TrainerOptions;
        Assert.Equal((RegressionLoss.Huber, 1e-30f), (accepted.Loss, accepted.HuberDelta));
    }

    [Fact]
    public void TrainerInfo_NeedsNoNormalizationOrCaching_AndSupportsValidation()
    {
        var mlContext = new MLContext();
        foreach (var info in new[]
        {
            mlContext.BinaryClassification.Trainers.Gru().Info, mlContext.MulticlassClassification.Trainers.Lstm().Info, mlContext.Regression.Trainers.Rnn().Info,
        })
        {
            Assert.False(info.NeedNormalization);
            Assert.False(info.WantCaching);
            Assert.True(Flag(info, "SupportsValidation"));
        }
    }

    public static TheoryData<string, string> WrongLabels => new()
    {
        { "binary", "Class" },        // a key, not a Boolean
        { "binary", "Flags" },        // a vector of Boolean, not a scalar
        { "multiclass", "PlainClass" }, // UInt32 but not a key
        { "multiclass", "Label" },
        { "regression", "Values" },   // a vector of Single, not a scalar
        { "regression", "Class" },    // a key
    };

    [Theory]
    [MemberData(nameof(WrongLabels))]
    public void AWrongLabelType_IsRefusedNamingTheColumn_AtGetOutputSchemaAndAtFit(string task, string label)
    {
        var mlContext = new MLContext(seed: 1);
        var data = View(mlContext, Rows(6));
        IEstimator<ITransformer> trainer = task switch
        {
            "binary" => mlContext.BinaryClassification.Trainers.Gru(Binary(label)),
            "multiclass" => mlContext.MulticlassClassification.Trainers.Gru(Multiclass(label)),
            _ => mlContext.Regression.Trainers.Gru(Regression().WithLabel(label)),
        };

        var atSchema = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(ShapeOf(data)));
        var atFit = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(data));

        Assert.Contains($"label column '{label}'", atSchema.Message, StringComparison.Ordinal);
        Assert.Contains($"label column '{label}'", atFit.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyVectorLabel_IsRefusedByTheMulticlassSchemaCheck()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Transforms.Conversion.MapValueToKey("KeyFlags", "Values").Fit(View(mlContext, Rows(6))).Transform(View(mlContext, Rows(6)));
        var trainer = mlContext.MulticlassClassification.Trainers.Gru(Multiclass("KeyFlags"));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(ShapeOf(data)));

        Assert.Contains("label column 'KeyFlags'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingLabelOrWeightColumn_IsRefusedNamingIt_AtGetOutputSchemaAndAtFit()
    {
        var mlContext = new MLContext(seed: 1);
        var data = View(mlContext, Rows(6));
        var noLabel = mlContext.Regression.Trainers.Gru(Regression().WithLabel("Nope"));
        var noWeight = mlContext.Regression.Trainers.Gru(Regression("Heavy"));

        Assert.Contains("Could not find label column 'Nope'", Assert.Throws<ArgumentOutOfRangeException>(() => noLabel.GetOutputSchema(ShapeOf(data))).Message);
        Assert.Contains("Could not find label column 'Nope'", Assert.Throws<ArgumentOutOfRangeException>(() => noLabel.Fit(data)).Message);
        Assert.Contains("Could not find weight column 'Heavy'", Assert.Throws<ArgumentOutOfRangeException>(() => noWeight.GetOutputSchema(ShapeOf(data))).Message);
        Assert.Contains("Could not find weight column 'Heavy'", Assert.Throws<ArgumentOutOfRangeException>(() => noWeight.Fit(data)).Message);
    }

    [Theory]
    [InlineData("DoubleWeight", "Double")]
    [InlineData("Values", "Vector<Single, 2>")]
    [InlineData("Class", "Key<UInt32, 0-2>")]
    public void AWeightThatIsNotASingleScalar_IsRefused_ASingleWeightIsAccepted(string weight, string got)
    {
        var mlContext = new MLContext(seed: 1);
        var data = View(mlContext, Rows(6));
        var trainer = mlContext.Regression.Trainers.Gru(Regression(weight));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(ShapeOf(data)));
        Assert.Contains($"weight column '{weight}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("expected Single", error.Message, StringComparison.Ordinal);
        if (weight == "DoubleWeight") Assert.Contains($"got {got}", Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(data)).Message);

        var accepted = mlContext.Regression.Trainers.Gru(Regression("Weight")).GetOutputSchema(ShapeOf(data));
        Assert.Contains(accepted, column => column.Name == "Score");
    }

    [Fact]
    public void NullArguments_AreRefusedByName()
    {
        var mlContext = new MLContext(seed: 1);
        var trainer = mlContext.Regression.Trainers.Gru(Regression());
        var data = View(mlContext, Rows(6));

        Assert.Equal("inputSchema", Assert.Throws<ArgumentNullException>(() => trainer.GetOutputSchema(null!)).ParamName);
        Assert.Equal("validationData", Assert.Throws<ArgumentNullException>(() => trainer.Fit(data, null!)).ParamName);
        Assert.Equal("trainData", Assert.Throws<ArgumentNullException>(() => trainer.Fit(null!)).ParamName);
        Assert.Equal("trainData", Assert.Throws<ArgumentNullException>(() => trainer.Fit(null!, data)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => mlContext.Regression.Trainers.Gru((RecurrentRegressionTrainer.Options)null!)).ParamName);
    }

    [Fact]
    public void TrainingMessages_ComeFromTheTrainersTrainingChannel()
    {
        var mlContext = new MLContext(seed: 1);
        var sources = new List<string>();
        mlContext.Log += (_, e) => { lock (sources) sources.Add(e.Source); };

        mlContext.Regression.Trainers.Gru(Regression()).Fit(View(mlContext, Rows(6)));

        Assert.Contains("RecurrentRegressionTrainer; Training", sources);
    }

    [Fact]
    public void MissingLabelsAndBadWeights_AreSkipped_AndReportedAsAWarningWithTheirCounts()
    {
        var (mlContext, log) = Logged();
        var rows = Rows(10);
        rows[0].Value = float.PositiveInfinity; // an infinite label is missing
        rows[1].Value = float.NaN;
        rows[2].Weight = -1;
        rows[3].Weight = float.NaN;
        rows[4].Weight = float.PositiveInfinity;
        rows[5].Weight = 0; // accepted
        var logger = new RecordingLogger();

        mlContext.Regression.Trainers.Gru(Regression("Weight").WithLogger(logger)).Fit(View(mlContext, rows));

        const string expected = "Skipped 2 training rows with a missing label in 'Value' and 3 with a weight in 'Weight' that is negative or not finite.";
        Assert.Contains((ChannelMessageKind.Warning, expected), log);
        Assert.Contains(expected, logger.Messages);
        Assert.Contains(log, m => m.Message.Contains(": 5 training rows,", StringComparison.Ordinal));
    }

    [Fact]
    public void OnlyBadWeights_AreStillReported_AndCleanDataReportsNothing()
    {
        var (mlContext, log) = Logged();
        var rows = Rows(6);
        rows[2].Weight = -2;

        mlContext.Regression.Trainers.Gru(Regression("Weight")).Fit(View(mlContext, rows));
        mlContext.Regression.Trainers.Gru(Regression("Weight")).Fit(View(mlContext, Rows(6)));

        var skipped = log.Where(m => m.Message.StartsWith("Skipped", StringComparison.Ordinal)).ToList();
        Assert.Equal([(ChannelMessageKind.Warning, "Skipped 0 training rows with a missing label in 'Value' and 1 with a weight in 'Weight' that is negative or not finite.")], skipped);
    }

    [Fact]
    public void MulticlassKeyZeroAndKeysAboveTheClassCount_AreMissingLabels()
    {
        var (mlContext, log) = Logged();
        var rows = Rows(7);
        rows[0].Class = 0;
        rows[1].Class = 4;
        rows[2].Class = 9;

        mlContext.MulticlassClassification.Trainers.Gru(Multiclass()).Fit(View(mlContext, rows));

        Assert.Contains((ChannelMessageKind.Warning, "Skipped 3 training rows with a missing label in 'Class'."), log);
        Assert.Contains(log, m => m.Message.StartsWith("Gru MulticlassClassification: 4 training rows,", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidationRows_AreCountedInTheStartLine_AndTheirMissingLabelsReportedAsValidation()
    {
        var (mlContext, log) = Logged();
        var validation = Rows(5);
        validation[3].Value = float.NaN;

        mlContext.Regression.Trainers.Gru(Regression()).Fit(View(mlContext, Rows(6)), View(mlContext, validation));

        Assert.Contains((ChannelMessageKind.Warning, "Skipped 1 validation rows with a missing label in 'Value'."), log);
        Assert.Contains(log, m => m.Message.StartsWith("Gru Regression: 6 training rows, 4 validation rows,", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidationData_WithAnotherLabelOrFeatureType_OrABadWeight_IsRefused()
    {
        var mlContext = new MLContext(seed: 1);
        var train = View(mlContext, Rows(6));
        var fourClasses = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 4).Select(r => new FourClassRow { Class = (uint)(r + 1), Features = [r, 1] }));
        var textFeatures = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 4).Select(r => new TextFeatureRow { Value = r, Features = "a b" }));

        var label = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.MulticlassClassification.Trainers.Gru(Multiclass()).Fit(train, fourClasses));
        Assert.Contains("label column 'Class'", label.Message, StringComparison.Ordinal);
        var features = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Regression.Trainers.Gru(Regression()).Fit(train, textFeatures));
        Assert.Contains("feature column 'Features'", features.Message, StringComparison.Ordinal);

        var doubleWeight = mlContext.Transforms.CopyColumns("W", "DoubleWeight").Fit(train).Transform(train);
        var singleWeight = mlContext.Transforms.CopyColumns("W", "Weight").Fit(train).Transform(train);
        var weight = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Regression.Trainers.Gru(Regression("W")).Fit(singleWeight, doubleWeight));
        Assert.Contains("weight column 'W'", weight.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Regression.Trainers.Gru(Regression("W")).Fit(singleWeight, train));
        Assert.Contains("Could not find weight column 'W'", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DataWhoseEveryLabelIsMissing_IsRefused_InTrainingAndInValidation()
    {
        var mlContext = new MLContext(seed: 1);
        var unlabelled = Rows(4);
        foreach (var row in unlabelled) row.Value = float.NaN;
        var trainer = mlContext.Regression.Trainers.Gru(Regression());

        var validation = Assert.Throws<InvalidOperationException>(() => trainer.Fit(View(mlContext, Rows(6)), View(mlContext, unlabelled)));
        var training = Assert.Throws<InvalidOperationException>(() => trainer.Fit(View(mlContext, unlabelled)));

        Assert.Contains("The validation data has no usable row (every label was missing)", validation.Message, StringComparison.Ordinal);
        Assert.Contains("The training data has no usable row in column 'Features': every row had a missing label", training.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidationLossThatOnlyGrows_StopsTrainingEarly_AndSaysSo()
    {
        var (mlContext, log) = Logged();
        var train = Rows(8);
        foreach (var row in train) row.Value = 1;
        var validation = Rows(8);
        foreach (var row in validation) row.Value = -1; // every step towards the training target moves away from the validation target
        var options = Regression().WithEarlyStop();

        mlContext.Regression.Trainers.Gru(options).Fit(View(mlContext, train), View(mlContext, validation));

        Assert.Contains(log, m => m.Kind == ChannelMessageKind.Info && m.Message.StartsWith("Stopped early after epoch ", StringComparison.Ordinal)
            && m.Message.Contains("; kept epoch ", StringComparison.Ordinal));
    }
}

/// <summary>Option tweaks that keep the tests' option records short.</summary>
internal static class SurvivorOptions
{
    public static RecurrentRegressionTrainer.Options WithLabel(this RecurrentRegressionTrainer.Options options, string label)
    {
        options.LabelColumnName = label;
        return options;
    }

    public static RecurrentRegressionTrainer.Options WithLogger(this RecurrentRegressionTrainer.Options options, Microsoft.Extensions.Logging.ILogger logger)
    {
        options.Logger = logger;
        return options;
    }

    public static RecurrentRegressionTrainer.Options WithEarlyStop(this RecurrentRegressionTrainer.Options options)
    {
        options.NumberOfEpochs = 30;
        options.EarlyStoppingPatience = 1;
        options.LearningRate = 0.1f;
        return options;
    }
}
