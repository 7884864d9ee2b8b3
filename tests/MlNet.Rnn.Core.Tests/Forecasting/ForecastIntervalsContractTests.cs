using MlNet.Rnn.Core.Forecasting;

namespace MlNet.Rnn.Core.Tests.Forecasting;

/// <summary>
/// <see cref="ForecastIntervals"/> at its edges: a horizon of 0, a confidence level outside (0, 1), and residuals that are
/// not whole rows are refused with their names; a quantile of nothing or outside [0, 1], and a normal quantile outside (0, 1),
/// too, each with its whole message; the normal quantile's upper tail (p above 1 − 0.02425) and its value on either side of the
/// tails' bounds, and at the bounds themselves the central formula's (its region is closed), so Φ⁻¹ there are exact negatives;
/// the empirical bounds of each horizon step from that step's residuals only.
/// </summary>
public sealed class ForecastIntervalsContractTests
{
    [Fact]
    public void Offsets_RefuseAHorizonOfZero_AConfidenceOutsideZeroOne_AndPartialRows()
    {
        float[] residuals = [1f, -1f];
        Assert.Equal("horizon", Assert.Throws<ArgumentOutOfRangeException>(() => ForecastIntervals.Offsets(residuals, 0, 0.9f, ForecastIntervalMethod.Gaussian)).ParamName);
        foreach (float level in new[] { 0f, 1f, -0.5f, float.NaN })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => ForecastIntervals.Offsets(residuals, 1, level, ForecastIntervalMethod.Gaussian));
            Assert.Equal("confidenceLevel", error.ParamName);
            Assert.StartsWith("The confidence level must be in (0, 1), e.g. 0.95.", error.Message);
        }
        foreach (float[] bad in new[] { Array.Empty<float>(), [1f], [1f, 2f, 3f] })
        {
            var error = Assert.Throws<ArgumentException>(() => ForecastIntervals.Offsets(bad, 2, 0.9f, ForecastIntervalMethod.Gaussian));
            Assert.Equal("residuals", error.ParamName);
            Assert.StartsWith($"residuals holds {bad.Length} values; at least one row of 2 (the horizon) is needed.", error.Message);
        }
    }

    [Fact]
    public void EmpiricalBounds_OfEachHorizonStep_ComeFromThatStepsResidualsOnly()
    {
        // Step 0: 0, 1, 2, 3, 4; step 1: 10, 20, 30, 40, 50, in another order. The 50% interval is the 25% and 75% quantiles.
        float[] residuals = [2, 30, 0, 50, 4, 10, 1, 40, 3, 20];
        var (lower, upper) = ForecastIntervals.Offsets(residuals, 2, 0.5f, ForecastIntervalMethod.EmpiricalQuantile);
        Assert.Equal([1f, 20f], lower);
        Assert.Equal([3f, 40f], upper);
    }

    [Fact]
    public void Quantile_RefusesNothingAndProbabilitiesOutsideZeroOne()
    {
        Assert.Equal("sorted", Assert.Throws<ArgumentException>(() => ForecastIntervals.Quantile([], 0.5)).ParamName);
        foreach (double p in new[] { -0.01, 1.01, double.NaN })
            Assert.Equal("p", Assert.Throws<ArgumentOutOfRangeException>(() => ForecastIntervals.Quantile([1.0, 2.0], p)).ParamName);
        Assert.Equal(5.0, ForecastIntervals.Quantile([5.0], 0.7));
        Assert.Equal(2.0, ForecastIntervals.Quantile([1.0, 2.0], 1));
    }

    [Theory]
    [InlineData(0.999, 3.090232306167813)]
    [InlineData(0.98, 2.053748910631822)]
    [InlineData(0.97, 1.8807936081512504)]
    [InlineData(0.02, -2.0537489106318225)]
    [InlineData(0.03, -1.8807936081512509)]
    [InlineData(0.02425, -1.9729610513118845)]
    [InlineData(0.97575, 1.9729610513118847)]
    public void NormalQuantile_InItsTailsAndAtTheirBounds_MatchesKnownValues(double p, double expected)
    {
        // Φ⁻¹ by Python's statistics.NormalDist().inv_cdf; Acklam's approximation is within 1.2e-9 relative.
        double actual = ForecastIntervals.NormalQuantile(p);
        Assert.True(Math.Abs(actual - expected) < 1e-8, $"Φ⁻¹({p}) = {actual:R}; expected {expected:R}.");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void NormalQuantile_RefusesProbabilitiesOutsideZeroOne(double p)
        => Assert.Equal("p", Assert.Throws<ArgumentOutOfRangeException>(() => ForecastIntervals.NormalQuantile(p)).ParamName);

    [Fact]
    public void TheQuantilesRefusals_SayWhatIsWrong_InFull()
    {
        Assert.Equal("No value to take a quantile of. (Parameter 'sorted')", Assert.Throws<ArgumentException>(() => ForecastIntervals.Quantile([], 0.5)).Message);
        Assert.Equal($"p must be in [0, 1]. (Parameter 'p'){Environment.NewLine}Actual value was 1.5.",
            Assert.Throws<ArgumentOutOfRangeException>(() => ForecastIntervals.Quantile([1.0, 2.0], 1.5)).Message);
        Assert.Equal($"p must be in (0, 1). (Parameter 'p'){Environment.NewLine}Actual value was 1.",
            Assert.Throws<ArgumentOutOfRangeException>(() => ForecastIntervals.NormalQuantile(1)).Message);
    }

    [Fact]
    public void NormalQuantile_AtBothBoundsOfTheCentralRegion_IsTheCentralFormulas_SoTheyAreExactNegatives()
    {
        // Acklam's central region is closed, [0.02425, 1 − 0.02425]. Its rational function is odd in s = p − 0.5, and s is
        // ±0.47575 exactly at the two bounds, so Φ⁻¹ there are exact negatives. The tail formulas meet it only to 4.4e-9:
        // at the bounds they give ±1.972961053530962, the central formula ±1.9729610490848712 (both by Python, from the
        // published coefficients); the true value is 1.9729610513118847.
        double lower = ForecastIntervals.NormalQuantile(0.02425), upper = ForecastIntervals.NormalQuantile(1 - 0.02425);
        Assert.Equal(-lower, upper);
        Assert.Equal(1.9729610490848712, upper, 1e-14);
    }
}
