using System.Globalization;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// Tokens ↔ ids with the conventions of <see cref="SequenceToSequenceOptions"/>: id 0 is <see cref="UnknownToken"/>,
/// and a target vocabulary holds a start and an end token (by default ids 1 and 2). Unseen tokens map to 0.
/// </summary>
public sealed class TokenVocabulary
{
    /// <summary>The unknown token, id 0.</summary>
    public const string UnknownToken = "<unk>";

    /// <summary>The default start token.</summary>
    public const string StartToken = "<s>";

    /// <summary>The default end token.</summary>
    public const string EndToken = "</s>";

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    private TokenVocabulary(string[] tokens, int startId, int endId)
    {
        _tokens = tokens;
        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++)
            if (!_ids.TryAdd(tokens[i], i))
                throw new ArgumentException($"The token '{tokens[i]}' appears twice (ids {_ids[tokens[i]]} and {i}); tokens must be distinct.", "tokens");
        StartId = startId;
        EndId = endId;
    }

    /// <summary>Number of ids V, including the reserved ones.</summary>
    public int Count => _tokens.Length;

    /// <summary>Id of the start token, or −1 in a vocabulary without one (a source vocabulary).</summary>
    public int StartId { get; }

    /// <summary>Id of the end token, or −1 in a vocabulary without one (a source vocabulary).</summary>
    public int EndId { get; }

    /// <summary>Every token, by id.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>A source vocabulary: id 0 = unknown, then the distinct <paramref name="tokens"/> in first-seen order.</summary>
    public static TokenVocabulary ForSource(IEnumerable<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        return new TokenVocabulary([UnknownToken, .. tokens.Distinct(StringComparer.Ordinal).Where(t => t != UnknownToken)], -1, -1);
    }

    /// <summary>A target vocabulary: 0 = unknown, 1 = start, 2 = end, then the distinct <paramref name="tokens"/> in first-seen order.</summary>
    public static TokenVocabulary ForTarget(IEnumerable<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        string[] reserved = [UnknownToken, StartToken, EndToken];
        return new TokenVocabulary([.. reserved, .. tokens.Distinct(StringComparer.Ordinal).Where(t => !reserved.Contains(t))], 1, 2);
    }

    /// <summary>
    /// A target vocabulary from a fixed id → token list (as a key type's values), which must hold
    /// <paramref name="startToken"/> and <paramref name="endToken"/>; id 0 is the unknown token whatever the list holds there.
    /// </summary>
    /// <exception cref="ArgumentException">The list has no end token or no start token.</exception>
    public static TokenVocabulary FromTargetList(IReadOnlyList<string> tokens, string startToken = StartToken, string endToken = EndToken)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        int endId = IndexOf(tokens, endToken), startId = IndexOf(tokens, startToken);
        if (endId <= 0)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The target vocabulary of {tokens.Count} tokens has no end token '{endToken}' at an id ≥ 1; a sequence-to-sequence decoder must learn where to stop. Add the end token to the target vocabulary (or build it with TokenVocabulary.ForTarget)."), nameof(tokens));
        if (startId <= 0)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The target vocabulary of {tokens.Count} tokens has no start token '{startToken}' at an id ≥ 1; add it (or build it with TokenVocabulary.ForTarget)."),
                nameof(tokens));
        return new TokenVocabulary(tokens.ToArray(), startId, endId);
    }

    /// <summary>The id of <paramref name="token"/>, or 0 when it is not in the vocabulary.</summary>
    public int Id(string token) => _ids.GetValueOrDefault(token);

    /// <summary>The token of <paramref name="id"/>.</summary>
    public string Token(int id) => (uint)id < (uint)_tokens.Length
        ? _tokens[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, string.Create(CultureInfo.InvariantCulture, $"id {id} is outside [0, {_tokens.Length})."));

    /// <summary>The ids of <paramref name="tokens"/>.</summary>
    public int[] Encode(IEnumerable<string> tokens) => tokens.Select(Id).ToArray();

    /// <summary>The tokens of <paramref name="ids"/>.</summary>
    public string[] Decode(ReadOnlySpan<int> ids)
    {
        var tokens = new string[ids.Length];
        for (int i = 0; i < ids.Length; i++) tokens[i] = Token(ids[i]);
        return tokens;
    }

    private static int IndexOf(IReadOnlyList<string> tokens, string token)
    {
        for (int i = 0; i < tokens.Count; i++)
            if (string.Equals(tokens[i], token, StringComparison.Ordinal)) return i;
        return -1;
    }
}
