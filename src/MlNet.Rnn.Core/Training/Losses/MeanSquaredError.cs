namespace MlNet.Rnn.Core.Training;

/// <summary>
/// Mean squared error: <c>l_r = (1/width)·Σ_j (p_rj − t_rj)²</c>, <c>∂L/∂p_rj = w_r/Σw · 2(p_rj − t_rj)/width</c>.
/// </summary>
/// <remarks>
/// Each row's loss is the mean over its <c>width</c> values, so with all weights 1 the value equals
/// <c>torch.nn.functional.mse_loss(p, t, reduction='mean')</c> (the mean over every element) for any width.
/// </remarks>
public sealed class MeanSquaredError : ILoss
{
    /// <summary>One target per output.</summary>
    public int? TargetWidth(int width) => width;

    /// <inheritdoc />
    public double Compute(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, int rows, int width, ReadOnlySpan<float> weights, Span<float> gradient)
    {
        LossArguments.Check(prediction, target, rows, width, width, weights, gradient);
        double weightSum = 0;
        for (int r = 0; r < rows; r++) weightSum += LossArguments.Weight(weights, r);
        if (weightSum == 0) { gradient.Clear(); return 0; }
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            double w = LossArguments.Weight(weights, r), rowLoss = 0, scale = 2 * w / (weightSum * width);
            for (int j = r * width; j < (r + 1) * width; j++)
            {
                double error = (double)prediction[j] - target[j];
                rowLoss += error * error;
                gradient[j] = (float)(scale * error);
            }
            total += w * rowLoss / width;
        }
        return total / weightSum;
    }
}
