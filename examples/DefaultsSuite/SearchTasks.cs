using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MlNet.Rnn.Experiments;

namespace MlNet.Rnn.Examples.DefaultsSuite;

/// <summary>
/// The defaults against a search: on the split of a small-data task, a <c>RecurrentExperiments</c> search of a fixed time
/// budget (trials may train up to 100 epochs; the last 10% of the training rows rank them), its best model scored on the
/// task's test rows, beside the defaults fitted on the same rows with a fresh <c>MLContext(seed: 1)</c> (the task's seed 1
/// row) and the task's classical baseline.
/// </summary>
internal static class SearchTasks
{
    private const int MaximumEpochs = 100;

    public static IReadOnlyList<TaskResult> Brown(string task, int trainingSentences, double seconds)
    {
        var (train, test) = BrownTask.Split(trainingSentences);
        var mlContext = new MLContext(seed: 1);
        int fit = train.Length - train.Length / 10;
        var keys = BrownTask.Keys(mlContext);
        var experiment = mlContext.RecurrentExperiments.CreateSequenceTaggingExperiment(new RecurrentExperimentSettings<SequenceTaggingTrainer.Options>
        {
            MaxExperimentTimeInSeconds = seconds, Seed = 1, TrainerOptions = new() { NumberOfEpochs = MaximumEpochs },
        });
        var clock = Stopwatch.StartNew();
        var result = experiment.Execute(mlContext.Data.LoadFromEnumerable(train[..fit]), mlContext.Data.LoadFromEnumerable(train[fit..]), preFeaturizer: keys);
        double searchSeconds = clock.Elapsed.TotalSeconds;
        double searched = BrownTask.TokenAccuracy(mlContext, result.Model, test);

        var fresh = new MLContext(seed: 1); // as the task's seed 1: the trainer's seed comes from the context's random numbers
        var defaults = BrownTask.Keys(fresh).Append(fresh.SequenceTagging.Trainers.Lstm()).Fit(fresh.Data.LoadFromEnumerable(train));
        double ours = BrownTask.TokenAccuracy(fresh, defaults, test);
        var (best, mostFrequent) = BrownTask.UnigramTagger(train);
        double unigram = test.SelectMany(s => s.Words.Zip(s.Tags)).Average(p => (best.TryGetValue(p.First, out string? tag) ? tag : mostFrequent) == p.Second ? 1.0 : 0.0);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{task}: search best {searched:F4} ({result.RunDetails.Count} trials in {searchSeconds:F0} s; {result.BestRun}), defaults {ours:F4}, unigram {unigram:F4}"));
        return [Row(task, "`RecurrentExperiments.CreateSequenceTaggingExperiment`", train.Length, "token accuracy", searched, ours, [new("most frequent tag per word", unigram)],
            searchSeconds, result.RunDetails.Count, result.BestRun)];
    }

    public static IReadOnlyList<TaskResult> Fashion(string task, int trainingImages, double seconds)
    {
        var (trainRows, testRows) = FashionTask.Split(trainingImages);
        var mlContext = new MLContext(seed: 1);
        int fit = trainRows.Length - trainRows.Length / 10;
        var key = mlContext.Transforms.Conversion.MapValueToKey("Label");
        var experiment = mlContext.RecurrentExperiments.CreateMulticlassClassificationExperiment(new RecurrentExperimentSettings<RecurrentMulticlassTrainer.Options>
        {
            MaxExperimentTimeInSeconds = seconds, Seed = 1,
            TrainerOptions = new() { FeatureColumnName = "Pixels", FeaturesPerStep = 28, NumberOfEpochs = MaximumEpochs },
        });
        var clock = Stopwatch.StartNew();
        var result = experiment.Execute(mlContext.Data.LoadFromEnumerable(trainRows[..fit]), mlContext.Data.LoadFromEnumerable(trainRows[fit..]), preFeaturizer: key);
        double searchSeconds = clock.Elapsed.TotalSeconds;
        IDataView train = mlContext.Data.LoadFromEnumerable(trainRows), test = mlContext.Data.LoadFromEnumerable(testRows);
        double searched = mlContext.MulticlassClassification.Evaluate(result.Model.Transform(test)).MicroAccuracy;

        var fresh = new MLContext(seed: 1); // as the task's seed 1: the trainer's seed comes from the context's random numbers
        var defaults = fresh.Transforms.Conversion.MapValueToKey("Label")
            .Append(fresh.MulticlassClassification.Trainers.Lstm(featureColumnName: "Pixels", featuresPerStep: 28)).Fit(train);
        double ours = fresh.MulticlassClassification.Evaluate(defaults.Transform(test)).MicroAccuracy;
        var baseline = key.Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy(featureColumnName: "Pixels")).Fit(train);
        double lbfgs = mlContext.MulticlassClassification.Evaluate(baseline.Transform(test)).MicroAccuracy;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{task}: search best {searched:F4} ({result.RunDetails.Count} trials in {searchSeconds:F0} s; {result.BestRun}), defaults {ours:F4}, L-BFGS {lbfgs:F4}"));
        return [Row(task, "`RecurrentExperiments.CreateMulticlassClassificationExperiment`", trainingImages, "micro accuracy", searched, ours, [new("LbfgsMaximumEntropy", lbfgs)],
            searchSeconds, result.RunDetails.Count, result.BestRun)];
    }

    private static TaskResult Row(string task, string experiment, int rows, string metric, double searched, double defaults, Score[] baselines, double seconds,
        int trials, RecurrentRunDetail best) =>
        new(task, $"{experiment}, {seconds:F0} s: its best model", rows, metric, true, [searched], baselines, seconds,
            string.Create(CultureInfo.InvariantCulture,
                $"defaults (seed 1) on the same rows {defaults:F4}: the search is {(searched - defaults) * 100:+0.0;-0.0;0.0} points from them; {trials} trials, the best: {best}"));
}
