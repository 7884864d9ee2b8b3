namespace MlNet.Rnn.Core.Training;

/// <summary>The base rate at every step.</summary>
public sealed class ConstantSchedule : ILearningRateSchedule
{
    /// <inheritdoc />
    public float LearningRate(float baseRate, int step, int stepsPerEpoch)
    {
        ScheduleArguments.Check(baseRate, step, stepsPerEpoch);
        return baseRate;
    }
}
