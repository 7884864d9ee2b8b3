using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Examples.DefaultsSuite;

/// <summary>Fashion-MNIST read row by row (28 steps × 28 pixels) by the default LSTM classifier, against L-BFGS maximum entropy on the 784 pixels.</summary>
internal static class FashionTask
{
    /// <summary>The task's split: the first training images, and all 10,000 test images; pixels / 255.</summary>
    public static (ImageRow[] Train, ImageRow[] Test) Split(int trainingImages)
    {
        string folder = FashionMnistFile.Folder();
        var (trainImages, trainLabels) = FashionMnistFile.Read(folder, training: true);
        var (testImages, testLabels) = FashionMnistFile.Read(folder, training: false);
        ImageRow[] Rows(byte[][] images, byte[] labels, int count) =>
            [.. Enumerable.Range(0, count).Select(i => new ImageRow { Pixels = [.. images[i].Select(p => p / 255f)], Label = labels[i] })];
        return (Rows(trainImages, trainLabels, trainingImages), Rows(testImages, testLabels, testImages.Length));
    }

    public static IReadOnlyList<TaskResult> Run(string task, int trainingImages, int seeds)
    {
        var (trainRows, testRows) = Split(trainingImages);
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(trainRows);
        IDataView test = mlContext.Data.LoadFromEnumerable(testRows);
        Console.WriteLine($"{task}: {trainingImages:N0} training images, {testRows.Length:N0} test images");

        var accuracy = new List<double>();
        var logLoss = new List<double>();
        var fitSeconds = new List<double>();
        var clock = new Stopwatch();
        for (int seed = 1; seed <= seeds; seed++)
        {
            var seeded = new MLContext(seed: seed);
            clock.Restart();
            var ours = seeded.Transforms.Conversion.MapValueToKey("Label")
                .Append(seeded.MulticlassClassification.Trainers.Lstm(featureColumnName: "Pixels", featuresPerStep: 28)).Fit(train);
            fitSeconds.Add(clock.Elapsed.TotalSeconds);
            var metrics = seeded.MulticlassClassification.Evaluate(ours.Transform(test));
            accuracy.Add(metrics.MicroAccuracy);
            logLoss.Add(metrics.LogLoss);
            Console.WriteLine($"{task}: Lstm() seed {seed}: micro accuracy {metrics.MicroAccuracy:F4}, fit {fitSeconds[^1]:F1} s");
        }

        clock.Restart();
        var baseline = mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy(featureColumnName: "Pixels")).Fit(train);
        double baselineSeconds = clock.Elapsed.TotalSeconds;
        var baselineMetrics = mlContext.MulticlassClassification.Evaluate(baseline.Transform(test));
        Console.WriteLine($"{task}: LbfgsMaximumEntropy micro accuracy {baselineMetrics.MicroAccuracy:F4}, fit {baselineSeconds:F1} s");

        return
        [
            new(task, "`MulticlassClassification.Trainers.Lstm(featureColumnName: \"Pixels\", featuresPerStep: 28)`", trainingImages, "micro accuracy", true,
                accuracy, [new("LbfgsMaximumEntropy", baselineMetrics.MicroAccuracy)], fitSeconds.Average(),
                string.Create(CultureInfo.InvariantCulture, $"10,000 test images; log-loss ours {logLoss.Average():F3}, L-BFGS {baselineMetrics.LogLoss:F3}; baseline fit {baselineSeconds:F1} s")),
        ];
    }
}

/// <summary>An image's pixels in [0, 1], row-major, and its class.</summary>
public sealed class ImageRow
{
    [VectorType(784)]
    public float[] Pixels { get; set; } = [];

    public uint Label { get; set; }
}
