using System.Numerics;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// Adam (Kingma and Ba), exactly as <c>torch.optim.Adam</c> (amsgrad off): with t the step count,
/// <c>g ← g + λθ</c> (L2 weight decay λ), <c>m ← β1·m + (1−β1)·g</c>, <c>v ← β2·v + (1−β2)·g²</c>,
/// <c>θ ← θ − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)</c>. State: <c>"exp_avg"</c> (m), <c>"exp_avg_sq"</c> (v).
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly float[] _firstMoment, _secondMoment;

    /// <summary>Creates zero moments in the layout of <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">lr &gt; 0.</param>
    /// <param name="beta1">β1 ∈ [0, 1).</param>
    /// <param name="beta2">β2 ∈ [0, 1).</param>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <param name="weightDecay">λ ≥ 0, added to the gradient as <c>λθ</c> (L2; for decoupled decay use <see cref="AdamW"/>).</param>
    public Adam(ParameterSet parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
        : base(parameters, learningRate)
    {
        CheckRange(beta1, 0, 1, false, nameof(beta1));
        CheckRange(beta2, 0, 1, false, nameof(beta2));
        CheckRange(epsilon, 0, float.PositiveInfinity, false, nameof(epsilon));
        CheckRange(weightDecay, 0, float.PositiveInfinity, false, nameof(weightDecay));
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        _firstMoment = AddState("exp_avg");
        _secondMoment = AddState("exp_avg_sq");
    }

    /// <summary>β1: decay of the first moment.</summary>
    public float Beta1 { get; }

    /// <summary>β2: decay of the second moment.</summary>
    public float Beta2 { get; }

    /// <summary>ε: added to the denominator.</summary>
    public float Epsilon { get; }

    /// <summary>λ: L2 weight decay, added to the gradient.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    protected override void Update(Span<float> values, ReadOnlySpan<float> gradients, int step) =>
        Apply(values, gradients, _firstMoment, _secondMoment, LearningRate, Beta1, Beta2, Epsilon, WeightDecay, step);

    /// <summary>
    /// One Adam update with L2 decay λ. The per-step scalars are computed in double and rounded to float, as PyTorch
    /// computes them in Python and passes them to its float kernels.
    /// </summary>
    internal static void Apply(Span<float> θ, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float learningRate, float beta1, float beta2, float epsilon, float λ, int step)
    {
        double correction1 = 1 - Math.Pow(beta1, step), correction2 = 1 - Math.Pow(beta2, step);
        float stepSize = (float)(learningRate / correction1), rootCorrection2 = (float)Math.Sqrt(correction2);
        float a1 = (float)(1.0 - beta1), a2 = (float)(1.0 - beta2);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var ε = new Vector<float>(epsilon);
            for (; i <= θ.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var θi = new Vector<float>(θ[i..]);
                var gi = new Vector<float>(g[i..]) + λ * θi;
                var mi = new Vector<float>(m[i..]) * beta1 + a1 * gi;
                var vi = new Vector<float>(v[i..]) * beta2 + a2 * gi * gi;
                var denominator = Vector.SquareRoot(vi) / rootCorrection2 + ε;
                (θi - stepSize * (mi / denominator)).CopyTo(θ[i..]);
                mi.CopyTo(m[i..]);
                vi.CopyTo(v[i..]);
            }
        }
        for (; i < θ.Length; i++)
        {
            float gi = g[i] + λ * θ[i];
            float mi = m[i] = m[i] * beta1 + a1 * gi;
            float vi = v[i] = v[i] * beta2 + a2 * gi * gi;
            θ[i] -= stepSize * (mi / (MathF.Sqrt(vi) / rootCorrection2 + epsilon));
        }
    }
}
