using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// What a task (classification, regression, tagging, forecasting, language modeling, sequence-to-sequence) gives the one
/// <see cref="TrainingLoop"/>: its model's parameters, an epoch's plan of optimizer steps, one step's forward and backward
/// pass, and an evaluation on held-out data. The loop owns everything else an epoch does (schedule, clipping, the
/// optimizer, the divergence guard, validation, early stopping, reduce-on-plateau, checkpoints, the time budget,
/// cancellation, progress).
/// </summary>
public interface ITrainingTask
{
    /// <summary>The model's parameters (one buffer for the whole model); the loop's optimizer updates them.</summary>
    ParameterSet Parameters { get; }

    /// <summary>What <see cref="Evaluate"/> reports besides the loss, for logs (e.g. "accuracy", "rmse", "bits per token").</summary>
    string MetricName { get; }

    /// <summary>
    /// Whether <see cref="Evaluate"/>'s metric is an accuracy (higher is better), by which early stopping judges epochs when
    /// <see cref="TrainerOptions.EarlyStoppingOnAccuracy"/> asks.
    /// </summary>
    bool MetricIsAccuracy => false;

    /// <summary>What a training example is, for the progress log (e.g. "samples", "tokens", "pairs").</summary>
    string ExampleName { get; }

    /// <summary>Whether the task has held-out data for <see cref="Evaluate"/>.</summary>
    bool HasValidation { get; }

    /// <summary>Optimizer steps in a full epoch (for schedules and time estimates), ≥ 1.</summary>
    int StepsPerEpoch { get; }

    /// <summary>
    /// Prepares epoch <paramref name="epoch"/> (1-based): draws its shuffling from <paramref name="random"/> (null: keep the
    /// data's order), reseeds dropout for the epoch, and returns how many steps it has.
    /// </summary>
    int BeginEpoch(int epoch, Random? random);

    /// <summary>
    /// Step <paramref name="step"/> (0-based, in order) of the current epoch: forward pass, loss and backward pass, adding the
    /// gradient of the mean loss into <see cref="ParameterSet.Gradients"/> (zeroed by the loop). Returns the mean loss (NaN
    /// when the forward pass or its gradient is not finite), the weight behind that mean (so step means combine into an
    /// epoch mean), and how many examples the step read.
    /// </summary>
    (double Loss, double Weight, long Examples) Step(int step);

    /// <summary>The weighted mean loss and the metric on the held-out data, in inference mode.</summary>
    (double Loss, double? Metric) Evaluate();
}
