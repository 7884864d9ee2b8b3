using System.Numerics;
using System.Runtime.CompilerServices;

namespace MlNet.Rnn.Core.Kernels;

/// <summary>
/// σ and tanh on a vector and on a scalar, by the same formulas, for the fused cell kernels (TensorPrimitives has
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
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Tanh(float x) => 1f - 2f / (MathF.Exp(x + x) + 1f);
}
