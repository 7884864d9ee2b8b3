using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// The next-token pairs <c>(s[i], s[i+1])</c>, <c>i ∈ [first, P)</c> with <c>P = |s| − 1</c>, of one long id sequence s, cut
/// into B contiguous streams read side by side: stream b holds pairs <c>first + b·L … first + (b+1)·L − 1</c> with
/// <c>L = ⌈(P − first) / B⌉</c>, so step t of every stream is computed in one batch and stream b's state after step t is
/// its state before step t + 1. Only the last stream may be shorter; past its end it reads id 0 with weight 0. The sequence
/// is read a chunk at a time: for each stream the k + 1 ids of its k steps, from memory or from a spilled file
/// (<see cref="ITokenSource"/>), into one buffer of this reader's.
/// </summary>
internal sealed class TokenStreams
{
    private readonly ITokenSource _sequence;
    private readonly long _first, _pairs;
    private readonly int _startId;
    private int[] _window = [];

    /// <summary>
    /// Cuts the pairs from <paramref name="first"/> on into at most <paramref name="streams"/> streams; a pair whose target is
    /// <paramref name="startId"/> (the vocabulary's start id, only ever read) weighs 0.
    /// </summary>
    public TokenStreams(ITokenSource sequence, long first, int streams, int startId)
    {
        _sequence = sequence;
        _startId = startId;
        _first = first;
        _pairs = sequence.Count - 1 - first;
        if (_pairs < 1) throw new ArgumentException($"The sequence holds {sequence.Count} ids; from id {first} on there is no next-token pair to read.", nameof(sequence));
        StreamLength = (_pairs + streams - 1) / streams;
        Streams = (int)((_pairs + StreamLength - 1) / StreamLength);
    }

    /// <summary>B: streams (fewer than asked when the sequence is short).</summary>
    public int Streams { get; }

    /// <summary>L: steps of the longest stream.</summary>
    public long StreamLength { get; }

    /// <summary>Pairs covered, each exactly once.</summary>
    public long Pairs => _pairs;

    /// <summary>
    /// Writes steps <c>step .. step + k − 1</c> (within <c>[0, L)</c>) of every stream, time-major: <c>inputs[t·B + b]</c>,
    /// <c>targets[t·B + b]</c> and <c>weights[t·B + b]</c> (1, or 0 past the last stream's end and where the target is the start id).
    /// </summary>
    public void Fill(long step, int steps, Span<int> inputs, Span<int> targets, Span<float> weights)
    {
        if (step < 0 || steps < 1 || step + steps > StreamLength)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"Steps {step} … {step + steps - 1} are outside the streams' {StreamLength}.");
        int B = Streams;
        if (_window.Length < steps + 1) _window = new int[steps + 1];
        for (int b = 0; b < B; b++)
        {
            // Stream b's pairs from this step on, up to the sequence's end: their inputs and targets are k' + 1 ids in a row.
            long pair = b * StreamLength + step;
            int present = (int)Math.Clamp(_pairs - pair, 0, steps);
            Span<int> ids = _window.AsSpan(0, present + 1);
            if (present > 0) _sequence.Read(_first + pair, ids);
            for (int t = 0; t < steps; t++)
            {
                int row = t * B + b;
                if (t < present)
                {
                    inputs[row] = ids[t];
                    targets[row] = ids[t + 1];
                    weights[row] = ids[t + 1] == _startId ? 0f : 1f;
                }
                else
                {
                    inputs[row] = Vocabulary.UnknownId;
                    targets[row] = Vocabulary.UnknownId;
                    weights[row] = 0f;
                }
            }
        }
    }
}
