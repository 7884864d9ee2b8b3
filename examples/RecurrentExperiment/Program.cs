// Time-budgeted searches over recurrent models (mlContext.RecurrentExperiments), as ML.NET AutoML runs them for its own
// trainers: successive halving over cell, hidden size, layers, direction, dropout, learning rate, batch size, clipping and
// learned initial state, on two tasks:
//   1. sentiment of Amazon review sentences (UCI, CC BY 4.0): NormalizeText → TokenizeIntoWords → MapValueToKey as the
//      pre-featurizer, binary classification;
//   2. Fashion-MNIST read row by row (28 steps × 28 pixels), a subset: multiclass classification.
// Each prints the leaderboard, then the best run and the trainer's defaults (trained on the same data) on a held-out set.
// Fetch the data once:  examples/data/fetch.sh sentiment && examples/data/fetch.sh fashion-mnist
// Run:  dotnet run --project examples/RecurrentExperiment -c Release [-- secondsPerExperiment fashionTrainingImages]
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn;
using MlNet.Rnn.Examples;
using MlNet.Rnn.Experiments;

double seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 120;
int fashionTraining = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 6000;
var mlContext = new MLContext(seed: 1);

// ---- 1. Sentiment: 1000 sentences, shuffled once; the first 800 for the search, the last 200 held out. Trials are cheap
// here, and with hundreds of them ranked on a couple of hundred sentences the winner is mostly luck, so each trial is
// ranked by its validation loss averaged over 5 folds of the 800 (cross-validation); the winner is refit on all 800, as
// the defaults are trained on all 800.
Sentence[] sentences;
try
{
    sentences = SentimentFile.ReadAmazon();
}
catch (FileNotFoundException missing)
{
    Console.Error.WriteLine(missing.Message);
    return 1;
}
new Random(1).Shuffle(sentences);
IDataView sentimentTrain = mlContext.Data.LoadFromEnumerable(sentences[..800]);
IDataView sentimentTest = mlContext.Data.LoadFromEnumerable(sentences[800..]);
var tokens = mlContext.Transforms.Text.NormalizeText("Normalized", "Text", keepPunctuations: false)
    .Append(mlContext.Transforms.Text.TokenizeIntoWords("Tokens", "Normalized"))
    .Append(mlContext.Transforms.Conversion.MapValueToKey("Tokens"));

var sentiment = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(new RecurrentExperimentSettings<RecurrentBinaryTrainer.Options>
{
    MaxExperimentTimeInSeconds = seconds,
    Seed = 1,
    OptimizingMetric = RecurrentExperimentMetric.ValidationLoss,
    MinimumEpochs = 3,
    TrainerOptions = new() { EmbeddingSize = 32, NumberOfEpochs = 9 },   // rungs of 3 and 9 epochs
});
Console.WriteLine($"Sentiment: {sentences.Length} sentences, 800 for the search (5 folds), 200 held out; budget {seconds:g4} s");
var sentimentResult = sentiment.Execute(sentimentTrain, numberOfCrossValidationFolds: 5, featureColumnName: "Tokens", preFeaturizer: tokens,
    progressHandler: new Live());
PrintLeaderboard(sentimentResult.Leaderboard, sentimentResult.RunDetails.Count, sentimentResult.SearchTime);

var clock = Stopwatch.StartNew();
var defaults = tokens.Append(mlContext.BinaryClassification.Trainers.Lstm(featureColumnName: "Tokens")).Fit(sentimentTrain);
double defaultSeconds = clock.Elapsed.TotalSeconds;
var best = mlContext.BinaryClassification.Evaluate(sentimentResult.Model.Transform(sentimentTest));
var baseline = mlContext.BinaryClassification.Evaluate(defaults.Transform(sentimentTest));
Console.WriteLine("held-out 200 sentences                          accuracy    AUC");
Console.WriteLine($"best run (trial {sentimentResult.BestRun.TrialId,3}, refit for {sentimentResult.BestRun.BestEpoch} epochs)       {best.Accuracy,6:F3} {best.AreaUnderRocCurve,6:F3}");
Console.WriteLine($"Trainers.Lstm defaults (H 64, {defaults.LastTransformer.Model.History!.Epochs.Count} epochs, {defaultSeconds:F0} s)     {baseline.Accuracy,6:F3} {baseline.AreaUnderRocCurve,6:F3}");
Console.WriteLine(best.Accuracy > baseline.Accuracy ? "the best run beats the defaults" : "the best run does not beat the defaults");
Console.WriteLine();

// ---- 2. Fashion-MNIST: a subset of the training images (5/6 train, 1/6 validation), 5000 test images held out.
string folder = FashionMnistFile.Folder();
var (trainImages, trainLabels) = FashionMnistFile.Read(folder, training: true);
var (testImages, testLabels) = FashionMnistFile.Read(folder, training: false);
static Garment[] Garments(byte[][] images, byte[] labels, int start, int count) => Enumerable.Range(start, count).Select(i => new Garment
{
    Pixels = images[i].Select(p => (p / 255f - 0.2860f) / 0.3530f).ToArray(),
    Class = FashionMnistFile.ClassNames[labels[i]],
}).ToArray();
int validationImages = fashionTraining / 6;
IDataView fashionTrain = mlContext.Data.LoadFromEnumerable(Garments(trainImages, trainLabels, 0, fashionTraining - validationImages));
IDataView fashionValidation = mlContext.Data.LoadFromEnumerable(Garments(trainImages, trainLabels, fashionTraining - validationImages, validationImages));
IDataView fashionTest = mlContext.Data.LoadFromEnumerable(Garments(testImages, testLabels, 0, 5000));
var classKey = mlContext.Transforms.Conversion.MapValueToKey("Label", "Class");

var fashion = mlContext.RecurrentExperiments.CreateMulticlassClassificationExperiment(new RecurrentExperimentSettings<RecurrentMulticlassTrainer.Options>
{
    MaxExperimentTimeInSeconds = seconds,
    Seed = 1,
    TrainerOptions = new() { FeatureColumnName = "Pixels", FeaturesPerStep = 28, NumberOfEpochs = 9 },
    SearchSpace = new() { HiddenSizes = [32, 64, 128], BatchSizes = [32, 64, 128], LearningRate = new(1e-3f, 1e-2f, LogScale: true) },
});
Console.WriteLine($"Fashion-MNIST: {fashionTraining - validationImages} train, {validationImages} validation, 5000 test images; budget {seconds:g4} s");
var fashionResult = fashion.Execute(fashionTrain, fashionValidation, preFeaturizer: classKey, progressHandler: new Live());
PrintLeaderboard(fashionResult.Leaderboard, fashionResult.RunDetails.Count, fashionResult.SearchTime);

clock.Restart();
var classes = classKey.Fit(fashionTrain);
var fashionDefaults = mlContext.MulticlassClassification.Trainers.Lstm(featureColumnName: "Pixels", featuresPerStep: 28)
    .Fit(classes.Transform(fashionTrain), classes.Transform(fashionValidation));
defaultSeconds = clock.Elapsed.TotalSeconds;
var fashionBest = mlContext.MulticlassClassification.Evaluate(fashionResult.Model.Transform(fashionTest));
var fashionBaseline = mlContext.MulticlassClassification.Evaluate(fashionDefaults.Transform(classes.Transform(fashionTest)));
Console.WriteLine("held-out 5000 images                            accuracy  log-loss");
Console.WriteLine($"best run (trial {fashionResult.BestRun.TrialId,2})                              {fashionBest.MicroAccuracy,6:F3}  {fashionBest.LogLoss,6:F3}");
Console.WriteLine($"Trainers.Lstm defaults (H 64, {fashionDefaults.Model.History!.Epochs.Count} epochs, {defaultSeconds:F0} s)     {fashionBaseline.MicroAccuracy,6:F3}  {fashionBaseline.LogLoss,6:F3}");
Console.WriteLine(fashionBest.MicroAccuracy > fashionBaseline.MicroAccuracy ? "the best run beats the defaults" : "the best run does not beat the defaults");

string path = Path.Combine(Path.GetTempPath(), "fashion-best.zip");
mlContext.Model.Save(fashionResult.Model, fashionTrain.Schema, path);
Console.WriteLine($"saved the best Fashion-MNIST model to {path} ({new FileInfo(path).Length / 1024} KiB)");
return 0;

static void PrintLeaderboard(IReadOnlyList<RecurrentRunDetail> leaderboard, int trials, TimeSpan searchTime)
{
    Console.WriteLine($"{trials} trials in {searchTime.TotalSeconds:F0} s, {leaderboard.Sum(run => run.Epochs)} epochs; leaderboard:");
    foreach (var run in leaderboard.Take(10)) Console.WriteLine($"  {run}");
}

/// <summary>The live leaderboard's head: prints a run when it takes the lead, as the experiment reports it.</summary>
sealed class Live : IProgress<RecurrentRunDetail>
{
    private RecurrentRunDetail? _leader;

    public void Report(RecurrentRunDetail value)
    {
        if (value.Epochs == 0) return;
        bool higherIsBetter = value.MetricName == RecurrentExperimentMetric.Accuracy;
        if (_leader is not null && !(higherIsBetter ? value.Metric > _leader.Metric : value.Metric < _leader.Metric)) return;
        _leader = value;
        Console.WriteLine($"  leader: {value}");
    }
}

/// <summary>An image as 784 standardised pixels, row-major (28 steps of 28), and its class name.</summary>
public sealed class Garment
{
    [VectorType(784)]
    public float[] Pixels { get; set; } = [];

    public string Class { get; set; } = "";
}

// Printed on the 2-core machine this project is built on (2026-11-27, defaults: 120 s per experiment, 6000 images; 4 min 5 s
// in all). The same seed gives the same trials in the same order; a faster or idler machine gets further down the list.
// Sentiment: 1000 sentences, 800 for the search (5 folds), 200 held out; budget 120 s
//   leader: trial   1  Lstm H 16 L 1 bi, dropout 0.33, lr 1.0e-03, B 64, clip 1, learned h0  ValidationLoss 0.6864 (epoch 3 of 3)  Paused          0.7 s
//   leader: trial   2  Lstm H 32 L 2 bi, dropout 0.33, lr 2.6e-03, B 64, clip 5, learned h0  ValidationLoss 0.6376 (epoch 3 of 3)  Paused          1.6 s
//   leader: trial   3  Lstm H 32 L 2, dropout 0.40, lr 5.4e-03, B 64, clip 5, learned h0  ValidationLoss 0.6040 (epoch 3 of 3)  Paused          0.5 s
//   leader: trial   3  Lstm H 32 L 2, dropout 0.40, lr 5.4e-03, B 64, clip 5, learned h0  ValidationLoss 0.5750 (epoch 4 of 9)  Completed       1.3 s
//   leader: trial   4  Lstm H 128 L 2 bi, dropout 0.03, lr 1.9e-03, B 16, clip 5, learned h0  ValidationLoss 0.5582 (epoch 3 of 3)  Paused          4.8 s
//   leader: trial  25  Lstm H 64 L 1, dropout 0.33, lr 4.5e-03, B 16, clip 5           ValidationLoss 0.5554 (epoch 2 of 3)  Paused          0.2 s
//   leader: trial  26  Lstm H 16 L 1 bi, dropout 0.09, lr 2.6e-03, B 16, clip 1, learned h0  ValidationLoss 0.5483 (epoch 3 of 3)  Paused          0.1 s
//   leader: trial  26  Lstm H 16 L 1 bi, dropout 0.09, lr 2.6e-03, B 16, clip 1, learned h0  ValidationLoss 0.5334 (epoch 4 of 9)  Completed       0.4 s
//   leader: trial  34  Gru H 16 L 1 bi, dropout 0.12, lr 4.2e-03, B 32, clip 5         ValidationLoss 0.5313 (epoch 4 of 9)  Completed       0.3 s
//   leader: trial  54  Lstm H 16 L 1 bi, dropout 0.24, lr 7.0e-03, B 16, clip 5        ValidationLoss 0.5127 (epoch 3 of 3)  Paused          0.2 s
// 122 trials in 120 s, 603 epochs; leaderboard:
//   trial  54  Lstm H 16 L 1 bi, dropout 0.24, lr 7.0e-03, B 16, clip 5        ValidationLoss 0.5127 (epoch 3 of 9)  Completed       0.4 s
//   trial  74  Gru H 16 L 1 bi, dropout 0.29, lr 3.2e-03, B 32, clip 1, learned h0  ValidationLoss 0.5138 (epoch 6 of 9)  Completed       0.3 s
//   trial  95  Gru H 32 L 1 bi, dropout 0.39, lr 4.6e-03, B 32, clip 1         ValidationLoss 0.5216 (epoch 3 of 9)  Completed       0.4 s
//   trial  34  Gru H 16 L 1 bi, dropout 0.12, lr 4.2e-03, B 32, clip 5         ValidationLoss 0.5313 (epoch 4 of 9)  Completed       0.3 s
//   trial  26  Lstm H 16 L 1 bi, dropout 0.09, lr 2.6e-03, B 16, clip 1, learned h0  ValidationLoss 0.5334 (epoch 4 of 9)  Completed       0.4 s
//   trial 119  Lstm H 64 L 2 bi, dropout 0.49, lr 5.7e-03, B 32, clip 1        ValidationLoss 0.5397 (epoch 2 of 9)  Completed       3.2 s
//   trial  73  Lstm H 16 L 1, dropout 0.27, lr 6.9e-03, B 16, clip 1           ValidationLoss 0.5419 (epoch 3 of 9)  Completed       0.2 s
//   trial 111  Lstm H 64 L 1, dropout 0.39, lr 2.4e-03, B 16, clip 5, learned h0  ValidationLoss 0.5504 (epoch 4 of 9)  Completed       0.7 s
//   trial 104  Lstm H 64 L 2 bi, dropout 0.31, lr 5.7e-03, B 16, clip 5, learned h0  ValidationLoss 0.5540 (epoch 2 of 9)  Completed       3.1 s
//   trial  25  Lstm H 64 L 1, dropout 0.33, lr 4.5e-03, B 16, clip 5           ValidationLoss 0.5554 (epoch 2 of 9)  Completed       0.7 s
// held-out 200 sentences                          accuracy    AUC
// best run (trial  54, refit for 3 epochs)        0.740  0.816
// Trainers.Lstm defaults (H 64, 10 epochs, 0 s)      0.705  0.741
// the best run beats the defaults
// Fashion-MNIST: 5000 train, 1000 validation, 5000 test images; budget 120 s
//   leader: trial   1  Lstm H 32 L 1 bi, dropout 0.33, lr 2.3e-03, B 128, clip 1, learned h0  Accuracy 0.5930 (epoch 1 of 1)  Paused          0.2 s
//   leader: trial   2  Lstm H 32 L 2 bi, dropout 0.33, lr 4.1e-03, B 128, clip 5, learned h0  Accuracy 0.6830 (epoch 1 of 1)  Paused          0.8 s
//   leader: trial   2  Lstm H 32 L 2 bi, dropout 0.33, lr 4.1e-03, B 128, clip 5, learned h0  Accuracy 0.7390 (epoch 2 of 3)  Paused          1.9 s
//   leader: trial   4  Lstm H 128 L 2 bi, dropout 0.03, lr 3.4e-03, B 32, clip 5, learned h0  Accuracy 0.7590 (epoch 1 of 1)  Paused          3.7 s
//   leader: trial   4  Lstm H 128 L 2 bi, dropout 0.03, lr 3.4e-03, B 32, clip 5, learned h0  Accuracy 0.7930 (epoch 2 of 3)  Paused         10.6 s
//   leader: trial   5  Gru H 128 L 2, dropout 0.12, lr 3.4e-03, B 32, clip 1, learned h0  Accuracy 0.8160 (epoch 3 of 3)  Paused          3.4 s
//   leader: trial   5  Gru H 128 L 2, dropout 0.12, lr 3.4e-03, B 32, clip 1, learned h0  Accuracy 0.8430 (epoch 5 of 9)  Completed      10.2 s
//   leader: trial  41  Gru H 128 L 2, dropout 0.05, lr 4.5e-03, B 64, clip 5, learned h0  Accuracy 0.8530 (epoch 8 of 9)  Completed      10.9 s
// 60 trials in 120 s, 139 epochs; leaderboard:
//   trial  41  Gru H 128 L 2, dropout 0.05, lr 4.5e-03, B 64, clip 5, learned h0  Accuracy 0.8530 (epoch 8 of 9)  Completed      10.9 s
//   trial   5  Gru H 128 L 2, dropout 0.12, lr 3.4e-03, B 32, clip 1, learned h0  Accuracy 0.8430 (epoch 5 of 9)  Completed      10.2 s
//   trial  34  Gru H 32 L 1 bi, dropout 0.12, lr 5.6e-03, B 64, clip 5         Accuracy 0.8430 (epoch 8 of 9)  Completed       1.3 s
//   trial  57  Gru H 32 L 2 bi, dropout 0.01, lr 6.0e-03, B 64, clip 5         Accuracy 0.8430 (epoch 8 of 9)  Completed       3.9 s
//   trial  31  Gru H 128 L 1 bi, dropout 0.20, lr 8.5e-03, B 128, clip 1       Accuracy 0.8350 (epoch 4 of 9)  Completed       8.5 s
//   trial  14  Lstm H 32 L 2 bi, dropout 0.12, lr 3.7e-03, B 32, clip 1, learned h0  Accuracy 0.8310 (epoch 7 of 9)  Completed       4.3 s
//   trial   9  Gru H 128 L 2 bi, dropout 0.04, lr 7.7e-03, B 32, clip 5        Accuracy 0.8030 (epoch 3 of 7)  EarlyStopped   19.8 s
//   trial  26  Lstm H 32 L 1 bi, dropout 0.09, lr 4.1e-03, B 32, clip 1, learned h0  Accuracy 0.8000 (epoch 3 of 3)  Paused          0.5 s
//   trial  47  Lstm H 64 L 1 bi, dropout 0.05, lr 5.9e-03, B 128, clip 1, learned h0  Accuracy 0.8000 (epoch 3 of 3)  Paused          1.6 s
//   trial  37  Gru H 128 L 1 bi, dropout 0.16, lr 3.0e-03, B 32, clip 1        Accuracy 0.7960 (epoch 3 of 3)  Paused          2.7 s
// held-out 5000 images                            accuracy  log-loss
// best run (trial 41)                               0.838   0.454
// Trainers.Lstm defaults (H 64, 10 epochs, 2 s)      0.824   0.504
// the best run beats the defaults
// saved the best Fashion-MNIST model to /tmp/fashion-best.zip (588 KiB)
