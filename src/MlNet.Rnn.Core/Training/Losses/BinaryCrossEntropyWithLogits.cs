using System.Globalization;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// Binary cross-entropy on logits x, as <c>torch.nn.BCEWithLogitsLoss(pos_weight)</c>, in the stable form
/// <c>ℓ(x, y) = (1 − y)·x + (1 + (q − 1)·y)·(log(1 + e^(−|x|)) + max(−x, 0))</c> with q the positive weight of the column;
/// <c>∂ℓ/∂x = (1 − y) − (1 + (q − 1)·y)·σ(−x)</c> (= σ(x) − y when q = 1). Targets are probabilities in [0, 1].
/// Each row's loss is the mean of ℓ over its width, so with all weights 1 the value equals PyTorch's <c>reduction='mean'</c>.
/// </summary>
public sealed class BinaryCrossEntropyWithLogits : ILoss
{
    private readonly float[] _positiveWeights;

    /// <summary>Creates the loss with one positive weight q for every column (1: plain binary cross-entropy).</summary>
    public BinaryCrossEntropyWithLogits(float positiveWeight = 1f)
    {
        CheckPositiveWeight(positiveWeight, nameof(positiveWeight));
        _positiveWeights = [positiveWeight];
    }

    /// <summary>Creates the loss with a positive weight per column (<c>pos_weight</c> of shape <c>[width]</c>).</summary>
    public BinaryCrossEntropyWithLogits(float[] positiveWeights)
    {
        ArgumentNullException.ThrowIfNull(positiveWeights);
        if (positiveWeights.Length == 0)
            throw new ArgumentException("positiveWeights is empty; give one weight per column, or use the constructor taking one weight.", nameof(positiveWeights));
        foreach (float q in positiveWeights) CheckPositiveWeight(q, nameof(positiveWeights));
        _positiveWeights = (float[])positiveWeights.Clone();
    }

    /// <summary>The positive weights: one for all columns, or one per column.</summary>
    public IReadOnlyList<float> PositiveWeights => _positiveWeights;

    /// <summary>One 0/1 target per output.</summary>
    public int? TargetWidth(int width) => width;

    /// <inheritdoc />
    public double Compute(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, int rows, int width, ReadOnlySpan<float> weights, Span<float> gradient)
    {
        LossArguments.Check(prediction, target, rows, width, width, weights, gradient);
        if (_positiveWeights.Length != 1 && _positiveWeights.Length != width)
            throw new ArgumentException(
                $"This loss has {_positiveWeights.Length} positive weights but the rows have width {width}; give one per column.", nameof(width));
        for (int i = 0; i < target.Length; i++)
            if (!(target[i] >= 0 && target[i] <= 1))
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"target[row {i / width}, column {i % width}] is {target[i]}; binary targets are probabilities in [0, 1]."),
                    nameof(target));
        double weightSum = 0;
        for (int r = 0; r < rows; r++) weightSum += LossArguments.Weight(weights, r);
        if (weightSum == 0) { gradient.Clear(); return 0; }
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            double w = LossArguments.Weight(weights, r), rowLoss = 0, scale = w / (weightSum * width);
            for (int c = 0; c < width; c++)
            {
                int j = r * width + c;
                double x = prediction[j], y = target[j], q = _positiveWeights[_positiveWeights.Length == 1 ? 0 : c];
                double logWeight = 1 + (q - 1) * y;
                double softplusOfMinusX = Math.Log(1 + Math.Exp(-Math.Abs(x))) + Math.Max(-x, 0);   // −log σ(x)
                double sigmoidOfMinusX = x >= 0 ? Math.Exp(-x) / (1 + Math.Exp(-x)) : 1 / (1 + Math.Exp(x));
                rowLoss += (1 - y) * x + logWeight * softplusOfMinusX;
                gradient[j] = (float)(scale * ((1 - y) - logWeight * sigmoidOfMinusX));
            }
            total += w * rowLoss / width;
        }
        return total / weightSum;
    }

    private static void CheckPositiveWeight(float value, string name)
    {
        if (!(value >= 0 && float.IsFinite(value)))
            throw new ArgumentOutOfRangeException(name, value, "A positive weight must be finite and ≥ 0 (1 weighs positives and negatives equally).");
    }
}
