using System.Runtime.CompilerServices;

namespace MlNet.Rnn.Core.Kernels;

/// <summary>
/// e^x, σ and tanh at every lane width (<see cref="ILanes{TSelf}"/>, the scalar tail included), by one formula each,
/// for the fused cell kernels (TensorPrimitives has them, but only span-to-span, which would cost one pass over memory
/// per gate). <c>σ(x) = 1 / (1 + e^−x)</c>, <c>tanh(x) = 1 − 2 / (e^2x + 1)</c>; both saturate at ±∞ (σ(−∞) to
/// 6e−39, the rest exactly) and propagate NaN.
/// </summary>
internal static class GateActivations
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TLanes Sigmoid<TLanes>(TLanes x) where TLanes : struct, ILanes<TLanes> =>
        TLanes.One / (TLanes.One + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TLanes Tanh<TLanes>(TLanes x) where TLanes : struct, ILanes<TLanes> =>
        TLanes.One - TLanes.Create(2f) / (Exp(x + x) + TLanes.One);

    /// <summary>
    /// e^x in single precision, as Cephes' <c>expf</c>: <c>x = n·ln2 + r</c> with n an integer and |r| ≤ ln2/2
    /// (ln2 split in two so that n·ln2 is exact), <c>e^r = 1 + r + r²·P(r)</c> with P of degree 5, times 2^n; relative
    /// error about 1e−7. x is first clamped to [−87, 88] so that 2^n is a normal float: e^x then saturates at 1.6e38 and
    /// 1.6e−38, which σ and tanh turn into their limits. The runtime's <c>Vector512.Exp</c> computes in double and the
    /// JIT inlines it only with profile data: the LSTM and GRU forward kernels ran 1.3–1.4× faster with this one than
    /// the hand-written bodies did with it (H = 64 to 256, 32 to 64 rows, calls interleaved in one process).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TLanes Exp<TLanes>(TLanes x) where TLanes : struct, ILanes<TLanes>
    {
        x = TLanes.Min(TLanes.Create(88f), TLanes.Max(TLanes.Create(-87f), x));   // x second: a NaN stays NaN
        var n = TLanes.Round(x * TLanes.Create(1.44269504088896341f));
        var r = x - n * TLanes.Create(0.693359375f) - n * TLanes.Create(-2.12194440e-4f);
        var p = TLanes.MultiplyAdd(TLanes.Create(1.9875691500e-4f), r, TLanes.Create(1.3981999507e-3f));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(8.3334519073e-3f));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(4.1665795894e-2f));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(1.6666665459e-1f));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(5.0000001201e-1f));
        return (TLanes.MultiplyAdd(p, r * r, r) + TLanes.One) * TLanes.PowerOfTwo(n);
    }
}
