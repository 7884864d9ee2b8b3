using System.Globalization;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Options;

/// <summary>
/// The learning-rate options of the three trainers give the documented rate at every step, and the step uses it: Schedule
/// (StepDecay with StepDecayEpochs and StepDecayGamma; Cosine with WarmupSteps and MinimumLearningRate), ReduceOnPlateau with
/// PlateauFactor, PlateauPatience and the MinimumLearningRate floor; EarlyStoppingPatience stops after that many epochs
/// without a better validation loss and restores the best weights, and MinimumSteps holds it back until that many steps. One
/// SGD step per epoch, so each epoch's report gives the rate of its step, and the weights after it are checked against that
/// step recomputed by hand.
/// </summary>
public sealed class ScheduleOptionTests
{
    public static TheoryData<string> All() => TrainerHarness.All();

    public static TheoryData<string> WithTrainerOptions() => TrainerHarness.WithTrainerOptions();

    private static void AssertRates(TrainingRun run, Func<int, double> rate, string what)
    {
        for (int k = 0; k < run.History.Epochs.Count; k++)
        {
            float reported = run.History.Epochs[k].LearningRate;
            Assert.True(Math.Abs(reported - rate(k)) <= 1e-6 * rate(k), $"{what}: epoch {k + 1} reports rate {reported}; the schedule gives {rate(k)}.");
        }
    }

    [Theory]
    [MemberData(nameof(WithTrainerOptions))]
    public void StepDecay_MultipliesTheRateByGammaEveryStepDecayEpochs(string trainer)
    {
        var harness = TrainerHarness.Create(trainer);
        float lr = harness.SgdRate / 2;
        var options = TrainerHarness.Sgd(lr) with { Epochs = 6, Schedule = ScheduleKind.StepDecay, StepDecayEpochs = 2, StepDecayGamma = 0.25f };
        double Rate(int step) => lr * Math.Pow(0.25, step / 2);
        var run = harness.Train(options, harness.Initial);
        Assert.Equal(6, run.AfterEpoch.Count);
        AssertRates(run, Rate, $"{trainer}, step decay");
        StepAssert.Steps(harness, run, options, Rate, without: options with { Schedule = ScheduleKind.Constant }, rateWithout: _ => lr,
            what: $"{trainer}, step decay");
    }

    [Theory]
    [MemberData(nameof(WithTrainerOptions))]
    public void Cosine_WarmsUpLinearly_ThenFallsAlongTheCosineTowardsTheMinimum(string trainer)
    {
        // N = 6 steps, W = 2: lr·(s + 1)/(W + 1) for s < W, then min + (lr − min)·(1 + cos(π(s − W)/(N − W)))/2.
        var harness = TrainerHarness.Create(trainer);
        float lr = harness.SgdRate / 2, minimum = lr / 10;
        var options = TrainerHarness.Sgd(lr) with { Epochs = 6, Schedule = ScheduleKind.Cosine, WarmupSteps = 2, MinimumLearningRate = minimum };
        double Rate(int s) => s < 2 ? (double)lr * (s + 1) / 3 : minimum + ((double)lr - minimum) * (1 + Math.Cos(Math.PI * (s - 2) / 4)) / 2;
        var run = harness.Train(options, harness.Initial);
        AssertRates(run, Rate, $"{trainer}, cosine with warm-up");
        StepAssert.Steps(harness, run, options, Rate, without: options with { Schedule = ScheduleKind.Constant }, rateWithout: _ => lr,
            what: $"{trainer}, cosine with warm-up");
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Cosine_WithoutWarmup_FallsFromTheRateTowardsTheMinimum(string trainer)
    {
        // N = 5 steps: min + (lr − min)·(1 + cos(π·s/N))/2 (the language model's progress s/N is its share of chunks done).
        var harness = TrainerHarness.Create(trainer);
        float lr = harness.SgdRate / 2, minimum = lr / 10;
        var options = TrainerHarness.Sgd(lr) with { Epochs = 5, Schedule = ScheduleKind.Cosine, MinimumLearningRate = minimum };
        double Rate(int s) => minimum + ((double)lr - minimum) * (1 + Math.Cos(Math.PI * s / 5)) / 2;
        var run = harness.Train(options, harness.Initial);
        AssertRates(run, Rate, $"{trainer}, cosine");
        StepAssert.Steps(harness, run, options, Rate, without: options with { MinimumLearningRate = 0 },
            rateWithout: s => (double)lr * (1 + Math.Cos(Math.PI * s / 5)) / 2, what: $"{trainer}, cosine");
    }

    /// <summary>
    /// The rate of every epoch under torch's ReduceLROnPlateau(mode='min', factor, patience, threshold=1e-4 relative,
    /// cooldown=0, min_lr) fed the validation loss after each epoch.
    /// </summary>
    private static (float[] Rates, List<string> Reductions) PlateauRates(IReadOnlyList<EpochReport> epochs, float rate, float factor, int patience, float minimum)
    {
        var rates = new float[epochs.Count];
        var reductions = new List<string>();
        double best = double.PositiveInfinity;
        int bad = 0;
        for (int e = 0; e < epochs.Count; e++)
        {
            rates[e] = rate;
            double loss = epochs[e].ValidationLoss!.Value;
            if (loss < best * (1 - 1e-4)) { best = loss; bad = 0; }
            else bad++;
            if (bad <= patience) continue;
            bad = 0;
            double reduced = Math.Max((double)rate * factor, minimum);
            if (rate - reduced <= 1e-8) continue;
            reductions.Add(string.Create(CultureInfo.InvariantCulture, $"learning rate {rate:g3} → {(float)reduced:g3}"));
            rate = (float)reduced;
        }
        return (rates, reductions);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void ReduceOnPlateau_MultipliesTheRateByTheFactorAfterPatienceBadEpochs_DownToTheMinimum(string trainer)
    {
        var harness = TrainerHarness.Create(trainer);
        float lr = harness.SgdRate / 2, minimum = lr / 5;
        var options = TrainerHarness.Sgd(lr) with { Epochs = 9, ReduceOnPlateau = true, PlateauFactor = 0.5f, PlateauPatience = 1, MinimumLearningRate = minimum };
        var run = harness.Train(options, harness.Initial, validate: true);
        Assert.Equal(9, run.History.Epochs.Count);
        var (rates, reductions) = PlateauRates(run.History.Epochs, lr, 0.5f, 1, minimum);
        // The validation loss rises as the model fits the training data, so the rate halves twice and then stops at the floor.
        Assert.True(reductions.Count >= 3 && rates[^1] == minimum,
            $"{trainer}: expected the rate to reach the floor {minimum}; validation losses {string.Join(", ", run.History.Epochs.Select(e => e.ValidationLoss))}.");
        AssertRates(run, k => rates[k], $"{trainer}, reduce on plateau");
        StepAssert.Steps(harness, run, options, k => rates[k], without: options with { ReduceOnPlateau = false }, rateWithout: _ => lr,
            what: $"{trainer}, reduce on plateau");
        var logged = run.Lines.Where(line => line.StartsWith("Validation loss has not improved", StringComparison.Ordinal)).ToArray();
        Assert.Equal(reductions.Count, logged.Length);
        for (int i = 0; i < logged.Length; i++) Assert.Contains(reductions[i], logged[i]);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void ReduceOnPlateau_WaitsPatienceBadEpochs(string trainer)
    {
        var harness = TrainerHarness.Create(trainer);
        float lr = harness.SgdRate / 2;
        var options = TrainerHarness.Sgd(lr) with { Epochs = 6, ReduceOnPlateau = true, PlateauFactor = 0.1f, PlateauPatience = 3 };
        var run = harness.Train(options, harness.Initial, validate: true);
        var (rates, _) = PlateauRates(run.History.Epochs, lr, 0.1f, 3, 0);
        Assert.Equal(lr, rates[4]);
        Assert.Equal(lr / 10, rates[5], lr * 1e-6f);
        AssertRates(run, k => rates[k], $"{trainer}, plateau patience 3");
    }

    [Theory]
    [MemberData(nameof(All))]
    public void EarlyStopping_StopsAfterPatienceEpochsWithoutImprovement_AndRestoresTheBestWeights(string trainer)
    {
        var harness = TrainerHarness.Create(trainer);
        var options = TrainerHarness.Sgd(harness.SgdRate / 2) with { Epochs = 10, EarlyStoppingPatience = 2 };
        var run = harness.Train(options, harness.Initial, validate: true);
        var losses = run.History.Epochs.Select(e => e.ValidationLoss!.Value).ToArray();
        int best = Array.IndexOf(losses, losses.Min()) + 1;
        Assert.True(run.History.StoppedEarly, $"{trainer}: validation losses {string.Join(", ", losses)}");
        Assert.Equal(best + 2, losses.Length);
        Assert.Equal(best, run.History.BestEpoch);
        Assert.Equal(run.AfterEpoch[best - 1], run.Final);
        Assert.NotEqual(run.AfterEpoch[^1], run.Final);
        Assert.Contains(run.Lines, line => line.StartsWith($"Training stopped: the validation loss stopped improving after {losses.Length} epochs", StringComparison.Ordinal)
            && line.EndsWith($"restored the weights of epoch {best}, the best validation loss.", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void MinimumSteps_HoldsEarlyStoppingBack_UntilThatManyOptimizerSteps(string trainer)
    {
        var harness = TrainerHarness.Create(trainer);
        var options = TrainerHarness.Sgd(harness.SgdRate / 2) with { Epochs = 10, EarlyStoppingPatience = 2 };
        var early = harness.Train(options, harness.Initial, validate: true);
        int stoppedAfter = early.History.Epochs.Count, stepsPerEpoch = (int)(early.History.Steps / stoppedAfter);
        Assert.True(early.History.StoppedEarly && stoppedAfter < 8, $"{trainer}: stopped after {stoppedAfter} epochs");
        int minimum = (stoppedAfter + 2) * stepsPerEpoch;

        var held = harness.Train(options with { MinimumSteps = minimum }, harness.Initial, validate: true);
        var losses = held.History.Epochs.Select(e => e.ValidationLoss!.Value).ToArray();
        Assert.Equal(early.History.Epochs.Select(e => e.ValidationLoss), held.History.Epochs.Take(stoppedAfter).Select(e => e.ValidationLoss));
        Assert.True(losses.Length >= stoppedAfter + 2, $"{trainer}: stopped after {losses.Length} epochs, before {minimum} steps");
        Assert.True(held.History.Steps >= minimum || losses.Length == 10, $"{trainer}: {held.History.Steps} steps");
        int best = Array.IndexOf(losses, losses.Min()) + 1;
        Assert.Equal(best, held.History.BestEpoch);
        Assert.Equal(held.AfterEpoch[best - 1], held.Final);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void EarlyStoppingOff_RunsEveryEpoch_AndKeepsTheLastWeights(string trainer)
    {
        var harness = TrainerHarness.Create(trainer);
        var options = TrainerHarness.Sgd(harness.SgdRate / 2) with { Epochs = 5 };
        var run = harness.Train(options, harness.Initial, validate: true);
        var losses = run.History.Epochs.Select(e => e.ValidationLoss!.Value).ToArray();
        Assert.Equal(5, losses.Length);
        Assert.True(losses[^1] > losses.Min(), $"{trainer}: the validation loss was expected to rise; {string.Join(", ", losses)}");
        Assert.False(run.History.StoppedEarly);
        Assert.Equal(run.AfterEpoch[^1], run.Final);
    }
}
