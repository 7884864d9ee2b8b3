using System.Numerics.Tensors;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter), exactly as <c>torch.optim.AdamW</c> (amsgrad off): decoupled weight decay
/// <c>θ ← θ·(1 − lr·λ)</c> first, then the <see cref="Adam"/> update without L2 term. State: <c>"exp_avg"</c>, <c>"exp_avg_sq"</c>.
/// </summary>
public sealed class AdamW : Optimizer
{
    private readonly float[] _firstMoment, _secondMoment;

    /// <summary>Creates zero moments in the layout of <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">lr &gt; 0.</param>
    /// <param name="beta1">β1 ∈ [0, 1).</param>
    /// <param name="beta2">β2 ∈ [0, 1).</param>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <param name="weightDecay">λ ≥ 0, decoupled: each step multiplies θ by <c>1 − lr·λ</c> (PyTorch's default 0.01).</param>
    public AdamW(ParameterSet parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0.01f)
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

    /// <summary>λ: decoupled weight decay.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    protected override void Update(Span<float> values, ReadOnlySpan<float> gradients, int step)
    {
        if (WeightDecay != 0) TensorPrimitives.Multiply(values, (float)(1 - (double)LearningRate * WeightDecay), values);
        Adam.Apply(values, gradients, _firstMoment, _secondMoment, LearningRate, Beta1, Beta2, Epsilon, 0f, step);
    }
}
