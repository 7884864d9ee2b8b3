using MlNet.Rnn.Core.Kernels;

namespace MlNet.Rnn.Core.Tests.Kernels;

/// <summary>
/// The <see cref="Gemm"/> test classes, run one at a time: they set the process-wide <see cref="Gemm.ForcedKernel"/>
/// and measure per-thread allocations, so one class must not switch the kernel under another; and alone, after the other
/// collections: a thread waiting on the parallel GEMM can run other tests' queued work, whose allocations its count would take.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GemmCollection
{
    public const string Name = "Gemm";
}
