using System.Globalization;

namespace MlNet.Rnn.Core.Training;

/// <summary>The checks every <see cref="ILearningRateSchedule"/> applies to its arguments.</summary>
internal static class ScheduleArguments
{
    public static void Check(float baseRate, int step, int stepsPerEpoch)
    {
        if (!(baseRate > 0 && float.IsFinite(baseRate)))
            throw new ArgumentOutOfRangeException(nameof(baseRate), baseRate,
                string.Create(CultureInfo.InvariantCulture, $"baseRate must be a finite number > 0; it is {baseRate}."));
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "step counts the steps done so far and must be ≥ 0.");
        if (stepsPerEpoch < 1) throw new ArgumentOutOfRangeException(nameof(stepsPerEpoch), stepsPerEpoch, "stepsPerEpoch must be ≥ 1.");
    }
}
