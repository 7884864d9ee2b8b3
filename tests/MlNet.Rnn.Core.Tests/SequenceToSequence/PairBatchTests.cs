using MlNet.Rnn.Core.SequenceToSequence;
using Xunit;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// The teacher-forcing batch as a reused buffer: each fill lays out exactly its own pairs (time-major, padding 0 with
/// weight 0), whatever an earlier fill of the same object left behind, and a fill no larger than an earlier one
/// allocates nothing.
/// </summary>
public sealed class PairBatchTests
{
    private const int Start = 1, End = 2;

    [Fact]
    public void AFill_LaysOutItsPairsTimeMajor_WithStartAndEnd()
    {
        var batch = new PairBatch();
        batch.Fill([[5, 6, 7], [8]], [[9, 10], [11]], [0, 1], Start, End);

        Assert.Equal((2, 3, 3), (batch.BatchSize, batch.SourceSteps, batch.TargetSteps));
        Assert.Equal([5, 8, 6, 0, 7, 0], batch.SourceIds[..6]);
        Assert.Equal([3, 1], batch.SourceLengths[..2]);
        Assert.Equal([Start, Start, 9, 11, 10, 0], batch.DecoderInputs[..6]);
        Assert.Equal([9f, 11f, 10f, End, End, 0f], batch.Targets[..6]);
        Assert.Equal([1f, 1f, 1f, 1f, 1f, 0f], batch.Weights[..6]);
        Assert.Equal([3, 2], batch.TargetLengths[..2]);
    }

    [Fact]
    public void AFillAfterALongerOne_PadsWithZeros_NotWithTheEarlierPairs()
    {
        var batch = new PairBatch();
        batch.Fill([[5, 6, 7], [8, 9, 10]], [[11, 12], [13, 14]], [0, 1], Start, End);
        batch.Fill([[5, 6, 7], [8]], [[11, 12], [13]], [0, 1], Start, End);

        Assert.Equal((2, 3, 3), (batch.BatchSize, batch.SourceSteps, batch.TargetSteps));
        Assert.Equal([5, 8, 6, 0, 7, 0], batch.SourceIds[..6]);
        Assert.Equal([Start, Start, 11, 13, 12, 0], batch.DecoderInputs[..6]);
        Assert.Equal([11f, 13f, 12f, End, End, 0f], batch.Targets[..6]);
        Assert.Equal([1f, 1f, 1f, 1f, 1f, 0f], batch.Weights[..6]);
    }

    [Fact]
    public void ASecondFillFromLists_HoldsOnlyItsOwnPairs()
    {
        var batch = new PairBatch();
        int[][] sources = [[5], [6], [7]], targets = [[8], [9], [10]];
        batch.Fill(sources, targets, [0, 1], Start, End);
        batch.Fill(sources, targets, [2], Start, End);

        Assert.Equal((1, 1, 2), (batch.BatchSize, batch.SourceSteps, batch.TargetSteps));
        Assert.Equal(7, batch.SourceIds[0]);
        Assert.Equal([Start, 10], batch.DecoderInputs[..2]);
        Assert.Equal([10f, End], batch.Targets[..2]);
    }

    [Fact]
    public void AFillNoLargerThanAnEarlierOne_AllocatesNothing()
    {
        var batch = new PairBatch();
        int[][] sources = [[5, 6, 7], [8]], targets = [[9, 10], [11]];
        int[] inOrder = [0, 1], reversed = [1, 0]; // made here: on .NET 8 a span collection expression allocates each time
        batch.Fill(sources, targets, inOrder, Start, End);
        batch.Fill(sources, targets, inOrder, Start, End);

        long before = GC.GetAllocatedBytesForCurrentThread();
        batch.Fill(sources, targets, inOrder, Start, End);
        batch.Fill(sources, targets, reversed, Start, End);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
