using System.Globalization;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// Linear warm-up, then cosine annealing. With W warm-up steps and N total steps:
/// <c>lr = baseRate · (step + 1) / (W + 1)</c> for <c>step &lt; W</c> (a line from 0, so no step runs at rate 0), then
/// <c>lr = min + (baseRate − min) · (1 + cos(π·(step − W)/(N − W))) / 2</c>, which is
/// <c>torch.optim.lr_scheduler.CosineAnnealingLR(T_max = N − W, eta_min = min)</c> from step W. Steps at or past N use the
/// rate of step N − 1 (just above the minimum), so the rate stays positive.
/// </summary>
public sealed class CosineSchedule : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="totalSteps">N: optimizer steps of the whole run, ≥ 1.</param>
    /// <param name="warmupSteps">W ∈ [0, N).</param>
    /// <param name="minimumRate">The rate the cosine approaches at step N, ≥ 0.</param>
    public CosineSchedule(int totalSteps, int warmupSteps = 0, float minimumRate = 0f)
    {
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "totalSteps must be ≥ 1.");
        if (warmupSteps < 0 || warmupSteps >= totalSteps)
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, $"warmupSteps must be in [0, totalSteps = {totalSteps}).");
        if (!(minimumRate >= 0 && float.IsFinite(minimumRate)))
            throw new ArgumentOutOfRangeException(nameof(minimumRate), minimumRate,
                string.Create(CultureInfo.InvariantCulture, $"minimumRate must be a finite number ≥ 0; it is {minimumRate}."));
        TotalSteps = totalSteps;
        WarmupSteps = warmupSteps;
        MinimumRate = minimumRate;
    }

    /// <summary>N.</summary>
    public int TotalSteps { get; }

    /// <summary>W.</summary>
    public int WarmupSteps { get; }

    /// <summary>The rate approached at the end.</summary>
    public float MinimumRate { get; }

    /// <inheritdoc />
    public float LearningRate(float baseRate, int step, int stepsPerEpoch)
    {
        ScheduleArguments.Check(baseRate, step, stepsPerEpoch);
        if (MinimumRate > baseRate)
            throw new ArgumentOutOfRangeException(nameof(baseRate), baseRate,
                string.Create(CultureInfo.InvariantCulture, $"baseRate {baseRate} is below this schedule's minimumRate {MinimumRate}."));
        if (step < WarmupSteps) return (float)((double)baseRate * (step + 1) / (WarmupSteps + 1));
        int t = Math.Min(step, TotalSteps - 1) - WarmupSteps, period = TotalSteps - WarmupSteps;
        double rate = MinimumRate + ((double)baseRate - MinimumRate) * (1 + Math.Cos(Math.PI * t / period)) / 2;
        return (float)rate;
    }
}
