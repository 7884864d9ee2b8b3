using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Experiments;
using MlNet.Rnn.Tests.Forecasting;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>
/// What an experiment's run does around its search, on a fake clock that only the test moves: time spent before the search
/// counts against the budget; the seed, not the context, decides the trials; the trainer options' logger serves when the
/// settings have none; the log names the leader and the leaderboard; a refit trains on the training and validation rows.
/// </summary>
public sealed class ExperimentRunTests
{
    private static RecurrentExperimentSettings<RecurrentBinaryTrainer.Options> Tiny(double seconds, int maxTrials = int.MaxValue, int epochs = 9) => new()
    {
        MaxExperimentTimeInSeconds = seconds,
        Seed = 7,
        MaxTrials = maxTrials,
        TrainerOptions = new() { NumberOfEpochs = epochs, MaxDegreeOfParallelism = 1 },
        SearchSpace = new() { HiddenSizes = [4, 8], NumbersOfLayers = [1], BatchSizes = [32], LearningRate = new(1e-3f, 3e-2f, LogScale: true) },
    };

    /// <summary>A logger that moves a fake clock by <paramref name="atStart"/> when the experiment's first line is logged and by <paramref name="perEpoch"/> per trial epoch (logged at Debug, on the training thread).</summary>
    internal static RecordingLogger ClockLogger(FakeTimeProvider? clock = null, TimeSpan atStart = default, TimeSpan perEpoch = default) => new((level, message) =>
    {
        if (message.Contains("experiment: budget", StringComparison.Ordinal)) clock?.Advance(atStart);
        if (level == LogLevel.Debug && message.StartsWith("Epoch ", StringComparison.Ordinal)) clock?.Advance(perEpoch);
    });

    /// <summary>The trial epochs <paramref name="logger"/> was told of.</summary>
    internal static int Epochs(RecordingLogger logger)
    {
        lock (logger.Lines) return logger.Lines.Count(line => line.Level == LogLevel.Debug && line.Message.StartsWith("Epoch ", StringComparison.Ordinal));
    }

    [Fact]
    public void TimeSpentBeforeTheSearchCountsAgainstTheBudget()
    {
        // 5 s pass before the search starts (at the experiment's first line); 11.5 s leave 6.5 s, which the 7th epoch spends.
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext);
        var clock = new FakeTimeProvider();
        var logger = ClockLogger(clock, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1));
        var settings = Tiny(seconds: 11.5);
        settings.TimeProvider = clock;
        settings.Logger = logger;
        var result = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(settings).Execute(train, validation);
        Assert.Equal(7, Epochs(logger));
        Assert.Equal(7, result.RunDetails.Sum(run => run.Epochs));
        Assert.Equal(TimeSpan.FromSeconds(12), result.SearchTime);

        // The forecasting experiment: one second per finished fit, 2 s before the search; 3.5 s leave 1.5 s, which the 2nd fit spends.
        var forecastClock = new FakeTimeProvider();
        var forecastSettings = new ForecastingExperimentSettings
        {
            MaxExperimentTimeInSeconds = 3.5, Seed = 7, TimeProvider = forecastClock,
            Logger = ClockLogger(forecastClock, TimeSpan.FromSeconds(2)),
            EstimatorOptions = new() { NumberOfEpochs = 3, MaxDegreeOfParallelism = 1, RefitOnFullSeries = false },
            SearchSpace = new() { HiddenSizes = [8], NumbersOfLayers = [1], BatchSizes = [16] },
        };
        var fits = new Progress(() => forecastClock.Advance(TimeSpan.FromSeconds(1)));
        var forecast = mlContext.RecurrentExperiments.CreateForecastingExperiment(forecastSettings)
            .Execute(mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(160)), nameof(Observation.Value), 12, 3, progressHandler: fits);
        Assert.Equal(2, fits.Count);
        Assert.Equal(TimeSpan.FromSeconds(4), forecast.SearchTime);
    }

    private sealed class Progress(Action onReport) : IProgress<ForecastingRunDetail>
    {
        public int Count { get; private set; }

        public void Report(ForecastingRunDetail value)
        {
            Count++;
            onReport();
        }
    }

    [Fact]
    public void TheSettingsSeedDecidesTheTrials_NotTheContexts()
    {
        string Trials(int contextSeed)
        {
            var mlContext = new MLContext(seed: contextSeed);
            var (train, validation) = ExperimentData.Split(mlContext);
            var result = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(Tiny(seconds: 600, maxTrials: 2, epochs: 1)).Execute(train, validation);
            return string.Join("; ", result.RunDetails.Select(run => $"{run.Configuration} seed {run.Options.Seed} {run.Metric}"));
        }

        Assert.Equal(Trials(1), Trials(2));

        string Forecasts(int contextSeed)
        {
            var mlContext = new MLContext(seed: contextSeed);
            var result = mlContext.RecurrentExperiments.CreateForecastingExperiment(new ForecastingExperimentSettings
            {
                Seed = 7, MaxTrials = 2, MaxExperimentTimeInSeconds = 600,
                EstimatorOptions = new() { NumberOfEpochs = 1, MaxDegreeOfParallelism = 1, RefitOnFullSeries = false },
                SearchSpace = new() { HiddenSizes = [4, 8], NumbersOfLayers = [1], BatchSizes = [16] },
            }).Execute(mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(80)), nameof(Observation.Value), 6, 2);
            return string.Join("; ", result.RunDetails.Select(run => $"{run.Configuration} seed {run.Options.Seed} {run.MeanAbsoluteError}"));
        }

        Assert.Equal(Forecasts(1), Forecasts(2));
    }

    [Fact]
    public void TheTrainerOptionsLoggerServesWithoutOneInTheSettings_AndHearsTheLeaderAndTheLeaderboard()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext);
        var logger = ClockLogger();
        var settings = Tiny(seconds: 600, maxTrials: 3, epochs: 1);
        settings.TrainerOptions.Logger = logger;
        var result = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(settings).Execute(train, validation);

        var information = logger.Lines.Where(line => line.Level == LogLevel.Information).Select(line => line.Message).ToList();
        Assert.StartsWith("binary classification experiment: budget 600 s, ranking by validation Accuracy, rungs [1] epochs", information[0]);
        // Each trial's line names the leader among the trials so far (itself, for the first).
        var first = result.RunDetails[0];
        Assert.Contains(information, line => line.StartsWith($"trial   1 ", StringComparison.Ordinal) &&
            line.EndsWith($"  | leader: trial 1, Accuracy {first.Metric.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}", StringComparison.Ordinal));
        var board = information.Single(line => line.StartsWith("Leaderboard:", StringComparison.Ordinal)).Split(Environment.NewLine);
        Assert.Equal(1 + result.Leaderboard.Count, board.Length);
        for (int i = 0; i < result.Leaderboard.Count; i++) Assert.Equal($"{i + 1,3}. {result.Leaderboard[i]}", board[i + 1]);

        var forecastLogger = ClockLogger();
        mlContext.RecurrentExperiments.CreateForecastingExperiment(new ForecastingExperimentSettings
        {
            Seed = 7, MaxTrials = 2, MaxExperimentTimeInSeconds = 600,
            EstimatorOptions = new() { NumberOfEpochs = 1, MaxDegreeOfParallelism = 1, RefitOnFullSeries = false, Logger = forecastLogger },
            SearchSpace = new() { HiddenSizes = [4], NumbersOfLayers = [1], BatchSizes = [16] },
        }).Execute(mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(80)), nameof(Observation.Value), 6, 2);
        Assert.Contains(forecastLogger.Lines, line => line.Message.StartsWith("Forecasting experiment: budget 600 s", StringComparison.Ordinal));
        Assert.Contains(forecastLogger.Lines, line => line.Message.Contains("  | leader: trial 1, MAE ", StringComparison.Ordinal));
    }

    [Fact]
    public void ARefitTrainsOnTheTrainingAndTheValidationRows()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext);
        var settings = Tiny(seconds: 600, maxTrials: 1, epochs: 1);
        settings.RefitOnAllData = true;
        settings.TrainerOptions.ValidationFraction = 0;
        var result = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(settings).Execute(train, validation);
        Assert.True(result.RefitOnAllData);
        // One epoch over 600 rows in batches of 32: 19 steps (400 rows alone would be 13).
        Assert.Equal(19, result.Predictor.Model.History!.Steps);
    }

    [Fact]
    public void ABudgetSpentBeforeTheSearchIsATimeoutNamingIt_AndTrialsThatAllDivergeAreCounted()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext);
        var clock = new FakeTimeProvider();
        var settings = Tiny(seconds: 10);
        settings.TimeProvider = clock;
        settings.Logger = ClockLogger(clock, TimeSpan.FromSeconds(100));
        var timeout = Assert.Throws<TimeoutException>(() => mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(settings).Execute(train, validation));
        Assert.Equal("No trial finished an epoch within 100.0 s (0 started, 0 diverged); raise MaxExperimentTimeInSeconds above one epoch of a trial, " +
            "or shrink the data or the search space.", timeout.Message);

        var forecastClock = new FakeTimeProvider();
        var forecast = Assert.Throws<TimeoutException>(() => mlContext.RecurrentExperiments.CreateForecastingExperiment(new ForecastingExperimentSettings
        {
            MaxExperimentTimeInSeconds = 10, TimeProvider = forecastClock, Logger = ClockLogger(forecastClock, TimeSpan.FromSeconds(30)),
        }).Execute(mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(80)), nameof(Observation.Value), 6, 2));
        Assert.Equal("No trial finished a fit within 30.0 s (0 started, 0 diverged); raise MaxExperimentTimeInSeconds above one fit of a trial, " +
            "or shrink the series or the search space.", forecast.Message);

        // Every trial diverges in its first epoch: none is ranked, each is counted.
        var data = DivergingSearch.Data(mlContext);
        var reports = new Reports<RecurrentRunDetail>();
        var diverged = Assert.Throws<InvalidOperationException>(() => mlContext.RecurrentExperiments.CreateRegressionExperiment(DivergingSearch.Settings(maxTrials: 2))
            .Execute(data, data, progressHandler: reports));
        Assert.StartsWith("No trial finished an epoch within ", diverged.Message);
        Assert.EndsWith(" s (2 started, 2 diverged): every trial's loss or gradient stopped being finite. Search smaller learning rates " +
            "(SearchSpace.LearningRate), keep gradient clipping on (SearchSpace.GradientClipNorms above 0), or scale the label and features.", diverged.Message);
        Assert.Equal(2, reports.All.Count);
        Assert.All(reports.All, run => Assert.Equal(RecurrentTrialStatus.Diverged, run.Status));
        Assert.All(reports.All, run => Assert.IsType<Core.Training.TrainingDivergedException>(run.Exception));
    }
}
