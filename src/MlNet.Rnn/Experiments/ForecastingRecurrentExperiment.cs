using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Forecasting;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// A time-budgeted search over recurrent forecasters (<c>ForecastByLstm/Gru/Rnn</c>), ranked by the mean absolute error of their
/// forecasts of the series' held-out tail. Trials are drawn from the <see cref="RecurrentSearchSpace"/> (and optionally
/// <see cref="ForecastingExperimentSettings.WindowSizes"/>) with a seeded generator and scheduled by the same asynchronous
/// successive halving as the other experiments (<see cref="SuccessiveHalving{TTrial}"/>). The core's <see cref="RecurrentForecaster"/>
/// fits in one call, with no way to pause and continue, so a promotion fits the trial again from scratch (same seed) for its
/// rung's epochs: forecasting models are small, and the rung's metric is then exactly that of a forecaster trained that long.
/// Create one with <c>mlContext.RecurrentExperiments.CreateForecastingExperiment</c>.
/// </summary>
public sealed class ForecastingRecurrentExperiment
{
    private readonly MLContext _mlContext;

    internal ForecastingRecurrentExperiment(MLContext mlContext, ForecastingExperimentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(settings);
        _mlContext = mlContext;
        Settings = settings;
        Validate();
    }

    /// <summary>The settings; changes apply to the next <c>Execute</c>.</summary>
    public ForecastingExperimentSettings Settings { get; }

    /// <summary>
    /// Searches within the budget and returns the best run's fitted forecaster, its validation MAE and RMSE, and every run. The
    /// trials are fitted on <paramref name="trainData"/> less its last <see cref="ForecastingExperimentSettings.ValidationFraction"/>,
    /// and ranked on the forecasts of that tail; or, with <paramref name="validationData"/> (the rows that follow
    /// <paramref name="trainData"/>), fitted on all of <paramref name="trainData"/> and ranked on the forecasts of
    /// <paramref name="validationData"/>. Every window whose future lies in the tail is forecast, from the observations
    /// before it. Bad settings, columns or lengths throw before any trial trains.
    /// </summary>
    /// <param name="trainData">The series, one row per observation, in time order.</param>
    /// <param name="inputColumnName">The series' column (Single).</param>
    /// <param name="windowSize">W: past observations per forecast (unless <see cref="ForecastingExperimentSettings.WindowSizes"/> is set).</param>
    /// <param name="horizon">HZ: values forecast at once.</param>
    /// <param name="validationData">The rows that follow <paramref name="trainData"/>; null holds out the tail of <paramref name="trainData"/>.</param>
    /// <param name="outputColumnName">The forecast column of the returned model.</param>
    /// <param name="exogenousColumnNames">Exogenous feature columns observed with each observation; null for none.</param>
    /// <param name="progressHandler">Receives a run's details each time a trial finishes a fit: a live leaderboard.</param>
    /// <param name="cancellationToken">Ends the search at the next batch; the result holds the best run so far.</param>
    public ForecastingExperimentResult Execute(IDataView trainData, string inputColumnName, int windowSize, int horizon, IDataView? validationData = null,
        string outputColumnName = "Forecast", string[]? exogenousColumnNames = null, IProgress<ForecastingRunDetail>? progressHandler = null,
        CancellationToken cancellationToken = default)
    {
        var time = Settings.TimeProvider ?? throw new ArgumentNullException(nameof(Settings.TimeProvider), "TimeProvider is null: leave it TimeProvider.System.");
        long start = time.GetTimestamp();
        ArgumentNullException.ThrowIfNull(trainData);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        Validate();
        if (horizon < 1)
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, $"horizon = {horizon} must be at least 1 (the number of future values to forecast).");
        if (windowSize < 1)
            throw new ArgumentOutOfRangeException(nameof(windowSize), windowSize, $"windowSize = {windowSize} must be at least 1 (past observations per forecast).");
        var host = ((IHostEnvironment)_mlContext).Register("ForecastingExperiment");
        using var channel = host.Start("Experiment");
        var columns = new SeriesColumns(inputColumnName, exogenousColumnNames ?? []);
        int K = columns.Check(host, trainData.Schema);
        if (validationData is not null && columns.Check(host, validationData.Schema) != K)
            throw new ArgumentException("validationData's exogenous columns hold a different number of features than trainData's.", nameof(validationData));

        // Read the series once: every trial fits on its first part and forecasts the rest. The reader refuses a value that is not
        // finite, naming its row and column, so a bad value fails before any trial.
        var (series, exogenous) = RecurrentForecastingEstimator.ReadSeries(trainData, columns, K);
        int trainingLength = series.Length;
        if (validationData is not null)
        {
            var (tail, tailExogenous) = RecurrentForecastingEstimator.ReadSeries(validationData, columns, K);
            series = [.. series, .. tail];
            exogenous = [.. exogenous, .. tailExogenous];
        }
        else trainingLength = series.Length - (int)Math.Round(Settings.ValidationFraction * series.Length);
        int largestWindow = Settings.WindowSizes?.Max() ?? windowSize;
        var template = Settings.EstimatorOptions;
        int held = template.CalibrationFraction > 0 ? Math.Max(horizon, (int)Math.Round(template.CalibrationFraction * trainingLength)) : 0;
        if (series.Length - trainingLength < horizon || trainingLength - held < largestWindow + horizon)
            // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The series of '{inputColumnName}' has {series.Length} observations: {trainingLength} to fit on (of which the forecaster's CalibrationFraction " +
                $"{template.CalibrationFraction} holds out {held}) and {series.Length - trainingLength} to validate on. Fitting needs windowSize {largestWindow} + " +
                $"horizon {horizon} = {largestWindow + horizon} beyond the calibration tail, and validating needs at least horizon {horizon}: give a longer series, " +
                $"a smaller window or horizon, or other fractions."), nameof(trainData));
        var logger = Settings.Logger ?? template.Logger;
        int seed = Settings.Seed ?? host.Rand.Next();
        var halving = new SuccessiveHalving<ForecastingTrial>(Settings.MinimumEpochs, template.EpochsOrDefault, Settings.ReductionFactor);
        var sampler = new Random(seed);
        var trials = new List<ForecastingTrial>();
        var data = new ForecastingTrial.Series(series, exogenous, K, trainingLength);
        // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
        Log(channel, logger, string.Create(CultureInfo.InvariantCulture,
            $"Forecasting experiment: budget {Settings.MaxExperimentTimeInSeconds:g4} s, ranking by validation MAE, rungs [{string.Join(", ", halving.Rungs)}] epochs, " +
            $"η {Settings.ReductionFactor}, seed {seed}, {trainingLength} training and {series.Length - trainingLength} validation observations, horizon {horizon}, " +
            $"windows [{string.Join(", ", Settings.WindowSizes ?? [windowSize])}]; search space: {Settings.SearchSpace}"));

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var timer = BudgetTimer.Start(budget, TimeSpan.FromSeconds(Settings.MaxExperimentTimeInSeconds) - time.GetElapsedTime(start), time);
        halving.Search(trials, id => new ForecastingTrial(id, Sample(sampler, template, K, windowSize, horizon), data), Settings.MaxTrials,
            (trial, epochs) => trial.Advance(epochs, halving.Rungs[^1], budget.Token),
            trial =>
            {
                var detail = trial.Detail();
                var leader = ForecastingRunDetail.Rank(trials.Select(t => t.Detail())).FirstOrDefault();
                Log(channel, logger, string.Create(CultureInfo.InvariantCulture,
                    $"{detail}{(leader is null ? "" : $"  | leader: trial {leader.TrialId}, MAE {leader.MeanAbsoluteError:G5}")}"));
                progressHandler?.Report(detail);
            }, budget.Token);
        var searchTime = time.GetElapsedTime(start);
        bool cancelled = cancellationToken.IsCancellationRequested;

        var details = trials.Select(trial => trial.Detail()).ToArray();
        var ranked = ForecastingRunDetail.Rank(details);
        if (ranked.Count == 0)
            throw RecurrentExperimentRanking.NoRankedRun("fit", "a fit", "series", "the series", searchTime, trials.Count,
                trials.Count(trial => trial.Status == RecurrentTrialStatus.Diverged), cancelled, cancellationToken);
        var bestRun = ranked[0];
        var best = trials.Single(trial => trial.Id == bestRun.TrialId);
        Log(channel, logger, "Leaderboard:" + string.Concat(ranked.Take(10).Select((run, i) => $"{Environment.NewLine}{i + 1,3}. {run}")));

        bool refit = Settings.RefitOnAllData && !cancelled;
        var forecaster = best.BestForecaster!;
        if (refit)
        {
            Log(channel, logger, string.Create(CultureInfo.InvariantCulture,
                $"Refitting trial {bestRun.TrialId} on all {series.Length} observations for {bestRun.BestEpochs} epochs."));
            var options = best.Options with { Training = best.Options.Training with { Epochs = bestRun.BestEpochs } };
            forecaster = RecurrentForecaster.Fit(series, options, exogenous);
        }
        var model = new RecurrentForecastingTransformer(host, forecaster, columns, outputColumnName, template.ConfidenceLowerBoundColumn,
            template.ConfidenceUpperBoundColumn);
        return new ForecastingExperimentResult(bestRun, details, model, refit, cancelled, searchTime);
    }

    /// <summary>Draws a configuration: cell, window (when searched), H, layers, dropout, learning rate, batch size, clipping, seed.</summary>
    private ForecasterOptions Sample(Random random, RecurrentForecastingEstimator.Options template, int exogenousFeatures, int windowSize, int horizon)
    {
        var space = Settings.SearchSpace;
        var cell = Pick(space.Cells, random);
        int window = Settings.WindowSizes is { } windows ? Pick(windows, random) : windowSize;
        int hidden = Pick(space.HiddenSizes, random);
        int layers = Pick(space.NumbersOfLayers, random);
        float dropout = space.Dropout.Draw(random);
        float learningRate = space.LearningRate.Draw(random);
        int batchSize = Pick(space.BatchSizes, random);
        float clip = Pick(space.GradientClipNorms, random);
        int seed = random.Next();
        var options = template.ToForecasterOptions(cell, exogenousFeatures, seed, logger: null);
        return options with
        {
            WindowSize = window, Horizon = horizon, HiddenSize = hidden, Layers = layers, Dropout = dropout,
            Training = options.Training with { LearningRate = learningRate, BatchSize = batchSize, GradientClipNorm = clip },
        };
    }

    private static T Pick<T>(IList<T> choices, Random random) => choices[random.Next(choices.Count)];

    /// <summary>Throws naming the first bad setting, its value and the fix.</summary>
    private void Validate()
    {
        double budget = Settings.MaxExperimentTimeInSeconds;
        if (!(budget > 0) || !double.IsFinite(budget))
            throw new ArgumentOutOfRangeException(nameof(Settings.MaxExperimentTimeInSeconds), budget, string.Create(CultureInfo.InvariantCulture,
                $"MaxExperimentTimeInSeconds = {budget} must be a positive, finite number of seconds (e.g. 60)."));
        if (Settings.SearchSpace is null) throw new ArgumentNullException(nameof(Settings.SearchSpace), "SearchSpace is null: give a RecurrentSearchSpace.");
        Settings.SearchSpace.Validate();
        if (Settings.WindowSizes is { } windows)
        {
            if (windows.Count == 0)
                throw new ArgumentException("The search space is empty: WindowSizes holds no choice; give at least one (e.g. [12, 24]) or null to keep Execute's windowSize.",
                    nameof(Settings.WindowSizes));
            foreach (int w in windows) Check(w >= 1, nameof(Settings.WindowSizes), w, "must hold window sizes of at least 1");
        }
        if (Settings.EstimatorOptions is null)
            throw new ArgumentNullException(nameof(Settings.EstimatorOptions), "EstimatorOptions is null: give the forecasting estimator's options.");
        Settings.EstimatorOptions.Validate();
        double fraction = Settings.ValidationFraction;
        if (!(fraction > 0 && fraction < 1))
            throw new ArgumentOutOfRangeException(nameof(Settings.ValidationFraction), fraction, string.Create(CultureInfo.InvariantCulture,
                $"ValidationFraction = {fraction} must lie in (0, 1) (e.g. 0.2)."));
        Check(Settings.MaxTrials >= 1, nameof(Settings.MaxTrials), Settings.MaxTrials, "must be at least 1");
        Check(Settings.MinimumEpochs >= 1, nameof(Settings.MinimumEpochs), Settings.MinimumEpochs, "must be at least 1");
        Check(Settings.ReductionFactor >= 2, nameof(Settings.ReductionFactor), Settings.ReductionFactor, "must be at least 2 (3 is usual)");
    }

    private static void Check(bool valid, string name, int value, string rule)
    {
        if (!valid) throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} = {value} {rule}."));
    }

    private static void Log(IChannel channel, ILogger? logger, string message)
    {
        channel.Info(message);
        logger?.LogInformation("{Message}", message);
    }
}

/// <summary>
/// One configuration of a forecasting experiment. Each stretch fits the forecaster from scratch (same seed) for the rung's
/// epochs on the training part and forecasts every window of the validation tail; the fit with the lowest MAE is kept.
/// </summary>
internal sealed class ForecastingTrial(int id, ForecasterOptions options, ForecastingTrial.Series data) : IRungTrial
{
    /// <summary>The whole series <c>[N]</c> (and exogenous values <c>[N, K]</c>); the first <paramref name="TrainingLength"/> observations are fitted on.</summary>
    internal sealed record Series(float[] Values, float[] Exogenous, int ExogenousFeatures, int TrainingLength);

    private readonly List<double> _maePerRung = [];
    private readonly Stopwatch _clock = new();
    private double _bestRmse = double.NaN;
    private int _bestEpochs;
    private Exception? _exception;

    public int Id { get; } = id;

    public ForecasterOptions Options { get; } = options;

    public RecurrentTrialStatus Status { get; private set; } = RecurrentTrialStatus.Paused;

    public int Rung { get; set; } = -1;

    /// <summary>The epochs of the latest finished fit.</summary>
    public int Epochs { get; private set; }

    public double BestMae { get; private set; } = double.NaN;

    public double Score => Status == RecurrentTrialStatus.Diverged || double.IsNaN(BestMae) ? double.NegativeInfinity : -BestMae;

    /// <summary>The fit with the lowest validation MAE.</summary>
    public RecurrentForecaster? BestForecaster { get; private set; }

    /// <summary>Fits for <paramref name="epochs"/> and measures the validation tail; false when <paramref name="token"/> cut the fit.</summary>
    public bool Advance(int epochs, int maximumEpochs, CancellationToken token)
    {
        _clock.Start();
        try
        {
            int n = data.TrainingLength, K = data.ExogenousFeatures;
            var options = Options with { Training = Options.Training with { Epochs = epochs } };
            var forecaster = RecurrentForecaster.Fit(data.Values.AsSpan(0, n), options, data.Exogenous.AsSpan(0, n * K), token);
            var (mae, rmse) = Errors(forecaster);
            Epochs = epochs;
            _maePerRung.Add(mae);
            if (double.IsNaN(BestMae) || mae < BestMae)
            {
                (BestMae, _bestRmse, _bestEpochs, BestForecaster) = (mae, rmse, epochs, forecaster);
            }
            bool stoppedEarly = forecaster.History is { StoppedEarly: true };
            Status = stoppedEarly ? RecurrentTrialStatus.EarlyStopped
                : epochs >= maximumEpochs ? RecurrentTrialStatus.Completed : RecurrentTrialStatus.Paused;
            return true;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Status = RecurrentTrialStatus.Interrupted;
            return false;
        }
        catch (TrainingDivergedException exception)
        {
            _exception = exception;
            Status = RecurrentTrialStatus.Diverged;
            return true;
        }
        finally
        {
            _clock.Stop();
        }
    }

    public ForecastingRunDetail Detail() => new(Id, Options, BestMae, _bestRmse, _maePerRung.ToArray(), _bestEpochs, Epochs, Status,
        _clock.Elapsed.TotalSeconds, _exception);

    /// <summary>MAE and RMSE over every horizon step of every window whose future lies in the validation tail.</summary>
    private (double Mae, double Rmse) Errors(RecurrentForecaster forecaster)
    {
        int K = data.ExogenousFeatures, HZ = forecaster.Horizon;
        double absolute = 0, squared = 0;
        long count = 0;
        for (int t = data.TrainingLength; t + HZ <= data.Values.Length; t++)
        {
            var forecast = forecaster.Forecast(data.Values.AsSpan(0, t), K > 0 ? data.Exogenous.AsSpan(0, t * K) : default);
            for (int h = 0; h < HZ; h++)
            {
                double error = data.Values[t + h] - forecast.Values[h];
                absolute += Math.Abs(error);
                squared += error * error;
                count++;
            }
        }
        return (absolute / count, Math.Sqrt(squared / count));
    }
}
