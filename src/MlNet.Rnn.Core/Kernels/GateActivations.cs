using System.Runtime.CompilerServices;

namespace MlNet.Rnn.Core.Kernels;

/// <summary>
/// σ and tanh at every lane width (<see cref="ILanes{TSelf}"/>, the scalar tail included), by one formula each, for
/// the fused cell kernels (TensorPrimitives has both, but only span-to-span, which would cost one pass over memory
/// per gate). <c>σ(x) = 1 / (1 + e^−x)</c>, <c>tanh(x) = 1 − 2 / (e^2x + 1)</c>; both saturate correctly at ±∞ and
/// propagate NaN.
/// </summary>
internal static class GateActivations
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TLanes Sigmoid<TLanes>(TLanes x) where TLanes : struct, ILanes<TLanes> =>
        TLanes.One / (TLanes.One + TLanes.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TLanes Tanh<TLanes>(TLanes x) where TLanes : struct, ILanes<TLanes> =>
        TLanes.One - TLanes.Create(2f) / (TLanes.Exp(x + x) + TLanes.One);
}
