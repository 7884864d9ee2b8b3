using System.Diagnostics.CodeAnalysis;

namespace MlNet.Rnn.Core.Data;

/// <summary>
/// One epoch's batches over an <see cref="ISequenceSource"/>. A source of one part (a <see cref="SequenceDataset"/>) is
/// planned as <see cref="BatchPlanner"/> plans it. A source of many parts is read in windows of up to
/// <see cref="PartsPerWindow"/> parts, drawn in a random order from the whole source, so each window mixes rows from all over
/// it; each window's examples are shuffled and bucketed together, and the examples of its last, partial batch carry over to
/// the next window, so at most one batch of the epoch, in its last window, is partial. Memory: one window, however large the source.
/// </summary>
public sealed class SequenceEpoch
{
    /// <summary>Parts read and mixed together.</summary>
    public const int PartsPerWindow = 16;

    private readonly ISequenceSource _source;
    private readonly int _batchSize;
    private readonly bool _bucketByLength;
    private readonly Func<SequenceDataset, int, long>? _bucketKey;
    private readonly SequenceDataset _part, _window, _carry;
    private int[] _order = [];
    private int _next, _batch;
    private int[][] _batches = [];
    private SequenceDataset? _current;
    private Random? _random;

    /// <summary>
    /// An epoch plan for <paramref name="source"/> in batches of <paramref name="batchSize"/>; when bucketing, examples are sorted by
    /// <paramref name="bucketKey"/> (their length when null), as <see cref="BatchPlanner.Plan"/> sorts them.
    /// </summary>
    public SequenceEpoch(ISequenceSource source, int batchSize, bool bucketByLength, Func<SequenceDataset, int, long>? bucketKey = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        _source = source;
        _batchSize = batchSize;
        _bucketByLength = bucketByLength;
        _bucketKey = bucketKey;
        _part = new SequenceDataset(source.FeaturesPerStep, source.TargetWidth, source.PerStepTargets);
        _window = new SequenceDataset(source.FeaturesPerStep, source.TargetWidth, source.PerStepTargets);
        _carry = new SequenceDataset(source.FeaturesPerStep, source.TargetWidth, source.PerStepTargets);
        BatchCount = (int)Math.Min(int.MaxValue, (source.ExampleCount + batchSize - 1) / batchSize);
    }

    /// <summary>Batches in an epoch: ⌈examples / batch size⌉.</summary>
    public int BatchCount { get; }

    /// <summary>Starts an epoch: parts (and examples) drawn from <paramref name="random"/>, or in order when it is null.</summary>
    public void Begin(Random? random)
    {
        _random = random;
        int parts = _source.PartCount;
        if (_order.Length != parts) _order = [.. Enumerable.Range(0, parts)];
        for (int p = 0; p < parts; p++) _order[p] = p;
        if (parts > 1) random?.Shuffle(_order);
        _next = 0;
        _carry.Clear();
        _batches = [];
        _batch = 0;
    }

    /// <summary>Fills <paramref name="batch"/> with the epoch's next batch; false after the last.</summary>
    public bool Next(SequenceBatch batch)
    {
        if (!Next(out var examples, out int[] indices)) return false;
        examples.Fill(indices, batch);
        return true;
    }

    /// <summary>
    /// The epoch's next batch as the <paramref name="indices"/> of its examples in <paramref name="examples"/> (valid until the next
    /// call), for a task that fills its own kind of batch; false after the last.
    /// </summary>
    public bool Next([NotNullWhen(true)] out SequenceDataset? examples, out int[] indices)
    {
        while (_batch == _batches.Length)
        {
            if (NextWindow()) continue;
            examples = null;
            indices = [];
            return false;
        }
        examples = _current!;
        indices = _batches[_batch++];
        return true;
    }

    private bool NextWindow()
    {
        if (_next == _order.Length) return false;
        _batch = 0;
        if (_order.Length == 1)
        {
            _current = _source.ReadPart(_order[_next++], _part);
            _batches = BatchPlanner.Plan(_current, _batchSize, _random, _bucketByLength, _bucketKey);
            return true;
        }
        _window.Clear();
        _window.AddAll(_carry);
        _carry.Clear();
        for (int read = 0; read < PartsPerWindow && _next < _order.Length; read++) _window.AddAll(_source.ReadPart(_order[_next++], _part));
        _current = _window;
        _batches = _window.Count == 0 ? [] : BatchPlanner.Plan(_window, _batchSize, _random, _bucketByLength, _bucketKey);
        int partial = Array.FindIndex(_batches, batch => batch.Length < _batchSize);
        if (_next < _order.Length && partial >= 0)
        {
            foreach (int index in _batches[partial]) _carry.AddFrom(_window, index);
            _batches = [.. _batches.Where((_, b) => b != partial)];
        }
        return true;
    }
}
