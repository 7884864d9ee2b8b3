using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Options;

/// <summary>
/// The update a trainer's options describe, written here in double precision from the equations of PyTorch's
/// documentation (torch.optim.SGD, Adam, AdamW, RMSprop; clip_grad_norm_, clip_grad_value_), not from the production
/// optimizers: clipping first (global norm, then value), then one optimizer step.
/// <list type="bullet">
/// <item>SGD: <c>g ← g + λθ</c>; <c>b ← g</c> at step 1, then <c>b ← μb + g</c>; <c>g ← g + μb</c> (Nesterov) or <c>g ← b</c>; <c>θ ← θ − lr·g</c>.</item>
/// <item>Adam: <c>g ← g + λθ</c>; <c>m ← β1·m + (1−β1)·g</c>; <c>v ← β2·v + (1−β2)·g²</c>; <c>θ ← θ − lr·m̂ / (√v̂ + ε)</c>,
/// <c>m̂ = m/(1−β1ᵗ)</c>, <c>v̂ = v/(1−β2ᵗ)</c>, ε = 10⁻⁸.</item>
/// <item>AdamW: <c>θ ← θ·(1 − lr·λ)</c>, then Adam without λ.</item>
/// <item>RMSprop (α = 0.99, ε = 10⁻⁸): <c>g ← g + λθ</c>; <c>s ← αs + (1−α)g²</c>; <c>b ← μb + g/(√s + ε)</c>, <c>θ ← θ − lr·b</c>
/// (μ = 0: <c>θ ← θ − lr·g/(√s + ε)</c>).</item>
/// </list>
/// </summary>
internal sealed class ReferenceStep(TrainerOptions options)
{
    private const double Epsilon = 1e-8, RmsAlpha = 0.99;
    private double[] _first = [], _second = [];
    private int _step;

    /// <summary>Updates <paramref name="θ"/> in place from the unclipped gradient <paramref name="gradient"/> at rate <paramref name="lr"/>.</summary>
    public void Apply(double[] θ, double[] gradient, double lr)
    {
        if (_step++ == 0)
        {
            _first = new double[θ.Length];
            _second = new double[θ.Length];
        }
        int t = _step;
        double[] g = Clip(gradient, options.GradientClipNorm, options.GradientClipValue);
        double λ = options.WeightDecay, μ = options.Momentum, β1 = options.Beta1, β2 = options.Beta2;
        for (int i = 0; i < θ.Length; i++)
        {
            switch (options.Optimizer)
            {
                case OptimizerKind.Sgd:
                {
                    double gi = g[i] + λ * θ[i];
                    if (μ != 0)
                    {
                        _first[i] = t == 1 ? gi : μ * _first[i] + gi;
                        gi = options.Nesterov ? gi + μ * _first[i] : _first[i];
                    }
                    θ[i] -= lr * gi;
                    break;
                }
                case OptimizerKind.Adam:
                case OptimizerKind.AdamW:
                {
                    double gi = g[i];
                    if (options.Optimizer == OptimizerKind.AdamW) θ[i] *= 1 - lr * λ;
                    else gi += λ * θ[i];
                    _first[i] = β1 * _first[i] + (1 - β1) * gi;
                    _second[i] = β2 * _second[i] + (1 - β2) * gi * gi;
                    double mHat = _first[i] / (1 - Math.Pow(β1, t)), vHat = _second[i] / (1 - Math.Pow(β2, t));
                    θ[i] -= lr * mHat / (Math.Sqrt(vHat) + Epsilon);
                    break;
                }
                case OptimizerKind.RmsProp:
                {
                    double gi = g[i] + λ * θ[i];
                    _second[i] = RmsAlpha * _second[i] + (1 - RmsAlpha) * gi * gi;
                    double scaled = gi / (Math.Sqrt(_second[i]) + Epsilon);
                    if (μ > 0) θ[i] -= lr * (_first[i] = μ * _first[i] + scaled);
                    else θ[i] -= lr * scaled;
                    break;
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "Unknown optimizer.");
            }
        }
    }

    /// <summary><c>clip_grad_norm_(maxNorm)</c> (g·maxNorm/(‖g‖ + 10⁻⁶) when that shrinks it), then <c>clip_grad_value_(limit)</c>; 0 turns either off.</summary>
    public static double[] Clip(double[] gradient, double maxNorm, double limit)
    {
        double[] g = (double[])gradient.Clone();
        if (maxNorm > 0)
        {
            double norm = Math.Sqrt(g.Sum(x => x * x)), coefficient = maxNorm / (norm + 1e-6);
            if (coefficient < 1)
                for (int i = 0; i < g.Length; i++) g[i] *= coefficient;
        }
        if (limit > 0)
            for (int i = 0; i < g.Length; i++) g[i] = Math.Clamp(g[i], -limit, limit);
        return g;
    }

    /// <summary>The weights after one step from <paramref name="from"/>, this reference's state advanced.</summary>
    public double[] Next(float[] from, double[] gradient, double lr)
    {
        double[] θ = NetworkFactory.Widen(from);
        Apply(θ, gradient, lr);
        return θ;
    }
}
