namespace MlNet.Rnn.Core.Layers;

/// <summary>
/// How a batch of variable-length sequences is packed: sequences sorted by length (longest first), and the rows
/// of time step t stored contiguously as <c>[Offsets[t], Offsets[t] + BatchSizes[t])</c>, as in PyTorch's
/// <c>PackedSequence</c>. The sequences alive at step t are always the first <c>BatchSizes[t]</c> sorted ones,
/// so a step computes only real rows and the cost follows the real steps, not the padded ones.
/// </summary>
public sealed class SequenceLayout
{
    private int[] _sortedLengths = [];
    private int[] _order = [];
    private int[] _batchSizes = [];
    private int[] _offsets = [0];

    /// <summary>B: number of sequences.</summary>
    public int BatchSize { get; private set; }

    /// <summary>T: the longest length, i.e. the padded step count.</summary>
    public int Steps { get; private set; }

    /// <summary>N: total real steps, the number of packed rows.</summary>
    public int TotalRows { get; private set; }

    /// <summary>Lengths in sorted (descending) order.</summary>
    public ReadOnlySpan<int> SortedLengths => _sortedLengths.AsSpan(0, BatchSize);

    /// <summary><c>Order[s]</c> is the caller's batch index of sorted sequence s.</summary>
    public ReadOnlySpan<int> Order => _order.AsSpan(0, BatchSize);

    /// <summary>Sequences alive at each step, non-increasing.</summary>
    public ReadOnlySpan<int> BatchSizes => _batchSizes.AsSpan(0, Steps);

    /// <summary>First packed row of each step; <c>Offsets[Steps] == TotalRows</c>.</summary>
    public ReadOnlySpan<int> Offsets => _offsets.AsSpan(0, Steps + 1);

    /// <summary>
    /// Lays out sequences of the given lengths (caller order). With <paramref name="allowEmpty"/> a length of 0
    /// is kept (the sequence's final state is its initial state), as truncated BPTT needs for finished sequences.
    /// </summary>
    public void Update(ReadOnlySpan<int> lengths, int maxSteps, bool allowEmpty = false)
    {
        int batch = lengths.Length;
        if (batch == 0) throw new ArgumentException("The batch holds no sequence; give at least one.", nameof(lengths));
        for (int b = 0; b < batch; b++)
        {
            int length = lengths[b];
            if (length > maxSteps || length < (allowEmpty ? 0 : 1))
                throw new ArgumentOutOfRangeException(nameof(lengths),
                    $"lengths[{b}] = {length}, but every length must be in [{(allowEmpty ? 0 : 1)}, {maxSteps}] (the padded step count).");
        }

        EnsureCapacity(ref _sortedLengths, batch);
        EnsureCapacity(ref _order, batch);
        for (int b = 0; b < batch; b++) _order[b] = b;
        // Stable insertion sort by descending length: batches are small, and a stable order keeps equal-length
        // batches in the caller's order (then packing is a plain copy).
        for (int i = 1; i < batch; i++)
        {
            int index = _order[i], length = lengths[index], j = i - 1;
            while (j >= 0 && lengths[_order[j]] < length) { _order[j + 1] = _order[j]; j--; }
            _order[j + 1] = index;
        }
        for (int s = 0; s < batch; s++) _sortedLengths[s] = lengths[_order[s]];

        int steps = _sortedLengths[0];
        EnsureCapacity(ref _batchSizes, steps);
        EnsureCapacity(ref _offsets, steps + 1);
        int alive = batch, offset = 0;
        for (int t = 0; t < steps; t++)
        {
            while (alive > 0 && _sortedLengths[alive - 1] <= t) alive--;
            _batchSizes[t] = alive;
            _offsets[t] = offset;
            offset += alive;
        }
        _offsets[steps] = offset;
        BatchSize = batch;
        Steps = steps;
        TotalRows = offset;
    }

    /// <summary>Copies padded time-major <c>[T, B, F]</c> data into packed <c>[N, F]</c> rows.</summary>
    public void Pack(ReadOnlySpan<float> padded, int features, Span<float> packed)
    {
        for (int t = 0; t < Steps; t++)
            for (int s = 0; s < _batchSizes[t]; s++)
                padded.Slice((t * BatchSize + _order[s]) * features, features)
                    .CopyTo(packed.Slice((_offsets[t] + s) * features, features));
    }

    /// <summary>Copies packed <c>[N, F]</c> rows into padded time-major <c>[T, B, F]</c>; padded steps become zero.</summary>
    public void Unpack(ReadOnlySpan<float> packed, int features, Span<float> padded, int paddedSteps)
    {
        padded.Slice(0, paddedSteps * BatchSize * features).Clear();
        for (int t = 0; t < Steps; t++)
            for (int s = 0; s < _batchSizes[t]; s++)
                packed.Slice((_offsets[t] + s) * features, features)
                    .CopyTo(padded.Slice((t * BatchSize + _order[s]) * features, features));
    }

    /// <summary>Reorders <c>[B, F]</c> rows from caller order to sorted order.</summary>
    public void Sort(ReadOnlySpan<float> callerOrder, int features, Span<float> sorted)
    {
        for (int s = 0; s < BatchSize; s++)
            callerOrder.Slice(_order[s] * features, features).CopyTo(sorted.Slice(s * features, features));
    }

    /// <summary>Reorders <c>[B, F]</c> rows from sorted order back to caller order.</summary>
    public void Unsort(ReadOnlySpan<float> sorted, int features, Span<float> callerOrder)
    {
        for (int s = 0; s < BatchSize; s++)
            sorted.Slice(s * features, features).CopyTo(callerOrder.Slice(_order[s] * features, features));
    }

    internal static void EnsureCapacity<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[Math.Max(length, buffer.Length * 2)];
    }
}
