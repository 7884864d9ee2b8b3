namespace MlNet.Rnn.Core.Training;

/// <summary>
/// Huber loss, as <c>torch.nn.HuberLoss(delta)</c>: with <c>d = p − t</c>, <c>h(d) = d²/2</c> for <c>|d| &lt; δ</c>,
/// else <c>δ(|d| − δ/2)</c>; <c>h'(d) = d</c> inside, <c>δ·sign(d)</c> outside. Each row's loss is the mean of h over
/// its width, so with all weights 1 the value equals PyTorch's <c>reduction='mean'</c>.
/// </summary>
public sealed class Huber : ILoss
{
    /// <summary>Creates the loss with threshold <paramref name="delta"/> &gt; 0 (PyTorch's default 1).</summary>
    public Huber(float delta = 1f)
    {
        if (!(delta > 0 && float.IsFinite(delta)))
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "delta must be a finite number > 0 (PyTorch's default is 1).");
        Delta = delta;
    }

    /// <summary>δ: where the loss turns from quadratic to linear.</summary>
    public float Delta { get; }

    /// <summary>One target per output.</summary>
    public int? TargetWidth(int width) => width;

    /// <inheritdoc />
    public double Compute(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, int rows, int width, ReadOnlySpan<float> weights, Span<float> gradient)
    {
        LossArguments.Check(prediction, target, rows, width, width, weights, gradient);
        double weightSum = 0;
        for (int r = 0; r < rows; r++) weightSum += LossArguments.Weight(weights, r);
        if (weightSum == 0) { gradient.Clear(); return 0; }
        double delta = Delta, total = 0;
        for (int r = 0; r < rows; r++)
        {
            double w = LossArguments.Weight(weights, r), rowLoss = 0, scale = w / (weightSum * width);
            for (int j = r * width; j < (r + 1) * width; j++)
            {
                double d = (double)prediction[j] - target[j], magnitude = Math.Abs(d);
                bool quadratic = magnitude < delta;
                rowLoss += quadratic ? 0.5 * d * d : delta * (magnitude - 0.5 * delta);
                gradient[j] = (float)(scale * (quadratic ? d : delta * Math.Sign(d)));
            }
            total += w * rowLoss / width;
        }
        return total / weightSum;
    }
}
