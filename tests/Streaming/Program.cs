// One epoch of a binary LSTM over rows generated as ML.NET reads them (LoadFromEnumerable over a lazy sequence), so the rows
// exist nowhere but in the trainer: the peak memory of the process shows what training holds.
//
//   dotnet run -c Release --project tests/Streaming -- --rows 200000 --steps 64 --features 4 --limit 100000   (in memory)
//   dotnet run -c Release --project tests/Streaming -- --rows 200000 --steps 64 --features 4 --limit 64       (streamed)
//   dotnet run -c Release --project tests/Streaming -- --gigabytes 30 --steps 128 --features 64 --limit 1024
//
// --limit is TrainingDataMemoryMegabytes. Label: whether the last step's first feature is positive; features uniform in
// [−1, 1] from a per-row seed. Prints rows, data size, the temporary file, time, and the process's peak resident memory.
//
// --task forecast fits an LSTM forecaster (H = 8, one epoch, no refit) to a generated seasonal series instead:
//
//   dotnet run -c Release --project tests/Streaming -- --task forecast --observations 1000000 --window 48 --limit 16
//
// and prints the same, with the held-out MAE of the last 1,000 observations against the seasonal naive forecast's.
//
// --task language trains a character LSTM language model (H = 32, one epoch) on generated lines of text; --task translate
// a sequence-to-sequence LSTM (H = 32, one epoch) on generated pairs of key sequences (the target reverses the source):
//
//   dotnet run -c Release --project tests/Streaming -- --task language --rows 1000000 --limit 16
//   dotnet run -c Release --project tests/Streaming -- --task translate --rows 1000000 --limit 16
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn;

var arguments = args.Chunk(2).ToDictionary(pair => pair[0].TrimStart('-'), pair => pair[1]);
double Get(string name, double fallback) => arguments.TryGetValue(name, out var value) ? double.Parse(value, CultureInfo.InvariantCulture) : fallback;
int steps = (int)Get("steps", 64), features = (int)Get("features", 4), limit = (int)Get("limit", 1024);
switch (arguments.GetValueOrDefault("task"))
{
    case "forecast":
        Forecast((int)Get("observations", 1_000_000), (int)Get("window", 48), limit);
        return;
    case "language":
        Language((long)Get("rows", 1_000_000), limit);
        return;
    case "translate":
        Translate((long)Get("rows", 1_000_000), limit);
        return;
}
long rowBytes = 4L * steps * features;
long rows = arguments.ContainsKey("gigabytes") ? (long)(Get("gigabytes", 1) * (1L << 30) / rowBytes) : (long)Get("rows", 200_000);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{rows:N0} rows of {steps} steps × {features} features: {rows * rowBytes / (double)(1L << 30):F2} GiB of features; TrainingDataMemoryMegabytes = {limit}; {Environment.ProcessorCount} cores"));

var mlContext = new MLContext(seed: 1);
var data = mlContext.Data.LoadFromEnumerable(Generate(rows, steps, features));
var log = new ConsoleLogger();
var trainer = mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
{
    LabelColumnName = nameof(Row.Label), FeaturesPerStep = features, HiddenSize = 8, NumberOfEpochs = 1, BatchSize = 64,
    LearningRate = 0.01f, TrainingDataMemoryMegabytes = limit, Logger = log,
    Bidirectional = false, Readout = MlNet.Rnn.Core.Models.SequenceReadout.LastStep, // the shape BENCHMARKS.md's numbers were measured with
});
var clock = Stopwatch.StartNew();
var model = trainer.Fit(data);
clock.Stop();
var metrics = mlContext.BinaryClassification.EvaluateNonCalibrated(model.Transform(mlContext.Data.LoadFromEnumerable(Generate(2000, steps, features, seed: 7))),
    nameof(Row.Label));
using var process = Process.GetCurrentProcess();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Fit: {clock.Elapsed.TotalSeconds:F0} s; peak resident memory {process.PeakWorkingSet64 / (double)(1L << 20):N0} MB; held-out accuracy {metrics.Accuracy:F3}"));

static void Forecast(int observations, int window, int limit)
{
    const int Period = 24, HeldOut = 1000;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{observations:N0} observations, window {window}: {(observations - window) * (window * 4.0 + 36) / (1L << 20):N0} MB of windows; TrainingDataMemoryMegabytes = {limit}; {Environment.ProcessorCount} cores"));
    static float Value(long t) => (float)(10 + 5 * Math.Sin(2 * Math.PI * t / Period) + 0.3 * Math.Sin(t * 12.9898) * 1.7);
    static IEnumerable<Observation> Series(long start, long count)
    {
        for (long t = start; t < start + count; t++) yield return new Observation { Value = Value(t) };
    }
    var mlContext = new MLContext(seed: 1);
    var estimator = mlContext.Forecasting.ForecastByLstm(new RecurrentForecastingEstimator.Options
    {
        InputColumnName = nameof(Observation.Value), WindowSize = window, Horizon = 1, HiddenSize = 8, NumberOfEpochs = 1, BatchSize = 64,
        LearningRate = 0.01f, RefitOnFullSeries = false, TrainingDataMemoryMegabytes = limit, Logger = new ConsoleLogger(),
    });
    var clock = Stopwatch.StartNew();
    var model = estimator.Fit(mlContext.Data.LoadFromEnumerable(Series(0, observations)));
    clock.Stop();
    var engine = model.Forecaster.CreateEngine();
    double error = 0, seasonal = 0;
    for (long t = observations; t < observations + HeldOut; t++)
    {
        error += Math.Abs(engine.Predict().Values[0] - Value(t));
        seasonal += Math.Abs(Value(t - Period) - Value(t));
        engine.Add(Value(t));
    }
    using var process = Process.GetCurrentProcess();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"Fit: {clock.Elapsed.TotalSeconds:F0} s; peak resident memory {process.PeakWorkingSet64 / (double)(1L << 20):N0} MB; held-out MAE {error / HeldOut:F3} (seasonal naive {seasonal / HeldOut:F3})"));
}

static void Language(long rows, int limit)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rows:N0} lines of about 60 characters; TrainingDataMemoryMegabytes = {limit}; {Environment.ProcessorCount} cores"));
    string[] words = ["the", "whale", "sea", "ship", "captain", "white", "deep", "harpoon", "sail", "wind", "boat", "crew"];
    static IEnumerable<Line> Lines(long count, string[] words)
    {
        for (long r = 0; r < count; r++)
        {
            var random = new Random((int)(r % int.MaxValue));
            yield return new Line { Text = string.Join(' ', Enumerable.Range(0, 10).Select(_ => words[random.Next(words.Length)])) };
        }
    }
    var mlContext = new MLContext(seed: 1);
    var trainer = mlContext.LanguageModeling.Trainers.Lstm(new LanguageModelTrainer.Options
    {
        InputColumnName = nameof(Line.Text), HiddenSize = 32, EmbeddingSize = 16, NumberOfEpochs = 1, BatchSize = 64, LearningRate = 0.005f,
        TrainingDataMemoryMegabytes = limit, Logger = new ConsoleLogger(),
    });
    var clock = Stopwatch.StartNew();
    var model = trainer.Fit(mlContext.Data.LoadFromEnumerable(Lines(rows, words)));
    clock.Stop();
    var scored = model.Transform(mlContext.Data.LoadFromEnumerable(Lines(200, words).Select(line => new Line { Text = line.Text })));
    double bits = scored.GetColumn<float>(LanguageModelTransformer.BitsPerTokenColumnName).Average();
    using var process = Process.GetCurrentProcess();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"Fit: {clock.Elapsed.TotalSeconds:F0} s; peak resident memory {process.PeakWorkingSet64 / (double)(1L << 20):N0} MB; bits per character {bits:F3}"));
}

static void Translate(long rows, int limit)
{
    const int Keys = 20;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rows:N0} pairs of 4 to 12 keys; TrainingDataMemoryMegabytes = {limit}; {Environment.ProcessorCount} cores"));
    static IEnumerable<Pair> Pairs(long count, int seed)
    {
        for (long r = 0; r < count; r++)
        {
            var random = new Random((int)((r * 7 + seed) % int.MaxValue));
            uint[] source = [.. Enumerable.Range(0, random.Next(4, 13)).Select(_ => (uint)random.Next(1, Keys + 1))];
            yield return new Pair { Source = source, Target = [.. source.Reverse()] };
        }
    }
    var mlContext = new MLContext(seed: 1);
    var trainer = mlContext.SequenceToSequence.Trainers.Lstm(new SequenceToSequenceTrainer.Options
    {
        FeatureColumnName = nameof(Pair.Source), LabelColumnName = nameof(Pair.Target), HiddenSize = 32, EmbeddingSize = 16, NumberOfEpochs = 1,
        BatchSize = 64, LearningRate = 0.005f, MaximumOutputLength = 16, TrainingDataMemoryMegabytes = limit, Logger = new ConsoleLogger(),
    });
    var clock = Stopwatch.StartNew();
    var model = trainer.Fit(mlContext.Data.LoadFromEnumerable(Pairs(rows, 0)));
    clock.Stop();
    var test = Pairs(200, 1).ToArray();
    var predicted = model.Transform(mlContext.Data.LoadFromEnumerable(test)).GetColumn<uint[]>("PredictedLabel").ToArray();
    double exact = test.Zip(predicted, (pair, output) => pair.Target.SequenceEqual(output) ? 1.0 : 0).Average();
    using var process = Process.GetCurrentProcess();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"Fit: {clock.Elapsed.TotalSeconds:F0} s; peak resident memory {process.PeakWorkingSet64 / (double)(1L << 20):N0} MB; exact reversals {exact:P1}"));
}

static IEnumerable<Row> Generate(long rows, int steps, int features, int seed = 0)
{
    for (long r = 0; r < rows; r++)
    {
        ulong state = (ulong)(r + 1) * 0x9E3779B97F4A7C15UL ^ (ulong)seed;
        var values = new float[steps * features];
        for (int i = 0; i < values.Length; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            values[i] = (state >> 40) / (float)(1UL << 23) - 1f;
        }
        yield return new Row { Features = values, Label = values[(steps - 1) * features] > 0 };
    }
}

/// <summary>A generated row.</summary>
public sealed class Row
{
    /// <summary>T × I values, step-major.</summary>
    [Microsoft.ML.Data.VectorType]
    public float[] Features { get; set; } = [];

    /// <summary>Whether the last step's first feature is positive.</summary>
    public bool Label { get; set; }
}

/// <summary>A generated line of text.</summary>
public sealed class Line
{
    public string Text { get; set; } = "";
}

/// <summary>A generated pair of key sequences (keys 1 to 20).</summary>
public sealed class Pair
{
    [KeyType(20)]
    public uint[] Source { get; set; } = [];

    [KeyType(20)]
    public uint[] Target { get; set; } = [];
}

/// <summary>One observation of a generated series.</summary>
public sealed class Observation
{
    /// <summary>The value.</summary>
    public float Value { get; set; }
}

/// <summary>Prints the trainer's progress with the time.</summary>
sealed class ConsoleLogger : ILogger
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:F0} s] {formatter(state, exception)}"));
}
