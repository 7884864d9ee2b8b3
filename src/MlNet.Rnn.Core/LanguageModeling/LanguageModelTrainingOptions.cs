using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// How <see cref="LanguageModel.Train(IReadOnlyList{int[]}, IReadOnlyList{int[]}?, LanguageModelTrainingOptions, CancellationToken)"/>
/// trains: the text is read as B parallel streams (<see cref="TrainerOptions.BatchSize"/> of <see cref="Training"/>) in
/// chunks of k steps (<see cref="ChunkSteps"/>), the state carried from chunk to chunk, one optimizer step per chunk, through
/// the same <see cref="TrainingLoop"/> as every task (so every option of <see cref="Training"/> applies, with the meanings
/// its documentation gives for a language model). <see cref="Validate"/> names the first invalid option and its range.
/// </summary>
public sealed record LanguageModelTrainingOptions
{
    /// <summary>
    /// Epochs, optimizer, schedule, clipping, early stopping, checkpoints, time budget, logging and the seed of the stream
    /// offsets. <see cref="TrainerOptions.BatchSize"/> is B, the contiguous pieces of the text read side by side;
    /// <see cref="TrainerOptions.Shuffle"/> starts every epoch's streams at a random offset in [0, k), so chunk boundaries
    /// fall elsewhere each epoch; <see cref="TrainerOptions.BucketByLength"/> does not apply. Defaults: learning rate 2·10⁻³,
    /// reduce-on-plateau patience 0, the rest as <see cref="TrainerOptions"/>.
    /// </summary>
    public TrainerOptions Training { get; init; } = DefaultTraining;

    /// <summary>The defaults of <see cref="Training"/> for a language model, to change with <c>with { … }</c>.</summary>
    public static TrainerOptions DefaultTraining => new() { LearningRate = 2e-3f, PlateauPatience = 0 };

    /// <summary>k: steps per chunk; gradients flow back at most k steps, the state flows forward through the whole text.</summary>
    public int ChunkSteps { get; init; } = 64;

    /// <summary>
    /// Most streams of the per-epoch validation, each at least 1,000 tokens long: each starts from the initial state, so more
    /// streams are faster but score a little worse than <see cref="LanguageModel.Evaluate(string, bool, int)"/> with one stream.
    /// </summary>
    public int ValidationStreams { get; init; } = 32;

    /// <summary>
    /// Throws an <see cref="ArgumentOutOfRangeException"/> (or <see cref="ArgumentException"/>) naming the first invalid
    /// option; <paramref name="hasValidationData"/> tells whether options that need validation data may be set.
    /// </summary>
    public void Validate(bool hasValidationData)
    {
        ArgumentNullException.ThrowIfNull(Training, nameof(Training));
        Training.Validate(hasValidationData);
        if (ChunkSteps < 1) throw new ArgumentOutOfRangeException(nameof(ChunkSteps), ChunkSteps, $"ChunkSteps is {ChunkSteps}; it must be at least 1.");
        if (ValidationStreams < 1)
            throw new ArgumentOutOfRangeException(nameof(ValidationStreams), ValidationStreams, $"ValidationStreams is {ValidationStreams}; it must be at least 1.");
    }
}
