using Microsoft.Extensions.Logging;

namespace MlNet.Rnn.Core.Training;

/// <summary>The optimizer the <see cref="TrainingLoop"/> builds.</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent, optionally with momentum and Nesterov (<see cref="Sgd"/>).</summary>
    Sgd,
    /// <summary><see cref="Training.Adam"/>.</summary>
    Adam,
    /// <summary>Adam with decoupled weight decay (<see cref="Training.AdamW"/>).</summary>
    AdamW,
    /// <summary><see cref="Training.RmsProp"/>.</summary>
    RmsProp,
}

/// <summary>How the learning rate changes over training.</summary>
public enum ScheduleKind
{
    /// <summary>The base rate throughout.</summary>
    Constant,
    /// <summary>Multiplied by <see cref="TrainerOptions.StepDecayGamma"/> every <see cref="TrainerOptions.StepDecayEpochs"/> epochs.</summary>
    StepDecay,
    /// <summary>Linear warm-up over <see cref="TrainerOptions.WarmupSteps"/>, then cosine decay to <see cref="TrainerOptions.MinimumLearningRate"/>.</summary>
    Cosine,
}

/// <summary>
/// Everything the <see cref="TrainingLoop"/> does for every task, with defaults in one place. <see cref="Validate"/> rejects an
/// invalid value with a message that names the option and its valid range.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>Passes over the training data.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Sequences per mini-batch; the last batch of an epoch may be smaller. For a language model: the parallel streams the text is cut into.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Base learning rate.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>The optimizer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Momentum of SGD and RMSProp.</summary>
    public float Momentum { get; init; }

    /// <summary>Nesterov momentum for SGD.</summary>
    public bool Nesterov { get; init; }

    /// <summary>Weight decay λ: L2 (added to the gradient) for SGD, Adam and RMSProp; decoupled for AdamW. The default 0 decays nothing, also for AdamW (PyTorch's AdamW default is 0.01: give it explicitly).</summary>
    public float WeightDecay { get; init; }

    /// <summary>β1 of Adam and AdamW.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>β2 of Adam and AdamW.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Clip the global gradient norm to this value (the remedy for exploding gradients); 0 turns it off.</summary>
    public float GradientClipNorm { get; init; } = 5f;

    /// <summary>Clip every gradient element to [−v, v]; 0 turns it off.</summary>
    public float GradientClipValue { get; init; }

    /// <summary>The learning-rate schedule.</summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Constant;

    /// <summary>Epochs between decays of <see cref="ScheduleKind.StepDecay"/>.</summary>
    public int StepDecayEpochs { get; init; } = 10;

    /// <summary>Decay factor of <see cref="ScheduleKind.StepDecay"/>.</summary>
    public float StepDecayGamma { get; init; } = 0.1f;

    /// <summary>Linear warm-up steps of <see cref="ScheduleKind.Cosine"/>.</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Final rate of <see cref="ScheduleKind.Cosine"/>, and the floor of reduce-on-plateau.</summary>
    public float MinimumLearningRate { get; init; }

    /// <summary>Multiply the rate by <see cref="PlateauFactor"/> when the validation loss stops improving (needs validation data).</summary>
    public bool ReduceOnPlateau { get; init; }

    /// <summary>Factor of reduce-on-plateau.</summary>
    public float PlateauFactor { get; init; } = 0.5f;

    /// <summary>Epochs without improvement before reduce-on-plateau acts.</summary>
    public int PlateauPatience { get; init; } = 2;

    /// <summary>Stop after this many epochs without a better validation loss and restore the best weights; 0 turns it off.</summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>
    /// <see cref="SequenceTrainer"/>: while training, standardize each numeric input feature (over every real step) and,
    /// under <see cref="MeanSquaredError"/> (or <see cref="Huber"/> with one output, its δ kept in the target's units), each
    /// target with the training data's mean and standard deviation; when
    /// <c>Train</c> returns, both are folded into the model's first recurrent layer and its head, so the model reads and
    /// predicts raw values. The epoch callback, the history's losses and checkpoints are in standardized units.
    /// </summary>
    public bool Standardize { get; init; }

    /// <summary>
    /// Judge epochs, for early stopping and the best epoch's weights, by the validation accuracy where the task reports one
    /// (classification, tagging), the validation loss breaking ties; other tasks by the loss. Off: by the loss. The loss
    /// keeps falling-then-rising with the model's confidence, and often stops improving epochs before the accuracy does.
    /// </summary>
    public bool EarlyStoppingOnAccuracy { get; init; }

    /// <summary>
    /// Early stopping waits for at least this many optimizer steps: a small data set takes few steps per epoch, and a few
    /// epochs of a noisy validation loss would otherwise stop it before it has learned. 0: no minimum.
    /// </summary>
    public int MinimumSteps { get; init; }

    /// <summary>Shuffle the examples every epoch (a language model starts its streams at a random offset instead).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Batch sequences of similar length together, so little padding is computed (does not apply to a language model's streams).</summary>
    public bool BucketByLength { get; init; } = true;

    /// <summary>
    /// <see cref="SequenceTrainer"/>: truncated backpropagation through time in chunks of this many steps (the state is carried
    /// across chunks, gradients flow back at most one chunk), so a training pass keeps one chunk's activations rather than the
    /// whole sequence's; 0 (the default) backpropagates through every step. Needs a unidirectional model. A language model
    /// has its own chunking.
    /// </summary>
    public int TruncatedBpttSteps { get; init; }

    /// <summary>
    /// <see cref="SequenceTrainer"/>: the memory one training batch may need (activations, caches and gradients of its
    /// longest batch), in megabytes; training that would need more stops before it starts with an error that says how much
    /// it needs and which options reduce it. 0 (the default): half of the memory available to the process.
    /// </summary>
    public int MaxBatchMemoryMegabytes { get; init; }

    /// <summary>Seed of shuffling (dropout and initialisation take the model's seed).</summary>
    public int Seed { get; init; }

    /// <summary>Write a checkpoint every this many epochs to <see cref="CheckpointPath"/>; 0 turns it off.</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Where checkpoints are written (the file is replaced atomically each time).</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Receives per-epoch progress; nothing is logged when null.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// Stop after the step during which this much time has passed (null: no limit); with <see cref="ScheduleKind.Cosine"/>
    /// the rate follows the larger of the share of steps and the share of this budget used.
    /// </summary>
    public TimeSpan? MaxTrainingTime { get; init; }

    /// <summary>The clock of <see cref="MaxTrainingTime"/> and of the reported times (null: the system clock).</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>
    /// Called after every epoch, once its report is in the history (and after early stopping has updated the best weights):
    /// it may stop training or have a checkpoint written, e.g. to pause a trial of an experiment.
    /// </summary>
    public Func<EpochReport, EpochDecision>? EpochCallback { get; init; }

    /// <summary>
    /// Throws an <see cref="ArgumentOutOfRangeException"/> (or <see cref="ArgumentException"/>) naming the first invalid
    /// option; <paramref name="hasValidationData"/> tells whether options that need validation data may be set.
    /// </summary>
    public void Validate(bool hasValidationData)
    {
        Check(Epochs >= 1, nameof(Epochs), Epochs, "at least 1");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "at least 1");
        Check(LearningRate > 0 && float.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "a positive finite number");
        Check(Enum.IsDefined(Optimizer), nameof(Optimizer), Optimizer, "Sgd, Adam, AdamW or RmsProp");
        Check(Momentum >= 0 && Momentum < 1, nameof(Momentum), Momentum, "in [0, 1)");
        Check(!Nesterov || (Optimizer == OptimizerKind.Sgd && Momentum > 0), nameof(Nesterov), Nesterov, "used only with Optimizer = Sgd and Momentum > 0");
        Check(WeightDecay >= 0 && float.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "≥ 0");
        Check(Beta1 >= 0 && Beta1 < 1, nameof(Beta1), Beta1, "in [0, 1)");
        Check(Beta2 >= 0 && Beta2 < 1, nameof(Beta2), Beta2, "in [0, 1)");
        Check(GradientClipNorm >= 0 && float.IsFinite(GradientClipNorm), nameof(GradientClipNorm), GradientClipNorm, "≥ 0 (0 = off)");
        Check(GradientClipValue >= 0 && float.IsFinite(GradientClipValue), nameof(GradientClipValue), GradientClipValue, "≥ 0 (0 = off)");
        Check(Enum.IsDefined(Schedule), nameof(Schedule), Schedule, "Constant, StepDecay or Cosine");
        Check(StepDecayEpochs >= 1, nameof(StepDecayEpochs), StepDecayEpochs, "at least 1");
        Check(StepDecayGamma > 0 && StepDecayGamma <= 1, nameof(StepDecayGamma), StepDecayGamma, "in (0, 1]");
        Check(WarmupSteps >= 0, nameof(WarmupSteps), WarmupSteps, "≥ 0");
        Check(MinimumLearningRate >= 0 && MinimumLearningRate <= LearningRate, nameof(MinimumLearningRate), MinimumLearningRate, $"in [0, LearningRate = {LearningRate}]");
        Check(PlateauFactor > 0 && PlateauFactor < 1, nameof(PlateauFactor), PlateauFactor, "in (0, 1)");
        Check(PlateauPatience >= 0, nameof(PlateauPatience), PlateauPatience, "≥ 0");
        Check(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), EarlyStoppingPatience, "≥ 0 (0 = off)");
        Check(MinimumSteps >= 0, nameof(MinimumSteps), MinimumSteps, "≥ 0 (0 = no minimum)");
        Check(CheckpointEvery >= 0, nameof(CheckpointEvery), CheckpointEvery, "≥ 0 (0 = off)");
        Check(TruncatedBpttSteps >= 0, nameof(TruncatedBpttSteps), TruncatedBpttSteps, "≥ 0 (0 = off)");
        Check(MaxBatchMemoryMegabytes >= 0, nameof(MaxBatchMemoryMegabytes), MaxBatchMemoryMegabytes, "≥ 0 (0 = half of the available memory)");
        Check(MaxTrainingTime is null || MaxTrainingTime > TimeSpan.Zero, nameof(MaxTrainingTime), MaxTrainingTime!, "positive, or null for no limit");
        if (CheckpointEvery > 0 && string.IsNullOrWhiteSpace(CheckpointPath))
            throw new ArgumentException($"CheckpointEvery is {CheckpointEvery} but CheckpointPath is empty; give a file path or set CheckpointEvery to 0.", nameof(CheckpointPath));
        if (!hasValidationData && EarlyStoppingPatience > 0)
            throw new ArgumentException($"EarlyStoppingPatience is {EarlyStoppingPatience} but no validation data was given; pass validation data or set it to 0.", nameof(EarlyStoppingPatience));
        if (!hasValidationData && ReduceOnPlateau)
            throw new ArgumentException("ReduceOnPlateau needs validation data; pass it or turn ReduceOnPlateau off.", nameof(ReduceOnPlateau));
    }

    private static void Check(bool valid, string name, object value, string range)
    {
        if (!valid) throw new ArgumentOutOfRangeException(name, value, $"{name} is {value}; it must be {range}.");
    }
}
