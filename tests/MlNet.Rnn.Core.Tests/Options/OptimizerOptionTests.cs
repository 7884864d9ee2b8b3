using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Options;

/// <summary>
/// Every optimizer option of the three trainers changes the weights exactly as its equation says: LearningRate,
/// Optimizer, Momentum, Nesterov, WeightDecay (L2 for SGD, Adam and RMSProp; decoupled for AdamW), Beta1, Beta2,
/// GradientClipNorm and GradientClipValue. Each test trains a tiny model through the trainer's public API for two steps,
/// recomputes each step by hand (<see cref="ReferenceStep"/>, from the gradient at the weights the step started from) and
/// also checks that the option makes a difference far larger than the tolerance, so a trainer ignoring it fails.
/// </summary>
public sealed class OptimizerOptionTests
{
    public static TheoryData<string> All() => TrainerHarness.All();

    public static TheoryData<string> WithTrainerOptions() => TrainerHarness.WithTrainerOptions();

    public static TheoryData<string, OptimizerKind> EveryOptimizer()
    {
        var data = new TheoryData<string, OptimizerKind>();
        foreach (string trainer in new[] { TrainerHarness.Sequence, TrainerHarness.Translation, TrainerHarness.Language })
            foreach (var optimizer in Enum.GetValues<OptimizerKind>()) data.Add(trainer, optimizer);
        return data;
    }

    public static TheoryData<string, OptimizerKind> AdamFamily()
    {
        var data = new TheoryData<string, OptimizerKind>();
        foreach (string trainer in new[] { TrainerHarness.Sequence, TrainerHarness.Translation, TrainerHarness.Language })
            foreach (var optimizer in new[] { OptimizerKind.Adam, OptimizerKind.AdamW }) data.Add(trainer, optimizer);
        return data;
    }

    [Fact]
    public void PlainSgdStep_IsTheRateTimesTheHandDifferentiatedGradient()
    {
        // The other tests measure the gradient through the trainer; here the sequence trainer's step is checked against a
        // gradient differentiated by hand, at two rates.
        var harness = new SequenceHarness();
        foreach (float rate in new[] { 0.5f, 0.125f })
        {
            var run = harness.Train(TrainerHarness.Sgd(rate), harness.Initial);
            double[] gradient = harness.Gradient(harness.Initial);
            double[] expected = NetworkFactory.Widen(harness.Initial);
            for (int i = 0; i < expected.Length; i++) expected[i] -= rate * gradient[i];
            Tolerance.AssertClose(expected, run.Final, StepAssert.Relative, StepAssert.Absolute, $"SGD at rate {rate}");
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void LearningRate_ScalesThePlainSgdStep(string trainer)
    {
        var harness = TrainerHarness.Create(trainer);
        var options = TrainerHarness.Sgd(harness.SgdRate) with { Epochs = 2 };
        StepAssert.Steps(harness, harness.Train(options, harness.Initial), options,
            without: options with { LearningRate = harness.SgdRate / 4 }, what: $"{trainer}, LearningRate");
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Momentum_TwoSgdSteps_FollowTheVelocityEquation(string trainer)
    {
        // b₁ = g₀, θ₁ = θ₀ − lr·b₁; b₂ = μ·b₁ + g₁, θ₂ = θ₁ − lr·b₂: the second step remembers the first.
        var harness = TrainerHarness.Create(trainer);
        var options = TrainerHarness.Sgd(harness.SgdRate) with { Momentum = 0.9f, Epochs = 2 };
        StepAssert.Steps(harness, harness.Train(options, harness.Initial), options, without: options with { Momentum = 0 },
            what: $"{trainer}, SGD momentum");
    }

    [Theory]
    [MemberData(nameof(WithTrainerOptions))]
    public void Nesterov_TwoSgdSteps_FollowNesterovsEquation(string trainer)
    {
        // b as for momentum, but the step is lr·(g + μ·b): θ₁ = θ₀ − lr·(1 + μ)·g₀, θ₂ = θ₁ − lr·(g₁ + μ·(μ·g₀ + g₁)).
        var harness = TrainerHarness.Create(trainer);
        var options = TrainerHarness.Sgd(harness.SgdRate / 2) with { Momentum = 0.9f, Nesterov = true, Epochs = 2 };
        StepAssert.Steps(harness, harness.Train(options, harness.Initial), options, without: options with { Nesterov = false },
            what: $"{trainer}, Nesterov");
    }

    [Theory]
    [MemberData(nameof(EveryOptimizer))]
    public void Optimizer_TwoSteps_FollowItsEquations_AndWeightDecayTakesItsDocumentedForm(string trainer, OptimizerKind optimizer)
    {
        // WeightDecay λ: added to the gradient as λθ for SGD, Adam and RMSProp; θ·(1 − lr·λ) before the step for AdamW.
        var harness = TrainerHarness.Create(trainer);
        float rate = optimizer == OptimizerKind.Sgd ? harness.SgdRate : 0.05f;
        var plain = TrainerHarness.Sgd(rate) with { Optimizer = optimizer, Epochs = 2 };
        StepAssert.Steps(harness, harness.Train(plain, harness.Initial), plain, what: $"{trainer}, {optimizer}");

        var decayed = plain with { WeightDecay = 0.5f };
        StepAssert.Steps(harness, harness.Train(decayed, harness.Initial), decayed, without: plain, what: $"{trainer}, {optimizer} with weight decay");
        if (optimizer is OptimizerKind.Adam or OptimizerKind.AdamW)
        {
            // L2 inside Adam and decoupled decay in AdamW are different updates; the test tells them apart.
            var otherForm = decayed with { Optimizer = optimizer == OptimizerKind.Adam ? OptimizerKind.AdamW : OptimizerKind.Adam };
            StepAssert.Steps(harness, harness.Train(decayed, harness.Initial), decayed, without: otherForm,
                what: $"{trainer}, {optimizer} weight decay vs the other Adam's");
        }
    }

    [Theory]
    [MemberData(nameof(AdamFamily))]
    public void Betas_ChangeTheSecondAdamStep_AsTheMomentEquationsSay(string trainer, OptimizerKind optimizer)
    {
        // Step 1 of Adam is ±lr whatever β1 and β2 are; step 2 weighs g₀ against g₁ by them.
        var harness = TrainerHarness.Create(trainer);
        var defaults = TrainerHarness.Sgd(0.05f) with { Optimizer = optimizer, Epochs = 2, WeightDecay = optimizer == OptimizerKind.AdamW ? 0.1f : 0 };
        var beta1 = defaults with { Beta1 = 0.3f };
        StepAssert.Steps(harness, harness.Train(beta1, harness.Initial), beta1, without: defaults, what: $"{trainer}, {optimizer} β1");
        var beta2 = defaults with { Beta2 = 0.5f };
        StepAssert.Steps(harness, harness.Train(beta2, harness.Initial), beta2, without: defaults, what: $"{trainer}, {optimizer} β2");
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Momentum_TwoRmsPropSteps_FollowTheBufferEquation(string trainer)
    {
        var harness = TrainerHarness.Create(trainer);
        var options = TrainerHarness.Sgd(0.01f) with { Optimizer = OptimizerKind.RmsProp, Momentum = 0.8f, Epochs = 2 };
        StepAssert.Steps(harness, harness.Train(options, harness.Initial), options, without: options with { Momentum = 0 },
            what: $"{trainer}, RMSProp momentum");
    }

    [Theory]
    [MemberData(nameof(WithTrainerOptions))]
    public void GradientClipValue_BoundsEveryGradientElementEnteringTheOptimizer(string trainer)
    {
        var harness = TrainerHarness.Create(trainer);
        double[] gradient = harness.Gradient(harness.Initial);
        // The median magnitude: half the elements are clipped.
        float limit = (float)gradient.Select(Math.Abs).Where(g => g > 0).Order().ElementAt(gradient.Count(g => g != 0) / 2);
        var options = TrainerHarness.Sgd(harness.SgdRate) with { GradientClipValue = limit };
        var run = harness.Train(options, harness.Initial);
        StepAssert.Steps(harness, run, options, without: options with { GradientClipValue = 0 }, what: $"{trainer}, GradientClipValue");
        for (int i = 0; i < gradient.Length; i++)
        {
            double applied = ((double)harness.Initial[i] - run.Final[i]) / harness.SgdRate;
            Assert.True(Math.Abs(applied) <= limit * (1 + 1e-5) + 1e-6, $"{trainer}: element {i} moved by {applied}·lr; the limit is {limit}.");
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void GradientClipNorm_ScalesTheGlobalNormDownToTheLimit_AndLeavesSmallerGradientsAlone(string trainer)
    {
        var harness = TrainerHarness.Create(trainer);
        double[] gradient = harness.Gradient(harness.Initial);
        double norm = Math.Sqrt(gradient.Sum(g => g * g));
        var clipped = TrainerHarness.Sgd(harness.SgdRate) with { GradientClipNorm = (float)(norm / 3) };
        var run = harness.Train(clipped, harness.Initial);
        StepAssert.Steps(harness, run, clipped, without: clipped with { GradientClipNorm = 0 }, what: $"{trainer}, GradientClipNorm");
        double applied = Math.Sqrt(harness.Initial.Zip(run.Final, (before, after) => Math.Pow(((double)before - after) / harness.SgdRate, 2)).Sum());
        Assert.Equal(norm / 3, applied, norm * 1e-4);
        // The epoch report gives the norm before clipping.
        Assert.Equal(norm, run.History.Epochs[0].GradientNorm, norm * 1e-4);

        var loose = TrainerHarness.Sgd(harness.SgdRate) with { GradientClipNorm = (float)(norm * 2) };
        Assert.Equal(harness.Train(TrainerHarness.Sgd(harness.SgdRate), harness.Initial).Final, harness.Train(loose, harness.Initial).Final);
    }
}
