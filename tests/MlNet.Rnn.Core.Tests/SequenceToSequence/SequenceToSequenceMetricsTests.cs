using MlNet.Rnn.Core.SequenceToSequence;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

public sealed class SequenceToSequenceMetricsTests
{
    [Theory]
    [InlineData(new int[0], new int[0], 0)]
    [InlineData(new[] { 1, 2, 3 }, new int[0], 3)]
    [InlineData(new[] { 1, 2, 3 }, new[] { 1, 2, 3 }, 0)]
    [InlineData(new[] { 1, 2, 3 }, new[] { 1, 3 }, 1)]
    [InlineData(new[] { 1, 2, 3, 4 }, new[] { 2, 1, 3, 5 }, 3)]
    [InlineData(new[] { 7, 8, 9 }, new[] { 9, 8, 7 }, 2)]
    public void EditDistanceIsLevenshtein(int[] a, int[] b, int expected)
    {
        Assert.Equal(expected, SequenceToSequenceMetrics.EditDistance(a, b));
        Assert.Equal(expected, SequenceToSequenceMetrics.EditDistance(b, a));
    }

    [Fact]
    public void ExactMatchTokenAccuracyAndMeanEditDistance()
    {
        var metrics = SequenceToSequenceMetrics.Compute([[1, 2, 3], [4, 5], [6]], [[1, 2, 3], [4], [7, 8]]);
        Assert.Equal(3, metrics.Count);
        Assert.Equal(1.0 / 3, metrics.ExactMatch, 12);
        Assert.Equal(4.0 / 7, metrics.TokenAccuracy, 12);      // 3 + 1 + 0 correct over 3 + 2 + 2 positions
        Assert.Equal(3.0 / 3, metrics.MeanEditDistance, 12);   // 0 + 1 + 2
    }
}
