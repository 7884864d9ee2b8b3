namespace MlNet.Rnn.Core.Training;

/// <summary>What one epoch of the <see cref="TrainingLoop"/> measured.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainingLoss">Weighted mean training loss over the epoch's batches.</param>
/// <param name="ValidationLoss">Loss on the validation data, when given.</param>
/// <param name="ValidationMetric">The task's metric on the validation data (accuracy, RMSE, bits per token, token accuracy).</param>
/// <param name="MetricName">The metric's name ("accuracy", "rmse", "bits per token", "token accuracy").</param>
/// <param name="GradientNorm">Mean global gradient norm before clipping.</param>
/// <param name="LearningRate">Learning rate of the epoch's last step.</param>
/// <param name="SamplesPerSecond">Training examples (sequences, tokens or pairs, as the task counts them) per second.</param>
/// <param name="Elapsed">Time since training started (this run).</param>
/// <param name="Remaining">Estimated time for the remaining epochs.</param>
public sealed record EpochReport(int Epoch, double TrainingLoss, double? ValidationLoss, double? ValidationMetric, string MetricName,
    double GradientNorm, float LearningRate, double SamplesPerSecond, TimeSpan Elapsed, TimeSpan Remaining);

/// <summary>The epochs of a training run and how it ended.</summary>
public sealed class TrainingHistory
{
    /// <summary>One report per finished epoch, including epochs of an earlier run resumed from a checkpoint.</summary>
    public List<EpochReport> Epochs { get; } = [];

    /// <summary>The epoch whose weights the model holds after early stopping (the best validation loss), or the last epoch.</summary>
    public int BestEpoch { get; internal set; }

    /// <summary>Whether early stopping ended the run before the last epoch.</summary>
    public bool StoppedEarly { get; internal set; }

    /// <summary>Why the run ended.</summary>
    public TrainingStopReason StopReason { get; internal set; }

    /// <summary>Optimizer steps taken, including those of an earlier run resumed from a checkpoint.</summary>
    public long Steps { get; internal set; }
}

/// <summary>Why a training run ended.</summary>
public enum TrainingStopReason
{
    /// <summary>Every epoch of <see cref="TrainerOptions.Epochs"/> ran.</summary>
    EpochsCompleted,
    /// <summary>The validation loss (or accuracy, see <see cref="TrainerOptions.EarlyStoppingOnAccuracy"/>) stopped improving for <see cref="TrainerOptions.EarlyStoppingPatience"/> epochs.</summary>
    EarlyStopping,
    /// <summary><see cref="TrainerOptions.MaxTrainingTime"/> ran out.</summary>
    TimeBudget,
    /// <summary><see cref="TrainerOptions.EpochCallback"/> asked to stop.</summary>
    Callback,
}

/// <summary>What <see cref="TrainerOptions.EpochCallback"/> tells the loop after an epoch.</summary>
[Flags]
public enum EpochDecision
{
    /// <summary>Go on with the next epoch.</summary>
    Continue = 0,
    /// <summary>
    /// End training after this epoch, keeping the weights as they are (no restore of the best epoch): a pause, from which a
    /// checkpoint written now continues exactly as an uninterrupted run.
    /// </summary>
    Stop = 1,
    /// <summary>Write a checkpoint to <see cref="TrainerOptions.CheckpointPath"/> now.</summary>
    Checkpoint = 2,
}

/// <summary>
/// Training produced a non-finite loss or gradient. The model keeps the weights of the last finite step.
/// </summary>
public sealed class TrainingDivergedException(int epoch, int batch, double loss, double gradientNorm)
    : Exception($"Training diverged at epoch {epoch}, batch {batch}: loss {loss}, gradient norm {gradientNorm}. " +
        "The model keeps the weights of the last finite step. Lower the learning rate or clip gradients (GradientClipNorm).")
{
    /// <summary>1-based epoch.</summary>
    public int Epoch { get; } = epoch;

    /// <summary>1-based batch within the epoch.</summary>
    public int Batch { get; } = batch;

    /// <summary>The batch's loss.</summary>
    public double Loss { get; } = loss;

    /// <summary>The batch's gradient norm before clipping.</summary>
    public double GradientNorm { get; } = gradientNorm;
}
