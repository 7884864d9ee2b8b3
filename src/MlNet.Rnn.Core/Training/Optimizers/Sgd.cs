using System.Globalization;
using System.Numerics;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// Stochastic gradient descent with momentum, exactly as <c>torch.optim.SGD</c>: <c>g ← g + λθ</c>; with momentum μ,
/// <c>b ← g</c> at the first step, then <c>b ← μ·b + (1 − d)·g</c>, and <c>g ← g + μ·b</c> (Nesterov) or <c>g ← b</c>;
/// finally <c>θ ← θ − lr·g</c>. State: <c>"momentum_buffer"</c> (b) when μ ≠ 0.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly float[] _momentumBuffer = [];

    /// <summary>Creates the optimizer.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">lr &gt; 0.</param>
    /// <param name="momentum">μ ∈ [0, 1); 0 is plain gradient descent.</param>
    /// <param name="dampening">d ∈ [0, 1]: the gradient enters the buffer scaled by 1 − d.</param>
    /// <param name="nesterov">Nesterov momentum; needs μ &gt; 0 and d = 0.</param>
    /// <param name="weightDecay">λ ≥ 0, L2: added to the gradient as <c>λθ</c>.</param>
    public Sgd(ParameterSet parameters, float learningRate = 1e-3f, float momentum = 0f, float dampening = 0f, bool nesterov = false, float weightDecay = 0f)
        : base(parameters, learningRate)
    {
        CheckRange(momentum, 0, 1, false, nameof(momentum));
        CheckRange(dampening, 0, 1, true, nameof(dampening));
        CheckRange(weightDecay, 0, float.PositiveInfinity, false, nameof(weightDecay));
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Nesterov momentum needs momentum > 0 and dampening = 0 (as in PyTorch); got momentum {momentum}, dampening {dampening}."), nameof(nesterov));
        Momentum = momentum;
        Dampening = dampening;
        Nesterov = nesterov;
        WeightDecay = weightDecay;
        if (momentum != 0) _momentumBuffer = AddState("momentum_buffer");
    }

    /// <summary>μ.</summary>
    public float Momentum { get; }

    /// <summary>d.</summary>
    public float Dampening { get; }

    /// <summary>Whether the step uses Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <summary>λ: L2 weight decay.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    protected override void Update(Span<float> θ, ReadOnlySpan<float> g, int step)
    {
        float lr = LearningRate, λ = WeightDecay, μ = Momentum, keep = (float)(1.0 - Dampening);
        bool first = step == 1, momentum = μ != 0, nesterov = Nesterov;
        Span<float> b = _momentumBuffer;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= θ.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var θi = new Vector<float>(θ[i..]);
                var gi = new Vector<float>(g[i..]) + λ * θi;
                if (momentum)
                {
                    var bi = first ? gi : new Vector<float>(b[i..]) * μ + keep * gi;
                    bi.CopyTo(b[i..]);
                    gi = nesterov ? gi + μ * bi : bi;
                }
                (θi - lr * gi).CopyTo(θ[i..]);
            }
        }
        for (; i < θ.Length; i++)
        {
            float gi = g[i] + λ * θ[i];
            if (momentum)
            {
                float bi = b[i] = first ? gi : b[i] * μ + keep * gi;
                gi = nesterov ? gi + μ * bi : bi;
            }
            θ[i] -= lr * gi;
        }
    }
}
