using MlNet.Rnn.Core.SequenceToSequence;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// The two rules of beam search that random models cannot reach: the order of candidates with equal scores (exact ties),
/// and the length normalization of a finished hypothesis (which counts the end token only when it ended).
/// </summary>
public sealed class SequenceDecodingContractTests
{
    [Fact]
    public void CandidatesOfEqualScoreAreOrderedByBeamThenToken()
    {
        // More than 16 candidates, where List.Sort stops being an insertion sort and equal elements may move.
        var candidates = new List<(double Score, int Beam, int Token)>();
        for (int beam = 3; beam >= 0; beam--)
            for (int token = 5; token >= 0; token--)
                candidates.Add((token % 2 == 0 ? -1.0 : -2.0, beam, token));
        candidates.Sort(SequenceDecoding.CandidateOrder);

        var expected = candidates.OrderByDescending(c => c.Score).ThenBy(c => c.Beam).ThenBy(c => c.Token).ToList();
        Assert.Equal(expected, candidates);
        Assert.Equal((-1.0, 0, 0), candidates[0]);
        Assert.Equal((-1.0, 0, 2), candidates[1]);
        Assert.Equal((-1.0, 1, 0), candidates[3]);
        Assert.Equal((-2.0, 3, 5), candidates[^1]);
    }

    [Theory]
    [InlineData(true, 3)]
    [InlineData(false, 2)]
    public void LengthNormalizationCountsTheEndTokenOnlyWhenItEnded(bool ended, int emitted)
    {
        var translation = new Translation([5, 6], -3, ended);
        Assert.Equal(-3.0 / emitted, SequenceDecoding.Normalized(translation, 1), 12);
        Assert.Equal(-3.0 / Math.Pow(emitted, 0.5), SequenceDecoding.Normalized(translation, 0.5f), 12);
        Assert.Equal(-3.0, SequenceDecoding.Normalized(translation, 0));
    }

    [Fact]
    public void AnEmptyTranslationCountsAtLeastOneToken()
    {
        Assert.Equal(-2.0, SequenceDecoding.Normalized(new Translation([], -2, Ended: true), 1));
        Assert.Equal(-2.0, SequenceDecoding.Normalized(new Translation([], -2, Ended: false), 1));
    }
}
