namespace MlNet.Rnn.Core.Models;

/// <summary>
/// Scores one chunk of <see cref="SequenceModel.BackpropagateTruncated"/>: the head's outputs <paramref name="output"/>
/// <c>[rows, O]</c> against <paramref name="targets"/> <c>[rows, W]</c> with <paramref name="weights"/> <c>[rows]</c>; writes
/// dL/d(output) into <paramref name="gradient"/> <c>[rows, O]</c> and returns the chunk's share of the batch's loss.
/// </summary>
public delegate double ReadoutLoss(ReadOnlySpan<float> output, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, int rows,
    Span<float> gradient);
