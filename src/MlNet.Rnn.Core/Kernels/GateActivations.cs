using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MlNet.Rnn.Core.Kernels;

/// <summary>
/// σ and tanh on a vector (<see cref="Vector{T}"/>, and <see cref="Vector512{T}"/> where it is accelerated: the cell
/// kernels spend most of their time here) and on a scalar, by the same formulas, for the fused cell kernels (TensorPrimitives has
/// both, but only span-to-span, which would cost one pass over memory per gate).
/// <c>σ(x) = 1 / (1 + e^−x)</c>, <c>tanh(x) = 1 − 2 / (e^2x + 1)</c>; both saturate correctly at ±∞ and propagate NaN.
/// </summary>
internal static class GateActivations
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Sigmoid(Vector<float> x) => Vector<float>.One / (Vector<float>.One + Vector.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Tanh(Vector<float> x) => Vector<float>.One - new Vector<float>(2f) / (Vector.Exp(x + x) + Vector<float>.One);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x) =>
        Vector512<float>.One - Vector512.Create(2f) / (Vector512.Exp(x + x) + Vector512<float>.One);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Tanh(float x) => 1f - 2f / (MathF.Exp(x + x) + 1f);
}
