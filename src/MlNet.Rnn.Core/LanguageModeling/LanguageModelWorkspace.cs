using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Layers;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// One caller's scratch for scoring documents with a shared <see cref="LanguageModel"/> (<see cref="LanguageModel.CreateWorkspace"/>),
/// as <see cref="LanguageModel.Evaluate(ReadOnlySpan{int}, bool, int)"/> scores one with <c>scoreEnd: true</c>, bit for bit, but many
/// side by side. <see cref="Add"/> stages a document in a <see cref="SequenceDataset"/> (inputs <c>start x_1 … x_n</c>, per-step targets
/// <c>x_1 … x_n end</c>); <see cref="Score"/> reads every staged document as one batch of streams, in chunks of
/// <see cref="LikelihoodScorer.ChunkSteps"/> steps with the state carried (a document that has ended passes its state through), and
/// keeps each document's <c>Σ ln p</c>. The model stays read-only and is never copied. Not thread-safe: one per thread or cursor.
/// </summary>
public sealed class LanguageModelWorkspace
{
    private readonly RecurrentNetworkWorkspace _network;
    private readonly SequenceDataset _documents = new(featuresPerStep: 0, targetWidth: 1, perStepTargets: true);
    private readonly SequenceBatch _batch = new();
    private readonly float[][] _hidden = [[], []], _cell = [[], []];
    private int[] _indices = [], _inputs = [], _chunkLengths = [];
    private float[] _targets = [], _embedded = [], _recurrent = [], _alive = [], _logits = [], _scratch = [];
    private double[] _negativeLogLikelihood = [];
    private int[] _tokenCounts = [];
    private int _scored;

    internal LanguageModelWorkspace(LanguageModel model, int maxDegreeOfParallelism, InferencePrecision precision = InferencePrecision.Float32)
    {
        Model = model;
        _network = model.Model.Network.CreateWorkspace(maxDegreeOfParallelism, precision);
    }

    /// <summary>The model this workspace scores with.</summary>
    public LanguageModel Model { get; }

    /// <summary>
    /// Most logits one head call writes (default 4 MB of floats): a chunk of 256 documents × 256 steps × V would not fit, so the
    /// head runs over blocks of rows.
    /// </summary>
    internal int MaxLogits { get; set; } = 1 << 20;

    /// <summary>Documents staged since the last <see cref="Clear"/>.</summary>
    public int Count => _documents.Count;

    /// <summary>Ids staged (each document's length + 1), to bound a batch's memory.</summary>
    public long StagedIds => _documents.ValueCount;

    /// <summary>Stages a document of ids in [0, V) (without start and end; it may be empty).</summary>
    /// <exception cref="ArgumentException">An id is outside the vocabulary (the message names its position).</exception>
    public void Add(ReadOnlySpan<int> ids)
    {
        int V = Model.Vocabulary.Count, n = ids.Length;
        TokenSequence.CheckIds(ids, V, $"document {Count}", nameof(ids));
        Grow(ref _inputs, n + 1);
        Grow(ref _targets, n + 1);
        int startId = Model.Vocabulary.StartId;
        _inputs[0] = startId;
        ids.CopyTo(_inputs.AsSpan(1));
        int predicted = 1; // the end token
        for (int t = 0; t < n; t++)
        {
            _targets[t] = ids[t];
            if (ids[t] != startId) predicted++;
        }
        _targets[n] = Model.Vocabulary.EndId;
        if (_tokenCounts.Length <= Count) Array.Resize(ref _tokenCounts, Math.Max(Count + 1, 2 * _tokenCounts.Length));
        _tokenCounts[Count] = predicted;
        _documents.AddTokens(_inputs.AsSpan(0, n + 1), _targets.AsSpan(0, n + 1));
    }

    /// <summary>Empties the staging area.</summary>
    public void Clear()
    {
        _documents.Clear();
        _scored = 0;
    }

    /// <summary>Scores every staged document.</summary>
    public void Score()
    {
        int B = _documents.Count;
        _scored = B;
        if (B == 0) return;
        var model = Model.Model;
        var network = model.Network;
        int V = model.OutputSize, E = model.Options.EmbeddingSize, H = model.Options.HiddenSize, stateLength = network.StateCount * B * H;
        bool hasCell = network.HasCellState;
        Grow(ref _indices, B);
        for (int b = 0; b < B; b++) _indices[b] = b;
        _documents.Fill(_indices.AsSpan(0, B), _batch);
        int T = _batch.Steps;
        ReadOnlySpan<int> lengths = _batch.Lengths, ids = _batch.Ids;
        ReadOnlySpan<float> targets = _batch.Targets;
        Grow(ref _negativeLogLikelihood, B);
        _negativeLogLikelihood.AsSpan(0, B).Clear();
        Grow(ref _chunkLengths, B);
        Grow(ref _scratch, V);
        for (int i = 0; i < 2; i++)
        {
            Grow(ref _hidden[i], stateLength);
            if (hasCell) Grow(ref _cell[i], stateLength);
        }
        int startId = Model.Vocabulary.StartId;
        Span<int> target = stackalloc int[1];
        Span<float> weight = stackalloc float[1];
        int current = 0;
        for (int first = 0; first < T; first += LikelihoodScorer.ChunkSteps)
        {
            int k = Math.Min(LikelihoodScorer.ChunkSteps, T - first), rows = k * B, alive = 0;
            for (int b = 0; b < B; b++)
            {
                _chunkLengths[b] = Math.Clamp(lengths[b] - first, 0, k);
                alive += _chunkLengths[b];
            }
            Grow(ref _embedded, rows * E);
            model.Embedding!.Forward(ids.Slice(first * B, rows), _embedded);
            Grow(ref _recurrent, rows * H);
            int next = 1 - current;
            network.Forward(_network, _embedded.AsSpan(0, rows * E), B, _chunkLengths.AsSpan(0, B), _recurrent.AsSpan(0, rows * H),
                _hidden[next].AsSpan(0, stateLength), hasCell ? _cell[next].AsSpan(0, stateLength) : default,
                first == 0 ? default : _hidden[current].AsSpan(0, stateLength), first == 0 || !hasCell ? default : _cell[current].AsSpan(0, stateLength));
            current = next;

            // The head reads the real steps only, document after document (each in step order), at most a block of rows at a time
            // so the logits stay small whatever the batch. A document's terms are summed in step order within the chunk, then the
            // chunk's total joins the document's, as LikelihoodScorer sums one stream.
            int blockRows = Math.Max(1, MaxLogits / V), gathered = 0, document = 0, step = 0;
            Grow(ref _alive, Math.Min(alive, blockRows) * H);
            Grow(ref _logits, Math.Min(alive, blockRows) * V);
            double chunk = 0;
            while (gathered < alive)
            {
                int count = Math.Min(blockRows, alive - gathered);
                for (int r = 0, d = document, s = step; r < count; r++, s++)
                {
                    while (s >= _chunkLengths[d]) (d, s) = (d + 1, 0);
                    _recurrent.AsSpan((s * B + d) * H, H).CopyTo(_alive.AsSpan(r * H, H));
                }
                model.Head.Forward(_alive, count, _logits);
                for (int r = 0; r < count; r++, step++)
                {
                    while (step >= _chunkLengths[document])
                    {
                        _negativeLogLikelihood[document] += chunk;
                        (chunk, document, step) = (0, document + 1, 0);
                    }
                    // A start id is only ever read: as a target it weighs 0 (TokenStreams), and is not counted.
                    target[0] = (int)targets[(first + step) * B + document];
                    weight[0] = target[0] == startId ? 0f : 1f;
                    chunk += NextTokenLoss.Compute(_logits.AsSpan(r * V, V), target, weight, V, default, _scratch).NegativeLogLikelihood;
                }
                gathered += count;
            }
            if (alive > 0) _negativeLogLikelihood[document] += chunk;
        }
    }

    /// <summary>
    /// Document <paramref name="document"/>'s log-likelihood and scored token count: its length + 1 for the end token, less the
    /// start ids in it (which, as in <see cref="LanguageModel.Evaluate(ReadOnlySpan{int}, bool, int)"/>, are never predicted).
    /// </summary>
    public LanguageModelMetrics Metrics(int document)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(document);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(document, _scored);
        return new LanguageModelMetrics(-_negativeLogLikelihood[document], _tokenCounts[document]);
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[Math.Max(length, 2 * buffer.Length)];
    }
}
