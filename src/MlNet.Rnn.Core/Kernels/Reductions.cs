using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace MlNet.Rnn.Core.Kernels;

/// <summary>
/// The sum, dot product, maximum and softmax of float spans that losses, heads and attention take once per row or per step.
/// Not <see cref="TensorPrimitives"/>' own: on .NET 8, System.Numerics.Tensors 10.0.0's <c>Sum</c>, <c>Dot</c> and
/// <c>SoftMax</c> allocate about 128 bytes a call and <c>Max</c> about 1.5 on average (measured), which put an allocation in
/// every scored row of a language model or a multiclass head and every attention step. These loops are the same on every
/// framework, so both builds compute the same bits.
/// </summary>
internal static class Reductions
{
    /// <summary>Σ x.</summary>
    public static float Sum(ReadOnlySpan<float> x)
    {
        int i = 0;
        var sum = Vector256<float>.Zero;
        if (Vector256.IsHardwareAccelerated)
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count) sum += Vector256.Create(x.Slice(i, Vector256<float>.Count));
        float total = Vector256.Sum(sum);
        for (; i < x.Length; i++) total += x[i];
        return total;
    }

    /// <summary>Σ a·b over spans of one length.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"The spans hold {a.Length} and {b.Length} values; a dot product needs one length.", nameof(b));
        int i = 0;
        var sum = Vector256<float>.Zero;
        if (Vector256.IsHardwareAccelerated)
            for (; i <= a.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                sum += Vector256.Create(a.Slice(i, Vector256<float>.Count)) * Vector256.Create(b.Slice(i, Vector256<float>.Count));
        float total = Vector256.Sum(sum);
        for (; i < a.Length; i++) total += a[i] * b[i];
        return total;
    }

    /// <summary>max x; NaN when x holds one (as <see cref="TensorPrimitives.Max(ReadOnlySpan{float})"/>); x must not be empty.</summary>
    public static float Max(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) throw new ArgumentException("The span is empty; its maximum is undefined.", nameof(x));
        float max = x[0];
        foreach (float value in x)
        {
            if (float.IsNaN(value)) return value;
            if (value > max) max = value;
        }
        return max;
    }

    /// <summary>
    /// destination = e^x ÷ Σ e^x over x's length (in place when they are one span). As <c>TensorPrimitives.SoftMax</c>, x is not
    /// shifted by its maximum here: a caller whose x may exceed about 88 subtracts <see cref="Max"/> first.
    /// </summary>
    public static void SoftMax(ReadOnlySpan<float> x, Span<float> destination)
    {
        Span<float> e = destination[..x.Length];
        TensorPrimitives.Exp(x, e);
        TensorPrimitives.Multiply(e, 1f / Sum(e), e);
    }
}
