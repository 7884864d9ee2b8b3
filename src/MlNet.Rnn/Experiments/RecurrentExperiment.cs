using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Scoring;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// A time-budgeted search over recurrent models of one task, as ML.NET AutoML's experiments are: <c>Execute</c> takes data, a
/// label and a budget and returns the best fitted model and every run. Each trial draws a configuration from the
/// <see cref="RecurrentSearchSpace"/> with a seeded generator and is trained in stretches of epochs under asynchronous
/// successive halving on the per-epoch validation metric (<see cref="SuccessiveHalving{TTrial}"/>): weak trials stop after few epochs,
/// promising ones continue, in memory, for more. Create one with <c>mlContext.RecurrentExperiments.Create…Experiment</c>.
/// </summary>
/// <typeparam name="TOptions">The task's trainer options.</typeparam>
/// <typeparam name="TMetrics">ML.NET's metrics of the task.</typeparam>
public abstract class RecurrentExperiment<TOptions, TMetrics>
    where TOptions : RecurrentTrainerOptions, new()
    where TMetrics : class
{
    private readonly MLContext _mlContext;

    private protected RecurrentExperiment(MLContext mlContext, RecurrentExperimentSettings<TOptions> settings)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(settings);
        _mlContext = mlContext;
        Settings = settings;
        Validate();
    }

    /// <summary>The settings; changes apply to the next <c>Execute</c>.</summary>
    public RecurrentExperimentSettings<TOptions> Settings { get; }

    /// <summary>The metric trials are ranked by: the settings' or the task's default.</summary>
    public RecurrentExperimentMetric OptimizingMetric => Settings.OptimizingMetric ?? DefaultMetric;

    private protected abstract string TaskName { get; }

    private protected abstract RecurrentExperimentMetric DefaultMetric { get; }

    /// <summary>The metrics this task can rank by.</summary>
    private protected abstract IReadOnlyList<RecurrentExperimentMetric> FittingMetrics { get; }

    private protected abstract RecurrentTrainerBase<TOptions> CreateTrainer(IHostEnvironment env, RecurrentCellType cell, TOptions options);

    private protected abstract TMetrics Evaluate(MLContext mlContext, IDataView scored, string labelColumnName);

    /// <summary>
    /// Searches within the budget, ranking trials on <paramref name="validationData"/> after every epoch, and returns the best run's
    /// model (with its best epoch's weights, or refit on both data sets when <see cref="RecurrentExperimentSettings{TOptions}.RefitOnAllData"/>),
    /// its ML.NET metrics on the validation data, and every run. Bad settings or columns throw before any trial trains.
    /// </summary>
    /// <param name="trainData">The training rows.</param>
    /// <param name="validationData">The rows trials are ranked on.</param>
    /// <param name="labelColumnName">The label column; null keeps the settings' trainer options' (default "Label").</param>
    /// <param name="featureColumnName">The sequence column; null keeps the settings' trainer options' (default "Features").</param>
    /// <param name="preFeaturizer">An estimator fitted once on <paramref name="trainData"/> that makes the feature column (e.g. TokenizeIntoWords → MapValueToKey); it heads the returned model.</param>
    /// <param name="progressHandler">Receives a run's details each time a trial finishes a stretch of epochs: a live leaderboard.</param>
    /// <param name="cancellationToken">Ends the search at the next batch; the result holds the best run so far.</param>
    public RecurrentExperimentResult<TMetrics> Execute(IDataView trainData, IDataView validationData, string? labelColumnName = null,
        string? featureColumnName = null, IEstimator<ITransformer>? preFeaturizer = null, IProgress<RecurrentRunDetail>? progressHandler = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(validationData);
        return Run(trainData, validationData, folds: null, labelColumnName, featureColumnName, preFeaturizer, progressHandler, cancellationToken);
    }

    /// <summary>
    /// As <see cref="Execute(IDataView, IDataView, string?, string?, IEstimator{ITransformer}?, IProgress{RecurrentRunDetail}?, CancellationToken)"/>,
    /// but every trial trains <paramref name="numberOfCrossValidationFolds"/> models, one per fold of <paramref name="trainData"/>, and is
    /// ranked by the metric averaged over the folds (the folds' own early stopping is off). The returned model is always the best
    /// configuration refit on all of <paramref name="trainData"/> for its best epoch count.
    /// </summary>
    /// <param name="trainData">The rows, split into folds.</param>
    /// <param name="numberOfCrossValidationFolds">Folds, at least 2.</param>
    /// <param name="labelColumnName">The label column; null keeps the settings' trainer options'.</param>
    /// <param name="featureColumnName">The sequence column; null keeps the settings' trainer options'.</param>
    /// <param name="preFeaturizer">An estimator fitted once on <paramref name="trainData"/> that makes the feature column.</param>
    /// <param name="progressHandler">Receives a run's details each time a trial finishes a stretch of epochs.</param>
    /// <param name="cancellationToken">Ends the search at the next batch; the result holds the best run so far.</param>
    public RecurrentExperimentResult<TMetrics> Execute(IDataView trainData, int numberOfCrossValidationFolds, string? labelColumnName = null,
        string? featureColumnName = null, IEstimator<ITransformer>? preFeaturizer = null, IProgress<RecurrentRunDetail>? progressHandler = null,
        CancellationToken cancellationToken = default)
    {
        if (numberOfCrossValidationFolds < 2)
            throw new ArgumentOutOfRangeException(nameof(numberOfCrossValidationFolds), numberOfCrossValidationFolds,
                $"numberOfCrossValidationFolds = {numberOfCrossValidationFolds} must be at least 2 (e.g. 5), or pass validation data instead.");
        return Run(trainData, null, numberOfCrossValidationFolds, labelColumnName, featureColumnName, preFeaturizer, progressHandler, cancellationToken);
    }

    private RecurrentExperimentResult<TMetrics> Run(IDataView trainData, IDataView? validationData, int? folds, string? labelColumnName,
        string? featureColumnName, IEstimator<ITransformer>? preFeaturizer, IProgress<RecurrentRunDetail>? progressHandler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        Validate();
        var time = Settings.TimeProvider;
        long start = time.GetTimestamp();
        var host = ((IHostEnvironment)_mlContext).Register("RecurrentExperiment");
        using var channel = host.Start("Experiment");
        var metric = OptimizingMetric;
        var options = (TOptions)Settings.TrainerOptions.Copy();
        if (labelColumnName is not null) options.LabelColumnName = labelColumnName;
        if (featureColumnName is not null) options.FeatureColumnName = featureColumnName;
        var logger = Settings.Logger ?? options.Logger;
        var template = CreateTrainer(host, Settings.SearchSpace.Cells[0], options);

        // Featurize and read the rows once; every trial trains on the same data sets.
        var featurizer = preFeaturizer?.Fit(trainData);
        IDataView train = featurizer?.Transform(trainData) ?? trainData;
        IDataView? validation = validationData is null ? null : featurizer?.Transform(validationData) ?? validationData;
        int seed = Settings.Seed ?? host.Rand.Next();
        using var reading = new FitRun(channel, options, Settings.SearchSpace.Cells[0], seed);
        var data = folds is int k
            ? _mlContext.Data.CrossValidationSplit(train, k, seed: seed).Select(fold => template.Prepare(reading, fold.TrainSet, fold.TestSet)).ToArray()
            : [template.Prepare(reading, train, validation)];

        var halving = new SuccessiveHalving<Trial>(Settings.MinimumEpochs, options.EpochsOrDefault, Settings.ReductionFactor);
        var sampler = new Random(seed);
        string folder = Directory.CreateTempSubdirectory("mlnet-rnn-experiment-").FullName;
        try
        {
            // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
            Log(channel, logger, string.Create(CultureInfo.InvariantCulture,
                $"{TaskName} experiment: budget {Settings.MaxExperimentTimeInSeconds:g4} s, ranking by validation {metric}, rungs [{string.Join(", ", halving.Rungs)}] epochs, " +
                $"η {Settings.ReductionFactor}, seed {seed}, {data[0].Training.ExampleCount} training and {data[0].Validation!.ExampleCount} validation rows" +
                $"{(folds is int f ? $" per fold ({f} folds)" : "")}; search space: {Settings.SearchSpace}"));

            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var timer = BudgetTimer.Start(budget, TimeSpan.FromSeconds(Settings.MaxExperimentTimeInSeconds) - time.GetElapsedTime(start), time);
            var trials = new List<Trial>();
            halving.Search(trials, id => Sample(id, sampler, options, metric, data, template, logger, folder), Settings.MaxTrials,
                (trial, epochs) => trial.Advance(epochs, budget.Token),
                trial =>
                {
                    var detail = trial.Detail();
                    var leader = RecurrentExperimentRanking.Rank(trials.Select(t => t.Detail())).FirstOrDefault();
                    Log(channel, logger, string.Create(CultureInfo.InvariantCulture,
                        $"{detail}{(leader is null ? "" : $"  | leader: trial {leader.TrialId}, {leader.MetricName} {leader.Metric:F4}")}"));
                    progressHandler?.Report(detail);
                }, budget.Token);
            var searchTime = time.GetElapsedTime(start);
            bool cancelled = cancellationToken.IsCancellationRequested;

            var details = trials.Select(trial => trial.Detail()).ToArray();
            var ranked = RecurrentExperimentRanking.Rank(details);
            if (ranked.Count == 0)
                throw RecurrentExperimentRanking.NoRankedRun("epoch", "an epoch", "data", "the label and features", searchTime, trials.Count,
                    trials.Count(trial => trial.Status == RecurrentTrialStatus.Diverged), cancelled, cancellationToken);
            var bestRun = ranked[0];
            var best = trials.Single(trial => trial.Id == bestRun.TrialId);
            Log(channel, logger, "Leaderboard:" + string.Concat(ranked.Take(10).Select((run, i) => $"{Environment.NewLine}{i + 1,3}. {run}")));

            // The search's own model of the best run (its best epoch's weights) is measured on the validation data; with
            // cross-validation there is no single one, so the configuration is refit on all rows.
            var searched = validation is null ? null : template.Wrap(data[0], best.BestModel(), best.History);
            TMetrics? metrics = searched is null ? null : Evaluate(_mlContext, searched.Transform(validation!), options.LabelColumnName);
            // A cancelled search returns at once: no refit, unless there is no searched model (cross-validation) to return.
            bool refit = searched is null || (Settings.RefitOnAllData && !cancelled);
            RecurrentPredictionTransformer predictor;
            if (searched is not null && !refit) predictor = searched;
            else
            {
                var refitOptions = (TOptions)best.Options.Copy();
                refitOptions.NumberOfEpochs = bestRun.BestEpoch;
                var all = validation is null ? train : AppendRowsDataView.Create(host, train.Schema, train, validation);
                Log(channel, logger, string.Create(CultureInfo.InvariantCulture, $"Refitting trial {bestRun.TrialId} on all data for {bestRun.BestEpoch} epochs."));
                predictor = CreateTrainer(host, best.Cell, refitOptions).Fit(all);
            }
            ITransformer model = featurizer is null ? predictor : new TransformerChain<ITransformer>(featurizer, predictor);
            return new RecurrentExperimentResult<TMetrics>(bestRun, details, model, predictor, metrics, refit, cancelled, searchTime);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            foreach (var fold in data) fold.Dispose();
        }
    }

    private Trial Sample(int id, Random random, TOptions baseOptions, RecurrentExperimentMetric metric, PreparedSequenceData[] data,
        RecurrentTrainerBase<TOptions> template, ILogger? logger, string folder)
    {
        var space = Settings.SearchSpace;
        var options = (TOptions)baseOptions.Copy();
        var cell = Pick(space.Cells, random);
        options.HiddenSize = Pick(space.HiddenSizes, random);
        options.NumberOfLayers = Pick(space.NumbersOfLayers, random);
        options.Bidirectional = Pick(space.Bidirectional, random);
        options.Dropout = space.Dropout.Draw(random);
        options.RecurrentDropout = space.RecurrentDropout.Draw(random);
        options.LearningRate = space.LearningRate.Draw(random);
        options.BatchSize = Pick(space.BatchSizes, random);
        options.GradientClipNorm = Pick(space.GradientClipNorms, random);
        options.LearnedInitialState = Pick(space.LearnedInitialState, random);
        options.Seed = random.Next();
        options.Standardize = false; // the epoch watch keeps the best epoch's weights as training sees them
        return new Trial(id, cell, options, metric, data, template.ModelOptions, template.CreateLossFor, logger, folder);
    }

    private static T Pick<T>(IList<T> choices, Random random) => choices[random.Next(choices.Count)];

    /// <summary>Throws naming the first bad setting, its value and the fix.</summary>
    private void Validate()
    {
        double budget = Settings.MaxExperimentTimeInSeconds;
        if (!(budget > 0) || !double.IsFinite(budget))
            throw new ArgumentOutOfRangeException(nameof(Settings.MaxExperimentTimeInSeconds), budget, string.Create(CultureInfo.InvariantCulture,
                $"MaxExperimentTimeInSeconds = {budget} must be a positive, finite number of seconds (e.g. 60)."));
        if (!FittingMetrics.Contains(OptimizingMetric))
            throw new ArgumentException($"OptimizingMetric = {OptimizingMetric} does not fit {TaskName}: use {string.Join(" or ", FittingMetrics)}.",
                nameof(Settings.OptimizingMetric));
        if (Settings.TimeProvider is null) throw new ArgumentNullException(nameof(Settings.TimeProvider), "TimeProvider is null: leave it TimeProvider.System.");
        if (Settings.SearchSpace is null) throw new ArgumentNullException(nameof(Settings.SearchSpace), "SearchSpace is null: give a RecurrentSearchSpace.");
        Settings.SearchSpace.Validate();
        if (Settings.TrainerOptions is null) throw new ArgumentNullException(nameof(Settings.TrainerOptions), "TrainerOptions is null: give the task's trainer options.");
        Settings.TrainerOptions.Validate();
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
