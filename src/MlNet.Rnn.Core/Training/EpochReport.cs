namespace MlNet.Rnn.Core.Training;

/// <summary>What one epoch of <see cref="SequenceTrainer.Train"/> measured.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainingLoss">Weighted mean training loss over the epoch's batches.</param>
/// <param name="ValidationLoss">Loss on the validation data, when given.</param>
/// <param name="ValidationMetric">Accuracy (classification losses) or RMSE (regression losses) on the validation data.</param>
/// <param name="MetricName">"accuracy" or "rmse".</param>
/// <param name="GradientNorm">Mean global gradient norm before clipping.</param>
/// <param name="LearningRate">Learning rate of the epoch's last step.</param>
/// <param name="SamplesPerSecond">Training sequences per second.</param>
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
