using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// Language modeling as the <see cref="TrainingLoop"/> sees it: truncated BPTT over a long text. Every epoch cuts the
/// training sequence into B streams (<see cref="TokenStreams"/>, at a random offset when shuffling) and reads them k steps at
/// a time; each chunk runs forward from the state the previous chunk ended in and backpropagates through its own k steps.
/// Validation: bits per token over up to <see cref="LanguageModelTrainingOptions.ValidationStreams"/> streams.
/// </summary>
/// <remarks>
/// Why streams rather than <c>IRecurrentNetwork.BackpropagateTruncated</c> over the whole text: the latter needs the embedded
/// input of every step up front (<c>[N, B, E]</c>, hundreds of MB for a book) and gives no gradient for its input, so the
/// embedding would not learn; with streams, memory is one chunk, every chunk is one batched GEMM per step over B streams,
/// and the time budget and cancellation are checked between chunks.
/// </remarks>
internal sealed class LanguageModelTask : ITrainingTask
{
    /// <summary>Fewest tokens per validation stream, so the cold start of each stream barely moves the score.</summary>
    public const int MinimumValidationStreamLength = 1000;

    private readonly SequenceModel _model;
    private readonly Vocabulary _vocabulary;
    private readonly StreamingLogits _logits;
    private readonly ITokenSource _training;
    private readonly ITokenSource? _validation;
    private readonly int _streams, _chunkSteps, _validationStreams;
    private readonly int[] _inputs, _targets;
    private readonly float[] _weights, _gradient;
    private TokenStreams? _epochStreams;

    public LanguageModelTask(SequenceModel model, Vocabulary vocabulary, StreamingLogits logits, ITokenSource training, ITokenSource? validation,
        LanguageModelTrainingOptions options)
    {
        _model = model;
        _vocabulary = vocabulary;
        _logits = logits;
        _training = training;
        _validation = validation;
        _streams = options.Training.BatchSize;
        _chunkSteps = options.ChunkSteps;
        _validationStreams = options.ValidationStreams;
        int capacity = (int)Math.Min(_chunkSteps, training.Count) * (int)Math.Min(_streams, training.Count);
        _inputs = new int[capacity];
        _targets = new int[capacity];
        _weights = new float[capacity];
        _gradient = new float[capacity * model.OutputSize];
        StepsPerEpoch = Chunks(new TokenStreams(training, 0, _streams, vocabulary.StartId).StreamLength);
    }

    public ParameterSet Parameters => _model.Parameters;

    public string MetricName => "bits per token";

    public string ExampleName => "tokens";

    public bool HasValidation => _validation is not null;

    public int StepsPerEpoch { get; }

    public int BeginEpoch(int epoch, Random? random)
    {
        _model.ReseedDropout(TrainingLoop.Mix(_model.Options.Seed, epoch));
        _logits.ReseedDropout(TrainingLoop.Mix(_model.Options.Seed, -epoch));
        int offset = random?.Next((int)Math.Min(_chunkSteps, _training.Count - 1)) ?? 0;
        _epochStreams = new TokenStreams(_training, offset, _streams, _vocabulary.StartId);
        _logits.Reset(_epochStreams.Streams);
        return Chunks(_epochStreams.StreamLength);
    }

    public (double Loss, double Weight, long Examples) Step(int step)
    {
        var streams = _epochStreams!;
        long start = (long)step * _chunkSteps;
        int steps = (int)Math.Min(_chunkSteps, streams.StreamLength - start), rows = steps * streams.Streams;
        int V = _model.OutputSize;
        streams.Fill(start, steps, _inputs, _targets, _weights);
        ReadOnlySpan<float> z = _logits.Forward(_inputs.AsSpan(0, rows), steps, training: true);
        var (loss, weight) = NextTokenLoss.Compute(z, _targets.AsSpan(0, rows), _weights.AsSpan(0, rows), V, _gradient.AsSpan(0, rows * V), default);
        double mean = weight > 0 ? loss / weight : 0;
        if (!double.IsFinite(mean)) return (double.NaN, weight, (long)weight);
        _logits.Backward(_gradient.AsSpan(0, rows * V));
        return (mean, weight, (long)weight);
    }

    public (double Loss, double? Metric) Evaluate()
    {
        var validation = _validation!;
        int streams = (int)Math.Clamp((validation.Count - 1) / MinimumValidationStreamLength, 1, _validationStreams);
        var metrics = LikelihoodScorer.Score(_logits, validation, streams, _vocabulary);
        return (metrics.CrossEntropy, metrics.BitsPerToken);
    }

    private int Chunks(long streamLength)
    {
        long chunks = (streamLength + _chunkSteps - 1) / _chunkSteps;
        return chunks <= int.MaxValue ? (int)chunks
            : throw new ArgumentException($"Each of the {_streams} streams is {streamLength} tokens long: {chunks} chunks of {_chunkSteps} steps, more than an epoch can count; raise BatchSize or ChunkSteps.");
    }
}
