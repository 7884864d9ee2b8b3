using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Experiments;
using MlNet.Rnn.Tests.Forecasting;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>
/// The forecasting experiment's contract, value by value, on short seasonal series: the run details' MAE and RMSE are those of
/// the returned forecaster's forecasts of every window of the tail (exogenous features included); a trial keeps the fit with the
/// lowest MAE, the earliest on a tie; its status (Paused, Completed, EarlyStopped, Diverged) and its fit time; promotions go to
/// the lowest MAE and diverged trials rank last, so every paused trial is tried before the search gives up; the log (its
/// source, the opening line, each trial with the leader so far, the leaderboard) goes to the settings' logger before the
/// estimator options'; the too-short series' message in full; a null MLContext refused.
/// </summary>
public sealed class ForecastingExperimentContractTests
{
    private const int Length = 60, Window = 6, Horizon = 3;

    private sealed class WeatherObservation
    {
        public float Value { get; set; }

        [VectorType(2)]
        public float[] Weather { get; set; } = [0, 0];
    }

    private static WeatherObservation[] WeatherSeries(int length) =>
        [.. ForecastingTests.Series(length).Select((o, n) => new WeatherObservation { Value = o.Value, Weather = [o.Temperature, n % 4] })];

    /// <summary>Every cell, H 4 or 8, one layer, B 16, up to <paramref name="epochs"/> epochs, sequential.</summary>
    private static ForecastingExperimentSettings Small(int maxTrials, int epochs, int reductionFactor = 3) => new()
    {
        MaxExperimentTimeInSeconds = 60,
        Seed = 7,
        MaxTrials = maxTrials,
        ReductionFactor = reductionFactor,
        EstimatorOptions = new() { NumberOfEpochs = epochs, MaxDegreeOfParallelism = 1, RefitOnFullSeries = false, CalibrationFraction = 0 },
        SearchSpace = new() { HiddenSizes = [4, 8], NumbersOfLayers = [1], BatchSizes = [16], LearningRate = new(3e-3f, 3e-2f, LogScale: true) },
    };

    /// <summary>
    /// What the log says after a trial's fit: its run and, when some run so far finished a fit without diverging, the leader
    /// (lowest MAE, ties by trial id) among the latest reports of each trial, computed here from the reports.
    /// </summary>
    private static List<string> ExpectedTrialLines(IReadOnlyList<ForecastingRunDetail> reports)
    {
        var latest = new Dictionary<int, ForecastingRunDetail>();
        var lines = new List<string>();
        foreach (var report in reports)
        {
            latest[report.TrialId] = report;
            var leader = latest.Values.Where(run => run.Status != RecurrentTrialStatus.Diverged && !double.IsNaN(run.MeanAbsoluteError))
                .OrderBy(run => run.MeanAbsoluteError).ThenBy(run => run.TrialId).FirstOrDefault();
            lines.Add(leader is null
                ? report.ToString()
                : report + string.Create(CultureInfo.InvariantCulture, $"  | leader: trial {leader.TrialId}, MAE {leader.MeanAbsoluteError:G5}"));
        }
        return lines;
    }

    [Fact]
    public void TheErrorsAreThoseOfTheBestForecastersForecastsOfEveryWindowOfTheTail_AndEachTrialKeepsItsBestFit()
    {
        // 60 observations with two exogenous features, the last 12 held out: windows start at 48..57, 10 forecasts of 3 values.
        var mlContext = new MLContext(seed: 1);
        var rows = WeatherSeries(Length);
        var reports = new Reports<ForecastingRunDetail>();
        var settings = Small(maxTrials: 3, epochs: 3);
        var result = mlContext.RecurrentExperiments.CreateForecastingExperiment(settings).Execute(mlContext.Data.LoadFromEnumerable(rows),
            nameof(WeatherObservation.Value), Window, Horizon, exogenousColumnNames: [nameof(WeatherObservation.Weather)], progressHandler: reports);

        var values = rows.Select(row => row.Value).ToArray();
        var weather = rows.SelectMany(row => row.Weather).ToArray();
        var forecaster = result.Model.Forecaster;
        double absolute = 0, squared = 0;
        int count = 0;
        for (int t = 48; t <= 57; t++)
        {
            var forecast = forecaster.Forecast(values.AsSpan(0, t), weather.AsSpan(0, t * 2));
            for (int h = 0; h < Horizon; h++, count++)
            {
                double error = values[t + h] - forecast.Values[h];
                absolute += Math.Abs(error);
                squared += error * error;
            }
        }
        Assert.Equal(30, count);
        Assert.Equal(absolute / count, result.ValidationMeanAbsoluteError, 12);
        Assert.Equal(Math.Sqrt(squared / count), result.ValidationRootMeanSquaredError, 12);

        // Rungs 1 and 3 epochs (η 3): of the first three trials, the one with the lowest MAE after 1 epoch is fitted again for 3.
        int[] rungs = [1, 3];
        Assert.Equal(3, result.RunDetails.Count);
        var promoted = Assert.Single(result.RunDetails, run => run.MeanAbsoluteErrorPerRung.Count == 2);
        Assert.Equal(result.RunDetails.Min(run => run.MeanAbsoluteErrorPerRung[0]), promoted.MeanAbsoluteErrorPerRung[0]);
        Assert.True(promoted.MeanAbsoluteErrorPerRung[1] < promoted.MeanAbsoluteErrorPerRung[0], "the longer fit forecasts better");
        foreach (var run in result.RunDetails)
        {
            var perRung = run.MeanAbsoluteErrorPerRung;
            Assert.Equal(perRung.Min(), run.MeanAbsoluteError);
            Assert.Equal(rungs[perRung.ToList().IndexOf(perRung.Min())], run.BestEpochs);
            Assert.Equal(rungs[perRung.Count - 1], run.Epochs);
            Assert.Equal(run.Epochs == 3 ? RecurrentTrialStatus.Completed : RecurrentTrialStatus.Paused, run.Status);
            // Its fit time: positive, and no longer once its last fit is reported.
            Assert.True(run.RuntimeInSeconds > 0);
            Assert.Equal(reports.All.Last(report => report.TrialId == run.TrialId).RuntimeInSeconds, run.RuntimeInSeconds);
        }
        Assert.Equal(promoted, result.BestRun);
        Assert.Equal(3, forecaster.History!.Epochs.Count);
    }

    [Fact]
    public void ALongerFitThatIsNoBetterKeepsTheFirstFit_AndAFitThatStopsEarlyIsEarlyStopped()
    {
        // A learning rate of 1e-30 leaves the weights as drawn: the trainer's validation loss (the calibration tail) never improves,
        // so the 3-epoch fit stops early after epoch 2 and keeps epoch 1's weights, which forecast exactly as the 1-epoch fit.
        var mlContext = new MLContext(seed: 1);
        var settings = Small(maxTrials: 3, epochs: 3);
        settings.SearchSpace.LearningRate = SearchRange.Fixed(1e-30f);
        settings.EstimatorOptions.CalibrationFraction = 0.25;
        settings.EstimatorOptions.EarlyStoppingPatience = 1;
        var result = mlContext.RecurrentExperiments.CreateForecastingExperiment(settings)
            .Execute(mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(Length)), nameof(Observation.Value), Window, Horizon);

        var promoted = Assert.Single(result.RunDetails, run => run.MeanAbsoluteErrorPerRung.Count == 2);
        Assert.Equal(promoted.MeanAbsoluteErrorPerRung[0], promoted.MeanAbsoluteErrorPerRung[1]);
        Assert.Equal(RecurrentTrialStatus.EarlyStopped, promoted.Status);
        Assert.Equal(3, promoted.Epochs);
        Assert.Equal(1, promoted.BestEpochs);
        Assert.All(result.RunDetails.Where(run => run != promoted), run => Assert.Equal(RecurrentTrialStatus.Paused, run.Status));
        Assert.Equal(promoted, result.BestRun);
        Assert.Single(result.Model.Forecaster.History!.Epochs);
    }

    [Fact]
    public void DivergedTrialsRankLast_SoEveryPausedTrialIsTriedBeforeTheSearchSaysNoneFinished()
    {
        // A learning rate of 1e30 and one batch per epoch: a 1-epoch fit takes one step from the drawn weights and ends with
        // finite (huge) errors, a 3-epoch fit overflows at its second step. Rungs 1 and 3 (η 2), two trials: the better one is
        // fitted for 3 epochs and diverges; ranked last, it leaves its place to the other, which diverges too.
        var mlContext = new MLContext(seed: 1);
        var clock = new FakeTimeProvider();
        var logger = new RecordingLogger();
        var reports = new Reports<ForecastingRunDetail>();
        var settings = Small(maxTrials: 2, epochs: 3, reductionFactor: 2);
        settings.TimeProvider = clock;
        settings.Logger = logger;
        settings.SearchSpace.LearningRate = SearchRange.Fixed(1e30f);
        settings.SearchSpace.BatchSizes = [1024];
        var experiment = mlContext.RecurrentExperiments.CreateForecastingExperiment(settings);
        var error = Assert.Throws<InvalidOperationException>(() => experiment.Execute(mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(Length)),
            nameof(Observation.Value), Window, Horizon, progressHandler: reports));

        Assert.Equal("No trial finished a fit within 0.0 s (2 started, 2 diverged): every trial's loss or gradient stopped being finite. Search smaller " +
            "learning rates (SearchSpace.LearningRate), keep gradient clipping on (SearchSpace.GradientClipNorms above 0), or scale the series.", error.Message);
        Assert.Equal([1, 2], reports.All.Take(2).Select(run => run.TrialId));
        Assert.All(reports.All.Take(2), run => Assert.Equal(RecurrentTrialStatus.Paused, run.Status));
        Assert.All(reports.All.Take(2), run => Assert.True(double.IsFinite(run.MeanAbsoluteError)));
        var better = reports.All.Take(2).MinBy(run => run.MeanAbsoluteError)!;
        var worse = reports.All.Take(2).MaxBy(run => run.MeanAbsoluteError)!;
        Assert.Equal([better.TrialId, worse.TrialId], reports.All.Skip(2).Select(run => run.TrialId));
        Assert.All(reports.All.Skip(2), run => Assert.Equal(RecurrentTrialStatus.Diverged, run.Status));
        Assert.All(reports.All.Skip(2), run => Assert.IsType<TrainingDivergedException>(run.Exception));
        // Each fit is logged with the leader so far; once both diverged there is none.
        Assert.Equal(ExpectedTrialLines(reports.All), logger.Messages.Skip(1));
        Assert.Equal(reports.All[^1].ToString(), logger.Messages[^1]);
        Assert.Equal(logger.Messages, logger.Information);
    }

    [Fact]
    public void TheLogOpensWithTheSearchAndEndsWithTheLeaderboard_OnTheSettingsLoggerBeforeTheEstimatorOptions()
    {
        var mlContext = new MLContext(seed: 1);
        var sources = new List<string>();
        mlContext.Log += (_, e) =>
        {
            if (e.Message.Contains("Forecasting experiment:") || e.Message.Contains("Leaderboard:")) lock (sources) sources.Add(e.Source);
        };
        var logger = new RecordingLogger();
        var optionsLogger = new RecordingLogger();
        var reports = new Reports<ForecastingRunDetail>();
        var settings = Small(maxTrials: 2, epochs: 1);
        settings.WindowSizes = [4, 6];
        settings.Logger = logger;
        settings.EstimatorOptions.Logger = optionsLogger;
        var result = mlContext.RecurrentExperiments.CreateForecastingExperiment(settings)
            .Execute(mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(Length)), nameof(Observation.Value), 5, Horizon, progressHandler: reports);

        Assert.Empty(optionsLogger.Messages);
        Assert.Equal(4, logger.Messages.Count);
        Assert.Equal(logger.Messages, logger.Information);
        Assert.Equal("Forecasting experiment: budget 60 s, ranking by validation MAE, rungs [1] epochs, η 3, seed 7, 48 training and 12 validation " +
            "observations, horizon 3, windows [4, 6]; search space: " + settings.SearchSpace, logger.Messages[0]);
        Assert.Equal(ExpectedTrialLines(reports.All), logger.Messages.Skip(1).Take(2));
        Assert.Equal(2, result.Leaderboard.Count);
        Assert.Equal("Leaderboard:" + Environment.NewLine + "  1. " + result.Leaderboard[0] + Environment.NewLine + "  2. " + result.Leaderboard[1],
            logger.Messages[3]);
        Assert.Equal(["ForecastingExperiment; Experiment", "ForecastingExperiment; Experiment"], sources);

        // Without a logger of its own, the experiment logs to the estimator options' logger.
        settings.Logger = null;
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => mlContext.RecurrentExperiments.CreateForecastingExperiment(settings).Execute(
            mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(Length)), nameof(Observation.Value), 5, Horizon, cancellationToken: cancelled.Token));
        Assert.StartsWith("Forecasting experiment: budget 60 s, ranking by validation MAE, rungs [1] epochs", Assert.Single(optionsLogger.Messages));
        Assert.Equal(4, logger.Messages.Count);
    }

    [Fact]
    public void ASeriesTooShortIsRefusedWithItsCounts_AndANullContextByName()
    {
        // 20 observations: 16 to fit on, of which CalibrationFraction 0.25 holds out 4, and 4 to validate on; window 10 + horizon 3 > 12.
        var mlContext = new MLContext(seed: 1);
        var settings = Small(maxTrials: 1, epochs: 1);
        settings.EstimatorOptions.CalibrationFraction = 0.25;
        var error = Assert.Throws<ArgumentException>(() => mlContext.RecurrentExperiments.CreateForecastingExperiment(settings).Execute(
            mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(20)), nameof(Observation.Value), 10, Horizon));
        Assert.Equal("trainData", error.ParamName);
        Assert.Equal("The series of 'Value' has 20 observations: 16 to fit on (of which the forecaster's CalibrationFraction 0.25 holds out 4) and 4 to " +
            "validate on. Fitting needs windowSize 10 + horizon 3 = 13 beyond the calibration tail, and validating needs at least horizon 3: give a longer " +
            "series, a smaller window or horizon, or other fractions. (Parameter 'trainData')", error.Message);

        Assert.Equal("mlContext", Assert.Throws<ArgumentNullException>(() => new ForecastingRecurrentExperiment(null!, settings)).ParamName);
    }
}
