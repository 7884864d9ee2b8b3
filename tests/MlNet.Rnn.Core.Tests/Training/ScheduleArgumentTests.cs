using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Training;

/// <summary>
/// Proves the argument checks of the learning-rate schedules and of <see cref="ReduceOnPlateau"/>: each bad argument is
/// refused with <see cref="ArgumentOutOfRangeException"/>, its name and a message stating its rule.
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
}
