using System.Runtime.CompilerServices;

namespace MlNet.Rnn.Core.Kernels;

/// <summary>
/// An element-wise kernel over <c>[rows, width]</c> written once for every lane width:
/// <see cref="Invoke{TLanes}"/> computes elements <c>[index, index + TLanes.Count)</c> of one row (one hidden unit per
/// lane), and <see cref="LaneLoop"/> drives it.
/// </summary>
internal interface ILaneKernel
{
    /// <summary>Computes elements <c>[index, index + TLanes.Count)</c> of row <paramref name="row"/>.</summary>
    void Invoke<TLanes>(nuint row, nuint index) where TLanes : struct, ILanes<TLanes>;
}

/// <summary>
/// The one driver of the fused element-wise kernels, as TensorPrimitives' drivers run its operator structs: in every
/// row, 512-bit steps while they fit, then at most one 256-bit and one 128-bit step, then the scalar tail, each width
/// only where the hardware accelerates it.
/// </summary>
/// <remarks>
/// The tail is scalar rather than one overlapping vector step (TensorPrimitives' trick) because the cell kernels
/// update state in place: recomputing a lane would read its own output.
/// </remarks>
internal static class LaneLoop
{
    /// <summary>Runs <paramref name="kernel"/> over elements <c>[0, width)</c> of rows <c>[0, rows)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TKernel>(ref TKernel kernel, int rows, int width) where TKernel : ILaneKernel
    {
        nuint rowCount = (nuint)rows, length = (nuint)width, index = 0;
        index = Steps<TKernel, Lanes512>(ref kernel, rowCount, index, length);
        index = Steps<TKernel, Lanes256>(ref kernel, rowCount, index, length);
        index = Steps<TKernel, Lanes128>(ref kernel, rowCount, index, length);
        Steps<TKernel, Lane1>(ref kernel, rowCount, index, length);
    }

    /// <summary>In every row, the steps of one width that fit in <c>[start, length)</c>; returns where they end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint Steps<TKernel, TLanes>(ref TKernel kernel, nuint rows, nuint start, nuint length)
        where TKernel : ILaneKernel
        where TLanes : struct, ILanes<TLanes> =>
        TLanes.IsHardwareAccelerated && rows > 0 && start + (nuint)TLanes.Count <= length
            ? Loop<TKernel, TLanes>(kernel, rows, start, length)
            : start;

    /// <summary>
    /// The loop of one width over every row, compiled on its own and fully optimized at once. With all four widths
    /// inlined into the cell's method, tiered compilation ran out of inlining room and left the lane operators as
    /// calls (the forward kernels measured 1.4–5× slower than the hand-written bodies, depending on the run); one width
    /// per method inlines everything, and skipping tier 0 and its profile makes the code the same in every process.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static nuint Loop<TKernel, TLanes>(TKernel kernel, nuint rows, nuint start, nuint length)
        where TKernel : ILaneKernel
        where TLanes : struct, ILanes<TLanes>
    {
        nuint step = (nuint)TLanes.Count, end = start;
        for (nuint row = 0; row < rows; row++)
            for (end = start; end + step <= length; end += step)
                kernel.Invoke<TLanes>(row, end);
        return end;
    }
}
