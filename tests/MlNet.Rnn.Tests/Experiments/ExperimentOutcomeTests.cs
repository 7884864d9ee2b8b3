using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Experiments;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>
/// What an experiment returns and says around its search, on 400 training and 200 validation rows: the search's own model
/// unless a refit is asked for and the search was not cancelled (a refit is logged, and with cross-validation always made), a
/// run's training time that stops when it stops training, the settings' logger before the trainer options', a trial's line
/// without a leader while no trial is ranked, and the channel the context's log names.
/// </summary>
public sealed class ExperimentOutcomeTests
{
    private static RecurrentExperimentSettings<RecurrentBinaryTrainer.Options> Tiny(int maxTrials, int epochs = 1) => new()
    {
        MaxExperimentTimeInSeconds = 600,
        Seed = 7,
        MaxTrials = maxTrials,
        TrainerOptions = new() { NumberOfEpochs = epochs, MaxDegreeOfParallelism = 1, ValidationFraction = 0 },
        SearchSpace = new() { HiddenSizes = [4], NumbersOfLayers = [1], BatchSizes = [32], LearningRate = new(1e-3f, 3e-2f, LogScale: true) },
    };

    [Fact]
    public void WithoutARefitTheModelIsTheSearchsOwn_AndARunsTimeStopsWhenItStopsTraining()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext);
        var logger = new RecordingLogger();
        var reports = new Reports<RecurrentRunDetail>();
        var settings = Tiny(maxTrials: 2);
        settings.Logger = logger;
        var result = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(settings).Execute(train, validation, progressHandler: reports);

        Assert.False(result.RefitOnAllData);
        Assert.False(result.Cancelled);
        // One epoch over the 400 training rows in batches of 32: 13 steps (a refit on 600 rows would take 19).
        Assert.Equal(13, result.Predictor.Model.History!.Steps);
        Assert.Equal(result.BestRun.Metric, result.ValidationMetrics!.Accuracy, 6);
        Assert.DoesNotContain(logger.Information, line => line.StartsWith("Refitting", StringComparison.Ordinal));

        // Trial 1 trained once, then trial 2: the time trial 1 reported is still its time at the end.
        Assert.Equal([1, 2], reports.All.Select(run => run.TrialId));
        Assert.True(reports.All[0].RuntimeInSeconds > 0, $"runtime {reports.All[0].RuntimeInSeconds} s");
        Assert.Equal(reports.All[0].RuntimeInSeconds, result.RunDetails[0].RuntimeInSeconds);
    }

    [Fact]
    public void ARefitAskedForIsMadeAndLogged_ButNotAfterACancellation()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext);
        var logger = new RecordingLogger();
        var settings = Tiny(maxTrials: 1);
        settings.RefitOnAllData = true;
        settings.Logger = logger;
        var result = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(settings).Execute(train, validation);
        Assert.True(result.RefitOnAllData);
        Assert.Equal(19, result.Predictor.Model.History!.Steps);
        Assert.Contains("Refitting trial 1 on all data for 1 epochs.", logger.Information);

        var cancelledLogger = new RecordingLogger();
        using var cancellation = new CancellationTokenSource();
        var cancelledSettings = Tiny(maxTrials: 2);
        cancelledSettings.RefitOnAllData = true;
        cancelledSettings.Logger = cancelledLogger;
        var cancelled = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(cancelledSettings)
            .Execute(train, validation, progressHandler: new Reports<RecurrentRunDetail>(_ => cancellation.Cancel()), cancellationToken: cancellation.Token);
        Assert.True(cancelled.Cancelled);
        Assert.False(cancelled.RefitOnAllData);
        Assert.Single(cancelled.RunDetails);
        Assert.Equal(13, cancelled.Predictor.Model.History!.Steps);
        Assert.DoesNotContain(cancelledLogger.Information, line => line.StartsWith("Refitting", StringComparison.Ordinal));
    }

    [Fact]
    public void CrossValidationWithAPreFeaturizerCompletesItsTrialsAndRefitsOnEveryRow()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, _) = ExperimentData.Split(mlContext);
        var logger = new RecordingLogger();
        var settings = Tiny(maxTrials: 1, epochs: 2);
        settings.MinimumEpochs = 2;
        settings.Logger = logger;
        var result = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(settings)
            .Execute(train, numberOfCrossValidationFolds: 2, featureColumnName: "Steps", preFeaturizer: mlContext.Transforms.CopyColumns("Steps", "Features"));

        var run = Assert.Single(result.RunDetails);
        Assert.Equal(RecurrentTrialStatus.Completed, run.Status);
        Assert.Equal(2, run.Epochs);
        Assert.Null(result.ValidationMetrics);
        Assert.True(result.RefitOnAllData);
        Assert.Contains($"Refitting trial 1 on all data for {run.BestEpoch} epochs.", logger.Information);
        // The refit trains on all 400 rows: 13 steps an epoch.
        Assert.Equal(13 * run.BestEpoch, result.Predictor.Model.History!.Steps);
        Assert.IsType<TransformerChain<ITransformer>>(result.Model);
    }

    [Fact]
    public void TheSettingsLoggerTakesPrecedenceOverTheTrainerOptionsLogger()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext);
        var settingsLogger = new RecordingLogger();
        var optionsLogger = new RecordingLogger();
        var settings = Tiny(maxTrials: 1);
        settings.Logger = settingsLogger;
        settings.TrainerOptions.Logger = optionsLogger;
        mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(settings).Execute(train, validation);

        Assert.StartsWith("binary classification experiment: budget 600 s", settingsLogger.Information.First());
        Assert.Contains(settingsLogger.Information, line => line.StartsWith("trial   1 ", StringComparison.Ordinal));
        Assert.Contains(settingsLogger.Lines, line => line.Level == LogLevel.Debug && line.Message.StartsWith("Epoch 1:", StringComparison.Ordinal));
        Assert.DoesNotContain(optionsLogger.Lines, line => line.Message.Contains("experiment: budget", StringComparison.Ordinal)
            || line.Message.StartsWith("trial ", StringComparison.Ordinal) || line.Message.StartsWith("Epoch ", StringComparison.Ordinal));
    }

    [Fact]
    public void WhileNoTrialIsRankedATrialsLineNamesNoLeader()
    {
        // The trial diverges in its first epoch: nothing is ranked.
        var mlContext = new MLContext(seed: 1);
        var data = DivergingSearch.Data(mlContext);
        var logger = new RecordingLogger();
        var reports = new Reports<RecurrentRunDetail>();
        Assert.Throws<InvalidOperationException>(() => mlContext.RecurrentExperiments.CreateRegressionExperiment(DivergingSearch.Settings(maxTrials: 1, logger))
            .Execute(data, data, progressHandler: reports));

        var run = Assert.Single(reports.All);
        Assert.Equal(RecurrentTrialStatus.Diverged, run.Status);
        Assert.Contains(run.ToString(), logger.Information);
    }

    [Fact]
    public void TheContextsLogNamesTheExperimentsChannel()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext);
        var messages = new List<LoggingEventArgs>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add(e); };
        mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(Tiny(maxTrials: 1)).Execute(train, validation);

        LoggingEventArgs[] all;
        lock (messages) all = [.. messages];
        var start = Assert.Single(all, e => e.RawMessage.StartsWith("binary classification experiment: budget", StringComparison.Ordinal));
        Assert.Equal("RecurrentExperiment; Experiment", start.Source);
        Assert.Equal(start.Source, Assert.Single(all, e => e.RawMessage.StartsWith("Leaderboard:", StringComparison.Ordinal)).Source);
    }
}
