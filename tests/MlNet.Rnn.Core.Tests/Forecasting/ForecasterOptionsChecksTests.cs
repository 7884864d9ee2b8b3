using MlNet.Rnn.Core.Forecasting;

namespace MlNet.Rnn.Core.Tests.Forecasting;

/// <summary>
/// <see cref="ForecasterOptions.Validate"/> at the edges of each range: a window of 0 or fewer steps, fewer than 0 exogenous
/// features, a confidence level outside (0, 1) (0 and 1 themselves, beyond, NaN), an interval method that is no member of its
/// enum and a calibration fraction outside [0, 1) (1 itself, below 0, NaN) are each refused as an
/// <see cref="ArgumentOutOfRangeException"/> naming the option and its value, with the whole message a user reads; the values
/// just inside every range pass; and options without <see cref="ForecasterOptions.Training"/> are refused naming it.
/// </summary>
public sealed class ForecasterOptionsChecksTests
{
    private static readonly ForecasterOptions Valid = new();

    /// <summary>The options refuse <paramref name="options"/> naming <paramref name="name"/>, its value and the whole message.</summary>
    private static void AssertRefused(ForecasterOptions options, string name, object value, string message)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(name, error.ParamName);
        Assert.Equal(value, error.ActualValue);
        Assert.Equal(message + Environment.NewLine + $"Actual value was {value}.", error.Message);
    }

    [Fact]
    public void AWindowOfZeroOrFewerSteps_IsRefused_AndOneStepPasses()
    {
        AssertRefused(Valid with { WindowSize = 0 }, "WindowSize", 0,
            "WindowSize is 0; it must be at least 1 (past observations per forecast). (Parameter 'WindowSize')");
        AssertRefused(Valid with { WindowSize = -3 }, "WindowSize", -3,
            "WindowSize is -3; it must be at least 1 (past observations per forecast). (Parameter 'WindowSize')");
        (Valid with { WindowSize = 1 }).Validate();
    }

    [Fact]
    public void FewerThanZeroExogenousFeatures_AreRefused_AndZeroPasses()
    {
        AssertRefused(Valid with { ExogenousFeatures = -1 }, "ExogenousFeatures", -1,
            "ExogenousFeatures is -1; it must be 0 or more. (Parameter 'ExogenousFeatures')");
        (Valid with { ExogenousFeatures = 0 }).Validate();
    }

    [Fact]
    public void AConfidenceLevelOfZeroOrOneOrBeyondOrNaN_IsRefused_AndTheLevelsJustInsidePass()
    {
        foreach (float level in new[] { 0f, 1f, 2f, -0.5f, float.NaN })
            AssertRefused(Valid with { ConfidenceLevel = level }, "ConfidenceLevel", level,
                $"ConfidenceLevel is {level}; it must be in (0, 1), e.g. 0.95. (Parameter 'ConfidenceLevel')");
        (Valid with { ConfidenceLevel = float.Epsilon }).Validate();
        (Valid with { ConfidenceLevel = MathF.BitDecrement(1f) }).Validate();
    }

    [Fact]
    public void AnIntervalMethodOutsideTheEnum_IsRefused()
    {
        AssertRefused(Valid with { IntervalMethod = (ForecastIntervalMethod)2 }, "IntervalMethod", (ForecastIntervalMethod)2,
            "IntervalMethod must be Gaussian or EmpiricalQuantile. (Parameter 'IntervalMethod')");
        (Valid with { IntervalMethod = ForecastIntervalMethod.EmpiricalQuantile }).Validate();
    }

    [Fact]
    public void ACalibrationFractionOfOneOrBeyondOrBelowZeroOrNaN_IsRefused_AndZeroAndJustBelowOnePass()
    {
        foreach (double fraction in new[] { 1.0, 1.5, -0.1, double.NaN })
            AssertRefused(Valid with { CalibrationFraction = fraction }, "CalibrationFraction", fraction,
                $"CalibrationFraction is {fraction}; it must be in [0, 1). (Parameter 'CalibrationFraction')");
        (Valid with { CalibrationFraction = 0 }).Validate();
        (Valid with { CalibrationFraction = Math.BitDecrement(1.0) }).Validate();
    }

    [Fact]
    public void OptionsWithoutTrainingOptions_AreRefusedNamingThem()
    {
        var error = Assert.Throws<ArgumentNullException>((Valid with { Training = null! }).Validate);
        Assert.Equal("Training", error.ParamName);
        Assert.Equal("Value cannot be null. (Parameter 'Training')", error.Message);
    }
}
