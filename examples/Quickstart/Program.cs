// Quickstart: an LSTM in an ML.NET pipeline learns to forecast a sine wave one step ahead. It trains with
// mlContext.Regression.Trainers.Lstm, is evaluated by ML.NET's regression evaluator, saved with mlContext.Model.Save,
// loaded back and used through a PredictionEngine. Run: dotnet run --project examples/Quickstart -c Release
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn;

var clock = Stopwatch.StartNew();
var mlContext = new MLContext(seed: 1);
IDataView train = mlContext.Data.LoadFromEnumerable(Windows.Sample(2000, seed: 1));
IDataView test = mlContext.Data.LoadFromEnumerable(Windows.Sample(500, seed: 2));

// The feature column is a vector of 24 samples, read as 24 steps of 1 feature; the label is the next sample.
var pipeline = mlContext.Regression.Trainers.Lstm(labelColumnName: "Next", featureColumnName: "Samples",
    featuresPerStep: 1, hiddenSize: 32, numberOfEpochs: 15, batchSize: 32, learningRate: 0.01f);
var model = pipeline.Fit(train);

var metrics = mlContext.Regression.Evaluate(model.Transform(test), labelColumnName: "Next");
double naive = Windows.Sample(500, seed: 2).Average(w => Math.Pow(w.Next - w.Samples[^1], 2));
Console.WriteLine($"held-out RMSE {metrics.RootMeanSquaredError:F4}, R² {metrics.RSquared:F4} " +
    $"(repeating the last sample: RMSE {Math.Sqrt(naive):F4}) after {clock.Elapsed.TotalSeconds:F1} s");

string path = Path.Combine(Path.GetTempPath(), "mlnet-rnn-quickstart.zip");
mlContext.Model.Save(model, train.Schema, path);
var loaded = mlContext.Model.Load(path, out var schema);
var engine = mlContext.Model.CreatePredictionEngine<Window, Forecast>(loaded, inputSchema: schema);
foreach (var window in Windows.Sample(3, seed: 3))
    Console.WriteLine($"  next value {window.Next,7:F4}  forecast {engine.Predict(window).Score,7:F4}");

/// <summary>A window of 24 samples of sin(ω t + φ) and the sample after it.</summary>
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
    public const int Steps = 24;

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

// Printed on the 2-core machine this project is built on (2026-12-07):
// held-out RMSE 0.0037, R² 1.0000 (repeating the last sample: RMSE 0.2734) after 2.0 s
//   next value  0.0488  forecast  0.0466
//   next value -0.7117  forecast -0.7059
//   next value  0.9726  forecast  0.9665
