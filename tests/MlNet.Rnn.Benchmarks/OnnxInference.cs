using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Benchmarks;

/// <summary>
/// One batch's inference on the workloads S, M, L, G, R (B rows of T steps × I features, the workload's cell, layers and
/// directions, a regression head): ours, the core's <see cref="SequenceModel.Forward"/> on the model a recurrent regression
/// trainer fitted, against ONNX Runtime running the graph <c>mlContext.Model.ConvertToOnnx</c> exports from that same model,
/// side by side in one run, each with 1 and 2 threads (ours MaxDegreeOfParallelism, ONNX Runtime IntraOpNumThreads). The
/// setup checks that both give the same scores (within 1e-4 relative) before anything is timed. Beside them, ours with int8
/// dynamic quantization (<see cref="InferencePrecision.Int8"/>, in a workspace as the ML.NET scorer uses it), whose largest
/// score difference from float32 the setup prints.
/// </summary>
public class OnnxInference
{
    private SequenceModel _ours = null!;
    private readonly SequenceBatch _batch = new();
    private float[] _output = [], _int8Output = [];
    private SequenceModelWorkspace _int8 = null!;
    private InferenceSession _session = null!;
    private List<NamedOnnxValue> _inputs = null!;
    private readonly string[] _outputNames = [FittedWorkload.ScoreOutput];

    /// <summary>The workload (BENCHMARKS.md, "Workloads").</summary>
    [Params("S", "M", "L", "G", "R")]
    public string Workload { get; set; } = "S";

    /// <summary>Threads: ours MaxDegreeOfParallelism, ONNX Runtime IntraOpNumThreads.</summary>
    [ParamsSource(nameof(ThreadCounts))]
    public int Threads { get; set; }

    /// <summary>The thread counts run: 1 and 2, or those of <c>--threads</c>.</summary>
    public static IEnumerable<int> ThreadCounts() => Program.ThreadCounts;

    /// <summary>A row of T × I features.</summary>
    public sealed class Row
    {
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }

    [GlobalSetup]
    public void Setup()
    {
        var fitted = FittedWorkload.Fit(Benchmarks.Workload.Get(Workload), Threads);
        var w = fitted.Workload;

        // Ours: the fitted network, as the core scores a batch.
        _ours = fitted.LoadCore();
        fitted.Fill(w.B, _batch);
        _output = new float[w.B];
        _ours.Forward(_batch, _output, training: false);
        _int8 = _ours.CreateWorkspace(Threads, InferencePrecision.Int8);
        _int8Output = new float[w.B];
        _int8.Forward(_batch, _int8Output);
        double largest = _output.Max(Math.Abs), worst = _output.Zip(_int8Output).Max(p => Math.Abs(p.First - p.Second));
        Console.WriteLine($"// check {Workload} ({Threads}T): int8 scores differ from float32 by at most {worst:G3} (largest |score| {largest:G3})");
        if (!(worst <= 0.05 * Math.Max(1, largest)))
            throw new InvalidOperationException($"{Workload}: int8 scores differ from float32 by {worst}, over 5% of the largest score {largest}.");

        // ONNX Runtime: the graph ML.NET's exporter writes from the same model.
        _session = fitted.CreateSession(Threads);
        _inputs = fitted.OnnxInputs(_session);
        fitted.CheckOnnxScores(_session, _inputs, _output);
    }

    [GlobalCleanup]
    public void Cleanup() => _session?.Dispose();

    /// <summary>Ours: the core's forward pass over the batch.</summary>
    [Benchmark(Baseline = true)]
    public void Ours() => _ours.Forward(_batch, _output, training: false);

    /// <summary>Ours, int8: the same batch in a workspace whose recurrent products are dynamically quantized.</summary>
    [Benchmark]
    public void OursInt8() => _int8.Forward(_batch, _int8Output);

    /// <summary>ONNX Runtime: the exported graph over the same batch.</summary>
    [Benchmark]
    public float OnnxRuntime()
    {
        using var results = _session.Run(_inputs, _outputNames);
        return results.First().AsEnumerable<float>().First();
    }
}

/// <summary>
/// A regression model of a workload's shape (cell, layers, directions, H) fitted for one epoch by the ML.NET trainer on B
/// random rows of T × I features, and the ONNX graph <c>mlContext.Model.ConvertToOnnx</c> exports from it: what
/// <see cref="OnnxInference"/> and <see cref="Latency"/> both score.
/// </summary>
internal sealed record FittedWorkload(Workload Workload, MLContext MlContext, OnnxInference.Row[] Rows, SchemaDefinition Schema, RecurrentPredictionTransformer Model,
    byte[] Onnx)
{
    /// <summary>The exported graph's score output.</summary>
    public const string ScoreOutput = "Score.output";

    /// <summary>Fits and exports the model of <paramref name="w"/>; <paramref name="threads"/> is its MaxDegreeOfParallelism, null for the options' default.</summary>
    public static FittedWorkload Fit(Workload w, int? threads)
    {
        var random = new Random(1);
        var rows = Enumerable.Range(0, w.B).Select(_ =>
        {
            float[] features = [.. Enumerable.Range(0, w.T * w.I).Select(_ => random.NextSingle() * 2 - 1)];
            return new OnnxInference.Row { Features = features, Label = features[^1] };
        }).ToArray();
        var mlContext = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(OnnxInference.Row));
        schema[nameof(OnnxInference.Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, w.T * w.I);
        var data = mlContext.Data.LoadFromEnumerable(rows, schema);
        var options = new RecurrentRegressionTrainer.Options
        {
            FeaturesPerStep = w.I, HiddenSize = w.H, NumberOfLayers = w.Layers, Bidirectional = w.Bidirectional, NumberOfEpochs = 1,
            BatchSize = w.B, Seed = 1,
        };
        if (threads is int t) options.MaxDegreeOfParallelism = t;
        var trainers = mlContext.Regression.Trainers;
        var model = w.Cell switch
        {
            CellKind.Lstm => trainers.Lstm(options).Fit(data),
            CellKind.Gru => trainers.Gru(options).Fit(data),
            _ => trainers.Rnn(options).Fit(data),
        };
        using var onnx = new MemoryStream();
        mlContext.Model.ConvertToOnnx(model, data, onnx);
        return new FittedWorkload(w, mlContext, rows, schema, model, onnx.ToArray());
    }

    /// <summary>The fitted network as the core's <see cref="SequenceModel"/> (the transformer's model file, loaded back).</summary>
    public SequenceModel LoadCore()
    {
        using var file = new MemoryStream();
        Model.Model.SaveModelFile(file);
        file.Position = 0;
        return SequenceModelFile.Load(file);
    }

    /// <summary>Fills <paramref name="batch"/> with the first <paramref name="rows"/> rows, as the core reads them.</summary>
    public void Fill(int rows, SequenceBatch batch)
    {
        var dataset = new SequenceDataset(Workload.I, 1);
        foreach (var row in Rows.Take(rows)) dataset.Add(row.Features, [row.Label]);
        dataset.Fill([.. Enumerable.Range(0, rows)], batch);
    }

    /// <summary>The exported graph's inputs for all B rows: the features, and the label when the graph asks for it.</summary>
    public List<NamedOnnxValue> OnnxInputs(InferenceSession session)
    {
        var w = Workload;
        List<NamedOnnxValue> inputs = [NamedOnnxValue.CreateFromTensor(nameof(OnnxInference.Row.Features),
            new DenseTensor<float>(Rows.SelectMany(row => row.Features).ToArray(), [w.B, w.T * w.I]))];
        if (session.InputMetadata.ContainsKey(nameof(OnnxInference.Row.Label)))
            inputs.Add(NamedOnnxValue.CreateFromTensor(nameof(OnnxInference.Row.Label), new DenseTensor<float>(Rows.Select(row => row.Label).ToArray(), [w.B, 1])));
        return inputs;
    }

    /// <summary>Throws unless ONNX Runtime scores every row as ours did (<paramref name="expected"/>), within 1e-4 relative.</summary>
    public void CheckOnnxScores(InferenceSession session, List<NamedOnnxValue> inputs, ReadOnlySpan<float> expected)
    {
        using var results = session.Run(inputs, [ScoreOutput]);
        float[] scores = [.. results.First().AsEnumerable<float>()];
        for (int b = 0; b < Workload.B; b++)
            if (Math.Abs(scores[b] - expected[b]) > 1e-4 * Math.Max(1, Math.Abs(expected[b])))
                throw new InvalidOperationException($"{Workload.Name}: ONNX Runtime scores row {b} {scores[b]}, ours {expected[b]}.");
    }

    /// <summary>An ONNX Runtime session on the exported graph: all graph optimisations, <paramref name="threads"/> intra-op threads.</summary>
    public InferenceSession CreateSession(int threads) =>
        new(Onnx, new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
}
