using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Experiments;
using MlNet.Rnn.Tests.Persistence;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>
/// Experiments on tiny tasks (400 sequences of 8 steps): the budget, seeded determinism, successive halving, cancellation,
/// continuing a trial in stretches, cross-validation, save/load of the winner, and bad input.
/// </summary>
public sealed class ExperimentTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-experiments-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A small search: H ∈ {4, 8, 16}, one layer, B 32, every cell and direction, up to <paramref name="epochs"/> epochs.</summary>
    private static RecurrentExperimentSettings<RecurrentBinaryTrainer.Options> Tiny(double seconds, int maxTrials = int.MaxValue, int epochs = 9) => new()
    {
        MaxExperimentTimeInSeconds = seconds,
        Seed = 7,
        MaxTrials = maxTrials,
        TrainerOptions = new() { NumberOfEpochs = epochs, MaxDegreeOfParallelism = 1 },
        SearchSpace = new() { HiddenSizes = [4, 8, 16], NumbersOfLayers = [1], BatchSizes = [32], LearningRate = new(1e-3f, 3e-2f, LogScale: true) },
    };

    [Fact]
    public void TheBudgetEndsTheSearchAtTheFirstBatchAfterItIsSpentAndEveryTrialIsRanked()
    {
        // The fake clock moves one second per epoch trained and never otherwise, so a budget of 11.5 s allows exactly 12 epochs
        // in all: the 12th spends it, and the trial then training stops before its next batch (Interrupted).
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext);
        var clock = new FakeTimeProvider();
        var epochs = ExperimentRunTests.ClockLogger(clock, perEpoch: TimeSpan.FromSeconds(1));
        var reports = new Reports<RecurrentRunDetail>();
        var settings = Tiny(seconds: 11.5);
        settings.TimeProvider = clock;
        settings.Logger = epochs;
        var result = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(settings).Execute(train, validation, progressHandler: reports);

        Assert.Equal(12, ExperimentRunTests.Epochs(epochs));
        Assert.Equal(12, result.RunDetails.Sum(run => run.Epochs));
        Assert.Equal(TimeSpan.FromSeconds(12), result.SearchTime);
        Assert.Equal(RecurrentTrialStatus.Interrupted, reports.All[^1].Status);
        Assert.Single(result.RunDetails, run => run.Status == RecurrentTrialStatus.Interrupted);
        Assert.False(result.Cancelled);
        Assert.Equal(result.Leaderboard[0], result.BestRun);
        Assert.Equal(result.RunDetails.Count, result.Leaderboard.Count);
        Assert.True(result.BestRun.Metric >= result.Leaderboard.Max(run => run.Metric));

        // The search learned: the winner beats always answering the validation data's majority class by a wide margin.
        var labels = validation.GetColumn<bool>(nameof(TaskRow.Label)).ToArray();
        double majority = Math.Max(labels.Count(label => label), labels.Count(label => !label)) / (double)labels.Length;
        Assert.True(result.ValidationMetrics!.Accuracy > majority + 0.2, $"best run's accuracy {result.ValidationMetrics.Accuracy:F3}, majority class {majority:F3}");

        // A budget twice as large (on the same clock speed) trains twice the epochs: the budget, not the machine, decides.
        var longer = Tiny(seconds: 23.5);
        var longerClock = new FakeTimeProvider();
        var longerEpochs = ExperimentRunTests.ClockLogger(longerClock, perEpoch: TimeSpan.FromSeconds(1));
        longer.TimeProvider = longerClock;
        longer.Logger = longerEpochs;
        var longerResult = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(longer).Execute(train, validation);
        Assert.Equal(24, longerResult.RunDetails.Sum(run => run.Epochs));
    }

    [Fact]
    public void TheSameSeedGivesTheSameTrialsAndMetricsAndWeakTrialsStopEarly()
    {
        RecurrentExperimentResult<BinaryClassificationMetrics> Run()
        {
            var mlContext = new MLContext(seed: 1);
            var (train, validation) = ExperimentData.Split(mlContext);
            return mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(Tiny(seconds: 120, maxTrials: 9)).Execute(train, validation);
        }

        var first = Run();
        var second = Run();

        Assert.Equal(9, first.RunDetails.Count);
        Assert.Equal(first.RunDetails.Select(Describe), second.RunDetails.Select(Describe));
        Assert.Equal(first.BestRun.TrialId, second.BestRun.TrialId);
        // Successive halving (rungs 1, 3, 9 epochs): the weak trials stopped after 1 or 3 epochs, the best trained longer.
        Assert.Contains(first.RunDetails, run => run.Status == RecurrentTrialStatus.Paused && run.Epochs == 1);
        Assert.All(first.RunDetails.Where(run => run.Status == RecurrentTrialStatus.Paused), run => Assert.True(run.Epochs < first.BestRun.Epochs));
        Assert.True(first.BestRun.Epochs > 3, $"the best run trained {first.BestRun.Epochs} epochs");
        Assert.True(first.RunDetails.Sum(run => run.Epochs) < 9 * 9 / 2, "halving should save most of the 81 epochs");

        static string Describe(RecurrentRunDetail run) =>
            $"{run.TrialId} {run.Configuration} seed {run.Options.Seed} {run.Status} {string.Join(' ', run.MetricPerEpoch.Select(m => BitConverter.DoubleToInt64Bits(m)))}";
    }

    [Fact]
    public void APromotedTrialContinuesExactlyAsOneTrainedAllItsEpochsAtOnce()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext);
        var settings = Tiny(seconds: 120, maxTrials: 1, epochs: 5);
        settings.TrainerOptions.EarlyStoppingPatience = 0;
        var result = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(settings).Execute(train, validation);
        var run = result.BestRun;
        Assert.Equal(5, run.Epochs); // trained in stretches to 1, then 5 epochs

        var once = new RecurrentBinaryTrainer(mlContext, run.Cell, (RecurrentBinaryTrainer.Options)run.Options).Fit(train, validation);
        var metricPerEpoch = once.Model.History!.Epochs.Select(epoch => epoch.ValidationMetric!.Value).ToArray();
        Assert.Equal(metricPerEpoch, run.MetricPerEpoch);
    }

    [Fact]
    public void CancellationReturnsTheBestRunSoFar()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext);
        using var cancellation = new CancellationTokenSource();
        var reports = new Reports<RecurrentRunDetail>(report => { if (report.TrialId == 4) cancellation.Cancel(); });
        var result = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(Tiny(seconds: 120))
            .Execute(train, validation, progressHandler: reports, cancellationToken: cancellation.Token);

        Assert.True(result.Cancelled);
        Assert.Equal(4, result.RunDetails.Count);
        var bestSoFar = reports.All.OrderByDescending(run => run.Metric).ThenBy(run => run.TrialId).First();
        Assert.Equal(bestSoFar.TrialId, result.BestRun.TrialId);
        Assert.Equal(bestSoFar.Metric, result.BestRun.Metric);
        // The returned model holds the best epoch's weights: its accuracy on the validation data is the run's metric.
        Assert.Equal(result.BestRun.Metric, result.ValidationMetrics!.Accuracy, 6);

        using var before = new CancellationTokenSource();
        before.Cancel();
        var error = Assert.Throws<OperationCanceledException>(() => mlContext.RecurrentExperiments
            .CreateBinaryClassificationExperiment(Tiny(seconds: 120)).Execute(train, validation, cancellationToken: before.Token));
        Assert.Contains("before any run", error.Message);
    }

    [Fact]
    public void TheWinnerWithItsFeaturizerSavesAndScoresTheSameInAFreshProcess()
    {
        var mlContext = new MLContext(seed: 1);
        var train = mlContext.Data.LoadFromEnumerable(Synthetic.Sentences(500, seed: 1));
        var validationRows = Synthetic.Sentences(200, seed: 2);
        var validation = mlContext.Data.LoadFromEnumerable(validationRows);
        var featurizer = mlContext.Transforms.Text.TokenizeIntoWords("Tokens", "Text").Append(mlContext.Transforms.Conversion.MapValueToKey("Tokens"));
        var settings = Tiny(seconds: 60, maxTrials: 3, epochs: 6);
        settings.TrainerOptions.EmbeddingSize = 8;
        settings.RefitOnAllData = true;
        var result = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(settings)
            .Execute(train, validation, featureColumnName: "Tokens", preFeaturizer: featurizer);

        Assert.True(result.RefitOnAllData);
        Assert.Equal(result.BestRun.BestEpoch, result.Predictor.Model.History!.Epochs.Count);
        var scored = result.Model.Transform(validation);
        double accuracy = mlContext.BinaryClassification.Evaluate(scored).Accuracy, majority = Baselines.Majority(validationRows.Select(row => row.Label));
        Assert.True(accuracy > majority + 0.25, $"accuracy {accuracy:F3}, majority class {majority:F3}");
        string path = Path.Combine(_folder, "best.zip");
        mlContext.Model.Save(result.Model, train.Schema, path);
        var inProcess = mlContext.Model.Load(path, out _).Transform(validation);
        var fresh = SavedModelProbe.ScoreInFreshProcess(mlContext, path, validation, _folder);
        foreach (string name in new[] { "Score", "Probability", "PredictedLabel" })
        {
            Assert.Equal(Fingerprint.Of(scored, name), Fingerprint.Of(inProcess, name));
            Assert.Equal(Fingerprint.Of(scored, name), Fingerprint.Of(fresh, name));
        }
    }

    [Fact]
    public void MulticlassAndRegressionSearchWithValidationDataOrCrossValidation()
    {
        var mlContext = new MLContext(seed: 1);
        var train = Synthetic.ToDataView(mlContext, Synthetic.Rows(300, 6, 3, seed: 1));
        var validationRows = Synthetic.Rows(150, 6, 3, seed: 2);
        var validation = Synthetic.ToDataView(mlContext, validationRows);
        var space = new RecurrentSearchSpace { Cells = [RecurrentCellType.Gru], HiddenSizes = [8, 16], NumbersOfLayers = [1], BatchSizes = [32] };

        var multiclass = mlContext.RecurrentExperiments.CreateMulticlassClassificationExperiment(new RecurrentExperimentSettings<RecurrentMulticlassTrainer.Options>
        {
            MaxExperimentTimeInSeconds = 60, Seed = 3, MaxTrials = 3, SearchSpace = space,
            TrainerOptions = new() { FeaturesPerStep = 3, NumberOfEpochs = 3, MaxDegreeOfParallelism = 1 },
        }).Execute(train, validation, preFeaturizer: mlContext.Transforms.Conversion.MapValueToKey("Label", "Class"));
        Assert.Equal(RecurrentExperimentMetric.Accuracy, multiclass.BestRun.MetricName);
        double majority = Baselines.Majority(validationRows.Select(row => row.Class));
        Assert.True(multiclass.ValidationMetrics!.MicroAccuracy > majority + 0.15,
            $"accuracy {multiclass.ValidationMetrics.MicroAccuracy:F3}, majority class {majority:F3}");

        var regression = mlContext.RecurrentExperiments.CreateRegressionExperiment(new RecurrentExperimentSettings<RecurrentRegressionTrainer.Options>
        {
            MaxExperimentTimeInSeconds = 60, Seed = 3, MaxTrials = 3, SearchSpace = space,
            TrainerOptions = new() { FeaturesPerStep = 3, NumberOfEpochs = 3, MaxDegreeOfParallelism = 1, LabelColumnName = "Value" },
        }).Execute(train, numberOfCrossValidationFolds: 3);
        Assert.Equal(RecurrentExperimentMetric.RootMeanSquaredError, regression.BestRun.MetricName);
        Assert.Null(regression.ValidationMetrics);
        Assert.True(regression.RefitOnAllData);
        Assert.Equal(regression.BestRun.MetricPerEpoch.Min(), regression.BestRun.Metric);
        var metrics = mlContext.Regression.Evaluate(regression.Model.Transform(validation), "Value");
        Assert.True(metrics.RSquared > 0.3, $"R² {metrics.RSquared:F3}"); // R² of predicting the mean is 0
    }

    [Fact]
    public void TaggingSearchesPerStepModelsAndItsWinnerSavesAndLoads()
    {
        var mlContext = new MLContext(seed: 1);
        var trainRows = Tagging.SequenceTaggingTests.Sentences(400, seed: 1);
        var validationRows = Tagging.SequenceTaggingTests.Sentences(150, seed: 2);
        var train = mlContext.Data.LoadFromEnumerable(trainRows);
        var validation = mlContext.Data.LoadFromEnumerable(validationRows);
        var featurizer = mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(Tagging.TaggedSentence.Words))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(Tagging.TaggedSentence.Tags)));
        var result = mlContext.RecurrentExperiments.CreateSequenceTaggingExperiment(new RecurrentExperimentSettings<SequenceTaggingTrainer.Options>
        {
            MaxExperimentTimeInSeconds = 60, Seed = 5, MaxTrials = 4,
            TrainerOptions = new() { EmbeddingSize = 8, NumberOfEpochs = 6, MaxDegreeOfParallelism = 1 },
            SearchSpace = new() { HiddenSizes = [8, 16], NumbersOfLayers = [1], BatchSizes = [16], LearningRate = new(5e-3f, 3e-2f, LogScale: true) },
        }).Execute(train, validation, preFeaturizer: featurizer);

        Assert.Equal(4, result.RunDetails.Count);
        Assert.Equal(result.BestRun.Metric, result.ValidationMetrics!.TokenAccuracy, 6);
        // Some names are people or places by the word before them: a per-word lookup table cannot tag them all.
        var lookup = Tagging.TagBaselines.PerWordLookup(trainRows.Select(s => (s.Words, s.Tags)), validationRows.Select(s => s.Words));
        double lookupAccuracy = Tagging.TagBaselines.Accuracy(validationRows.Select(s => s.Tags), lookup);
        Assert.True(result.ValidationMetrics.TokenAccuracy > lookupAccuracy + 0.04,
            $"token accuracy {result.ValidationMetrics.TokenAccuracy:F3}; per-word lookup {lookupAccuracy:F3}");
        string path = Path.Combine(_folder, "tagger.zip");
        mlContext.Model.Save(result.Model, train.Schema, path);
        var scored = result.Model.Transform(validation);
        var loaded = mlContext.Model.Load(path, out _).Transform(validation);
        Assert.Equal(Fingerprint.Of(scored, "Score"), Fingerprint.Of(loaded, "Score"));
    }

    [Fact]
    public void EveryTrialGoesToTheContextLogAndTheLoggerWithItsConfigurationMetricEpochsAndTime()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext);
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var logger = new RecordingLogger();
        var settings = Tiny(seconds: 60, maxTrials: 3, epochs: 3);
        settings.Logger = logger;
        var result = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(settings).Execute(train, validation);

        foreach (var run in result.RunDetails)
        {
            string line = $"trial {run.TrialId,3}  {run.Configuration}";
            Assert.Contains(messages, message => message.Contains(line) && message.Contains("Accuracy") && message.Contains(" s"));
            Assert.Contains(logger.Lines, entry => entry.Level == LogLevel.Information && entry.Message.Contains(line));
        }
        Assert.Contains(messages, message => message.Contains("Leaderboard:") && message.Contains($"1. trial {result.BestRun.TrialId,3}"));
        Assert.Contains(messages, message => message.Contains("rungs [1, 3] epochs"));
        Assert.Contains(logger.Lines, entry => entry.Level == LogLevel.Debug && entry.Message.StartsWith("Epoch 1:", StringComparison.Ordinal));
    }

    [Fact]
    public void BadInputFailsWithAClearMessageBeforeAnyTrial()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext);
        var experiments = mlContext.RecurrentExperiments;

        Assert.Contains("MaxExperimentTimeInSeconds = 0", Assert.Throws<ArgumentOutOfRangeException>(() => experiments.CreateBinaryClassificationExperiment(0)).Message);
        Assert.Contains("MaxExperimentTimeInSeconds = -5", Assert.Throws<ArgumentOutOfRangeException>(() => experiments.CreateRegressionExperiment(-5)).Message);

        var empty = Tiny(10);
        empty.SearchSpace.Cells = [];
        Assert.Contains("search space is empty: RecurrentSearchSpace.Cells", Assert.Throws<ArgumentException>(() => experiments.CreateBinaryClassificationExperiment(empty)).Message);
        var inverted = Tiny(10);
        inverted.SearchSpace.Dropout = new(0.5f, 0.1f);
        Assert.Contains("RecurrentSearchSpace.Dropout", Assert.Throws<ArgumentOutOfRangeException>(() => experiments.CreateBinaryClassificationExperiment(inverted)).Message);

        var wrongMetric = new RecurrentExperimentSettings<RecurrentRegressionTrainer.Options> { OptimizingMetric = RecurrentExperimentMetric.Accuracy };
        Assert.Contains("does not fit regression: use RootMeanSquaredError or ValidationLoss",
            Assert.Throws<ArgumentException>(() => experiments.CreateRegressionExperiment(wrongMetric)).Message);
        var rmseForClasses = Tiny(10);
        rmseForClasses.OptimizingMetric = RecurrentExperimentMetric.RootMeanSquaredError;
        Assert.Throws<ArgumentException>(() => experiments.CreateBinaryClassificationExperiment(rmseForClasses));

        // Settings changed after creation are checked again when Execute starts.
        var experiment = experiments.CreateBinaryClassificationExperiment(Tiny(10));
        experiment.Settings.SearchSpace.HiddenSizes = [];
        Assert.Throws<ArgumentException>(() => experiment.Execute(train, validation));

        var reports = new Reports<RecurrentRunDetail>();
        var wrongLabel = Assert.ThrowsAny<Exception>(() => experiments.CreateBinaryClassificationExperiment(Tiny(10))
            .Execute(train, validation, labelColumnName: "Value", progressHandler: reports));
        Assert.Contains("Value", wrongLabel.Message);
        Assert.Contains("Boolean", wrongLabel.Message);
        Assert.Empty(reports.All);

        Assert.Throws<ArgumentOutOfRangeException>(() => experiments.CreateBinaryClassificationExperiment(Tiny(10)).Execute(train, numberOfCrossValidationFolds: 1));
    }
}
