using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// The next-token pairs <c>(s[i], s[i+1])</c>, <c>i ∈ [first, P)</c> with <c>P = |s| − 1</c>, of one long id sequence s, cut
/// into B contiguous streams read side by side: stream b holds pairs <c>first + b·L … first + (b+1)·L − 1</c> with
/// <c>L = ⌈(P − first) / B⌉</c>, so step t of every stream is computed in one batch and stream b's state after step t is
/// its state before step t + 1. Only the last stream may be shorter; past its end it reads id 0 with weight 0.
/// </summary>
internal sealed class TokenStreams
{
    private readonly int[] _sequence;
    private readonly int _first, _pairs, _startId;

    /// <summary>
    /// Cuts the pairs from <paramref name="first"/> on into at most <paramref name="streams"/> streams; a pair whose target is
    /// <paramref name="startId"/> (the vocabulary's start id, only ever read) weighs 0.
    /// </summary>
    public TokenStreams(int[] sequence, int first, int streams, int startId)
    {
        _sequence = sequence;
        _startId = startId;
        _first = first;
        _pairs = sequence.Length - 1 - first;
        if (_pairs < 1) throw new ArgumentException($"The sequence holds {sequence.Length} ids; from id {first} on there is no next-token pair to read.", nameof(sequence));
        StreamLength = (_pairs + streams - 1) / streams;
        Streams = (_pairs + StreamLength - 1) / StreamLength;
    }

    /// <summary>B: streams (fewer than asked when the sequence is short).</summary>
    public int Streams { get; }

    /// <summary>L: steps of the longest stream.</summary>
    public int StreamLength { get; }

    /// <summary>Pairs covered, each exactly once.</summary>
    public int Pairs => _pairs;

    /// <summary>
    /// Writes steps <c>step .. step + k − 1</c> of every stream, time-major: <c>inputs[t·B + b]</c>, <c>targets[t·B + b]</c> and
    /// <c>weights[t·B + b]</c> (1, or 0 past a stream's end and where the target is the start id).
    /// </summary>
    public void Fill(int step, int steps, Span<int> inputs, Span<int> targets, Span<float> weights)
    {
        int B = Streams;
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < B; b++)
            {
                int pair = b * StreamLength + step + t, row = t * B + b;
                if (pair < _pairs && step + t < StreamLength)
                {
                    int i = _first + pair;
                    inputs[row] = _sequence[i];
                    targets[row] = _sequence[i + 1];
                    weights[row] = _sequence[i + 1] == _startId ? 0f : 1f;
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
