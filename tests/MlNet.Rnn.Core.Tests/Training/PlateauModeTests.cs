using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Training;

/// <summary>
/// Proves <see cref="ReduceOnPlateau"/>'s improvement rule for every (mode, threshold mode) pair at, just past and just
/// short of PyTorch's threshold (<c>ReduceLROnPlateau.is_better</c>: min/rel <c>a &lt; best·(1 − t)</c>, min/abs
/// <c>a &lt; best − t</c>, max/rel <c>a &gt; best·(1 + t)</c>, max/abs <c>a &gt; best + t</c>), and the minimum-rate
/// floor with PyTorch's rule that a reduction smaller than 1e-8 is not applied.
/// </summary>
public sealed class PlateauModeTests
{
    /// <summary>With patience 0 a metric that is not an improvement halves the rate at once; an improvement keeps it.</summary>
    private static bool Improves(PlateauMode mode, PlateauThreshold thresholdMode, double best, double metric)
    {
        var plateau = new ReduceOnPlateau(mode, factor: 0.5f, patience: 0, threshold: 0.5, thresholdMode: thresholdMode) { Best = best };
        float rate = plateau.Update(metric, 1f);
        Assert.True(rate is 1f or 0.5f, $"rate {rate}");
        return rate == 1f;
    }

    [Theory]
    [InlineData(PlateauMode.Minimize, PlateauThreshold.Relative, 5.0)]    // 10·(1 − 0.5)
    [InlineData(PlateauMode.Minimize, PlateauThreshold.Absolute, 9.5)]    // 10 − 0.5
    [InlineData(PlateauMode.Maximize, PlateauThreshold.Relative, 15.0)]   // 10·(1 + 0.5)
    [InlineData(PlateauMode.Maximize, PlateauThreshold.Absolute, 10.5)]   // 10 + 0.5
    public void Improvement_IsStrictlyPastTheThreshold(PlateauMode mode, PlateauThreshold thresholdMode, double boundary)
    {
        double better = mode == PlateauMode.Minimize ? -0.01 : 0.01;
        Assert.True(Improves(mode, thresholdMode, 10, boundary + better));
        Assert.False(Improves(mode, thresholdMode, 10, boundary));
        Assert.False(Improves(mode, thresholdMode, 10, boundary - better));
        Assert.False(Improves(mode, thresholdMode, 10, 10));
    }

    [Theory]
    [InlineData(PlateauMode.Minimize, PlateauThreshold.Relative)]
    [InlineData(PlateauMode.Minimize, PlateauThreshold.Absolute)]
    [InlineData(PlateauMode.Maximize, PlateauThreshold.Relative)]
    [InlineData(PlateauMode.Maximize, PlateauThreshold.Absolute)]
    public void FirstFiniteMetric_AlwaysImproves_AndBecomesBest(PlateauMode mode, PlateauThreshold thresholdMode)
    {
        var plateau = new ReduceOnPlateau(mode, factor: 0.5f, patience: 0, threshold: 0.5, thresholdMode: thresholdMode);
        Assert.Equal(1f, plateau.Update(10, 1f));
        Assert.Equal(10, plateau.Best);
    }

    [Fact]
    public void Reduction_StopsAtTheMinimumRate()
    {
        var plateau = new ReduceOnPlateau(factor: 0.1f, patience: 0, minimumRate: 0.5f) { Best = 1 };
        Assert.Equal(0.5f, plateau.Update(2, 1f));   // max(1·0.1, 0.5)
        Assert.Equal(0.5f, plateau.Update(2, 0.5f));
    }

    [Fact]
    public void Reduction_OfAtMostEpsilon_IsNotApplied()
    {
        // PyTorch: the new rate is taken only when old − new > eps = 1e-8.
        var plateau = new ReduceOnPlateau(factor: 0.5f, patience: 0) { Best = 1 };
        Assert.Equal(1.5e-8f, plateau.Update(2, 1.5e-8f));   // 1.5e-8 − 0.75e-8 < 1e-8: kept
        Assert.Equal(1e-7f / 2, plateau.Update(2, 1e-7f));    // 1e-7 − 0.5e-7 > 1e-8: halved
    }
}
