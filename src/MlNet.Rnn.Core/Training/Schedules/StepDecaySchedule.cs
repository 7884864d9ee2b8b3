using System.Globalization;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// <c>lr = baseRate · γ^⌊epoch / stepSizeEpochs⌋</c> with <c>epoch = ⌊step / stepsPerEpoch⌋</c>: the closed form of
/// <c>torch.optim.lr_scheduler.StepLR(step_size, gamma)</c> stepped once per epoch.
/// </summary>
public sealed class StepDecaySchedule : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="stepSizeEpochs">Epochs between decays, ≥ 1.</param>
    /// <param name="gamma">γ ∈ (0, 1]: the factor applied at each decay.</param>
    public StepDecaySchedule(int stepSizeEpochs, float gamma = 0.1f)
    {
        if (stepSizeEpochs < 1) throw new ArgumentOutOfRangeException(nameof(stepSizeEpochs), stepSizeEpochs, "stepSizeEpochs must be ≥ 1.");
        if (!(gamma > 0 && gamma <= 1))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, string.Create(CultureInfo.InvariantCulture, $"gamma must be in (0, 1]; it is {gamma}."));
        StepSizeEpochs = stepSizeEpochs;
        Gamma = gamma;
    }

    /// <summary>Epochs between decays.</summary>
    public int StepSizeEpochs { get; }

    /// <summary>γ.</summary>
    public float Gamma { get; }

    /// <inheritdoc />
    public float LearningRate(float baseRate, int step, int stepsPerEpoch)
    {
        ScheduleArguments.Check(baseRate, step, stepsPerEpoch);
        int decays = step / stepsPerEpoch / StepSizeEpochs;
        return (float)Math.Max((double)baseRate * Math.Pow(Gamma, decays), float.Epsilon);
    }
}
