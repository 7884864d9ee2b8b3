using System.Globalization;
using System.Numerics.Tensors;
using MlNet.Rnn.Core.Kernels;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tagging;

/// <summary>
/// Many-to-many aligned tagging: a <see cref="SequenceModel"/> with <see cref="SequenceReadout.EveryStep"/> whose head gives
/// C logits per step, <c>z[T, B, C]</c>; the tag of step t is <c>argmax_c z[t, c]</c> and its scores <c>softmax(z[t])</c>.
/// Trained with <see cref="SoftmaxCrossEntropy"/> over every real step (padded steps weigh 0).
/// </summary>
/// <remarks>
/// Inputs are token ids (<c>VocabularySize &gt; 0</c>, 0 = unknown) or numeric steps. Not thread-safe: the model and the
/// tagger reuse their buffers; give each thread its own tagger (<see cref="Load(Stream, string?)"/> a saved one).
/// </remarks>
public sealed class SequenceTagger
{
    private const int PredictionBatchSize = 256;
    private readonly SequenceBatch _batch = new();
    private float[] _logits = [];

    /// <summary>Builds an untrained tagger of the given shape.</summary>
    public SequenceTagger(SequenceModelOptions options) : this(new SequenceModel(options)) { }

    /// <summary>Wraps a model built for tagging (<see cref="SequenceReadout.EveryStep"/>, one logit per tag).</summary>
    public SequenceTagger(SequenceModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (NotATagger(model) is { } reason) throw new ArgumentException(reason, nameof(model));
        Model = model;
    }

    /// <summary>Why <paramref name="model"/> cannot tag; null when it can.</summary>
    private static string? NotATagger(SequenceModel model) => model.Options.Readout == SequenceReadout.EveryStep ? null
        : $"A tagger needs Readout = EveryStep (one output per step); the model has {model.Options.Readout}.";

    /// <summary>
    /// The default shape of a tagger: a bidirectional one-layer LSTM reading every step, C = <paramref name="tagCount"/>
    /// outputs; token inputs when <paramref name="vocabularySize"/> &gt; 0, else <paramref name="featuresPerStep"/> floats per step.
    /// Change the rest with <c>with { … }</c>.
    /// </summary>
    public static SequenceModelOptions DefaultOptions(int tagCount, int vocabularySize = 0, int featuresPerStep = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tagCount);
        return new SequenceModelOptions
        {
            Cell = RecurrentCellType.Lstm, VocabularySize = vocabularySize, FeaturesPerStep = featuresPerStep, OutputSize = tagCount,
            Readout = SequenceReadout.EveryStep, Bidirectional = true,
        };
    }

    /// <summary>The model.</summary>
    public SequenceModel Model { get; }

    /// <summary>C: the number of tags.</summary>
    public int TagCount => Model.OutputSize;

    /// <summary>Whether inputs are token ids.</summary>
    public bool Tokens => Model.Options.VocabularySize > 0;

    /// <summary>
    /// Trains the tagger on a data set from <see cref="TaggedSequences"/> with softmax cross-entropy over every step;
    /// <paramref name="validation"/> serves for early stopping and the per-epoch report (token accuracy).
    /// </summary>
    public TrainingHistory Train(SequenceDataset training, SequenceDataset? validation, TrainerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(options);
        CheckData(training, nameof(training), "The training data");
        if (validation is not null) CheckData(validation, nameof(validation), "The validation data");
        var trainer = new SequenceTrainer(Model, new SoftmaxCrossEntropy(), options);
        return trainer.Train(training, validation, cancellationToken);
    }

    /// <summary>The tag of every token.</summary>
    public int[] Predict(ReadOnlySpan<int> tokens)
    {
        var tags = new int[tokens.Length];
        Predict(tokens, tags, default);
        return tags;
    }

    /// <summary>The tag of every step of a numeric sequence (<c>T·I</c> floats, step-major).</summary>
    public int[] Predict(ReadOnlySpan<float> steps)
    {
        var tags = new int[StepCount(steps)];
        Predict(steps, tags, default);
        return tags;
    }

    /// <summary>
    /// Writes the tag of every token into <paramref name="tags"/> <c>[T]</c> and, unless empty, the softmax probabilities
    /// of every tag into <paramref name="probabilities"/> <c>[T, C]</c>.
    /// </summary>
    public void Predict(ReadOnlySpan<int> tokens, Span<int> tags, Span<float> probabilities)
    {
        if (!Tokens) throw new InvalidOperationException("This tagger reads numeric steps (VocabularySize is 0); pass floats, not token ids.");
        if (tokens.IsEmpty) throw new ArgumentException("The sequence has no token; a tagger needs at least one step.", nameof(tokens));
        int vocabulary = Model.Options.VocabularySize;
        for (int t = 0; t < tokens.Length; t++)
            if ((uint)tokens[t] >= (uint)vocabulary)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Token {t} has id {tokens[t]}, outside the vocabulary [0, {vocabulary}); map unseen tokens to 0."), nameof(tokens));
        int T = tokens.Length;
        CheckOutputs(T, tags, probabilities);
        _batch.Reset(1, T, 0, 1, perStepTargets: true);
        tokens.CopyTo(_batch.Ids);
        _batch.Lengths[0] = T;
        Run(tags, probabilities);
    }

    /// <summary>As <see cref="Predict(ReadOnlySpan{int}, Span{int}, Span{float})"/> for a numeric sequence (<c>T·I</c> floats).</summary>
    public void Predict(ReadOnlySpan<float> steps, Span<int> tags, Span<float> probabilities)
    {
        int T = StepCount(steps);
        for (int i = 0; i < steps.Length; i++)
            if (!float.IsFinite(steps[i]))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Step {i / Model.Options.FeaturesPerStep}, feature {i % Model.Options.FeaturesPerStep} is {steps[i]}; features must be finite."), nameof(steps));
        CheckOutputs(T, tags, probabilities);
        _batch.Reset(1, T, Model.Options.FeaturesPerStep, 1, perStepTargets: true);
        steps.CopyTo(_batch.Input);
        _batch.Lengths[0] = T;
        Run(tags, probabilities);
    }

    /// <summary>
    /// The predicted tags of every example of <paramref name="data"/>, in order, computed in batches of similar lengths (little
    /// padding); each example's tags are those it gets alone.
    /// </summary>
    public int[][] Predict(SequenceDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckData(data, nameof(data), "The data");
        var result = new int[data.Count][];
        int C = TagCount;
        foreach (int[] indices in BatchPlanner.Plan(data, PredictionBatchSize, random: null, bucketByLength: true))
        {
            data.Fill(indices, _batch);
            int B = _batch.BatchSize;
            ReadOnlySpan<float> logits = Forward();
            for (int b = 0; b < B; b++)
            {
                var tags = result[indices[b]] = new int[_batch.Lengths[b]];
                for (int t = 0; t < tags.Length; t++) tags[t] = TensorPrimitives.IndexOfMax(logits.Slice((t * B + b) * C, C));
            }
        }
        return result;
    }

    /// <summary>
    /// Token accuracy, per-tag precision/recall/F1 and, when <paramref name="tagNames"/> are BIO tags, entity-level scores of
    /// the tagger on <paramref name="data"/> (see <see cref="TaggingMetrics.Compute(IReadOnlyList{int[]}, IReadOnlyList{int[]}, IReadOnlyList{string}, IEnumerable{string}?)"/>).
    /// </summary>
    public TaggingMetrics Evaluate(SequenceDataset data, IReadOnlyList<string>? tagNames = null, IEnumerable<string>? ignoredTags = null)
    {
        int[][] predicted = Predict(data);
        var gold = new int[data.Count][];
        for (int i = 0; i < gold.Length; i++) gold[i] = TaggedSequences.TagsOf(data, i);
        return TaggingMetrics.Compute(gold, predicted, tagNames ?? TaggingMetrics.IndexNames(TagCount), ignoredTags);
    }

    /// <summary>Writes the model (options and weights) to a model file (<see cref="SequenceModelFile"/>).</summary>
    public void Save(string path) => SequenceModelFile.Save(Model, path);

    /// <summary>Writes the model to a stream.</summary>
    public void Save(Stream stream) => SequenceModelFile.Save(Model, stream);

    /// <summary>Reads a tagger written by <see cref="Save(string)"/>.</summary>
    /// <exception cref="InvalidDataException">The file is damaged, or holds a model that is not a tagger.</exception>
    public static SequenceTagger Load(string path) => FromModel(SequenceModelFile.Load(path), path);

    /// <summary>Reads a tagger from a stream.</summary>
    public static SequenceTagger Load(Stream stream, string? source = null) => FromModel(SequenceModelFile.Load(stream, source), source);

    private static SequenceTagger FromModel(SequenceModel model, string? source) => NotATagger(model) is { } reason
        ? throw new InvalidDataException($"{source ?? "The model file"}: the model is not a tagger: {reason}")
        : new SequenceTagger(model);

    private void Run(Span<int> tags, Span<float> probabilities)
    {
        int T = _batch.Steps, C = TagCount;
        ReadOnlySpan<float> logits = Forward();
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<float> z = logits.Slice(t * C, C);
            tags[t] = TensorPrimitives.IndexOfMax(z);
            if (!probabilities.IsEmpty) Reductions.SoftMax(z, probabilities.Slice(t * C, C));
        }
    }

    private ReadOnlySpan<float> Forward()
    {
        int length = Model.OutputRows(_batch) * TagCount;
        if (_logits.Length < length) _logits = new float[length];
        Span<float> logits = _logits.AsSpan(0, length);
        Model.Forward(_batch, logits, training: false);
        return logits;
    }

    private int StepCount(ReadOnlySpan<float> steps)
    {
        if (Tokens) throw new InvalidOperationException("This tagger reads token ids (VocabularySize > 0); pass ids, not floats.");
        int features = Model.Options.FeaturesPerStep;
        if (steps.IsEmpty) throw new ArgumentException("The sequence has no step; a tagger needs at least one.", nameof(steps));
        if (steps.Length % features != 0)
            throw new ArgumentException($"The sequence has {steps.Length} values, which is not a multiple of {features} features per step.", nameof(steps));
        return steps.Length / features;
    }

    private void CheckOutputs(int steps, Span<int> tags, Span<float> probabilities)
    {
        if (tags.Length < steps) throw new ArgumentException($"tags holds {tags.Length} values but the sequence has {steps} steps.", nameof(tags));
        if (!probabilities.IsEmpty && probabilities.Length < steps * TagCount)
            throw new ArgumentException($"probabilities holds {probabilities.Length} floats but T·C = {steps}·{TagCount} are needed.", nameof(probabilities));
    }

    /// <summary>Refuses data that is not tagged sequences of the tagger's input kind; <paramref name="what"/> names it in the message ("The training data").</summary>
    private void CheckData(SequenceDataset data, string name, string what)
    {
        if (!data.PerStepTargets || data.TargetWidth != 1)
            throw new ArgumentException($"{what} is not a tagging data set (per-step targets of width 1); build it with TaggedSequences.", name);
        if (data.Tokens != Tokens)
            throw new ArgumentException(data.Tokens
                ? $"{what} holds token sequences but the tagger reads numeric steps."
                : $"{what} holds numeric sequences but the tagger reads token ids.", name);
    }
}
