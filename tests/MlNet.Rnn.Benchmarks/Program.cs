// MlNet.Rnn.Benchmarks: MlNet.Rnn against TorchSharp 0.107.0 (libtorch 2.10.0 CPU) on the workloads S, M, L, G, R.
//
// Everything, both passes, then the markdown table written into BENCHMARKS.md (from the repository root):
//
//     tests/MlNet.Rnn.Benchmarks/run.sh            # or: tests/MlNet.Rnn.Benchmarks/run.sh S M   (some workloads)
//
// One pass by hand (the pass is named after GLIBC_TUNABLES: "tunables" when it holds the malloc settings, else "default"):
//
//     dotnet run -c Release --project tests/MlNet.Rnn.Benchmarks -- --filter '*.S.*'          # BenchmarkDotNet arguments
//     dotnet run -c Release --project tests/MlNet.Rnn.Benchmarks -- --workloads S,M            # the same, by workload letter
//     dotnet run -c Release --project tests/MlNet.Rnn.Benchmarks -- --verify                   # only the checks, no timing
//     dotnet run -c Release --project tests/MlNet.Rnn.Benchmarks -- --summarize [--update BENCHMARKS.md]
//     tests/MlNet.Rnn.Benchmarks/run-net8.sh                                                   # ours on .NET 10 beside .NET 8
//     dotnet run -c Release --project tests/MlNet.Rnn.Benchmarks -- --scoring                  # ML.NET batch scoring vs the core
//     dotnet run -c Release --project tests/MlNet.Rnn.Benchmarks -- --onnx                     # ours vs ONNX Runtime on the exported graph
//     dotnet run -c Release --project tests/MlNet.Rnn.Benchmarks -- --onnx --threads 1,2,4,8   # any mode of the main harness or --onnx, other thread counts
//     dotnet run -c Release --project tests/MlNet.Rnn.Benchmarks -- --engine [--repetitions 21] # cost of a PredictionEngine and a one-row Transform, per task
//     dotnet run -c Release --project tests/MlNet.Rnn.Benchmarks -- --latency [--calls 20000] [--update BENCHMARKS.md]  # single-row latency vs ONNX Runtime
//     dotnet run -c Release --project tests/MlNet.Rnn.Benchmarks -- --curves [--axes T,B,H] [--cells lstm,gru] [--plot]  # cost curves (CostCurves.cs)
//     dotnet run -c Release --project tests/MlNet.Rnn.Benchmarks -- --machine-check            # only the FMA peaks (MachineCheck.cs)
//
// Every mode that times something measures the FMA peak with 1 and 2 threads at its start and end (MachineCheck.cs) and
// prints it with its tables; a run whose two-thread peak fell below 1.8× the one-thread peak at either end is flagged.
//
// Benchmarks run in-process (InProcessEmitToolchain): the patched libLibTorchSharp.so (tests/Shared/TorchSharpNative.cs)
// is loaded once, and GLIBC_TUNABLES, which glibc reads at process start, applies to the whole pass. Each pass appends
// its medians to BenchmarkDotNet.Artifacts/<pass>/results.csv beside this file; --summarize turns both into markdown.

using System.Globalization;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using MlNet.Rnn.Testing;
using TorchSharp;

namespace MlNet.Rnn.Benchmarks;

internal static class Program
{
    /// <summary>The thread counts of the main benchmarks and of <c>--onnx</c>: 1 and 2 unless <c>--threads 1,2,4,8</c> names others.</summary>
    public static int[] ThreadCounts { get; private set; } = [1, 2];

    public const string TunablesValue = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184";

    private static int Main(string[] args)
    {
        // Must run before any TorchSharp type loads its native libraries.
        TorchSharpNative.EnsureLoadable();
        var rest = new List<string>();
        bool verify = false, summarize = false, scoring = false, engine = false, onnx = false, latency = false, machineCheck = false, curves = false;
        string? update = null, resultsRoot = null, runtimesOther = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--verify":
                    verify = true;
                    break;
                case "--summarize":
                    summarize = true;
                    break;
                case "--scoring":
                    scoring = true;
                    break;
                case "--engine":
                    engine = true;
                    break;
                case "--onnx":
                    onnx = true;
                    break;
                case "--latency":
                    latency = true;
                    break;
                case "--curves":
                    curves = true;
                    break;
                case "--machine-check":
                    machineCheck = true;
                    break;
                case "--update" when i + 1 < args.Length:
                    update = args[++i];
                    break;
                case "--results" when i + 1 < args.Length:
                    resultsRoot = args[++i];
                    break;
                case "--threads" when i + 1 < args.Length:
                    ThreadCounts = [.. args[++i].Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture))];
                    break;
                case "--runtimes" when i + 1 < args.Length:
                    runtimesOther = args[++i];
                    break;
                case "--workloads" when i + 1 < args.Length:
                    var letters = args[++i].Split(',', ' ', StringSplitOptions.RemoveEmptyEntries);
                    rest.Add("--filter");
                    rest.AddRange(letters.Select(l => $"*.{Workload.Get(l.ToUpperInvariant()).Name}.*"));
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        resultsRoot ??= Path.Combine(ProjectDirectory(), "BenchmarkDotNet.Artifacts");
        if (runtimesOther is not null)
        {
            var markdown = Results.RuntimesMarkdown(resultsRoot, runtimesOther);
            Console.WriteLine(markdown);
            if (update is not null) Results.UpdateFile(update, markdown, Results.RuntimesBeginMarker, Results.RuntimesEndMarker);
            return 0;
        }
        if (summarize)
        {
            var markdown = Results.Markdown(resultsRoot);
            Console.WriteLine(markdown);
            if (update is not null) Results.UpdateFile(update, markdown);
            return 0;
        }

        if (verify) return Verify(rest);
        string repositoryRoot = Path.GetFullPath(Path.Combine(ProjectDirectory(), "..", ".."));
        if (curves && rest.Contains("--plot")) return CostCurveRun.Run(rest, null, repositoryRoot);
        Results.StartLoad = Results.LoadAverage();
        var check = MachineCheck.Begin();
        if (machineCheck)
        {
            check.Finish();
            return 0;
        }
        if (engine) return EngineCreation.Run(rest, check);
        if (latency) return Latency.Run(rest, check, update);
        if (curves) return CostCurveRun.Run(rest, check, repositoryRoot);

        string pass = PassName();
        string artifacts = Path.Combine(resultsRoot, pass);
        Directory.CreateDirectory(artifacts);
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(2)
            .WithIterationCount(7)
            .WithIterationTime(TimeInterval.FromMilliseconds(300))
            .WithId(pass);
        var config = DefaultConfig.Instance
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithArtifactsPath(artifacts)
            .WithOptions(ConfigOptions.JoinSummary);
        Console.WriteLine($"// load average at the start {Results.StartLoad}");
        Console.WriteLine($"// pass '{pass}' (GLIBC_TUNABLES={Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "<unset>"}), results in {artifacts}");
        if (scoring || onnx)
        {
            var summary = scoring ? BenchmarkRunner.Run<Scoring>(config) : BenchmarkRunner.Run<OnnxInference>(config);
            check.Finish();
            return summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success) ? 1 : 0;
        }
        if (rest.Count == 0) rest.AddRange(["--filter", "*"]);
        var summaries = BenchmarkSwitcher.FromTypes([typeof(S), typeof(M), typeof(L), typeof(G), typeof(R)]).Run([.. rest], config).ToArray();
        check.Finish();
        int written = Results.Append(artifacts, pass, summaries, check);
        Console.WriteLine($"// wrote {written} result(s) to {Path.Combine(artifacts, Results.FileName)}");
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    /// <summary>"tunables" when GLIBC_TUNABLES holds the malloc settings of BENCHMARKS.md (Rerun), else "default".</summary>
    public static string PassName()
    {
        var value = Environment.GetEnvironmentVariable("GLIBC_TUNABLES");
        if (string.IsNullOrEmpty(value)) return "default";
        if (value.Contains("glibc.malloc.mmap_max=0", StringComparison.Ordinal) &&
            value.Contains("glibc.malloc.trim_threshold=17179869184", StringComparison.Ordinal))
            return "tunables";
        Console.Error.WriteLine($"// GLIBC_TUNABLES={value} is not the BENCHMARKS.md setting; recording the pass as 'custom'.");
        return "custom";
    }

    private static string ProjectDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MlNet.Rnn.Benchmarks.csproj"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    /// <summary>Runs every check of the setups (both implementations, 1 and 2 threads) without timing anything.</summary>
    private static int Verify(List<string> filters)
    {
        var names = filters.Where(f => f.StartsWith("*.", StringComparison.Ordinal)).Select(f => f.Trim('*', '.')).ToHashSet();
        foreach (var workload in Workload.All.Where(w => names.Count == 0 || names.Contains(w.Name)))
        {
            Console.WriteLine($"// {workload.Name}: {workload.Description}; forward {workload.ForwardFlops / 1e9:F3} GFLOP, training {workload.TrainingFlops / 1e9:F3} GFLOP");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            foreach (int threads in new[] { 1, 2 })
            {
                RecurrentBenchmark b = workload.Name switch { "S" => new S(), "M" => new M(), "L" => new L(), "G" => new G(), _ => new R() };
                b.Threads = threads;
                foreach (var (name, setup, run) in new (string, Action, Action)[]
                         {
                             ("OursInference", b.SetupOursInference, b.OursInference), ("OursTraining", b.SetupOursTraining, () => b.OursTraining()),
                             ("TorchInference", b.SetupTorchInference, b.TorchInference), ("TorchTraining", b.SetupTorchTraining, () => b.TorchTraining()),
                         })
                {
                    setup();
                    var t = System.Diagnostics.Stopwatch.StartNew();
                    run();
                    Console.WriteLine($"//   {name} ({threads}T), one more call (untimed warm-up, indicative only): {t.Elapsed.TotalMilliseconds:F2} ms");
                    b.Cleanup();
                }
            }
            Console.WriteLine($"// {workload.Name}: all checks passed in {clock.Elapsed.TotalSeconds:F1} s");
        }
        return 0;
    }
}

/// <summary>results.csv of each pass, and the markdown made of them.</summary>
internal static class Results
{
    public const string FileName = "results.csv";

    /// <summary>The 1-minute load average when this pass started.</summary>
    public static string StartLoad { get; set; } = "?";
    private const string Header = "pass,workload,method,threads,median_ms,mean_ms,stddev_ms,allocated_bytes_per_op,utc,machine";
    private const string BeginMarker = "<!-- results:begin (generated by tests/MlNet.Rnn.Benchmarks --summarize) -->";
    private const string EndMarker = "<!-- results:end -->";

    /// <summary>One benchmark's result; <paramref name="Machine"/> is the run's <see cref="MachineCheck.State"/>, empty when it predates the check.</summary>
    private sealed record Row(string Pass, string Workload, string Method, int Threads, double MedianMs, double MeanMs, double StdDevMs, long? Allocated, string Utc,
        string Machine);

    /// <summary>Adds this run's medians, replacing earlier rows of the same benchmarks; writes environment.txt.</summary>
    public static int Append(string artifacts, string pass, IEnumerable<Summary> summaries, MachineCheck check)
    {
        string path = Path.Combine(artifacts, FileName);
        var rows = Read(path).ToDictionary(r => (r.Workload, r.Method, r.Threads));
        string utc = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        int count = 0;
        foreach (var report in summaries.SelectMany(s => s.Reports))
        {
            var stats = report.ResultStatistics;
            if (!report.Success || stats is null) continue;
            var bc = report.BenchmarkCase;
            int threads = Convert.ToInt32(bc.Parameters["Threads"], CultureInfo.InvariantCulture);
            long? allocated = report.GcStats.GetBytesAllocatedPerOperation(bc);
            var row = new Row(pass, bc.Descriptor.Type.Name, bc.Descriptor.WorkloadMethod.Name, threads,
                stats.Median / 1e6, stats.Mean / 1e6, stats.StandardDeviation / 1e6, allocated, utc, check.State);
            rows[(row.Workload, row.Method, row.Threads)] = row;
            count++;
        }
        var lines = new List<string> { Header };
        lines.AddRange(rows.Values.OrderBy(r => Array.FindIndex(Workload.All, w => w.Name == r.Workload)).ThenBy(r => r.Method).ThenBy(r => r.Threads)
            .Select(r => string.Join(',', r.Pass, r.Workload, r.Method, r.Threads.ToString(CultureInfo.InvariantCulture),
                F(r.MedianMs), F(r.MeanMs), F(r.StdDevMs), r.Allocated?.ToString(CultureInfo.InvariantCulture) ?? "", r.Utc, r.Machine)));
        File.WriteAllLines(path, lines);
        File.WriteAllText(Path.Combine(artifacts, "environment.txt"), EnvironmentDescription(check));
        return count;

        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    }

    private static IEnumerable<Row> Read(string path)
    {
        if (!File.Exists(path)) yield break;
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = line.Split(',');
            if (f.Length < 9) continue;
            yield return new Row(f[0], f[1], f[2], int.Parse(f[3], CultureInfo.InvariantCulture), P(f[4]), P(f[5]), P(f[6]),
                f[7].Length == 0 ? null : long.Parse(f[7], CultureInfo.InvariantCulture), f[8], f.Length > 9 ? f[9] : "");
        }

        static double P(string s) => double.Parse(s, CultureInfo.InvariantCulture);
    }

    /// <summary>CPU, runtime, TorchSharp, GLIBC_TUNABLES, load averages and, when given, <paramref name="check"/>'s <see cref="MachineCheck.Summary"/>.</summary>
    public static string EnvironmentDescription(MachineCheck? check = null)
    {
        string cpu = "unknown CPU";
        try
        {
            // The model name alone ("AMD EPYC") hides which host the VM landed on: family 25 is Zen 4, whose 512-bit FMA runs on
            // 256-bit units, family 26 Zen 5.
            var lines = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToList();
            string? Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal) && l[name.Length..].TrimStart().StartsWith(':'))?.Split(':', 2)[1].Trim();
            cpu = $"{Field("model name") ?? cpu} (family {Field("cpu family") ?? "?"}, model {Field("model") ?? "?"})";
        }
        catch (IOException)
        {
        }
        var torchVersion = typeof(torch).Assembly.GetName().Version;
        return $"{cpu}, {Environment.ProcessorCount} logical cores, AVX-512F {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}; " +
               $"{RuntimeInformation.FrameworkDescription}; {RuntimeInformation.OSDescription}; TorchSharp {torchVersion} (libtorch-cpu-linux-x64 2.10.0); " +
               $"GLIBC_TUNABLES={Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "<unset>"}; " +
               $"1-minute load average {StartLoad} at the start, {LoadAverage()} at the end; written {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC" +
               (check is null ? "" : $"; {check.Summary}");
    }

    /// <summary>
    /// The mark of a two-thread row or cell made of <paramref name="rows"/>: " †" when a pass's machine check failed, " ‡" when a
    /// pass predates the check, else nothing (see <see cref="FlagLegend"/>).
    /// </summary>
    private static string Flag(int threads, params Row?[] rows) =>
        threads < 2 ? "" : rows.Any(r => r?.Machine == "noisy") ? " †" : rows.Any(r => r is not null && r.Machine != "quiet") ? " ‡" : "";

    /// <summary>What the marks of <see cref="Flag"/> in <paramref name="rows"/> mean, or null when no two-thread row has one.</summary>
    private static string? FlagLegend(IEnumerable<Row> rows)
    {
        var marks = rows.Where(r => r.Threads >= 2).Select(r => Flag(r.Threads, r)).ToHashSet();
        var legend = new List<string>();
        if (marks.Contains(" †"))
            legend.Add($"**†: from a run whose machine check failed** (its two-thread FMA peak fell below {MachineCheck.QuietRatio.ToString(CultureInfo.InvariantCulture)}× " +
                       "the one-thread peak at its start or end: another process or a neighbouring VM had part of a core). Do not trust these two-thread numbers and ratios; rerun.");
        if (marks.Contains(" ‡"))
            legend.Add("‡: from a run that predates the machine check (unknown whether the second core was free).");
        return legend.Count == 0 ? null : string.Join(" ", legend);
    }

    /// <summary>The 1-minute load average: other processes on a 2-core machine distort every number.</summary>
    public static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    public const string RuntimesBeginMarker = "<!-- runtimes:begin (generated by tests/MlNet.Rnn.Benchmarks/run-net8.sh) -->";
    public const string RuntimesEndMarker = "<!-- runtimes:end -->";

    /// <summary>Our medians of the default pass in <paramref name="root"/> (.NET 10) beside those in <paramref name="otherRoot"/> (.NET 8).</summary>
    public static string RuntimesMarkdown(string root, string otherRoot)
    {
        var net10 = Read(Path.Combine(root, "default", FileName)).Where(r => r.Method.StartsWith("Ours", StringComparison.Ordinal)).ToList();
        var net8 = Read(Path.Combine(otherRoot, "default", FileName)).ToList();
        string Env(string dir)
        {
            var p = Path.Combine(dir, "default", "environment.txt");
            return File.Exists(p) ? File.ReadAllText(p).Trim() : "(no results)";
        }
        string Ms(double v) => v.ToString(v >= 100 ? "F0" : v >= 10 ? "F1" : "F2", CultureInfo.InvariantCulture);
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(RuntimesBeginMarker);
        sb.AppendLine();
        sb.AppendLine($"- .NET 10 pass: {Env(root)}");
        sb.AppendLine($"- .NET 8 pass: {Env(otherRoot)}");
        sb.AppendLine();
        sb.AppendLine("Median ms per call of MlNet.Rnn, default glibc settings; ratio = .NET 8 ÷ .NET 10 (above 1 = .NET 8 slower).");
        if (FlagLegend(net10.Concat(net8)) is { } legend) sb.AppendLine().AppendLine(legend);
        sb.AppendLine();
        sb.AppendLine("| workload | call | threads | .NET 10 ms | .NET 8 ms | ratio |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var row in net10)
        {
            var other = net8.FirstOrDefault(r => r.Workload == row.Workload && r.Method == row.Method && r.Threads == row.Threads);
            string call = row.Method == "OursTraining" ? "training step" : "inference", threads = row.Threads + Flag(row.Threads, row, other);
            sb.AppendLine(other is null
                ? $"| {row.Workload} | {call} | {threads} | {Ms(row.MedianMs)} | – | – |"
                : $"| {row.Workload} | {call} | {threads} | {Ms(row.MedianMs)} | {Ms(other.MedianMs)} | " +
                  (other.MedianMs / row.MedianMs).ToString("F2", CultureInfo.InvariantCulture) + "× |");
        }
        sb.AppendLine();
        sb.Append(RuntimesEndMarker);
        return sb.ToString();
    }

    public static string Markdown(string root)
    {
        var def = Read(Path.Combine(root, "default", FileName)).ToList();
        var tun = Read(Path.Combine(root, "tunables", FileName)).ToList();
        Row? Find(List<Row> rows, string w, string m, int t) => rows.FirstOrDefault(r => r.Workload == w && r.Method == m && r.Threads == t);
        double? Get(List<Row> rows, string w, string m, int t) => Find(rows, w, m, t)?.MedianMs;
        string Env(string pass)
        {
            var p = Path.Combine(root, pass, "environment.txt");
            return File.Exists(p) ? File.ReadAllText(p).Trim() : "(no results)";
        }
        string Ms(double? v) => v is null ? "–" : v.Value >= 100 ? v.Value.ToString("F0", CultureInfo.InvariantCulture)
            : v.Value >= 10 ? v.Value.ToString("F1", CultureInfo.InvariantCulture) : v.Value.ToString("F2", CultureInfo.InvariantCulture);
        string Rate(double? ms, double perCall, string format) => ms is null ? "–" : (perCall / (ms.Value / 1e3)).ToString(format, CultureInfo.InvariantCulture);
        string Ratio(double? a, double? b) => a is null || b is null ? "–" : (a.Value / b.Value).ToString("F2", CultureInfo.InvariantCulture) + "×";

        var sb = new System.Text.StringBuilder();
        sb.AppendLine(BeginMarker);
        sb.AppendLine();
        sb.AppendLine($"- default pass: {Env("default")}");
        sb.AppendLine($"- tunables pass: {Env("tunables")}");
        sb.AppendLine();
        sb.AppendLine("Median ms per call; samples/s = B / median; GFLOP/s from the FLOP table above; a ratio is ours ÷ the peer " +
                      "(below 1 = ours faster). \"+tunables\" = TorchSharp run in a second process with " +
                      $"`GLIBC_TUNABLES={Program.TunablesValue}`; its ratio uses ours from that same process when it was measured there, " +
                      "else ours from the default pass. ONNX Runtime is measured side by side by `--onnx` (its own section below).");
        if (FlagLegend(def.Concat(tun)) is { } legend) sb.AppendLine().AppendLine(legend);
        foreach (var (title, oursMethod, torchMethod, training) in new[]
                 {
                     ("Inference (forward over the batch)", "OursInference", "TorchInference", false),
                     ("Training step (forward, head, MSE, backward, Adam, zero gradients)", "OursTraining", "TorchTraining", true),
                 })
        {
            sb.AppendLine();
            sb.AppendLine($"#### {title}");
            sb.AppendLine();
            sb.AppendLine("| workload | threads | ours ms | ours samples/s | ours GFLOP/s | TorchSharp ms | TorchSharp GFLOP/s | ours / TorchSharp " +
                          "| TorchSharp +tunables ms | TorchSharp +tunables GFLOP/s | ours / TorchSharp +tunables |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var w in Workload.All)
            {
                double flops = training ? w.TrainingFlops : w.ForwardFlops;
                foreach (int t in new[] { 1, 2 })
                {
                    double? ours = Get(def, w.Name, oursMethod, t), torchMs = Get(def, w.Name, torchMethod, t);
                    double? oursTun = Get(tun, w.Name, oursMethod, t) ?? ours, torchTun = Get(tun, w.Name, torchMethod, t);
                    string flag = Flag(t, Find(def, w.Name, oursMethod, t), Find(def, w.Name, torchMethod, t), Find(tun, w.Name, oursMethod, t), Find(tun, w.Name, torchMethod, t));
                    sb.AppendLine($"| {w.Name} | {t}{flag} | {Ms(ours)} | {Rate(ours, w.B, "N0")} | {Rate(ours, flops / 1e9, "F1")} | {Ms(torchMs)} | {Rate(torchMs, flops / 1e9, "F1")} " +
                                  $"| {Ratio(ours, torchMs)} | {Ms(torchTun)} | {Rate(torchTun, flops / 1e9, "F1")} | {Ratio(oursTun, torchTun)} |");
                }
            }
        }

        sb.AppendLine();
        sb.AppendLine("#### Targets");
        sb.AppendLine();
        sb.AppendLine("| workload | training step faster than TorchSharp (default and +tunables), 1 thread | same, 2 threads |");
        sb.AppendLine("|---|---|---|");
        foreach (var w in Workload.All)
        {
            sb.Append($"| {w.Name} |");
            foreach (int t in new[] { 1, 2 })
            {
                double? ours = Get(def, w.Name, "OursTraining", t), a = Get(def, w.Name, "TorchTraining", t), b = Get(tun, w.Name, "TorchTraining", t);
                double? oursTun = Get(tun, w.Name, "OursTraining", t) ?? ours;
                if (ours is null || a is null) { sb.Append(" not measured |"); continue; }
                bool met = ours < a && (b is null || oursTun < b);
                string flag = Flag(t, Find(def, w.Name, "OursTraining", t), Find(def, w.Name, "TorchTraining", t), Find(tun, w.Name, "OursTraining", t),
                    Find(tun, w.Name, "TorchTraining", t));
                sb.Append($" {(met ? "met" : "NOT met")} ({Ratio(ours, a)}{(b is null ? ", +tunables not measured" : $" / {Ratio(oursTun, b)}")}){flag} |");
            }
            sb.AppendLine();
        }

        sb.AppendLine();
        sb.AppendLine("#### Managed bytes allocated per call by ours (MemoryDiagnoser, all threads; default pass, tunables pass in parentheses)");
        sb.AppendLine();
        sb.AppendLine("| workload | inference, 1 thread | inference, 2 threads | training step, 1 thread | training step, 2 threads |");
        sb.AppendLine("|---|---|---|---|---|");
        string Bytes(string w, string m, int t)
        {
            long? a = def.FirstOrDefault(r => r.Workload == w && r.Method == m && r.Threads == t)?.Allocated;
            long? b = tun.FirstOrDefault(r => r.Workload == w && r.Method == m && r.Threads == t)?.Allocated;
            return $"{(a is null ? "–" : a.Value.ToString("N0", CultureInfo.InvariantCulture))} ({(b is null ? "–" : b.Value.ToString("N0", CultureInfo.InvariantCulture))})";
        }
        foreach (var w in Workload.All)
            sb.AppendLine($"| {w.Name} | {Bytes(w.Name, "OursInference", 1)} | {Bytes(w.Name, "OursInference", 2)} | {Bytes(w.Name, "OursTraining", 1)} | {Bytes(w.Name, "OursTraining", 2)} |");
        sb.AppendLine();
        sb.AppendLine(EndMarker);
        return sb.ToString();
    }

    /// <summary>Replaces the generated block of <paramref name="path"/> (between the markers), or appends it.</summary>
    public static void UpdateFile(string path, string markdown, string beginMarker = BeginMarker, string endMarker = EndMarker)
    {
        string text = File.Exists(path) ? File.ReadAllText(path) : "";
        int begin = text.IndexOf(beginMarker, StringComparison.Ordinal), end = text.IndexOf(endMarker, StringComparison.Ordinal);
        string block = markdown.TrimEnd('\n', '\r');
        text = begin >= 0 && end > begin
            ? text[..begin] + block + text[(end + endMarker.Length)..]
            : text + (text.Length > 0 && !text.EndsWith('\n') ? "\n" : "") + block + "\n";
        File.WriteAllText(path, text);
        Console.WriteLine($"// updated {path}");
    }
}
