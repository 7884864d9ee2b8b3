using MlNet.Rnn.Core.Forecasting;

namespace MlNet.Rnn.Core.Tests.Forecasting;

/// <summary>Bounds from residuals: the normal quantile, interpolated empirical quantiles and standardisation.</summary>
public sealed class ForecastIntervalsTests
{
    [Theory]
    [InlineData(0.975, 1.959963984540054)]
    [InlineData(0.95, 1.6448536269514722)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.001, -3.090232306167813)]
    public void NormalQuantile_MatchesKnownValues(double p, double expected)
    {
        double actual = ForecastIntervals.NormalQuantile(p);
        Assert.True(Math.Abs(actual - expected) < 1e-8, $"Φ⁻¹({p}) = {actual:R}; expected {expected:R} (off by {actual - expected:E2}).");
    }

    [Fact]
    public void Quantile_InterpolatesBetweenOrderStatistics_AsNumPy()
    {
        double[] sorted = [1, 2, 3, 4];
        Assert.Equal(1.75, ForecastIntervals.Quantile(sorted, 0.25), 12);
        Assert.Equal(1.0, ForecastIntervals.Quantile(sorted, 0), 12);
        Assert.Equal(4.0, ForecastIntervals.Quantile(sorted, 1), 12);
    }

    [Fact]
    public void Offsets_GaussianUsesRootMeanSquare_EmpiricalUsesQuantilesPerHorizonStep()
    {
        // Two horizon steps: step 0 residuals ±1 (RMS 1), step 1 residuals ±2 (RMS 2).
        float[] residuals = [1, 2, -1, -2, 1, 2, -1, -2];
        var (lower, upper) = ForecastIntervals.Offsets(residuals, 2, 0.95f, ForecastIntervalMethod.Gaussian);
        double z = ForecastIntervals.NormalQuantile(0.975);
        Assert.True(Math.Abs(upper[0] - z) < 1e-5 && Math.Abs(lower[0] + z) < 1e-5, $"Step 0 bounds {lower[0]}, {upper[0]}; expected ±{z:F5}.");
        Assert.True(Math.Abs(upper[1] - 2 * z) < 1e-5 && Math.Abs(lower[1] + 2 * z) < 1e-5, $"Step 1 bounds {lower[1]}, {upper[1]}; expected ±{2 * z:F5}.");

        float[] uniform = Enumerable.Range(0, 101).Select(i => (float)i).ToArray();
        var (low, high) = ForecastIntervals.Offsets(uniform, 1, 0.95f, ForecastIntervalMethod.EmpiricalQuantile);
        Assert.True(Math.Abs(low[0] - 2.5f) < 1e-4 && Math.Abs(high[0] - 97.5f) < 1e-4,
            $"Residuals 0..100 at 95%: bounds {low[0]}, {high[0]}; expected the 2.5% and 97.5% quantiles 2.5 and 97.5.");
    }

    [Fact]
    public void Standardization_FitsMeanAndPopulationDeviation_PerFeature()
    {
        // Feature 0: 1, 3 → μ 2, s 1; feature 1 constant 5 → s 1 (kept finite).
        var scaling = Standardization.Fit([1, 5, 3, 5], 2);
        Assert.Equal([2f, 5f], scaling.Mean);
        Assert.Equal([1f, 1f], scaling.Scale);
        Assert.Equal(1f, scaling.Apply(3, 0));
        Assert.Equal(3f, scaling.Invert(1, 0));
    }
}
