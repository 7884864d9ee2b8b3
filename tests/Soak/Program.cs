// The soak: one fitted model served at once by 8 threads through pooled PredictionEngines (at least the given number of
// predictions each, and until the model has been saved and loaded 20 times) (the object pool that ML.NET's
// PredictionEnginePool is built on), by 4 threads running Transform over a data view, and by a thread that saves the model
// and loads it back and predicts with the copy. Every result is compared bit for bit with the single-threaded result of the
// same row; the managed heap after a full collection is sampled as the run goes. Exits 1 on any mismatch or a heap that
// grows by more than 64 MB from the first sample to the last.
//   dotnet run -c Release --project tests/Soak                 # 100,000 predictions per serving thread
//   dotnet run -c Release --project tests/Soak -- 2000         # a short run
using System.Diagnostics;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn;

int perThread = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
const int Servers = 8, Transformers = 4, Distinct = 512, MinimumReloads = 20;
var mlContext = new MLContext(seed: 1);
var rows = Series.Sample(Distinct, seed: 2);
IDataView data = mlContext.Data.LoadFromEnumerable(rows);
var model = mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
{
    LabelColumnName = "Label", FeatureColumnName = "Values", FeaturesPerStep = 1, HiddenSize = 16, NumberOfEpochs = 2, Seed = 1,
    Bidirectional = false, Readout = MlNet.Rnn.Core.Models.SequenceReadout.LastStep, // the shape TESTING.md's soak numbers were measured with
}).Fit(data);

// The single-threaded answers: one engine over every row, and one Transform pass.
var alone = mlContext.Model.CreatePredictionEngine<Row, Scored>(model);
int[] expected = [.. rows.Select(row => BitConverter.SingleToInt32Bits(alone.Predict(row).Score))];
int[] expectedBatch = ScoresOf(model.Transform(data));

var pool = new DefaultObjectPool<PredictionEngine<Row, Scored>>(new EnginePolicy(mlContext, model), Servers);
long predictions = 0, mismatches = 0, passes = 0, reloads = 0;
var heap = new List<long>();
void Sample()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    lock (heap) heap.Add(GC.GetTotalMemory(forceFullCollection: true));
}
Sample();
string folder = Directory.CreateTempSubdirectory("mlnet-rnn-soak-").FullName;
var clock = Stopwatch.StartNew();
using var stop = new CancellationTokenSource();

var servers = Enumerable.Range(0, Servers).Select(s => Task.Run(() =>
{
    var random = new Random(s);
    // Serve at least perThread predictions, and go on until the reloading thread has saved and loaded MinimumReloads times.
    for (int i = 0; i < perThread || Interlocked.Read(ref reloads) < MinimumReloads; i++)
    {
        int row = random.Next(Distinct);
        var engine = pool.Get();
        try
        {
            if (BitConverter.SingleToInt32Bits(engine.Predict(rows[row]).Score) != expected[row]) Interlocked.Increment(ref mismatches);
        }
        finally
        {
            pool.Return(engine);
        }
        Interlocked.Increment(ref predictions);
    }
})).ToArray();
var transformers = Enumerable.Range(0, Transformers).Select(_ => Task.Run(() =>
{
    while (!stop.IsCancellationRequested)
    {
        int[] scores = ScoresOf(model.Transform(data));
        Interlocked.Add(ref mismatches, scores.Where((score, i) => score != expectedBatch[i]).Count());
        Interlocked.Increment(ref passes);
    }
})).ToArray();
var reloader = Task.Run(() =>
{
    for (int cycle = 0; !stop.IsCancellationRequested; cycle++)
    {
        string path = Path.Combine(folder, $"model-{cycle % 2}.zip");
        mlContext.Model.Save(model, data.Schema, path);
        var loaded = mlContext.Model.Load(path, out _);
        var engine = mlContext.Model.CreatePredictionEngine<Row, Scored>(loaded);
        int row = cycle % Distinct;
        if (BitConverter.SingleToInt32Bits(engine.Predict(rows[row]).Score) != expected[row]) Interlocked.Increment(ref mismatches);
        Interlocked.Increment(ref reloads);
    }
});
var sampler = Task.Run(async () =>
{
    while (!stop.IsCancellationRequested)
    {
        Sample();
        try { await Task.Delay(TimeSpan.FromSeconds(0.5), stop.Token); } catch (OperationCanceledException) { }
    }
});

Task.WaitAll(servers);
stop.Cancel();
Task.WaitAll([.. transformers, reloader, sampler]);
Directory.Delete(folder, recursive: true);
Sample();

long first = heap[0], last = heap[^1], peak = heap.Max();
Console.WriteLine($"{predictions:N0} pooled predictions on {Servers} threads, {passes:N0} Transform passes of {Distinct} rows on " +
    $"{Transformers} threads, {reloads:N0} save/load cycles, in {clock.Elapsed.TotalSeconds:F0} s on {Environment.ProcessorCount} cores");
Console.WriteLine($"mismatches against the single-threaded results: {mismatches:N0}");
Console.WriteLine($"managed heap after a full collection: {first / 1e6:F1} MB before serving, {last / 1e6:F1} MB at the end, peak {peak / 1e6:F1} MB " +
    $"({heap.Count} samples); process peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB");
bool flat = last - first < 64_000_000;
Console.WriteLine(mismatches == 0 && flat ? "soak passed" : "SOAK FAILED");
return mismatches == 0 && flat ? 0 : 1;

static int[] ScoresOf(IDataView scored) => [.. scored.GetColumn<float>("Score").Select(BitConverter.SingleToInt32Bits)];

/// <summary>A sequence of 12 values and whether its mean is positive.</summary>
public sealed class Row
{
    [VectorType(12)]
    public float[] Values { get; set; } = [];

    public bool Label { get; set; }
}

/// <summary>The binary output column read back.</summary>
public sealed class Scored
{
    public float Score { get; set; }
}

/// <summary>Creates a PredictionEngine per pooled slot, as ML.NET's PredictionEnginePool does.</summary>
public sealed class EnginePolicy(MLContext mlContext, ITransformer model) : PooledObjectPolicy<PredictionEngine<Row, Scored>>
{
    public override PredictionEngine<Row, Scored> Create() => mlContext.Model.CreatePredictionEngine<Row, Scored>(model);

    public override bool Return(PredictionEngine<Row, Scored> engine) => true;
}

/// <summary>Random walks: the label says whether the walk's mean is positive.</summary>
public static class Series
{
    public static Row[] Sample(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var values = new float[12];
            float level = 0;
            for (int t = 0; t < values.Length; t++) values[t] = level += (float)(random.NextDouble() - 0.5);
            return new Row { Values = values, Label = values.Average() > 0 };
        })];
    }
}
