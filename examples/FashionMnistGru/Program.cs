// Fashion-MNIST read row by row (28 steps × 28 pixels) by a GRU in an ML.NET pipeline: MapValueToKey on the class name,
// mlContext.MulticlassClassification.Trainers.Gru, MapKeyToValue back to the name; evaluated by ML.NET's multiclass
// evaluator. By default it trains on all 60,000 training images for 10 epochs (the data set's benchmark table gives a
// GRU about 0.89). Fetch the data once:  examples/data/fetch.sh fashion-mnist
// Run:  dotnet run --project examples/FashionMnistGru -c Release [-- trainImages epochs]
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn;
using MlNet.Rnn.Examples;

int trainCount = args.Length > 0 ? int.Parse(args[0]) : 60_000;
int epochs = args.Length > 1 ? int.Parse(args[1]) : 10;
string folder = FashionMnistFile.Folder();
var (trainImages, trainLabels) = FashionMnistFile.Read(folder, training: true);
var (testImages, testLabels) = FashionMnistFile.Read(folder, training: false);

// Pixels scaled to [0, 1] and standardised with the training set's mean and deviation (0.2860, 0.3530).
static Garment[] Garments(byte[][] images, byte[] labels, int count) => Enumerable.Range(0, count).Select(i => new Garment
{
    Pixels = images[i].Select(p => (p / 255f - 0.2860f) / 0.3530f).ToArray(),
    Class = FashionMnistFile.ClassNames[labels[i]],
}).ToArray();

var mlContext = new MLContext(seed: 1);
IDataView train = mlContext.Data.LoadFromEnumerable(Garments(trainImages, trainLabels, Math.Min(trainCount, trainImages.Length)));
IDataView test = mlContext.Data.LoadFromEnumerable(Garments(testImages, testLabels, testImages.Length));

var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", "Class")
    .Append(mlContext.MulticlassClassification.Trainers.Gru(new RecurrentMulticlassTrainer.Options
    {
        FeatureColumnName = "Pixels", FeaturesPerStep = 28, HiddenSize = 64, NumberOfEpochs = epochs, BatchSize = 64, LearningRate = 2e-3f,
    }))
    .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));

var clock = Stopwatch.StartNew();
var model = pipeline.Fit(train);
double trainSeconds = clock.Elapsed.TotalSeconds;
clock.Restart();
var scored = model.Transform(test);
var metrics = mlContext.MulticlassClassification.Evaluate(scored);
double scoreSeconds = clock.Elapsed.TotalSeconds;

Console.WriteLine($"GRU (H = 64) over 28 rows × 28 pixels, {Math.Min(trainCount, trainImages.Length)} training images, {epochs} epochs: {trainSeconds:F1} s");
Console.WriteLine($"test accuracy {metrics.MicroAccuracy:F4} (macro {metrics.MacroAccuracy:F4}), log-loss {metrics.LogLoss:F4} " +
    $"on {testImages.Length} images, evaluated in {scoreSeconds:F1} s");
var classes = scored.GetColumn<string>("PredictedClass").Take(5).ToArray();
for (int i = 0; i < classes.Length; i++)
    Console.WriteLine($"  image {i}: {FashionMnistFile.ClassNames[testLabels[i]],-12} predicted {classes[i]}");

/// <summary>An image as 784 standardised pixels, row-major (28 steps of 28), and its class name.</summary>
public sealed class Garment
{
    [VectorType(784)]
    public float[] Pixels { get; set; } = [];

    public string Class { get; set; } = "";
}

// Printed on the 2-core machine this project is built on (2026-12-08, alone, with the defaults of that day: Standardize on, a
// bidirectional network whose head reads the mean of its outputs over the 28 rows):
// GRU (H = 64) over 28 rows × 28 pixels, 60000 training images, 10 epochs: 41.0 s
// test accuracy 0.8979 (macro 0.8979), log-loss 0.2860 on 10000 images, evaluated in 0.3 s
//   image 0: Ankle boot   predicted Ankle boot
//   image 1: Pullover     predicted Pullover
//   image 2: Trouser      predicted Trouser
//   image 3: Trouser      predicted Trouser
//   image 4: Shirt        predicted Shirt
