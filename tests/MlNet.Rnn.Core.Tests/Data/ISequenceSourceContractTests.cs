using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// <see cref="SequenceSummary"/> (ISequenceSource.cs), what a source's parts hold for checks that do not read them.
/// <see cref="SequenceSummary.Empty"/> is the summary of an empty data set, numeric or of tokens (no step, token id −1, least
/// target +∞, greatest −∞, all targets whole), and merging it with a summary, on either side, gives that summary back.
/// <see cref="SequenceSummary.Merge"/> keeps the longer sequence, the larger token id, the smaller least target, the larger
/// greatest target, and whole targets only when both sets have them, whichever side holds each.
/// </summary>
public sealed class ISequenceSourceContractTests
{
    [Fact]
    public void Empty_IsTheSummaryOfNoExample_AndMergingItGivesTheOtherSummaryBack()
    {
        var empty = SequenceSummary.Empty;
        Assert.Equal(new SequenceSummary(0, -1, float.PositiveInfinity, float.NegativeInfinity, true), empty);
        Assert.Equal(empty, new SequenceDataset(2, 1).Summary());
        Assert.Equal(empty, new SequenceDataset(0, 1).Summary());

        var numeric = new SequenceSummary(3, -1, 0.5f, 2f, true);
        Assert.Equal(numeric, numeric.Merge(empty));
        Assert.Equal(numeric, empty.Merge(numeric));
        var tokens = new SequenceSummary(4, 0, 1f, 1f, false);
        Assert.Equal(tokens, tokens.Merge(empty));
        Assert.Equal(tokens, empty.Merge(tokens));
    }

    [Fact]
    public void Merge_KeepsTheLongerSequence_TheLargerId_TheWiderTargetRange_AndWholeTargetsOnlyWhenBothHaveThem()
    {
        var a = new SequenceSummary(3, 7, -1f, 2f, true);
        var b = new SequenceSummary(5, 4, 0.5f, 9f, false);
        var both = new SequenceSummary(5, 7, -1f, 9f, false);
        Assert.Equal(both, a.Merge(b));
        Assert.Equal(both, b.Merge(a));
        Assert.True(a.Merge(a with { Longest = 1 }).WholeTargets);
    }
}
