using MlNet.Rnn.Core.SequenceToSequence;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// The key pairs are bucketed by: the source length in the high 32 bits, the pair's total length in the low ones, so
/// sorting by it sorts by source length first, then target length.
/// </summary>
public sealed class SequencePairsBucketKeyTests
{
    [Fact]
    public void TheKeyIsTheSourceLengthThenTheTotalLength()
    {
        var pairs = SequencePairs.Create();
        SequencePairs.Append(pairs, [1], [3, 4, 5, 6, 7]);
        SequencePairs.Append(pairs, [1, 2, 3], [4]);
        SequencePairs.Append(pairs, [1, 2, 3], [4, 5]);
        SequencePairs.Append(pairs, [1], [3]);

        Assert.Equal(1L << 32 | 6, SequencePairs.BucketKey(pairs, 0));
        Assert.Equal(3L << 32 | 4, SequencePairs.BucketKey(pairs, 1));
        Assert.Equal(3L << 32 | 5, SequencePairs.BucketKey(pairs, 2));
        Assert.Equal(1L << 32 | 2, SequencePairs.BucketKey(pairs, 3));
        // Sorted by key: the short sources first (short target first), though the first pair is the longest in all.
        Assert.Equal([3, 0, 1, 2], Enumerable.Range(0, pairs.Count).OrderBy(i => SequencePairs.BucketKey(pairs, i)).ToArray());
    }
}
