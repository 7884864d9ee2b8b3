using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;

namespace MlNet.Rnn.Core.Training;

/// <summary>Gradient clipping over the flat gradient buffer, as <c>torch.nn.utils.clip_grad_norm_</c> / <c>clip_grad_value_</c>.</summary>
public static class GradientClipping
{
    /// <summary>‖g‖₂ = √(Σ g²), accumulated in double.</summary>
    public static float GlobalNorm(ReadOnlySpan<float> gradients)
    {
        double sum = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var accumulator = Vector<double>.Zero;
            for (; i <= gradients.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(gradients[i..]), out var low, out var high);
                accumulator += low * low + high * high;
            }
            sum = Vector.Sum(accumulator);
        }
        for (; i < gradients.Length; i++) sum += (double)gradients[i] * gradients[i];
        return (float)Math.Sqrt(sum);
    }

    /// <summary>
    /// Scales g by <c>c = maxNorm / (‖g‖ + 10⁻⁶)</c> when c &lt; 1, as <c>clip_grad_norm_(max_norm, norm_type=2)</c>, and returns
    /// ‖g‖ before clipping. A non-finite norm leaves the gradients unchanged (PyTorch would scale them by NaN or 0) and is
    /// returned, so the caller can skip the step.
    /// </summary>
    public static float ClipByGlobalNorm(Span<float> gradients, float maxNorm)
    {
        if (!(maxNorm > 0 && float.IsFinite(maxNorm)))
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm,
                string.Create(CultureInfo.InvariantCulture, $"maxNorm must be a finite number > 0; it is {maxNorm}."));
        float norm = GlobalNorm(gradients);
        if (!float.IsFinite(norm)) return norm;
        float coefficient = maxNorm / (norm + 1e-6f);
        if (coefficient < 1) TensorPrimitives.Multiply(gradients, coefficient, gradients);
        return norm;
    }

    /// <summary>Clamps every gradient to [−limit, limit], as <c>clip_grad_value_(clip_value=limit)</c>.</summary>
    public static void ClipByValue(Span<float> gradients, float limit)
    {
        if (!(limit > 0 && float.IsFinite(limit)))
            throw new ArgumentOutOfRangeException(nameof(limit), limit,
                string.Create(CultureInfo.InvariantCulture, $"limit must be a finite number > 0; it is {limit}."));
        TensorPrimitives.Min(gradients, limit, gradients);
        TensorPrimitives.Max(gradients, -limit, gradients);
    }
}
