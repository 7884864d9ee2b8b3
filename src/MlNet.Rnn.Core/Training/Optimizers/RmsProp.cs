using System.Numerics;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// RMSprop, exactly as <c>torch.optim.RMSprop</c>: <c>g ← g + λθ</c>, <c>s ← α·s + (1−α)·g²</c>; centered:
/// <c>ḡ ← α·ḡ + (1−α)·g</c>, <c>a = √(s − ḡ²) + ε</c>, else <c>a = √s + ε</c>; with momentum μ &gt; 0
/// <c>b ← μ·b + g/a</c>, <c>θ ← θ − lr·b</c>, else <c>θ ← θ − lr·g/a</c>.
/// State: <c>"square_avg"</c> (s), <c>"grad_avg"</c> (ḡ, centered), <c>"momentum_buffer"</c> (b, μ &gt; 0).
/// </summary>
public sealed class RmsProp : Optimizer
{
    private readonly float[] _squareAverage, _gradientAverage = [], _momentumBuffer = [];

    /// <summary>Creates the optimizer with zero state.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">lr &gt; 0 (PyTorch's default 0.01).</param>
    /// <param name="alpha">α ∈ [0, 1): decay of the averages.</param>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <param name="momentum">μ ∈ [0, 1).</param>
    /// <param name="centered">Normalise by the estimated variance instead of the second moment.</param>
    /// <param name="weightDecay">λ ≥ 0, L2: added to the gradient as <c>λθ</c>.</param>
    public RmsProp(ParameterSet parameters, float learningRate = 0.01f, float alpha = 0.99f, float epsilon = 1e-8f, float momentum = 0f,
        bool centered = false, float weightDecay = 0f)
        : base(parameters, learningRate)
    {
        CheckRange(alpha, 0, 1, false, nameof(alpha));
        CheckRange(epsilon, 0, float.PositiveInfinity, false, nameof(epsilon));
        CheckRange(momentum, 0, 1, false, nameof(momentum));
        CheckRange(weightDecay, 0, float.PositiveInfinity, false, nameof(weightDecay));
        Alpha = alpha;
        Epsilon = epsilon;
        Momentum = momentum;
        Centered = centered;
        WeightDecay = weightDecay;
        _squareAverage = AddState("square_avg");
        if (centered) _gradientAverage = AddState("grad_avg");
        if (momentum > 0) _momentumBuffer = AddState("momentum_buffer");
    }

    /// <summary>α.</summary>
    public float Alpha { get; }

    /// <summary>ε.</summary>
    public float Epsilon { get; }

    /// <summary>μ.</summary>
    public float Momentum { get; }

    /// <summary>Whether the denominator uses the centered (variance) estimate.</summary>
    public bool Centered { get; }

    /// <summary>λ: L2 weight decay.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    protected override void Update(Span<float> θ, ReadOnlySpan<float> g, int step)
    {
        float lr = LearningRate, λ = WeightDecay, α = Alpha, a1 = (float)(1.0 - Alpha), ε = Epsilon, μ = Momentum;
        bool centered = Centered, momentum = μ > 0;
        Span<float> s = _squareAverage, meanGradient = _gradientAverage, b = _momentumBuffer;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var εv = new Vector<float>(ε);
            for (; i <= θ.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var θi = new Vector<float>(θ[i..]);
                var gi = new Vector<float>(g[i..]) + λ * θi;
                var si = new Vector<float>(s[i..]) * α + a1 * gi * gi;
                si.CopyTo(s[i..]);
                Vector<float> ai;
                if (centered)
                {
                    var meanG = new Vector<float>(meanGradient[i..]) * α + a1 * gi;
                    meanG.CopyTo(meanGradient[i..]);
                    ai = Vector.SquareRoot(si - meanG * meanG) + εv;
                }
                else
                {
                    ai = Vector.SquareRoot(si) + εv;
                }
                if (momentum)
                {
                    var bi = new Vector<float>(b[i..]) * μ + gi / ai;
                    bi.CopyTo(b[i..]);
                    (θi - lr * bi).CopyTo(θ[i..]);
                }
                else
                {
                    (θi - lr * (gi / ai)).CopyTo(θ[i..]);
                }
            }
        }
        for (; i < θ.Length; i++)
        {
            float gi = g[i] + λ * θ[i];
            float si = s[i] = s[i] * α + a1 * gi * gi;
            float ai;
            if (centered)
            {
                float meanG = meanGradient[i] = meanGradient[i] * α + a1 * gi;
                ai = MathF.Sqrt(si - meanG * meanG) + ε;
            }
            else
            {
                ai = MathF.Sqrt(si) + ε;
            }
            if (momentum) θ[i] -= lr * (b[i] = b[i] * μ + gi / ai);
            else θ[i] -= lr * (gi / ai);
        }
    }
}
