using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Benchmarks;

/// <summary>
/// Batch scoring through ML.NET against the core's batched inference on the same model: 100,000 rows of 32 steps × 8
/// features, an LSTM with H = 64 trained briefly by <c>mlContext.Regression.Trainers.Lstm</c>. The ML.NET side is
/// <c>transformer.Transform(data)</c> read through a cursor (the lazy, batched path users get); the core side fills
/// batches of 256 rows from a <see cref="SequenceDataset"/> and calls <see cref="SequenceModel.Forward"/>. Both sum
/// the scores, which the setup checks agree.
/// </summary>
public class Scoring
{
    public const int Rows = 100_000, Steps = 32, FeaturesPerStep = 8, BatchRows = 256;

    private IDataView _data = null!;
    private ITransformer _transformer = null!;
    private SequenceModel _core = null!;
    private SequenceDataset _dataset = null!;
    private readonly SequenceBatch _batch = new();
    private readonly float[] _output = new float[BatchRows];
    private int[][] _batches = [];

    /// <summary>One row: a fixed-size vector of Steps × Features floats.</summary>
    public sealed class Row
    {
        /// <summary>Step-major features.</summary>
        [VectorType(Steps * FeaturesPerStep)]
        public float[] Features { get; set; } = [];

        /// <summary>Regression target: the mean of the first feature over the last four steps.</summary>
        public float Label { get; set; }
    }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        var rows = new Row[Rows];
        _dataset = new SequenceDataset(FeaturesPerStep, 1);
        for (int r = 0; r < Rows; r++)
        {
            var features = new float[Steps * FeaturesPerStep];
            for (int i = 0; i < features.Length; i++) features[i] = random.NextSingle() * 2 - 1;
            float label = 0;
            for (int t = Steps - 4; t < Steps; t++) label += features[t * FeaturesPerStep] / 4;
            rows[r] = new Row { Features = features, Label = label };
            _dataset.Add(features, [label]);
        }
        var ml = new MLContext(seed: 1);
        _data = ml.Data.LoadFromEnumerable(rows);
        var training = ml.Data.TakeRows(_data, 2_000);
        _transformer = ml.Regression.Trainers.Lstm(featuresPerStep: FeaturesPerStep, hiddenSize: 64, bidirectional: false, numberOfEpochs: 1, batchSize: 64).Fit(training);

        // The very same model in the core: the transformer's model file, loaded back.
        var model = ((RecurrentPredictionTransformer)_transformer).Model;
        using var stream = new MemoryStream();
        model.SaveModelFile(stream);
        stream.Position = 0;
        _core = SequenceModelFile.Load(stream, "transformer");
        _batches = Enumerable.Range(0, (Rows + BatchRows - 1) / BatchRows)
            .Select(b => Enumerable.Range(b * BatchRows, Math.Min(BatchRows, Rows - b * BatchRows)).ToArray()).ToArray();

        double viaMlNet = MlNetTransform(), viaCore = CoreBatched();
        if (Math.Abs(viaMlNet - viaCore) > 1e-3 * Math.Max(1, Math.Abs(viaCore)))
            throw new InvalidOperationException($"Score sums differ: ML.NET {viaMlNet}, core {viaCore}.");
        Console.WriteLine($"// check Scoring: score sums agree (ML.NET {viaMlNet:G9}, core {viaCore:G9})");
        GC.Collect();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        MlNetTransform();
        long after = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"// check Scoring: managed heap retained after a full ML.NET scoring pass: {(after - before) / 1024.0:F0} KiB " +
            $"(heap {after / 1048576.0:F0} MiB, of which the 100,000 input rows are {Rows * Steps * FeaturesPerStep * 4.0 / 1048576:F0} MiB)");
    }

    /// <summary>ML.NET: lazy Transform, one cursor over Score.</summary>
    [Benchmark]
    public double MlNetTransform()
    {
        var scored = _transformer.Transform(_data);
        var column = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<float>(column);
        double sum = 0;
        float score = 0;
        while (cursor.MoveNext())
        {
            getter(ref score);
            sum += score;
        }
        return sum;
    }

    /// <summary>The core: batches of 256 rows straight through SequenceModel.Forward.</summary>
    [Benchmark(Baseline = true)]
    public double CoreBatched()
    {
        double sum = 0;
        foreach (int[] indices in _batches)
        {
            _dataset.Fill(indices, _batch);
            Span<float> output = _output.AsSpan(0, indices.Length);
            _core.Forward(_batch, output, training: false);
            foreach (float value in output) sum += value;
        }
        return sum;
    }
}
