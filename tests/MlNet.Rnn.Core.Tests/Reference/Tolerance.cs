using Xunit.Sdk;

namespace MlNet.Rnn.Core.Tests.Reference;

/// <summary>Element-wise comparison that fails with the worst difference, its index and the tolerance.</summary>
internal static class Tolerance
{
    /// <summary>Asserts |actual − expected| ≤ absolute + relative·|expected| for every element.</summary>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double relative, double absolute, string what)
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{what}: expected {expected.Length} values, got {actual.Length}.");
        double worstExcess = double.NegativeInfinity, worstDifference = 0;
        int worstIndex = -1, firstBad = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double difference = Math.Abs(actual[i] - expected[i]);
            double allowed = absolute + relative * Math.Abs(expected[i]);
            if (double.IsNaN(actual[i]) || difference > allowed)
            {
                if (firstBad < 0) firstBad = i;
            }
            if (double.IsNaN(actual[i]) || difference - allowed > worstExcess)
            {
                worstExcess = double.IsNaN(actual[i]) ? double.PositiveInfinity : difference - allowed;
                worstDifference = difference;
                worstIndex = i;
            }
        }
        if (firstBad >= 0)
            throw new XunitException(
                $"{what}: {CountBad(expected, actual, relative, absolute)} of {expected.Length} values differ beyond {absolute:g2} + {relative:g2}·|expected|. " +
                $"First bad index {firstBad} (expected {expected[firstBad]:g9}, got {actual[firstBad]:g9}); " +
                $"worst index {worstIndex}: expected {expected[worstIndex]:g9}, got {actual[worstIndex]:g9}, difference {worstDifference:g3}.");
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative, double absolute, string what)
    {
        var widened = new double[expected.Length];
        for (int i = 0; i < expected.Length; i++) widened[i] = expected[i];
        AssertClose(widened, actual, relative, absolute, what);
    }

    private static int CountBad(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double relative, double absolute)
    {
        int count = 0;
        for (int i = 0; i < expected.Length; i++)
            if (double.IsNaN(actual[i]) || Math.Abs(actual[i] - expected[i]) > absolute + relative * Math.Abs(expected[i])) count++;
        return count;
    }
}
