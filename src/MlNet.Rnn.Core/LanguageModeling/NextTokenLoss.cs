using System.Numerics.Tensors;
using MlNet.Rnn.Core.Kernels;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// Softmax cross-entropy of next-token logits <c>z [rows, V]</c> against target ids <c>y [rows]</c> with row weights w:
/// <c>l_r = −ln softmax(z_r)[y_r] = ln Σ_j e^(z_rj) − z_r,y_r</c>; <c>L = Σ w_r·l_r / Σ w_r</c>;
/// <c>∂L/∂z_rj = w_r/Σw · (softmax(z_r)_j − [j = y_r])</c>.
/// </summary>
internal static class NextTokenLoss
{
    /// <summary>
    /// Returns <c>Σ w_r·l_r</c> (nats, accumulated in double) and <c>Σ w_r</c>. When <paramref name="gradient"/> is not empty
    /// it receives <c>∂L/∂z</c> <c>[rows, V]</c> (zero rows where w = 0); otherwise <paramref name="scratch"/> (≥ V floats) is used.
    /// </summary>
    public static (double NegativeLogLikelihood, double Weight) Compute(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets,
        ReadOnlySpan<float> weights, int V, Span<float> gradient, Span<float> scratch)
    {
        int rows = targets.Length;
        double weightSum = 0;
        for (int r = 0; r < rows; r++) weightSum += weights[r];
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            float w = weights[r];
            Span<float> p = gradient.IsEmpty ? scratch.Slice(0, V) : gradient.Slice(r * V, V);
            if (w == 0f)
            {
                if (!gradient.IsEmpty) p.Clear();
                continue;
            }
            ReadOnlySpan<float> z = logits.Slice(r * V, V);
            float max = Reductions.Max(z);
            TensorPrimitives.Subtract(z, max, p);
            TensorPrimitives.Exp(p, p);
            float sum = Reductions.Sum(p);
            int y = targets[r];
            total += w * (Math.Log(sum) - (z[y] - max));
            if (gradient.IsEmpty) continue;
            float scale = (float)(w / weightSum);
            TensorPrimitives.Multiply(p, scale / sum, p);
            p[y] -= scale;
        }
        return (total, weightSum);
    }
}
