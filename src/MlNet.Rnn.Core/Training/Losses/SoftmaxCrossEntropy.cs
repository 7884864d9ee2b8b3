using System.Globalization;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// Softmax cross-entropy on logits z <c>[rows, C]</c> against class indices y <c>[rows]</c>, as
/// <c>torch.nn.CrossEntropyLoss(weight=c, label_smoothing=ε)</c>: with <c>p = softmax(z_r)</c>,
/// <c>l_r = (1 − ε)·c_y·(−log p_y) + (ε/C)·Σ_k c_k·(−log p_k)</c> and
/// <c>L = Σ_r w_r·l_r / Σ_r w_r·c_(y_r)</c>; <c>∂L/∂z_rj = w_r/D · ((1 − ε)·c_y·(p_j − [j = y]) + (ε/C)·(p_j·Σ_k c_k − c_j))</c>.
/// </summary>
/// <remarks>
/// The denominator <c>D = Σ_r w_r·c_(y_r)</c> is PyTorch's normalisation by the class weights of the targets (for both the
/// likelihood and the smoothing term), generalised by our row weights w; with no class weights it is <c>Σ w</c>, as for the
/// other losses. The class indices are stored as floats and must be whole numbers in [0, C).
/// </remarks>
public sealed class SoftmaxCrossEntropy : ILoss
{
    private readonly float[]? _classWeights;

    /// <summary>Creates the loss, optionally with class weights <c>[C]</c> and label smoothing ε ∈ [0, 1].</summary>
    public SoftmaxCrossEntropy(float[]? classWeights = null, float labelSmoothing = 0f)
    {
        if (classWeights is not null)
        {
            if (classWeights.Length == 0)
                throw new ArgumentException("classWeights is empty; give one weight per class, or null for equal weights.", nameof(classWeights));
            for (int k = 0; k < classWeights.Length; k++)
                if (!(classWeights[k] >= 0 && float.IsFinite(classWeights[k])))
                    throw new ArgumentOutOfRangeException(nameof(classWeights), classWeights[k],
                        string.Create(CultureInfo.InvariantCulture, $"classWeights[{k}] must be finite and ≥ 0."));
            _classWeights = (float[])classWeights.Clone();
        }
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "labelSmoothing must be in [0, 1] (0: none).");
        LabelSmoothing = labelSmoothing;
    }

    /// <summary>The class weights, or null when every class weighs 1.</summary>
    public IReadOnlyList<float>? ClassWeights => _classWeights;

    /// <summary>ε: the share of the target mass spread uniformly over the C classes.</summary>
    public float LabelSmoothing { get; }

    /// <summary>One class index per row.</summary>
    public int? TargetWidth(int width) => 1;

    /// <inheritdoc />
    public double Compute(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, int rows, int width, ReadOnlySpan<float> weights, Span<float> gradient)
    {
        LossArguments.Check(prediction, target, rows, width, 1, weights, gradient);
        if (_classWeights is not null && _classWeights.Length != width)
            throw new ArgumentException($"This loss has {_classWeights.Length} class weights but the logits have C = {width} classes.", nameof(width));
        for (int r = 0; r < rows; r++)
            if (target[r] != MathF.Floor(target[r]) || target[r] < 0 || target[r] >= width)
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"target[row {r}] is {target[r]}; a class index must be a whole number in [0, {width})."),
                    nameof(target));

        double denominator = 0, classWeightSum = 0;
        for (int r = 0; r < rows; r++) denominator += LossArguments.Weight(weights, r) * ClassWeight((int)target[r]);
        for (int k = 0; k < width; k++) classWeightSum += ClassWeight(k);
        if (denominator == 0) { gradient.Clear(); return 0; }

        double smoothing = LabelSmoothing, total = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> z = prediction.Slice(r * width, width);
            Span<float> g = gradient.Slice(r * width, width);
            int y = (int)target[r];
            double w = LossArguments.Weight(weights, r);
            double max = double.NegativeInfinity, sum = 0;
            for (int k = 0; k < width; k++) max = Math.Max(max, z[k]);
            for (int k = 0; k < width; k++) sum += Math.Exp(z[k] - max);
            double logSum = max + Math.Log(sum);                      // log Σ e^z: −log p_k = logSum − z_k
            double likelihoodWeight = (1 - smoothing) * ClassWeight(y), smoothWeight = smoothing / width;
            double rowLoss = likelihoodWeight * (logSum - z[y]);
            for (int k = 0; k < width; k++)
            {
                double p = Math.Exp(z[k] - logSum);
                rowLoss += smoothWeight * ClassWeight(k) * (logSum - z[k]);
                double d = likelihoodWeight * (p - (k == y ? 1 : 0)) + smoothWeight * (p * classWeightSum - ClassWeight(k));
                g[k] = (float)(w / denominator * d);
            }
            total += w * rowLoss;
        }
        return total / denominator;
    }

    private double ClassWeight(int k) => _classWeights is null ? 1.0 : _classWeights[k];
}
