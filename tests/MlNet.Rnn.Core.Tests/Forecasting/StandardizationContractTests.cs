using MlNet.Rnn.Core.Forecasting;

namespace MlNet.Rnn.Core.Tests.Forecasting;

/// <summary>
/// <see cref="Standardization"/> beyond its fit: means and scales are refused, saying which feature, unless finite with a
/// positive scale, and kept as copies; <c>Fit</c> refuses no rows or a partial row; a feature whose deviation is at most
/// 1e-12 gets scale 1 (1e-12 itself included, from <c>Fit</c> and from the accumulator alike); the accumulator over rows added
/// a span at a time gives <c>Fit</c>'s result (a partial row at the end of a span ignored), nothing when no row was added.
/// </summary>
public sealed class StandardizationContractTests
{
    [Fact]
    public void MeansAndScales_AreRefusedUnlessFiniteWithAPositiveScale_SayingWhichFeature()
    {
        Assert.Equal("mean", Assert.Throws<ArgumentNullException>(() => new Standardization(null!, [1f])).ParamName);
        Assert.Equal("scale", Assert.Throws<ArgumentNullException>(() => new Standardization([0f], null!)).ParamName);
        Assert.StartsWith("mean has 2 values and scale 1; give one of each per feature.",
            Assert.Throws<ArgumentException>(() => new Standardization([0f, 1f], [1f])).Message);
        Assert.StartsWith("mean has 0 values and scale 0; give one of each per feature.",
            Assert.Throws<ArgumentException>(() => new Standardization([], [])).Message);
        foreach (var (mean, scale) in new[] { (0f, 0f), (0f, -1f), (0f, float.NaN), (0f, float.PositiveInfinity), (float.NaN, 1f), (float.NegativeInfinity, 1f) })
        {
            var error = Assert.Throws<ArgumentException>(() => new Standardization([1f, mean], [1f, scale]));
            Assert.StartsWith($"Feature 1: mean {mean} and scale {scale}; the mean must be finite and the scale positive.", error.Message);
        }
    }

    [Fact]
    public void TheMeansAndScales_AreCopies()
    {
        float[] mean = [1f, 2f], scale = [3f, 4f];
        var scaling = new Standardization(mean, scale);
        mean[0] = 9f;
        scale[1] = 9f;
        Assert.Equal([1f, 2f], scaling.Mean);
        Assert.Equal([3f, 4f], scaling.Scale);
        Assert.Equal(2, scaling.Features);
        Assert.Equal((5f - 2f) / 4f, scaling.Apply(5f, 1));
        Assert.Equal(0.5f * 4f + 2f, scaling.Invert(0.5f, 1));
    }

    [Fact]
    public void Fit_RefusesNoFeaturesNoRowsAndPartialRows()
    {
        Assert.Equal("features", Assert.Throws<ArgumentOutOfRangeException>(() => Standardization.Fit([1f], 0)).ParamName);
        var empty = Assert.Throws<ArgumentException>(() => Standardization.Fit([], 2));
        Assert.Equal("rows", empty.ParamName);
        Assert.StartsWith("rows holds 0 values; at least one row of 2 features is needed, and whole rows only.", empty.Message);
        Assert.StartsWith("rows holds 1 values;", Assert.Throws<ArgumentException>(() => Standardization.Fit([1f], 2)).Message);
        Assert.StartsWith("rows holds 5 values;", Assert.Throws<ArgumentException>(() => Standardization.Fit([1f, 2f, 3f, 4f, 5f], 2)).Message);
    }

    [Fact]
    public void AFeatureOfDeviationAtMostOneInATrillion_GetsScaleOne_AndAnyLargerDeviationIsKept()
    {
        // Feature 0 varies by 2e-6 (s = 1e-6); feature 1 is constant.
        var scaling = Standardization.Fit([1f, 3f, 1.000002f, 3f], 2);
        Assert.Equal(1e-6f, scaling.Scale[0], 1e-7f);
        Assert.Equal(1f, scaling.Scale[1]);
        Assert.Equal(3f, scaling.Mean[1]);
    }

    [Fact]
    public void AFeatureOfDeviationExactlyOneInATrillion_GetsScaleOne_FromFitAndFromTheAccumulator()
    {
        // Four floats whose population deviation, in double, is 1e-12 exactly (found by search; the two-pass sum below and
        // Welford's update agree on it); twice them, 2e-12, is over the bound and kept.
        float[] rows = [0f, 2.3094012e-12f, 2.233706e-19f, -5.6e-27f];
        double sum = 0, squares = 0;
        foreach (float value in rows) sum += value;
        foreach (float value in rows) squares += (value - sum / 4) * (value - sum / 4);
        Assert.Equal(1e-12, Math.Sqrt(squares / 4));

        var accumulator = new Standardization.Accumulator(1);
        accumulator.Add(rows);
        Assert.Equal(1f, accumulator.Result()!.Scale[0]);
        Assert.Equal(1f, Standardization.Fit(rows, 1).Scale[0]);

        float[] twice = [.. rows.Select(value => 2 * value)];
        var over = new Standardization.Accumulator(1);
        over.Add(twice);
        Assert.Equal(2e-12f, over.Result()!.Scale[0]);
        Assert.Equal(2e-12f, Standardization.Fit(twice, 1).Scale[0]);
    }

    [Fact]
    public void TheAccumulator_GivesFitsResult_OverRowsAddedASpanAtATime()
    {
        var random = new Random(3);
        float[] rows = [.. Enumerable.Range(0, 3 * 40).Select(i => i % 3 == 2 ? 7f : (float)(random.NextDouble() * 10 - (i % 3) * 20))];
        var expected = Standardization.Fit(rows, 3);
        var accumulator = new Standardization.Accumulator(3);
        Assert.Null(accumulator.Result());
        accumulator.Add(rows.AsSpan(0, 9));
        accumulator.Add(rows.AsSpan(9, 1 * 3));
        accumulator.Add(rows.AsSpan(12));
        // A partial row at the end of a span is not a row.
        accumulator.Add([100f, 100f]);
        var result = accumulator.Result()!;
        Assert.Equal(3, result.Features);
        for (int f = 0; f < 3; f++)
        {
            Assert.Equal(expected.Mean[f], result.Mean[f], 1e-5f);
            Assert.Equal(expected.Scale[f], result.Scale[f], 1e-5f);
        }
        Assert.Equal(1f, result.Scale[2]);
        Assert.Equal(7f, result.Mean[2]);
    }
}
