using System.Runtime.CompilerServices;

namespace MlNet.Rnn.Core.Kernels;

/// <summary>
/// An element-wise kernel written once for every width: <see cref="Invoke{TLanes}"/> computes elements
/// <c>[index, index + TLanes.Count)</c> of its spans (one hidden unit per lane), and <see cref="LaneLoop"/> drives it.
/// </summary>
internal interface ILaneKernel
{
    /// <summary>Computes elements <c>[index, index + TLanes.Count)</c>.</summary>
    void Invoke<TLanes>(nuint index) where TLanes : struct, ILanes<TLanes>;
}

/// <summary>
/// The one driver of the fused element-wise kernels, as TensorPrimitives' drivers run its operator structs: 512-bit
/// steps while they fit, then at most one 256-bit and one 128-bit step, then the scalar tail, each width only where
/// the hardware accelerates it.
/// </summary>
/// <remarks>
/// The tail is scalar rather than one overlapping vector step (TensorPrimitives' trick) because the cell kernels
/// update state in place: recomputing a lane would read its own output.
/// </remarks>
internal static class LaneLoop
{
    /// <summary>Runs <paramref name="kernel"/> over elements <c>[0, count)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TKernel>(ref TKernel kernel, int count) where TKernel : ILaneKernel, allows ref struct
    {
        nuint length = (nuint)count, index = 0;
        index = Steps<TKernel, Lanes512>(ref kernel, index, length);
        index = Steps<TKernel, Lanes256>(ref kernel, index, length);
        index = Steps<TKernel, Lanes128>(ref kernel, index, length);
        for (; index < length; index++) kernel.Invoke<Lane1>(index);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint Steps<TKernel, TLanes>(ref TKernel kernel, nuint index, nuint length)
        where TKernel : ILaneKernel, allows ref struct
        where TLanes : struct, ILanes<TLanes>
    {
        if (TLanes.IsHardwareAccelerated)
            for (nuint width = (nuint)TLanes.Count; index + width <= length; index += width)
                kernel.Invoke<TLanes>(index);
        return index;
    }
}
