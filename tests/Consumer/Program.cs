// A user's app on the MlNet.Rnn package, in C# 12 with ML.NET's own usings only: an LSTM regression in an ML.NET pipeline
// (trained, evaluated against repeating the last sample, saved, loaded, used through a PredictionEngine), and the
// catalogs ML.NET has no property for, reached through their C# 12 methods. Exits 1 if the model does not beat the
// naive forecast or the loaded model predicts differently.
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;

var mlContext = new MLContext(seed: 1);
var trainRows = Windows.Sample(800, seed: 1);
var testRows = Windows.Sample(200, seed: 2);
IDataView train = mlContext.Data.LoadFromEnumerable(trainRows);
IDataView test = mlContext.Data.LoadFromEnumerable(testRows);

var pipeline = mlContext.Regression.Trainers.Lstm(labelColumnName: "Next", featureColumnName: "Samples",
    featuresPerStep: 1, hiddenSize: 16, numberOfEpochs: 8, batchSize: 32, learningRate: 0.01f);
var model = pipeline.Fit(train);
var metrics = mlContext.Regression.Evaluate(model.Transform(test), labelColumnName: "Next");
double naive = Math.Sqrt(testRows.Average(w => Math.Pow(w.Next - w.Samples[^1], 2)));

string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-consumer-{Environment.ProcessId}.zip");
mlContext.Model.Save(model, train.Schema, path);
var loaded = mlContext.Model.Load(path, out var schema);
File.Delete(path);
var before = mlContext.Model.CreatePredictionEngine<Window, Forecast>(model);
var after = mlContext.Model.CreatePredictionEngine<Window, Forecast>(loaded, inputSchema: schema);
bool same = testRows.Take(20).All(w => before.Predict(w).Score == after.Predict(w).Score);

var tagger = mlContext.SequenceTaggingCatalog().Trainers.Lstm();
var translator = mlContext.SequenceToSequenceCatalog().Trainers.Gru();
var languageModel = mlContext.LanguageModelingCatalog().Trainers.Rnn();
var experiments = mlContext.RecurrentExperimentsCatalog();

Console.WriteLine($"runtime {RuntimeInformation.FrameworkDescription}, Microsoft.ML " +
    $"{typeof(MLContext).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false).Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion.Split('+')[0]}, " +
    $"MlNet.Rnn {typeof(RecurrentRegressionCatalog).Assembly.GetName().Version}");
Console.WriteLine($"held-out RMSE {metrics.RootMeanSquaredError:F4} (repeating the last sample: {naive:F4}); " +
    $"loaded model predicts {(same ? "the same" : "DIFFERENTLY")}; catalogs: {tagger.GetType().Name}, {translator.GetType().Name}, " +
    $"{languageModel.GetType().Name}, {experiments.GetType().Name}");
return metrics.RootMeanSquaredError < naive && same ? 0 : 1;

/// <summary>A window of 16 samples of sin(ω t + φ) and the sample after it.</summary>
public sealed class Window
{
    [VectorType(Windows.Steps)]
    public float[] Samples { get; set; } = [];

    public float Next { get; set; }
}

/// <summary>The regression output column.</summary>
public sealed class Forecast
{
    public float Score { get; set; }
}

/// <summary>Random sine windows: frequency ω ∈ [0.1, 0.6), phase φ ∈ [0, 2π).</summary>
public static class Windows
{
    public const int Steps = 16;

    public static Window[] Sample(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            double phase = random.NextDouble() * 2 * Math.PI, frequency = 0.1 + 0.5 * random.NextDouble();
            return new Window
            {
                Samples = Enumerable.Range(0, Steps).Select(t => (float)Math.Sin(frequency * t + phase)).ToArray(),
                Next = (float)Math.Sin(frequency * Steps + phase),
            };
        }).ToArray();
    }
}
