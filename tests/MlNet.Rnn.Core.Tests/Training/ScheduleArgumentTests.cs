using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Training;

/// <summary>
/// Proves the argument checks of the learning-rate schedules and of <see cref="ReduceOnPlateau"/>: each bad argument is
/// refused with <see cref="ArgumentOutOfRangeException"/>, its name and a message stating its rule; each closed bound
/// (γ = 1, a single cosine step, a minimum equal to the base rate, a zero plateau threshold) is accepted and computes.
/// </summary>
public sealed class ScheduleArgumentTests
{
    private static void Refused(Action action, string name, string rule)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(action);
        Assert.Equal(name, error.ParamName);
        Assert.Contains(rule, error.Message);
    }

    [Fact]
    public void StepDecay_ChecksItsConstructorAndCallArguments()
    {
        Refused(() => _ = new StepDecaySchedule(0), "stepSizeEpochs", "stepSizeEpochs must be ≥ 1");
        var schedule = new StepDecaySchedule(2, 0.5f);
        Refused(() => schedule.LearningRate(-1f, 0, 1), "baseRate", "baseRate must be a finite number > 0");
        Refused(() => schedule.LearningRate(1f, -1, 1), "step", "must be ≥ 0");
        Refused(() => schedule.LearningRate(1f, 0, 0), "stepsPerEpoch", "stepsPerEpoch must be ≥ 1");
    }

    [Fact]
    public void Cosine_ChecksTotalAndWarmupSteps()
    {
        Refused(() => _ = new CosineSchedule(0), "totalSteps", "totalSteps must be ≥ 1");
        Refused(() => _ = new CosineSchedule(5, 5), "warmupSteps", "warmupSteps must be in [0, totalSteps = 5)");
    }

    [Fact]
    public void ReduceOnPlateau_ChecksEveryConstructorArgument()
    {
        Refused(() => _ = new ReduceOnPlateau(mode: (PlateauMode)7), "mode", "mode must be Minimize or Maximize");
        Refused(() => _ = new ReduceOnPlateau(thresholdMode: (PlateauThreshold)7), "thresholdMode", "thresholdMode must be Relative or Absolute");
        Refused(() => _ = new ReduceOnPlateau(patience: -1), "patience", "patience must be ≥ 0");
        Refused(() => _ = new ReduceOnPlateau(cooldown: -1), "cooldown", "cooldown must be ≥ 0");
        Refused(() => _ = new ReduceOnPlateau(minimumRate: -1f), "minimumRate", "minimumRate must be a finite number ≥ 0");
        Refused(() => _ = new ReduceOnPlateau(minimumRate: float.PositiveInfinity), "minimumRate", "minimumRate must be a finite number ≥ 0");
    }

    [Fact]
    public void ReduceOnPlateau_CounterSetters_RefuseNegatives_AndAcceptZero()
    {
        var plateau = new ReduceOnPlateau();
        Refused(() => plateau.BadEpochs = -1, "BadEpochs", "BadEpochs must be ≥ 0");
        Refused(() => plateau.CooldownCounter = -1, "CooldownCounter", "CooldownCounter must be ≥ 0");
        plateau.BadEpochs = 0;
        plateau.CooldownCounter = 0;
        Assert.Equal(0, plateau.BadEpochs);
        Assert.Equal(0, plateau.CooldownCounter);
    }

    public static TheoryData<string> EverySchedule() => new(["constant", "step", "cosine"]);

    [Theory]
    [MemberData(nameof(EverySchedule))]
    public void EverySchedule_RefusesAZeroBaseRate_ANegativeStep_AndNoStepsPerEpoch(string name)
    {
        ILearningRateSchedule schedule = name switch
        {
            "constant" => new ConstantSchedule(),
            "step" => new StepDecaySchedule(2, 0.5f),
            _ => new CosineSchedule(10),
        };
        Refused(() => schedule.LearningRate(0f, 0, 1), "baseRate", "baseRate must be a finite number > 0; it is 0.");
        Refused(() => schedule.LearningRate(float.PositiveInfinity, 0, 1), "baseRate", "baseRate must be a finite number > 0");
        Refused(() => schedule.LearningRate(0.1f, -1, 1), "step", "step counts the steps done so far and must be ≥ 0");
        Refused(() => schedule.LearningRate(0.1f, 0, 0), "stepsPerEpoch", "stepsPerEpoch must be ≥ 1");
    }

    [Fact]
    public void StepDecay_GammaMustBeAboveZero_AndOneKeepsTheBaseRate()
    {
        Refused(() => _ = new StepDecaySchedule(1, 0f), "gamma", "gamma must be in (0, 1]; it is 0.");
        var constant = new StepDecaySchedule(1, 1f);
        Assert.Equal(1f, constant.Gamma);
        Assert.Equal(0.25f, constant.LearningRate(0.25f, 100, 3));
    }

    [Fact]
    public void Cosine_OneTotalStep_RunsAtTheBaseRate()
    {
        var schedule = new CosineSchedule(1);
        Assert.Equal(0.5f, schedule.LearningRate(0.5f, 0, 1));
        Assert.Equal(0.5f, schedule.LearningRate(0.5f, 9, 1));
    }

    [Fact]
    public void Cosine_MinimumEqualToTheBaseRate_HoldsItAfterTheWarmup()
    {
        var schedule = new CosineSchedule(10, 2, 0.5f);
        int[] steps = [0, 1, 2, 5, 9, 20];
        Assert.Equal([0.5f / 3, 1f / 3, 0.5f, 0.5f, 0.5f, 0.5f], steps.Select(step => schedule.LearningRate(0.5f, step, 1)).ToArray());
    }

    [Fact]
    public void ReduceOnPlateau_FactorMustBeAboveZero_AndAZeroThresholdCountsAnyImprovement()
    {
        Refused(() => _ = new ReduceOnPlateau(factor: 0f), "factor", "factor must be in (0, 1); it is 0.");
        var plateau = new ReduceOnPlateau(patience: 0, threshold: 0);
        Assert.Equal(0, plateau.Threshold);
        Assert.Equal(1f, plateau.Update(1.0, 1f));
        Assert.Equal(1f, plateau.Update(0.9999999, 1f));   // better by 1e-7 only: counts with threshold 0
        Assert.Equal(0.9999999, plateau.Best);
        Assert.Equal(0.1f, plateau.Update(0.9999999, 1f));  // equal is not better: one bad epoch > patience 0
    }
}
