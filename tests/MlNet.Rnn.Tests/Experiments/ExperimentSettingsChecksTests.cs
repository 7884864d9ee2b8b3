using Microsoft.ML;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Experiments;
using MlNet.Rnn.Tests.Forecasting;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>
/// Every check of the experiments' settings and search space, at its bound: the value just inside is taken, the value just
/// outside is refused with a message naming the setting, the value and the rule. No trial trains.
/// </summary>
public sealed class ExperimentSettingsChecksTests
{
    private static readonly RecurrentExperimentCatalog Experiments = new MLContext(seed: 1).RecurrentExperiments;

    private static RecurrentExperimentSettings<RecurrentBinaryTrainer.Options> Settings(Action<RecurrentSearchSpace>? space = null)
    {
        var settings = new RecurrentExperimentSettings<RecurrentBinaryTrainer.Options>();
        space?.Invoke(settings.SearchSpace);
        return settings;
    }

    private static string Refused<TException>(Action<RecurrentSearchSpace> space, string parameter)
        where TException : ArgumentException
    {
        var error = Assert.Throws<TException>(() => Experiments.CreateBinaryClassificationExperiment(Settings(space)));
        Assert.Equal(parameter, error.ParamName);
        // The forecasting experiment checks the same search space.
        var settings = new ForecastingExperimentSettings();
        space(settings.SearchSpace);
        Assert.Equal(error.Message, Assert.Throws<TException>(() => Experiments.CreateForecastingExperiment(settings)).Message);
        return error.Message;
    }

    private static void Taken(Action<RecurrentSearchSpace> space)
    {
        Assert.NotNull(Experiments.CreateBinaryClassificationExperiment(Settings(space)));
        var settings = new ForecastingExperimentSettings();
        space(settings.SearchSpace);
        Assert.NotNull(Experiments.CreateForecastingExperiment(settings));
    }

    [Fact]
    public void EachEmptyOrNullChoiceListIsRefusedByName()
    {
        Assert.StartsWith("The search space is empty: RecurrentSearchSpace.Cells holds no choice; give at least one (e.g. [RecurrentCellType.Lstm]).",
            Refused<ArgumentException>(s => s.Cells = [], "Cells"));
        Assert.StartsWith("The search space is empty: RecurrentSearchSpace.HiddenSizes holds no choice; give at least one (e.g. [64]).",
            Refused<ArgumentException>(s => s.HiddenSizes = null!, "HiddenSizes"));
        Assert.StartsWith("The search space is empty: RecurrentSearchSpace.NumbersOfLayers holds no choice; give at least one (e.g. [1]).",
            Refused<ArgumentException>(s => s.NumbersOfLayers = [], "NumbersOfLayers"));
        Assert.StartsWith("The search space is empty: RecurrentSearchSpace.Bidirectional holds no choice; give at least one (e.g. [false]).",
            Refused<ArgumentException>(s => s.Bidirectional = [], "Bidirectional"));
        Assert.StartsWith("The search space is empty: RecurrentSearchSpace.BatchSizes holds no choice; give at least one (e.g. [32]).",
            Refused<ArgumentException>(s => s.BatchSizes = [], "BatchSizes"));
        Assert.StartsWith("The search space is empty: RecurrentSearchSpace.GradientClipNorms holds no choice; give at least one (e.g. [5f], or [0f] for no clipping).",
            Refused<ArgumentException>(s => s.GradientClipNorms = [], "GradientClipNorms"));
        Assert.StartsWith("The search space is empty: RecurrentSearchSpace.LearnedInitialState holds no choice; give at least one (e.g. [false]).",
            Refused<ArgumentException>(s => s.LearnedInitialState = [], "LearnedInitialState"));
    }

    [Fact]
    public void EachChoiceIsCheckedAtItsBound()
    {
        Assert.StartsWith("RecurrentSearchSpace.Cells = 7 must hold Rnn, Lstm or Gru.",
            Refused<ArgumentOutOfRangeException>(s => s.Cells = [RecurrentCellType.Gru, (RecurrentCellType)7], "Cells"));
        Assert.StartsWith("RecurrentSearchSpace.HiddenSizes = 0 must hold sizes of at least 1.",
            Refused<ArgumentOutOfRangeException>(s => s.HiddenSizes = [4, 0], "HiddenSizes"));
        Assert.StartsWith("RecurrentSearchSpace.NumbersOfLayers = 0 must hold layer counts of at least 1.",
            Refused<ArgumentOutOfRangeException>(s => s.NumbersOfLayers = [1, 0], "NumbersOfLayers"));
        Assert.StartsWith("RecurrentSearchSpace.BatchSizes = 0 must hold batch sizes of at least 1.",
            Refused<ArgumentOutOfRangeException>(s => s.BatchSizes = [16, 0], "BatchSizes"));
        Assert.StartsWith("RecurrentSearchSpace.GradientClipNorms = -1 must hold finite thresholds ≥ 0 (0 = off).",
            Refused<ArgumentOutOfRangeException>(s => s.GradientClipNorms = [1f, -1f], "GradientClipNorms"));
        Refused<ArgumentOutOfRangeException>(s => s.GradientClipNorms = [float.PositiveInfinity], "GradientClipNorms");
        Refused<ArgumentOutOfRangeException>(s => s.GradientClipNorms = [float.NaN], "GradientClipNorms");

        // The smallest value each rule allows.
        Taken(s =>
        {
            s.Cells = [RecurrentCellType.Rnn, RecurrentCellType.Lstm, RecurrentCellType.Gru];
            s.HiddenSizes = [1];
            s.NumbersOfLayers = [1];
            s.BatchSizes = [1];
            s.GradientClipNorms = [0f];
        });
    }

    [Fact]
    public void EachRangeIsCheckedAtItsEnds()
    {
        Assert.StartsWith("RecurrentSearchSpace.Dropout = [0.6, 0.5] must have finite ends with Minimum ≤ Maximum.",
            Refused<ArgumentOutOfRangeException>(s => s.Dropout = new(0.6f, 0.5f), "Dropout"));
        Refused<ArgumentOutOfRangeException>(s => s.Dropout = new(float.NaN, 0.5f), "Dropout");
        Refused<ArgumentOutOfRangeException>(s => s.Dropout = new(0f, float.NaN), "Dropout");
        Assert.StartsWith("RecurrentSearchSpace.Dropout = [-0.1, 0.5] must lie in [0, 1).",
            Refused<ArgumentOutOfRangeException>(s => s.Dropout = new(-0.1f, 0.5f), "Dropout"));
        Assert.StartsWith("RecurrentSearchSpace.Dropout = [0, 1] must lie in [0, 1).",
            Refused<ArgumentOutOfRangeException>(s => s.Dropout = new(0f, 1f), "Dropout"));
        Assert.StartsWith("RecurrentSearchSpace.Dropout = [0, 0.5] log must have a positive Minimum when LogScale is set.",
            Refused<ArgumentOutOfRangeException>(s => s.Dropout = new(0f, 0.5f, LogScale: true), "Dropout"));
        Assert.StartsWith("RecurrentSearchSpace.RecurrentDropout = [0.2, 1] must lie in [0, 1).",
            Refused<ArgumentOutOfRangeException>(s => s.RecurrentDropout = new(0.2f, 1f), "RecurrentDropout"));
        Refused<ArgumentOutOfRangeException>(s => s.RecurrentDropout = new(-0.2f, 0f), "RecurrentDropout");
        Assert.StartsWith("RecurrentSearchSpace.LearningRate = [0, 0.01] must be positive and finite (e.g. [3e-4, 1e-2] log).",
            Refused<ArgumentOutOfRangeException>(s => s.LearningRate = new(0f, 1e-2f), "LearningRate"));
        Refused<ArgumentOutOfRangeException>(s => s.LearningRate = new(1e-3f, float.PositiveInfinity), "LearningRate");
        Assert.Contains("must have finite ends with Minimum ≤ Maximum.",
            Refused<ArgumentOutOfRangeException>(s => s.LearningRate = new(float.NegativeInfinity, 1e-3f), "LearningRate"));
        Assert.Contains("must have finite ends with Minimum ≤ Maximum.", Refused<ArgumentOutOfRangeException>(s => s.Dropout = new(0f, float.PositiveInfinity), "Dropout"));

        Taken(s =>
        {
            s.Dropout = new(0f, 0.99f);
            s.RecurrentDropout = SearchRange.Fixed(0.5f);
            s.LearningRate = new(float.Epsilon, float.Epsilon, LogScale: true);
        });
        Taken(s => s.Dropout = new(0.1f, 0.2f, LogScale: true));
    }

    [Fact]
    public void TheExperimentsOwnSettingsAreCheckedAtTheirBounds()
    {
        void Refuse<TException>(Action<RecurrentExperimentSettings<RecurrentBinaryTrainer.Options>> change, string parameter, string? message = null)
            where TException : ArgumentException
        {
            var settings = Settings();
            change(settings);
            var error = Assert.Throws<TException>(() => Experiments.CreateBinaryClassificationExperiment(settings));
            Assert.Equal(parameter, error.ParamName);
            if (message is not null) Assert.StartsWith(message, error.Message);
        }

        Refuse<ArgumentOutOfRangeException>(s => s.MaxExperimentTimeInSeconds = double.PositiveInfinity, "MaxExperimentTimeInSeconds", "MaxExperimentTimeInSeconds = Infinity must");
        Refuse<ArgumentOutOfRangeException>(s => s.MaxExperimentTimeInSeconds = double.NaN, "MaxExperimentTimeInSeconds");
        Refuse<ArgumentNullException>(s => s.TimeProvider = null!, "TimeProvider", "TimeProvider is null: leave it TimeProvider.System.");
        Refuse<ArgumentNullException>(s => s.SearchSpace = null!, "SearchSpace", "SearchSpace is null: give a RecurrentSearchSpace.");
        Refuse<ArgumentNullException>(s => s.TrainerOptions = null!, "TrainerOptions", "TrainerOptions is null: give the task's trainer options.");
        Refuse<ArgumentOutOfRangeException>(s => s.TrainerOptions.HiddenSize = 0, "HiddenSize");
        Refuse<ArgumentOutOfRangeException>(s => s.MaxTrials = 0, "MaxTrials", "MaxTrials = 0 must be at least 1.");
        Refuse<ArgumentOutOfRangeException>(s => s.MinimumEpochs = 0, "MinimumEpochs", "MinimumEpochs = 0 must be at least 1.");
        Refuse<ArgumentOutOfRangeException>(s => s.ReductionFactor = 1, "ReductionFactor", "ReductionFactor = 1 must be at least 2 (3 is usual).");
        Refuse<ArgumentException>(s => s.OptimizingMetric = RecurrentExperimentMetric.RootMeanSquaredError, "OptimizingMetric",
            "OptimizingMetric = RootMeanSquaredError does not fit binary classification: use Accuracy or ValidationLoss.");

        var smallest = Settings();
        (smallest.MaxExperimentTimeInSeconds, smallest.MaxTrials, smallest.MinimumEpochs, smallest.ReductionFactor) = (1e-3, 1, 1, 2);
        smallest.OptimizingMetric = RecurrentExperimentMetric.ValidationLoss;
        var experiment = Experiments.CreateBinaryClassificationExperiment(smallest);
        Assert.Equal(RecurrentExperimentMetric.ValidationLoss, experiment.OptimizingMetric);
        Assert.Equal(RecurrentExperimentMetric.Accuracy, Experiments.CreateBinaryClassificationExperiment(60).OptimizingMetric);
        Assert.Equal(RecurrentExperimentMetric.Accuracy, Experiments.CreateMulticlassClassificationExperiment(60).OptimizingMetric);
        Assert.Equal(RecurrentExperimentMetric.RootMeanSquaredError, Experiments.CreateRegressionExperiment(60).OptimizingMetric);
        Assert.Equal(RecurrentExperimentMetric.Accuracy, Experiments.CreateSequenceTaggingExperiment(60).OptimizingMetric);
        Assert.Equal(60, Experiments.CreateSequenceTaggingExperiment(60).Settings.MaxExperimentTimeInSeconds);
        Assert.Contains("does not fit multiclass classification: use Accuracy or ValidationLoss", Assert.Throws<ArgumentException>(() =>
            Experiments.CreateMulticlassClassificationExperiment(new RecurrentExperimentSettings<RecurrentMulticlassTrainer.Options>
            { OptimizingMetric = RecurrentExperimentMetric.RootMeanSquaredError })).Message);
        Assert.Contains("does not fit sequence tagging: use Accuracy or ValidationLoss", Assert.Throws<ArgumentException>(() =>
            Experiments.CreateSequenceTaggingExperiment(new RecurrentExperimentSettings<SequenceTaggingTrainer.Options>
            { OptimizingMetric = RecurrentExperimentMetric.RootMeanSquaredError })).Message);
        Assert.Equal(RecurrentExperimentMetric.ValidationLoss, Experiments.CreateRegressionExperiment(new RecurrentExperimentSettings<RecurrentRegressionTrainer.Options>
        { OptimizingMetric = RecurrentExperimentMetric.ValidationLoss }).OptimizingMetric);
        Assert.Throws<ArgumentNullException>(() => Experiments.CreateBinaryClassificationExperiment(null!));
        Assert.Contains("numberOfCrossValidationFolds = 1 must be at least 2",
            Assert.Throws<ArgumentOutOfRangeException>(() => Experiments.CreateBinaryClassificationExperiment(60).Execute(null!, numberOfCrossValidationFolds: 1)).Message);
    }

    [Fact]
    public void TheForecastingExperimentsOwnSettingsAreCheckedAtTheirBounds()
    {
        void Refuse<TException>(Action<ForecastingExperimentSettings> change, string parameter, string? message = null)
            where TException : ArgumentException
        {
            var settings = new ForecastingExperimentSettings();
            change(settings);
            var error = Assert.Throws<TException>(() => Experiments.CreateForecastingExperiment(settings));
            Assert.Equal(parameter, error.ParamName);
            if (message is not null) Assert.StartsWith(message, error.Message);
        }

        Refuse<ArgumentOutOfRangeException>(s => s.MaxExperimentTimeInSeconds = double.PositiveInfinity, "MaxExperimentTimeInSeconds", "MaxExperimentTimeInSeconds = Infinity must");
        Refuse<ArgumentOutOfRangeException>(s => s.MaxExperimentTimeInSeconds = double.NaN, "MaxExperimentTimeInSeconds");
        Refuse<ArgumentNullException>(s => s.SearchSpace = null!, "SearchSpace", "SearchSpace is null: give a RecurrentSearchSpace.");
        Refuse<ArgumentException>(s => s.WindowSizes = [], "WindowSizes",
            "The search space is empty: WindowSizes holds no choice; give at least one (e.g. [12, 24]) or null to keep Execute's windowSize.");
        Refuse<ArgumentOutOfRangeException>(s => s.WindowSizes = [4, 0], "WindowSizes", "WindowSizes = 0 must hold window sizes of at least 1.");
        Refuse<ArgumentNullException>(s => s.EstimatorOptions = null!, "EstimatorOptions", "EstimatorOptions is null: give the forecasting estimator's options.");
        Refuse<ArgumentOutOfRangeException>(s => s.EstimatorOptions.HiddenSize = 0, "HiddenSize");
        Refuse<ArgumentOutOfRangeException>(s => s.ValidationFraction = 0, "ValidationFraction", "ValidationFraction = 0 must lie in (0, 1) (e.g. 0.2).");
        Refuse<ArgumentOutOfRangeException>(s => s.ValidationFraction = 1, "ValidationFraction", "ValidationFraction = 1 must lie in (0, 1)");
        Refuse<ArgumentOutOfRangeException>(s => s.ValidationFraction = double.NaN, "ValidationFraction");
        Refuse<ArgumentOutOfRangeException>(s => s.MaxTrials = 0, "MaxTrials", "MaxTrials = 0 must be at least 1.");
        Refuse<ArgumentOutOfRangeException>(s => s.MinimumEpochs = 0, "MinimumEpochs", "MinimumEpochs = 0 must be at least 1.");
        Refuse<ArgumentOutOfRangeException>(s => s.ReductionFactor = 1, "ReductionFactor", "ReductionFactor = 1 must be at least 2 (3 is usual).");
        Assert.Throws<ArgumentNullException>(() => Experiments.CreateForecastingExperiment(null!));

        var smallest = new ForecastingExperimentSettings
        {
            MaxExperimentTimeInSeconds = 1e-3, WindowSizes = [1], ValidationFraction = 0.999, MaxTrials = 1, MinimumEpochs = 1, ReductionFactor = 2,
        };
        Assert.Same(smallest, Experiments.CreateForecastingExperiment(smallest).Settings);
        Assert.NotNull(Experiments.CreateForecastingExperiment(new ForecastingExperimentSettings { ValidationFraction = 1e-3 }));
        Assert.Equal(60, Experiments.CreateForecastingExperiment(60).Settings.MaxExperimentTimeInSeconds);
    }

    private sealed class TwoFeatures
    {
        public float Value { get; set; }

        [Microsoft.ML.Data.VectorType(2)]
        public float[] Weather { get; set; } = [0, 0];
    }

    private sealed class OneFeature
    {
        public float Value { get; set; }

        public float Weather { get; set; }
    }

    [Fact]
    public void TheForecastingExperimentsArgumentsAreCheckedAtTheirBoundsBeforeAnyTrial()
    {
        var mlContext = new MLContext(seed: 1);
        var series = Enumerable.Range(0, 20).Select(i => new Observation { Value = MathF.Sin(i), Temperature = i }).ToArray();
        var data = mlContext.Data.LoadFromEnumerable(series);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        // 20 observations, 16 to fit on and 4 to validate on, no calibration tail: a cancelled search past the checks has no run.
        ForecastingRecurrentExperiment Experiment(double validationFraction = 0.2, double calibration = 0, IList<int>? windows = null) =>
            Experiments.CreateForecastingExperiment(new ForecastingExperimentSettings
            {
                ValidationFraction = validationFraction, WindowSizes = windows,
                EstimatorOptions = new() { CalibrationFraction = calibration, NumberOfEpochs = 1, MaxDegreeOfParallelism = 1 },
            });
        void Passes(ForecastingRecurrentExperiment experiment, int window, int horizon, IDataView? rows = null, IDataView? validation = null,
            string[]? exogenous = null) =>
            Assert.Contains("before any run", Assert.Throws<OperationCanceledException>(() => experiment.Execute(rows ?? data, nameof(Observation.Value), window, horizon,
                validation, exogenousColumnNames: exogenous, cancellationToken: cancelled.Token)).Message);
        void TooShort(ForecastingRecurrentExperiment experiment, int window, int horizon, IDataView? validation = null) =>
            Assert.Equal("trainData", Assert.Throws<ArgumentException>(() => experiment.Execute(data, nameof(Observation.Value), window, horizon, validation,
                cancellationToken: cancelled.Token)).ParamName);

        Passes(Experiment(), window: 13, horizon: 3);
        TooShort(Experiment(), window: 14, horizon: 3);
        Passes(Experiment(), window: 12, horizon: 4);
        TooShort(Experiment(validationFraction: 0.1), window: 1, horizon: 3); // 2 to validate on
        Passes(Experiment(validationFraction: 0.1), window: 1, horizon: 2);
        // The forecaster's calibration tail (at least the horizon) leaves the rest to fit the windows on.
        Passes(Experiment(calibration: 0.5), window: 5, horizon: 3); // 16 − 8
        TooShort(Experiment(calibration: 0.5), window: 6, horizon: 3);
        Passes(Experiment(calibration: 0.01), window: 10, horizon: 3); // 16 − 3
        TooShort(Experiment(calibration: 0.01), window: 11, horizon: 3);
        // The largest window searched must fit, whatever Execute's windowSize.
        Passes(Experiment(windows: [4, 13]), window: 1, horizon: 3);
        TooShort(Experiment(windows: [14, 4]), window: 1, horizon: 3);
        // Validation data given: all 20 rows fit on, the validation rows are validated on.
        var tail = mlContext.Data.LoadFromEnumerable(series[..3]);
        Passes(Experiment(), window: 17, horizon: 3, validation: tail);
        TooShort(Experiment(), window: 18, horizon: 3, validation: tail);
        TooShort(Experiment(), window: 1, horizon: 4, validation: tail);

        var experiment = Experiment();
        Assert.StartsWith("windowSize = 0 must be at least 1 (past observations per forecast).",
            Assert.Throws<ArgumentOutOfRangeException>(() => experiment.Execute(data, nameof(Observation.Value), 0, 3)).Message);
        Assert.StartsWith("horizon = 0 must be at least 1 (the number of future values to forecast).",
            Assert.Throws<ArgumentOutOfRangeException>(() => experiment.Execute(data, nameof(Observation.Value), 3, 0)).Message);
        Assert.Throws<ArgumentNullException>(() => experiment.Execute(null!, nameof(Observation.Value), 3, 1));
        Assert.Throws<ArgumentException>(() => experiment.Execute(data, " ", 3, 1));
        Assert.Throws<ArgumentException>(() => experiment.Execute(data, nameof(Observation.Value), 3, 1, outputColumnName: " "));
        Passes(experiment, window: 1, horizon: 1);
        experiment.Settings.TimeProvider = null!;
        Assert.Contains("TimeProvider is null", Assert.Throws<ArgumentNullException>(() => experiment.Execute(data, nameof(Observation.Value), 3, 1)).Message);
        // Settings changed after creation are checked again.
        experiment = Experiment();
        experiment.Settings.MaxTrials = 0;
        Assert.Throws<ArgumentOutOfRangeException>(() => experiment.Execute(data, nameof(Observation.Value), 3, 1));

        // Exogenous features: the same count in both data sets, every value finite.
        var two = mlContext.Data.LoadFromEnumerable(series.Select(o => new TwoFeatures { Value = o.Value, Weather = [o.Temperature, 1] }));
        Passes(Experiment(), window: 3, horizon: 1, rows: two, exogenous: ["Weather"]);
        Passes(Experiment(), window: 3, horizon: 1, rows: two, validation: two, exogenous: ["Weather"]);
        var one = mlContext.Data.LoadFromEnumerable(series.Select(o => new OneFeature { Value = o.Value, Weather = o.Temperature }));
        var mismatch = Assert.Throws<ArgumentException>(() => Experiment().Execute(two, nameof(Observation.Value), 3, 1, validationData: one,
            exogenousColumnNames: ["Weather"]));
        Assert.Equal("validationData", mismatch.ParamName);
        Assert.Contains("validationData's exogenous columns hold a different number of features than trainData's.", mismatch.Message);

        // A value that is not finite is refused as the series is read, naming its row and column (the validation rows from 0).
        series[5].Value = float.NaN;
        Assert.StartsWith("Row 5 of column 'Value' is NaN", Assert.Throws<InvalidOperationException>(
            () => Experiment().Execute(mlContext.Data.LoadFromEnumerable(series), nameof(Observation.Value), 3, 1)).Message);
        series[5].Value = 0;
        series[19].Temperature = float.PositiveInfinity;
        Assert.StartsWith("Row 19 of column 'Temperature' is Infinity", Assert.Throws<InvalidOperationException>(() => Experiment().Execute(
            mlContext.Data.LoadFromEnumerable(series), nameof(Observation.Value), 3, 1, exogenousColumnNames: [nameof(Observation.Temperature)])).Message);
        var badTail = mlContext.Data.LoadFromEnumerable(new[] { new Observation(), new Observation { Value = float.NegativeInfinity } });
        Assert.StartsWith("Row 1 of column 'Value' is -Infinity", Assert.Throws<InvalidOperationException>(
            () => Experiment().Execute(data, nameof(Observation.Value), 3, 1, validationData: badTail)).Message);
    }
}
