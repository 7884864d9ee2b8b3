using MlNet.Rnn.Core.Kernels;

namespace MlNet.Rnn.Core.Tests.Kernels;

/// <summary>
/// The <see cref="Gemm"/> test classes, run one at a time: they set the process-wide <see cref="Gemm.ForcedKernel"/>
/// and measure per-thread allocations, so one class must not switch the kernel under another.
/// </summary>
[CollectionDefinition(Name)]
public sealed class GemmCollection
{
    public const string Name = "Gemm";
}
