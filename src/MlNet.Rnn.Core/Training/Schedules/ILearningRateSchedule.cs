namespace MlNet.Rnn.Core.Training;

/// <summary>A learning rate as a function of training progress; the trainer sets <see cref="Optimizer.LearningRate"/> before each step.</summary>
public interface ILearningRateSchedule
{
    /// <summary>The rate for the next optimizer step.</summary>
    /// <param name="baseRate">The configured rate, &gt; 0.</param>
    /// <param name="step">Optimizer steps done so far (0 for the first step).</param>
    /// <param name="stepsPerEpoch">Optimizer steps in one epoch, ≥ 1.</param>
    float LearningRate(float baseRate, int step, int stepsPerEpoch);
}
