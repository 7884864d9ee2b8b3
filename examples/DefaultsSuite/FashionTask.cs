using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Examples.DefaultsSuite;

/// <summary>Fashion-MNIST read row by row (28 steps × 28 pixels) by the default LSTM classifier, against L-BFGS maximum entropy on the 784 pixels.</summary>
internal static class FashionTask
{
    public static IReadOnlyList<TaskResult> Run(string task, int trainingImages)
    {
        string folder = FashionMnistFile.Folder();
        var (trainImages, trainLabels) = FashionMnistFile.Read(folder, training: true);
        var (testImages, testLabels) = FashionMnistFile.Read(folder, training: false);
        ImageRow[] Rows(byte[][] images, byte[] labels, int count) =>
            [.. Enumerable.Range(0, count).Select(i => new ImageRow { Pixels = [.. images[i].Select(p => p / 255f)], Label = labels[i] })];
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(Rows(trainImages, trainLabels, trainingImages));
        IDataView test = mlContext.Data.LoadFromEnumerable(Rows(testImages, testLabels, testImages.Length));
        Console.WriteLine($"{task}: {trainingImages:N0} training images, {testImages.Length:N0} test images");

        var clock = Stopwatch.StartNew();
        var ours = mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.MulticlassClassification.Trainers.Lstm(featureColumnName: "Pixels", featuresPerStep: 28)).Fit(train);
        double fitSeconds = clock.Elapsed.TotalSeconds;
        var oursMetrics = mlContext.MulticlassClassification.Evaluate(ours.Transform(test));
        Console.WriteLine($"{task}: Lstm() micro accuracy {oursMetrics.MicroAccuracy:F4}, fit {fitSeconds:F1} s");

        clock.Restart();
        var baseline = mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy(featureColumnName: "Pixels")).Fit(train);
        double baselineSeconds = clock.Elapsed.TotalSeconds;
        var baselineMetrics = mlContext.MulticlassClassification.Evaluate(baseline.Transform(test));
        Console.WriteLine($"{task}: LbfgsMaximumEntropy micro accuracy {baselineMetrics.MicroAccuracy:F4}, fit {baselineSeconds:F1} s");

        return
        [
            new(task, "`MulticlassClassification.Trainers.Lstm(featureColumnName: \"Pixels\", featuresPerStep: 28)`", trainingImages, "micro accuracy", true,
                oursMetrics.MicroAccuracy, [new("LbfgsMaximumEntropy", baselineMetrics.MicroAccuracy)], fitSeconds,
                string.Create(CultureInfo.InvariantCulture, $"10,000 test images; log-loss ours {oursMetrics.LogLoss:F3}, L-BFGS {baselineMetrics.LogLoss:F3}; baseline fit {baselineSeconds:F1} s")),
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
