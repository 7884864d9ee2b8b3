using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// A padded, time-major mini-batch of pairs for teacher forcing. Source ids <c>[S, B]</c>; decoder inputs <c>[T, B]</c> =
/// start, y_1 … y_n; decoder targets <c>[T, B]</c> = y_1 … y_n, end, as floats for the loss; weights <c>[T, B]</c> are 1
/// at real steps and 0 at padding (T = n + 1 per row). Padding ids are 0. Pairs come encoded as <see cref="SequencePairs"/> holds them.
/// </summary>
internal sealed class PairBatch
{
    public int BatchSize { get; private set; }
    public int SourceSteps { get; private set; }
    public int TargetSteps { get; private set; }
    public int[] SourceIds = [], SourceLengths = [], DecoderInputs = [], TargetLengths = [];
    public float[] Targets = [], Weights = [];

    private SequenceDataset? _staged;
    private int[] _rows = [];

    /// <summary>Fills the batch with pairs <paramref name="rows"/> of parallel lists (a target may be empty, as when scoring).</summary>
    public void Fill(IReadOnlyList<int[]> sources, IReadOnlyList<int[]> targets, ReadOnlySpan<int> rows, int startId, int endId)
    {
        _staged ??= SequencePairs.Create();
        _staged.Clear();
        Grow(ref _rows, rows.Length);
        for (int b = 0; b < rows.Length; b++)
        {
            SequencePairs.Append(_staged, sources[rows[b]], targets[rows[b]]);
            _rows[b] = b;
        }
        Fill(_staged, _rows.AsSpan(0, rows.Length), startId, endId);
    }

    /// <summary>Fills the batch with the pairs <paramref name="indices"/> of <paramref name="pairs"/>, encoded as <see cref="SequencePairs"/> encodes them.</summary>
    public void Fill(SequenceDataset pairs, ReadOnlySpan<int> indices, int startId, int endId)
    {
        int B = indices.Length, S = 0, T = 0;
        foreach (int index in indices)
        {
            int sourceLength = SequencePairs.SourceOf(pairs, index).Length;
            S = Math.Max(S, sourceLength);
            T = Math.Max(T, pairs.LengthOf(index) - sourceLength + 1);
        }
        BatchSize = B;
        SourceSteps = S;
        TargetSteps = T;
        Grow(ref SourceIds, S * B);
        Grow(ref SourceLengths, B);
        Grow(ref DecoderInputs, T * B);
        Grow(ref TargetLengths, B);
        Grow(ref Targets, T * B);
        Grow(ref Weights, T * B);
        SourceIds.AsSpan(0, S * B).Clear();
        DecoderInputs.AsSpan(0, T * B).Clear();
        Targets.AsSpan(0, T * B).Clear();
        Weights.AsSpan(0, T * B).Clear();
        for (int b = 0; b < B; b++)
        {
            ReadOnlySpan<int> source = SequencePairs.SourceOf(pairs, indices[b]), target = SequencePairs.TargetOf(pairs, indices[b]);
            SourceLengths[b] = source.Length;
            for (int s = 0; s < source.Length; s++) SourceIds[s * B + b] = source[s];
            TargetLengths[b] = target.Length + 1;
            for (int t = 0; t <= target.Length; t++)
            {
                DecoderInputs[t * B + b] = t == 0 ? startId : target[t - 1];
                Targets[t * B + b] = t < target.Length ? target[t] : endId;
                Weights[t * B + b] = 1f;
            }
        }
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }
}
