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

    [Fact]
    public void NoRowsNoTokensAndMissingSequences_HaveTheirDocumentedMetrics()
    {
        Assert.Equal(new SequenceToSequenceMetrics(0, 0, 1, 0), SequenceToSequenceMetrics.Compute([], []));
        Assert.Equal(new SequenceToSequenceMetrics(2, 1, 1, 0), SequenceToSequenceMetrics.Compute([[], []], [[], []]));
        // A null sequence reads as an empty one.
        var metrics = SequenceToSequenceMetrics.Compute([null!, [1]], [[], null!]);
        Assert.Equal(new SequenceToSequenceMetrics(2, 0.5, 0, 0.5), metrics);

        var accumulator = new SequenceToSequenceMetrics.Accumulator();
        accumulator.Add([4, 5, 6], [4, 6]);
        accumulator.Add([1], [1]);
        Assert.Equal(new SequenceToSequenceMetrics(2, 0.5, 2.0 / 4, 0.5), accumulator.Metrics);
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        Assert.Equal("expected", Assert.Throws<ArgumentNullException>(() => SequenceToSequenceMetrics.Compute(null!, [])).ParamName);
        Assert.Equal("predicted", Assert.Throws<ArgumentNullException>(() => SequenceToSequenceMetrics.Compute([], null!)).ParamName);
        var error = Assert.Throws<ArgumentException>(() => SequenceToSequenceMetrics.Compute([[1], [2]], [[1]]));
        Assert.Equal("predicted", error.ParamName);
        Assert.StartsWith("expected holds 2 sequences but predicted holds 1; give one prediction per row.", error.Message);
    }

    [Theory]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(300)]
    public void EditDistanceOfLongSequences(int length)
    {
        int[] a = [.. Enumerable.Range(0, length)], b = [.. a];
        b[length / 2] = -1;
        Assert.Equal(1, SequenceToSequenceMetrics.EditDistance(a, b));
        Assert.Equal(length, SequenceToSequenceMetrics.EditDistance(a, []));
        Assert.Equal(length, SequenceToSequenceMetrics.EditDistance([], b));
        Assert.Equal(2, SequenceToSequenceMetrics.EditDistance(a[1..], a[..^1]));
    }
}
