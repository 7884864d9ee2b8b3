namespace MlNet.Rnn.Core.Training;

/// <summary>
/// A loss over a batch of rows: <c>L = Σ_r w_r·l_r / Σ_r w_r</c> (0 when <c>Σ w = 0</c>), with <c>l_r</c> the loss of row r,
/// and its gradient <c>∂L/∂prediction</c>.
/// </summary>
/// <remarks>
/// Row weights serve both as per-example weights and as the mask of per-step sequence outputs: a padded step has weight 0,
/// contributes nothing to the value and gets a zero gradient. With every weight 1 the value is PyTorch's <c>reduction='mean'</c>.
/// </remarks>
public interface ILoss
{
    /// <summary>Computes the loss and writes its gradient.</summary>
    /// <param name="prediction">Model outputs <c>[rows, width]</c>, row-major.</param>
    /// <param name="target">Targets <c>[rows, width]</c> (class indices <c>[rows]</c> for <see cref="SoftmaxCrossEntropy"/>).</param>
    /// <param name="rows">Number of rows (examples or sequence steps).</param>
    /// <param name="width">Values per row.</param>
    /// <param name="weights">Row weights <c>[rows]</c>, non-negative; empty means every weight is 1.</param>
    /// <param name="gradient">Receives <c>∂L/∂prediction</c> <c>[rows, width]</c> (overwritten, not accumulated).</param>
    /// <returns>The weighted mean loss.</returns>
    double Compute(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, int rows, int width, ReadOnlySpan<float> weights, Span<float> gradient);

    /// <summary>
    /// The values per row of the target this loss reads for outputs of <paramref name="width"/> (1 for class indices), which a
    /// trainer checks its data against before training; null (the default) when the loss reads whatever it is given.
    /// </summary>
    int? TargetWidth(int width) => null;
}
