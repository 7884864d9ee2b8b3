using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.ML.OnnxRuntime;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Testing;
using Perfolizer.Horology;
using ScottPlot;
using TorchSharp;

namespace MlNet.Rnn.Benchmarks;

/// <summary>
/// How cost grows: one-layer LSTM and GRU, one thread, timed at shapes that move one of T, B and H away from a base shape
/// (B 16, T 64, I 32, H 128) while the others stay: ours, ours in int8, ONNX Runtime and TorchSharp for inference, ours and
/// TorchSharp for a training step. Every setup checks its implementation before timing: ours and TorchSharp against
/// TorchSharp's reference on the same weights (as the main benchmarks do), ONNX Runtime against ours on the exported graph
/// of the same fitted model (as <see cref="OnnxInference"/> does). <see cref="CostCurveRun"/> writes the medians to a CSV
/// and draws them (time per step against each axis) with ScottPlot.
/// </summary>
public class CostCurves
{
    private SequenceModel? _model;
    private SequenceModelWorkspace? _int8;
    private readonly SequenceBatch _batch = new();
    private float[] _scores = [];
    private OursModel? _ours;
    private TorchModel? _torch;
    private InferenceSession? _session;
    private List<NamedOnnxValue> _inputs = [];
    private readonly string[] _outputNames = [FittedWorkload.ScoreOutput];

    /// <summary>One shape of the curves; I is always <see cref="InputSize"/>, one layer, one direction.</summary>
    public sealed record Shape(CellKind Cell, int B, int T, int H)
    {
        /// <summary>The workload record the fixtures and the fitted models are made from (its name keys their caches).</summary>
        public Workload Workload => new(ToString(), Cell, 1, false, B, T, InputSize, H);

        /// <summary>As BenchmarkDotNet shows the parameter, e.g. "LSTM B16 T64 H128".</summary>
        public override string ToString() => $"{CellName(Cell)} B{B} T{T} H{H}";
    }

    /// <summary>Features per step, at every shape.</summary>
    public const int InputSize = 32;

    /// <summary>The shape every axis passes through.</summary>
    public const int BaseB = 16, BaseT = 64, BaseH = 128;

    /// <summary>The values of each axis.</summary>
    public static readonly int[] TValues = [16, 64, 256, 1024, 4096, 10_000], BValues = [1, 4, 16, 64, 256], HValues = [16, 32, 64, 128, 256, 512, 1024];

    /// <summary>The axes run ('T', 'B', 'H'); set before the run.</summary>
    public static HashSet<char> Axes { get; set; } = ['T', 'B', 'H'];

    /// <summary>The cells run; set before the run.</summary>
    public static CellKind[] Cells { get; set; } = [CellKind.Lstm, CellKind.Gru];

    /// <summary>Every shape of the chosen axes and cells, each once (the base shape lies on all three axes).</summary>
    public static IEnumerable<Shape> Shapes()
    {
        var shapes = new List<Shape>();
        foreach (var cell in Cells)
        {
            if (Axes.Contains('T')) shapes.AddRange(TValues.Select(t => new Shape(cell, BaseB, t, BaseH)));
            if (Axes.Contains('B')) shapes.AddRange(BValues.Select(b => new Shape(cell, b, BaseT, BaseH)));
            if (Axes.Contains('H')) shapes.AddRange(HValues.Select(h => new Shape(cell, BaseB, BaseT, h)));
        }
        return shapes.Distinct();
    }

    /// <summary>The shape timed.</summary>
    [ParamsSource(nameof(Shapes))]
    public Shape Point { get; set; } = new(CellKind.Lstm, BaseB, BaseT, BaseH);

    [GlobalSetup(Targets = [nameof(OursInference), nameof(OursInt8Inference)])]
    public void SetupOurs()
    {
        Release();
        var fitted = Fitted(Point);
        _model = fitted.LoadCore();
        fitted.Fill(Point.B, _batch);
        _scores = new float[Point.B];
        _int8 = _model.CreateWorkspace(1, InferencePrecision.Int8);
        _model.Forward(_batch, _scores, training: false);
    }

    [GlobalSetup(Target = nameof(OnnxRuntimeInference))]
    public void SetupOnnxRuntime()
    {
        Release();
        var fitted = Fitted(Point);
        var ours = fitted.LoadCore();
        fitted.Fill(Point.B, _batch);
        var expected = new float[Point.B];
        ours.Forward(_batch, expected, training: false);
        _session = fitted.CreateSession(1);
        _inputs = fitted.OnnxInputs(_session);
        fitted.CheckOnnxScores(_session, _inputs, expected);
    }

    [GlobalSetup(Target = nameof(TorchInference))]
    public void SetupTorchInference()
    {
        var fixture = PrepareFixture();
        _torch = new TorchModel(fixture);
        fixture.CheckOutput(_torch.InferToArray(), "TorchSharp (1T)");
    }

    [GlobalSetup(Target = nameof(OursTraining))]
    public void SetupOursTraining()
    {
        var fixture = PrepareFixture();
        _ours = new OursModel(fixture.Workload, 1, fixture.Weights, fixture.Input, fixture.Target);
        var losses = new float[Fixture.CheckSteps];
        for (int s = 0; s < losses.Length; s++) losses[s] = _ours.TrainStep();
        fixture.CheckLosses(losses, "ours (1T)");
    }

    [GlobalSetup(Target = nameof(TorchTraining))]
    public void SetupTorchTraining()
    {
        var fixture = PrepareFixture();
        _torch = new TorchModel(fixture);
        var losses = new float[Fixture.CheckSteps];
        for (int s = 0; s < losses.Length; s++) losses[s] = _torch.TrainStep();
        fixture.CheckLosses(losses, "TorchSharp (1T)");
    }

    [GlobalCleanup]
    public void Release()
    {
        _torch?.Dispose();
        _torch = null;
        _session?.Dispose();
        _session = null;
        _ours = null;
        _model = null;
        _int8 = null;
    }

    /// <summary>Ours: the core's forward pass over the batch (the fitted model, regression head included).</summary>
    [Benchmark]
    public void OursInference() => _model!.Forward(_batch, _scores, training: false);

    /// <summary>Ours in int8: the same pass in a workspace of <see cref="InferencePrecision.Int8"/>.</summary>
    [Benchmark]
    public void OursInt8Inference() => _int8!.Forward(_batch, _scores);

    /// <summary>ONNX Runtime (IntraOpNumThreads 1) on the graph exported from the same model.</summary>
    [Benchmark]
    public float OnnxRuntimeInference()
    {
        using var results = _session!.Run(_inputs, _outputNames);
        return results.First().AsEnumerable<float>().First();
    }

    /// <summary>TorchSharp: forward over the batch in inference mode (network only).</summary>
    [Benchmark]
    public void TorchInference() => _torch!.Infer();

    /// <summary>Ours: one training step (forward, head, MSE, backward, Adam).</summary>
    [Benchmark]
    public float OursTraining() => _ours!.TrainStep();

    /// <summary>TorchSharp: the same training step.</summary>
    [Benchmark]
    public float TorchTraining() => _torch!.TrainStep();

    internal static string CellName(CellKind cell) => cell switch { CellKind.Lstm => "LSTM", CellKind.Gru => "GRU", _ => "RNN" };

    private Fixture PrepareFixture()
    {
        Release();
        TorchSharpNative.EnsureLoadable();
        torch.set_num_threads(1);
        return Fixture.For(Point.Workload);
    }

    private static readonly Dictionary<Shape, FittedWorkload> FittedCache = [];

    /// <summary>The regression model of <paramref name="shape"/> fitted once (one epoch, one thread) and exported to ONNX.</summary>
    private static FittedWorkload Fitted(Shape shape)
    {
        if (!FittedCache.TryGetValue(shape, out var fitted))
            FittedCache[shape] = fitted = FittedWorkload.Fit(shape.Workload, threads: 1);
        return fitted;
    }
}

/// <summary>
/// <c>--curves</c>: runs <see cref="CostCurves"/>, keeps the medians in <c>docs/benchmarks/cost-curves.csv</c> (a rerun of some
/// axes or cells replaces only their rows) and draws <c>docs/benchmarks/cost-curves-{T,B,H}.png</c>; <c>--plot</c> only
/// redraws the charts from the CSV.
/// </summary>
internal static class CostCurveRun
{
    private const string Header = "cell,b,t,i,h,method,median_us,utc,machine";

    private sealed record Row(CellKind Cell, int B, int T, int I, int H, string Method, double MedianUs, string Utc, string Machine);

    /// <summary>The implementations drawn, in legend order: method, label, colour.</summary>
    private static readonly (string Method, string Label, string Color)[] Lines =
    [
        (nameof(CostCurves.OursInference), "MlNet.Rnn", "#1f77b4"),
        (nameof(CostCurves.OursInt8Inference), "MlNet.Rnn int8", "#17becf"),
        (nameof(CostCurves.OnnxRuntimeInference), "ONNX Runtime 1.32.0", "#2ca02c"),
        (nameof(CostCurves.TorchInference), "TorchSharp 0.107.0", "#d62728"),
        (nameof(CostCurves.OursTraining), "MlNet.Rnn", "#1f77b4"),
        (nameof(CostCurves.TorchTraining), "TorchSharp 0.107.0", "#d62728"),
    ];

    public static int Run(IReadOnlyList<string> args, MachineCheck? check, string repositoryRoot)
    {
        bool plotOnly = false;
        var filters = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--plot":
                    plotOnly = true;
                    break;
                case "--axes" when i + 1 < args.Count:
                    CostCurves.Axes = [.. args[++i].ToUpperInvariant().Where(char.IsLetter)];
                    break;
                case "--cells" when i + 1 < args.Count:
                    CostCurves.Cells = [.. args[++i].Split(',').Select(c => Enum.Parse<CellKind>(c.Trim(), ignoreCase: true))];
                    break;
                default:
                    filters.Add(args[i]);
                    break;
            }
        }
        string directory = Path.Combine(repositoryRoot, "docs", "benchmarks");
        string csv = Path.Combine(directory, "cost-curves.csv");
        Directory.CreateDirectory(directory);
        if (!plotOnly)
        {
            var job = Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithWarmupCount(1)
                .WithIterationCount(5)
                .WithIterationTime(TimeInterval.FromMilliseconds(200))
                .WithId("curves");
            var config = DefaultConfig.Instance
                .AddJob(job)
                .WithArtifactsPath(Path.Combine(repositoryRoot, "tests", "MlNet.Rnn.Benchmarks", "BenchmarkDotNet.Artifacts", "curves"))
                .WithOptions(ConfigOptions.JoinSummary);
            var summary = filters.Count == 0
                ? BenchmarkRunner.Run<CostCurves>(config)
                : BenchmarkSwitcher.FromTypes([typeof(CostCurves)]).Run([.. filters], config).First();
            check?.Finish();
            string utc = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
            var rows = Read(csv).ToDictionary(Key);
            foreach (var report in summary.Reports)
            {
                if (!report.Success || report.ResultStatistics is null) continue;
                var shape = (CostCurves.Shape)report.BenchmarkCase.Parameters[nameof(CostCurves.Point)];
                var row = new Row(shape.Cell, shape.B, shape.T, CostCurves.InputSize, shape.H, report.BenchmarkCase.Descriptor.WorkloadMethod.Name,
                    report.ResultStatistics.Median / 1e3, utc, check?.State ?? "");
                rows[Key(row)] = row;
            }
            File.WriteAllLines(csv, [Header, .. rows.Values.OrderBy(r => r.Cell).ThenBy(r => r.Method).ThenBy(r => r.B).ThenBy(r => r.T).ThenBy(r => r.H)
                .Select(r => string.Join(',', r.Cell, I(r.B), I(r.T), I(r.I), I(r.H), r.Method, r.MedianUs.ToString("R", CultureInfo.InvariantCulture), r.Utc, r.Machine))]);
            Console.WriteLine($"// wrote {csv}");
            if (summary.Reports.Any(r => !r.Success)) return 1;
        }
        var all = Read(csv).ToList();
        foreach (char axis in "TBH") Console.WriteLine($"// wrote {Plot(all, axis, Path.Combine(directory, $"cost-curves-{axis}.png"))}");
        return 0;

        static (CellKind, int, int, int, string) Key(Row r) => (r.Cell, r.B, r.T, r.H, r.Method);
        static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
    }

    private static IEnumerable<Row> Read(string path)
    {
        if (!File.Exists(path)) yield break;
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = line.Split(',');
            if (f.Length < 9) continue;
            yield return new Row(Enum.Parse<CellKind>(f[0]), int.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture),
                int.Parse(f[3], CultureInfo.InvariantCulture), int.Parse(f[4], CultureInfo.InvariantCulture), f[5],
                double.Parse(f[6], CultureInfo.InvariantCulture), f[7], f[8]);
        }
    }

    /// <summary>
    /// One PNG per axis: four panels (LSTM and GRU × inference and a training step), µs per time step (the whole batch's
    /// step: the call's median ÷ T) against the axis, both scales logarithmic, one line per implementation.
    /// </summary>
    private static string Plot(List<Row> rows, char axis, string file)
    {
        var chart = new Multiplot();
        chart.AddPlots(4);
        chart.Layout = new ScottPlot.MultiplotLayouts.Grid(2, 2);
        int panel = 0;
        foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru })
        {
            foreach (bool training in new[] { false, true })
            {
                var plot = chart.GetPlot(panel++);
                foreach (var (method, label, color) in Lines.Where(l => l.Method.EndsWith("Training", StringComparison.Ordinal) == training))
                {
                    var points = rows.Where(r => r.Cell == cell && r.Method == method && OnAxis(r, axis)).OrderBy(r => Value(r, axis)).ToArray();
                    if (points.Length == 0) continue;
                    var line = plot.Add.Scatter(points.Select(r => Math.Log10(Value(r, axis))).ToArray(), points.Select(r => Math.Log10(r.MedianUs / r.T)).ToArray());
                    line.LegendText = label;
                    line.Color = ScottPlot.Color.FromHex(color);
                    line.LineWidth = 2;
                    line.MarkerSize = 6;
                }
                string others = axis switch
                {
                    'T' => $"B {CostCurves.BaseB}, H {CostCurves.BaseH}",
                    'B' => $"T {CostCurves.BaseT}, H {CostCurves.BaseH}",
                    _ => $"B {CostCurves.BaseB}, T {CostCurves.BaseT}",
                };
                plot.Title($"{CostCurves.CellName(cell)} {(training ? "training step" : "inference")}, 1 thread ({others}, I {CostCurves.InputSize})");
                plot.XLabel(axis switch { 'T' => "T, steps per sequence", 'B' => "B, sequences per batch", _ => "H, hidden size" });
                plot.YLabel("µs per time step (whole batch)");
                // Both axes hold log10 of the value. The x axis spans decades, so its ticks are powers of ten; the y axis of
                // a curve flat in T may span less than one, so its ticks fall anywhere and are labelled with the value.
                plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
                {
                    MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(), IntegerTicksOnly = true, LabelFormatter = PowerOfTen,
                };
                plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = PowerOfTen };
                plot.Grid.MajorLineColor = ScottPlot.Colors.Black.WithOpacity(0.15);
                plot.Grid.MinorLineColor = ScottPlot.Colors.Black.WithOpacity(0.05);
                plot.Legend.Alignment = Alignment.UpperLeft;
                plot.ShowLegend();
            }
        }
        chart.SavePng(file, 1600, 1100);
        return file;
    }

    private static string PowerOfTen(double exponent) =>
        Math.Pow(10, exponent) is var x && x >= 100 ? x.ToString("#,0", CultureInfo.InvariantCulture) : x.ToString("G3", CultureInfo.InvariantCulture);

    private static bool OnAxis(Row r, char axis) => axis switch
    {
        'T' => r.B == CostCurves.BaseB && r.H == CostCurves.BaseH,
        'B' => r.T == CostCurves.BaseT && r.H == CostCurves.BaseH,
        _ => r.B == CostCurves.BaseB && r.T == CostCurves.BaseT,
    };

    private static double Value(Row r, char axis) => axis switch { 'T' => r.T, 'B' => r.B, _ => r.H };
}
