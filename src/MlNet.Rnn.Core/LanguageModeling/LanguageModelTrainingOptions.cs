using Microsoft.Extensions.Logging;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// How <see cref="LanguageModel.Train(IReadOnlyList{int[]}, IReadOnlyList{int[]}?, LanguageModelTrainingOptions, CancellationToken)"/>
/// trains: the text is read as B parallel streams (<see cref="Streams"/>) in chunks of k steps (<see cref="ChunkSteps"/>),
/// the state carried from chunk to chunk, one optimizer step per chunk. Defaults in one place; <see cref="Validate"/>
/// names the first invalid option and its range.
/// </summary>
public sealed record LanguageModelTrainingOptions
{
    /// <summary>Passes over the training text.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>B: contiguous pieces of the text read side by side (the batch of every step).</summary>
    public int Streams { get; init; } = 32;

    /// <summary>k: steps per chunk; gradients flow back at most k steps, the state flows forward through the whole text.</summary>
    public int ChunkSteps { get; init; } = 64;

    /// <summary>Base learning rate.</summary>
    public float LearningRate { get; init; } = 2e-3f;

    /// <summary>The optimizer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Momentum of SGD and RMSProp.</summary>
    public float Momentum { get; init; }

    /// <summary>β1 of Adam and AdamW.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>β2 of Adam and AdamW.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Weight decay: L2 for SGD, Adam and RMSProp, decoupled for AdamW.</summary>
    public float WeightDecay { get; init; }

    /// <summary>
    /// <see cref="ScheduleKind.Constant"/>, or <see cref="ScheduleKind.Cosine"/>: the rate follows
    /// <c>min + (base − min)·(1 + cos(π·p))/2</c> with p the training progress, the larger of the share of
    /// <see cref="Epochs"/> done and the share of <see cref="MaxTrainingTime"/> used (the latter depends on the machine's speed,
    /// so a time-limited run is not bit-reproducible). Reduce-on-plateau lowers the base. StepDecay is not offered.
    /// </summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Constant;

    /// <summary>Clip the global gradient norm of every chunk to this value; 0 turns it off.</summary>
    public float GradientClipNorm { get; init; } = 5f;

    /// <summary>Multiply the rate by <see cref="PlateauFactor"/> when the validation loss stops improving (needs validation data).</summary>
    public bool ReduceOnPlateau { get; init; }

    /// <summary>Factor of reduce-on-plateau.</summary>
    public float PlateauFactor { get; init; } = 0.5f;

    /// <summary>Epochs without improvement tolerated before reduce-on-plateau acts.</summary>
    public int PlateauPatience { get; init; }

    /// <summary>Floor of reduce-on-plateau, and the rate the cosine schedule ends at.</summary>
    public float MinimumLearningRate { get; init; }

    /// <summary>
    /// Stop after this many epochs without a better validation loss and restore the weights of the best epoch; 0 turns it
    /// off (the model then keeps the last weights).
    /// </summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>
    /// Stop training once this much time has passed (checked after every chunk); the epoch in progress is then validated
    /// and reported as the last one. Null: no limit.
    /// </summary>
    public TimeSpan? MaxTrainingTime { get; init; }

    /// <summary>
    /// The clock <see cref="MaxTrainingTime"/>, the time share of the cosine schedule and the reported elapsed time are read
    /// from. Leave it <see cref="TimeProvider.System"/>; a test gives a fake clock it advances itself, so the limit's effect is exact.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Start every epoch's streams at a random offset in [0, k), so chunk boundaries fall elsewhere each epoch.</summary>
    public bool RandomOffsets { get; init; } = true;

    /// <summary>
    /// Most streams of the per-epoch validation, each at least 1,000 tokens long: each starts from the initial state, so more
    /// streams are faster but score a little worse than <see cref="LanguageModel.Evaluate(string, bool, int)"/> with one stream.
    /// </summary>
    public int ValidationStreams { get; init; } = 32;

    /// <summary>Seed of the offsets (initialisation and dropout take the model's seed).</summary>
    public int Seed { get; init; }

    /// <summary>Receives per-epoch progress; nothing is logged when null.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// Throws an <see cref="ArgumentOutOfRangeException"/> (or <see cref="ArgumentException"/>) naming the first invalid
    /// option; <paramref name="hasValidationData"/> tells whether options that need validation data may be set.
    /// </summary>
    public void Validate(bool hasValidationData)
    {
        Check(Epochs >= 1, nameof(Epochs), Epochs, "at least 1");
        Check(Streams >= 1, nameof(Streams), Streams, "at least 1");
        Check(ChunkSteps >= 1, nameof(ChunkSteps), ChunkSteps, "at least 1");
        Check(LearningRate > 0 && float.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "a positive finite number");
        Check(Enum.IsDefined(Optimizer), nameof(Optimizer), Optimizer, "Sgd, Adam, AdamW or RmsProp");
        Check(Momentum >= 0 && Momentum < 1, nameof(Momentum), Momentum, "in [0, 1)");
        Check(Beta1 >= 0 && Beta1 < 1, nameof(Beta1), Beta1, "in [0, 1)");
        Check(Beta2 >= 0 && Beta2 < 1, nameof(Beta2), Beta2, "in [0, 1)");
        Check(WeightDecay >= 0 && float.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "≥ 0");
        Check(Schedule is ScheduleKind.Constant or ScheduleKind.Cosine, nameof(Schedule), Schedule, "Constant or Cosine");
        Check(GradientClipNorm >= 0 && float.IsFinite(GradientClipNorm), nameof(GradientClipNorm), GradientClipNorm, "≥ 0 (0 = off)");
        Check(PlateauFactor > 0 && PlateauFactor < 1, nameof(PlateauFactor), PlateauFactor, "in (0, 1)");
        Check(PlateauPatience >= 0, nameof(PlateauPatience), PlateauPatience, "≥ 0");
        Check(MinimumLearningRate >= 0 && MinimumLearningRate <= LearningRate, nameof(MinimumLearningRate), MinimumLearningRate,
            $"in [0, LearningRate = {LearningRate}]");
        Check(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), EarlyStoppingPatience, "≥ 0 (0 = off)");
        Check(MaxTrainingTime is null || MaxTrainingTime > TimeSpan.Zero, nameof(MaxTrainingTime), MaxTrainingTime!, "positive, or null for no limit");
        ArgumentNullException.ThrowIfNull(TimeProvider);
        Check(ValidationStreams >= 1, nameof(ValidationStreams), ValidationStreams, "at least 1");
        if (!hasValidationData && EarlyStoppingPatience > 0)
            throw new ArgumentException($"EarlyStoppingPatience is {EarlyStoppingPatience} but no validation data was given; pass validation data or set it to 0.",
                nameof(EarlyStoppingPatience));
        if (!hasValidationData && ReduceOnPlateau)
            throw new ArgumentException("ReduceOnPlateau needs validation data; pass it or turn ReduceOnPlateau off.", nameof(ReduceOnPlateau));
    }

    private static void Check(bool valid, string name, object value, string range)
    {
        if (!valid) throw new ArgumentOutOfRangeException(name, value, $"{name} is {value}; it must be {range}.");
    }
}
