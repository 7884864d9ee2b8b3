using MlNet.Rnn.Core.Forecasting;

namespace MlNet.Rnn.Core.Tests.Forecasting;

/// <summary>
/// What <see cref="RecurrentForecaster.Fit"/> refuses before it trains, in the words a user reads: no options (named), a series
/// that leaves too few observations for training once the calibration tail is held out (saying how many are held out,
/// how many are left, how many the window and horizon need, and what to change), and a non-finite exogenous value with
/// several features per observation (naming its feature and its observation, not its index among the floats).
/// </summary>
public sealed class ForecasterFitRefusalTests
{
    [Fact]
    public void NoOptions_AreRefusedByName()
    {
        var error = Assert.Throws<ArgumentNullException>(() => RecurrentForecaster.Fit(new float[40], null!));
        Assert.Equal("options", error.ParamName);
        Assert.Equal("Value cannot be null. (Parameter 'options')", error.Message);
    }

    [Theory]
    // 20 observations: half of them (10) held out leaves 10; windows of 10 and 5 future values need 15.
    [InlineData(20, 0.5, 10, 10)]
    // 16 observations: 1% rounds to none, but at least the horizon (5) is held out, which leaves 11.
    [InlineData(16, 0.01, 5, 11)]
    public void ASeriesTooShortOnceTheCalibrationTailIsHeldOut_IsRefused_SayingWhatIsHeldOutLeftAndNeeded(int length, double fraction, int held, int left)
    {
        var options = new ForecasterOptions { WindowSize = 10, Horizon = 5, CalibrationFraction = fraction };
        var error = Assert.Throws<ArgumentException>(() => RecurrentForecaster.Fit(new float[length], options));
        Assert.Equal("series", error.ParamName);
        Assert.Equal($"The series has {length} observations; CalibrationFraction {fraction} holds out the last {held} for the confidence bounds, " +
            $"leaving {left} for training where windowSize 10 + horizon 5 = 15 are needed. Give a longer series, a smaller window, " +
            "or CalibrationFraction 0. (Parameter 'series')", error.Message);
    }

    [Fact]
    public void ANonFiniteExogenousValue_IsRefusedNamingItsFeatureAndObservation()
    {
        // Two features per observation: float 7 is feature 1 of observation 3.
        var exogenous = new float[2 * 10];
        exogenous[7] = float.PositiveInfinity;
        var error = Assert.Throws<ArgumentException>(() =>
            RecurrentForecaster.Fit(new float[10], new ForecasterOptions { WindowSize = 3, ExogenousFeatures = 2 }, exogenous));
        Assert.Equal("exogenous", error.ParamName);
        Assert.Equal("Exogenous feature 1 of observation 3 is Infinity; every value must be finite. (Parameter 'exogenous')", error.Message);
    }
}
