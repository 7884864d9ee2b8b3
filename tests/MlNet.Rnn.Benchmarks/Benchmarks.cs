using BenchmarkDotNet.Attributes;
using MlNet.Rnn.Testing;
using TorchSharp;

namespace MlNet.Rnn.Benchmarks;

/// <summary>
/// The four measurements of one workload, each with 1 and 2 threads: ours and TorchSharp, inference and one training step.
/// Every setup first checks its implementation against TorchSharp's reference (same weights) and throws on disagreement.
/// One class per workload (named S, M, L, G, R) so that <c>--filter '*.S.*'</c> selects a workload.
/// </summary>
public abstract class RecurrentBenchmark
{
    private OursModel? _ours;
    private TorchModel? _torch;

    /// <summary>Threads: ours MaxDegreeOfParallelism, TorchSharp torch.set_num_threads.</summary>
    [ParamsSource(nameof(ThreadCounts))]
    public int Threads { get; set; }

    /// <summary>The thread counts run: 1 and 2, or those of <c>--threads</c>.</summary>
    public static IEnumerable<int> ThreadCounts() => Program.ThreadCounts;

    /// <summary>The workload measured.</summary>
    protected abstract Workload Workload { get; }

    [GlobalSetup(Target = nameof(OursInference))]
    public void SetupOursInference()
    {
        var fixture = Prepare();
        _ours = new OursModel(Workload, Threads, fixture.Weights, fixture.Input, fixture.Target);
        _ours.Infer();
        fixture.CheckOutput(_ours.Output, $"ours ({Threads}T)");
    }

    [GlobalSetup(Target = nameof(OursTraining))]
    public void SetupOursTraining()
    {
        var fixture = Prepare();
        _ours = new OursModel(Workload, Threads, fixture.Weights, fixture.Input, fixture.Target);
        var losses = new float[Fixture.CheckSteps];
        for (int s = 0; s < losses.Length; s++) losses[s] = _ours.TrainStep();
        fixture.CheckLosses(losses, $"ours ({Threads}T)");
    }

    [GlobalSetup(Target = nameof(TorchInference))]
    public void SetupTorchInference()
    {
        var fixture = Prepare();
        torch.set_num_threads(Threads);
        _torch = new TorchModel(fixture);
        fixture.CheckOutput(_torch.InferToArray(), $"TorchSharp ({Threads}T)");
    }

    [GlobalSetup(Target = nameof(TorchTraining))]
    public void SetupTorchTraining()
    {
        var fixture = Prepare();
        torch.set_num_threads(Threads);
        _torch = new TorchModel(fixture);
        var losses = new float[Fixture.CheckSteps];
        for (int s = 0; s < losses.Length; s++) losses[s] = _torch.TrainStep();
        fixture.CheckLosses(losses, $"TorchSharp ({Threads}T)");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _torch?.Dispose();
        _torch = null;
        _ours = null;
    }

    /// <summary>Ours: forward over the batch, no gradient bookkeeping.</summary>
    [Benchmark]
    public void OursInference() => _ours!.Infer();

    /// <summary>Ours: one training step.</summary>
    [Benchmark]
    public float OursTraining() => _ours!.TrainStep();

    /// <summary>TorchSharp: forward over the batch in torch.inference_mode.</summary>
    [Benchmark]
    public void TorchInference() => _torch!.Infer();

    /// <summary>TorchSharp: one training step.</summary>
    [Benchmark]
    public float TorchTraining() => _torch!.TrainStep();

    private Fixture Prepare()
    {
        // In-process toolchain: this is the benchmark process itself, but keep it safe should a child process run it.
        TorchSharpNative.EnsureLoadable();
        _torch?.Dispose();
        _torch = null;
        _ours = null;
        return Fixture.For(Workload);
    }
}

#pragma warning disable CS1591 // one-letter classes named after the workloads
public class S : RecurrentBenchmark { protected override Workload Workload => Workload.S; }

public class M : RecurrentBenchmark { protected override Workload Workload => Workload.M; }

public class L : RecurrentBenchmark { protected override Workload Workload => Workload.L; }

public class G : RecurrentBenchmark { protected override Workload Workload => Workload.G; }

public class R : RecurrentBenchmark { protected override Workload Workload => Workload.R; }
#pragma warning restore CS1591
