using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Microsoft.ML;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Experiments;
using MlNet.Rnn.Tests.Forecasting;
using MlNet.Rnn.Tests.Persistence;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>
/// Forecasting experiments on a seasonal series (a sine of period 12 plus noise, 160 observations, the last 32 held out):
/// the winner beats the naive forecast on the tail, the budget, seeded determinism, cancellation, save/load, bad input.
/// </summary>
public sealed class ForecastingExperimentTests : IDisposable
{
    private const int Length = 160, Window = 12, Horizon = 3;
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-forecasting-experiments-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A small search: every cell, H ∈ {8, 16}, one layer, B 16, up to <paramref name="epochs"/> epochs (rungs 1, 3, 9).</summary>
    private static ForecastingExperimentSettings Small(double seconds, int maxTrials = int.MaxValue, int epochs = 9) => new()
    {
        MaxExperimentTimeInSeconds = seconds,
        Seed = 7,
        MaxTrials = maxTrials,
        EstimatorOptions = new() { NumberOfEpochs = epochs, MaxDegreeOfParallelism = 1, RefitOnFullSeries = false },
        SearchSpace = new() { HiddenSizes = [8, 16], NumbersOfLayers = [1], BatchSizes = [16], LearningRate = new(3e-3f, 3e-2f, LogScale: true) },
    };

    private static IDataView Data(MLContext mlContext, int length = Length) => mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(length));

    /// <summary>MAE of repeating the last observation, over the windows whose future lies in the last 20 %.</summary>
    private static double NaiveMae()
    {
        var values = ForecastingTests.Series(Length).Select(o => (double)o.Value).ToArray();
        int start = Length - (int)Math.Round(0.2 * Length);
        double sum = 0;
        int count = 0;
        for (int t = start; t + Horizon <= Length; t++)
            for (int h = 0; h < Horizon; h++, count++) sum += Math.Abs(values[t + h] - values[t - 1]);
        return sum / count;
    }

    [Fact]
    public void TheBestRunBeatsTheNaiveForecastOnTheTailAndSavesAndLoads()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Data(mlContext);
        var reports = new Reports<ForecastingRunDetail>();
        var result = mlContext.RecurrentExperiments.CreateForecastingExperiment(Small(seconds: 30, maxTrials: 6))
            .Execute(data, nameof(Observation.Value), Window, Horizon, progressHandler: reports);

        double naive = NaiveMae();
        Assert.True(result.ValidationMeanAbsoluteError < naive, $"best MAE {result.ValidationMeanAbsoluteError:F4}, naive {naive:F4}");
        Assert.True(result.ValidationRootMeanSquaredError >= result.ValidationMeanAbsoluteError);
        Assert.Equal(6, result.RunDetails.Count);
        Assert.Equal(result.BestRun, result.Leaderboard[0]);
        Assert.All(result.Leaderboard.Skip(1), run => Assert.True(run.MeanAbsoluteError >= result.BestRun.MeanAbsoluteError));
        Assert.Contains(result.RunDetails, run => run.Epochs < 9); // successive halving stopped weak trials early
        Assert.Contains(result.RunDetails, run => run.Status == RecurrentTrialStatus.Completed);
        Assert.True(reports.All.Count >= result.RunDetails.Count);
        Assert.False(result.Cancelled);

        var future = mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(24, start: Length, seed: 1));
        var scored = result.Model.Transform(future);
        string path = Path.Combine(_folder, "best.zip");
        mlContext.Model.Save(result.Model, data.Schema, path);
        var loaded = mlContext.Model.Load(path, out _);
        Assert.Equal(Fingerprint.Of(scored, "Forecast"), Fingerprint.Of(loaded.Transform(future), "Forecast"));
    }

    [Fact]
    public void TheBudgetEndsTheSearchAfterTheFitThatSpentIt()
    {
        // The fake clock moves one second per finished fit and never otherwise: a budget of 3.5 s allows exactly 4 fits.
        var mlContext = new MLContext(seed: 1);
        var clock = new FakeTimeProvider();
        var reports = new Reports<ForecastingRunDetail>(_ => clock.Advance(TimeSpan.FromSeconds(1)));
        var settings = Small(seconds: 3.5, epochs: 3);
        settings.TimeProvider = clock;
        var result = mlContext.RecurrentExperiments.CreateForecastingExperiment(settings)
            .Execute(Data(mlContext), nameof(Observation.Value), Window, Horizon, progressHandler: reports);

        Assert.Equal(4, reports.All.Count);
        Assert.Equal(4, result.RunDetails.Sum(run => run.MeanAbsoluteErrorPerRung.Count));
        Assert.Equal(TimeSpan.FromSeconds(4), result.SearchTime);
        Assert.False(result.Cancelled);
        Assert.DoesNotContain(result.RunDetails, run => run.Status == RecurrentTrialStatus.Interrupted);
    }

    [Fact]
    public void TheSameSeedGivesTheSameTrialsAndMetrics()
    {
        ForecastingExperimentResult Run() => new MLContext(seed: 1).RecurrentExperiments.CreateForecastingExperiment(Small(seconds: 60, maxTrials: 4, epochs: 3))
            .Execute(Data(new MLContext(seed: 1)), nameof(Observation.Value), Window, Horizon);

        var first = Run();
        var second = Run();
        Assert.Equal(first.RunDetails.Select(run => (run.Configuration, run.Options.Seed, run.Epochs, run.MeanAbsoluteError, run.Status)),
            second.RunDetails.Select(run => (run.Configuration, run.Options.Seed, run.Epochs, run.MeanAbsoluteError, run.Status)));
        Assert.Equal(first.BestRun.TrialId, second.BestRun.TrialId);
    }

    [Fact]
    public void CancellationReturnsTheBestRunSoFarWithoutRefitting()
    {
        var mlContext = new MLContext(seed: 1);
        using var cancellation = new CancellationTokenSource();
        var reports = new Reports<ForecastingRunDetail>(report =>
        {
            if (report.TrialId == 3) cancellation.Cancel();
        });
        var settings = Small(seconds: 60);
        settings.RefitOnAllData = true;
        var result = mlContext.RecurrentExperiments.CreateForecastingExperiment(settings)
            .Execute(Data(mlContext), nameof(Observation.Value), Window, Horizon, progressHandler: reports, cancellationToken: cancellation.Token);

        Assert.True(result.Cancelled);
        Assert.False(result.RefitOnAllData);
        Assert.Equal(3, result.RunDetails.Count);
        var bestReported = reports.All.Where(run => !double.IsNaN(run.MeanAbsoluteError)).MinBy(run => run.MeanAbsoluteError)!;
        Assert.Equal(bestReported.TrialId, result.BestRun.TrialId);
        Assert.Equal(bestReported.MeanAbsoluteError, result.ValidationMeanAbsoluteError);
        Assert.NotNull(result.Model.Transform(Data(mlContext, 30)));
    }

    [Fact]
    public void ExplicitValidationDataRanksTheSameTailAsTheHeldOutFraction()
    {
        var mlContext = new MLContext(seed: 1);
        var all = ForecastingTests.Series(Length);
        int split = Length - (int)Math.Round(0.2 * Length);
        var train = mlContext.Data.LoadFromEnumerable(all[..split]);
        var validation = mlContext.Data.LoadFromEnumerable(all[split..]);
        var settings = Small(seconds: 60, maxTrials: 3, epochs: 3);
        var held = mlContext.RecurrentExperiments.CreateForecastingExperiment(settings).Execute(Data(mlContext), nameof(Observation.Value), Window, Horizon);
        var given = mlContext.RecurrentExperiments.CreateForecastingExperiment(settings)
            .Execute(train, nameof(Observation.Value), Window, Horizon, validationData: validation);

        Assert.Equal(held.RunDetails.Select(run => (run.Configuration, run.MeanAbsoluteError)), given.RunDetails.Select(run => (run.Configuration, run.MeanAbsoluteError)));
    }

    [Fact]
    public void WindowSizesAreSearchedTrialsAreLoggedAndTheWinnerIsRefitOnAllData()
    {
        var mlContext = new MLContext(seed: 1);
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var logger = new RecordingLogger();
        var settings = Small(seconds: 60, maxTrials: 4, epochs: 3);
        settings.WindowSizes = [6, 12, 18];
        settings.RefitOnAllData = true;
        settings.Logger = logger;
        var result = mlContext.RecurrentExperiments.CreateForecastingExperiment(settings).Execute(Data(mlContext), nameof(Observation.Value), Window, Horizon);

        Assert.All(result.RunDetails, run => Assert.Contains(run.Options.WindowSize, settings.WindowSizes));
        Assert.True(result.RunDetails.Select(run => run.Options.WindowSize).Distinct().Count() > 1);
        Assert.True(result.RefitOnAllData);
        Assert.Equal(result.BestRun.Options.WindowSize, result.Model.Forecaster.WindowSize);
        Assert.Equal(result.BestRun.BestEpochs, result.Model.Forecaster.History!.Epochs.Count);
        foreach (var run in result.RunDetails)
        {
            string line = $"trial {run.TrialId,3}  {run.Configuration}";
            Assert.Contains(messages, message => message.Contains(line) && message.Contains("MAE"));
            Assert.Contains(logger.Lines, entry => entry.Level == LogLevel.Information && entry.Message.Contains(line));
        }
        Assert.Contains(messages, message => message.Contains("Leaderboard:") && message.Contains($"1. trial {result.BestRun.TrialId,3}"));
        Assert.Contains(messages, message => message.Contains("Refitting trial"));
    }

    private sealed class IntegerObservation
    {
        public int Value { get; set; }
    }

    [Fact]
    public void BadInputThrowsBeforeAnyTrial()
    {
        var mlContext = new MLContext(seed: 1);
        var experiments = mlContext.RecurrentExperiments;
        Assert.Throws<ArgumentOutOfRangeException>(() => experiments.CreateForecastingExperiment(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => experiments.CreateForecastingExperiment(-5));
        var empty = Small(10);
        empty.SearchSpace.Cells = [];
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => experiments.CreateForecastingExperiment(empty)).Message);
        var noWindows = Small(10);
        noWindows.WindowSizes = [];
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => experiments.CreateForecastingExperiment(noWindows)).Message);

        var reports = new Reports<ForecastingRunDetail>(_ => Assert.Fail("a trial ran"));
        var experiment = experiments.CreateForecastingExperiment(Small(10));
        var data = Data(mlContext);
        Assert.Throws<ArgumentOutOfRangeException>(() => experiment.Execute(data, nameof(Observation.Value), Window, horizon: 0, progressHandler: reports));
        var shortSeries = Data(mlContext, 20);
        Assert.Contains("windowSize 12 + horizon 3", Assert.Throws<ArgumentException>(
            () => experiment.Execute(shortSeries, nameof(Observation.Value), Window, Horizon, progressHandler: reports)).Message);
        var integers = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 100).Select(i => new IntegerObservation { Value = i }));
        var wrongType = Assert.ThrowsAny<Exception>(() => experiment.Execute(integers, nameof(IntegerObservation.Value), Window, Horizon, progressHandler: reports));
        Assert.Contains("Single", wrongType.Message);
        Assert.ThrowsAny<Exception>(() => experiment.Execute(data, "Missing", Window, Horizon, progressHandler: reports));
        Assert.Empty(reports.All);
    }
}
