using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Options;

/// <summary>Checks a training run step by step against <see cref="ReferenceStep"/>.</summary>
internal static class StepAssert
{
    /// <summary>Float weights after a few double-precision steps: well above float rounding, far below any option's effect.</summary>
    public const double Relative = 2e-5, Absolute = 2e-6;

    /// <summary>The least difference an option must make to the expected weights, so that a trainer ignoring it fails.</summary>
    public const double MinimumEffect = 1e-3;

    /// <summary>
    /// Asserts that the weights after every epoch of <paramref name="run"/> are one step of <see cref="ReferenceStep"/>
    /// (configured by <paramref name="options"/>, at rate <paramref name="rate"/>(k) for step k = 0, 1, …, by default the options' rate) from the weights after
    /// the epoch before, with the gradient at those weights; and, when <paramref name="without"/> is given, that the same steps
    /// under those options would differ by at least <see cref="MinimumEffect"/>.
    /// </summary>
    public static void Steps(TrainerHarness harness, TrainingRun run, TrainerOptions options, Func<int, double>? rate = null,
        TrainerOptions? without = null, Func<int, double>? rateWithout = null, string what = "")
    {
        rateWithout ??= rate ?? (_ => (without ?? options).LearningRate);
        rate ??= _ => options.LearningRate;
        var reference = new ReferenceStep(options);
        var other = without is null ? null : new ReferenceStep(without);
        double effect = 0;
        float[] from = harness.Initial;
        Assert.NotEmpty(run.AfterEpoch);
        for (int k = 0; k < run.AfterEpoch.Count; k++)
        {
            double[] gradient = harness.Gradient(from);
            double[] expected = reference.Next(from, gradient, rate(k));
            Tolerance.AssertClose(expected, run.AfterEpoch[k], Relative, Absolute, $"{what}: weights after step {k + 1}");
            if (other is not null) effect = Math.Max(effect, MaxDifference(expected, other.Next(from, gradient, rateWithout(k))));
            from = run.AfterEpoch[k];
        }
        if (other is not null)
            Assert.True(effect > MinimumEffect, $"{what}: the option changes the expected weights by only {effect:g3}; the test cannot tell it from its absence.");
    }

    public static double MaxDifference(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst;
    }

    public static double MaxDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        MaxDifference(NetworkFactory.Widen(a), NetworkFactory.Widen(b));
}
