using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MlNet.Rnn.Core.Data;

/// <summary>What a <see cref="Vocabulary"/> token is.</summary>
public enum VocabularyLevel
{
    /// <summary>One UTF-16 character per token; text is split into characters and decoded by concatenation.</summary>
    Characters,
    /// <summary>One word per token; text is split on white space and decoded by joining with one space.</summary>
    Tokens,
    /// <summary>
    /// ML.NET keys 1 … K (<see cref="Vocabulary.OfKeys"/>): key k is id k. As text a key is its decimal number, split on
    /// white space and joined with one space like <see cref="Tokens"/>.
    /// </summary>
    Keys,
}

/// <summary>
/// The one mapping between tokens and ids, used by every token model: the language model, the source and target of a
/// sequence-to-sequence model, and the ML.NET key columns of every task. Id 0 is always <see cref="UnknownId"/>; two more
/// ids are reserved, <see cref="StartId"/> and <see cref="EndId"/>; V = <see cref="Count"/> ids in all.
/// </summary>
/// <remarks>
/// <para>The ids of a vocabulary of characters or tokens (<see cref="FromCharacters(IEnumerable{string}, int)"/>,
/// <see cref="FromTokens"/>, the constructor) and of one over ML.NET keys (<see cref="OfKeys"/>, K keys):</para>
/// <list type="table">
///   <listheader><term>id</term><description>characters or tokens | ML.NET keys</description></listheader>
///   <item><term>0</term><description>unknown: a character or token outside the vocabulary | key 0 (missing) and any key beyond K</description></item>
///   <item><term>start</term><description>1 | K + 1</description></item>
///   <item><term>end</term><description>2 | K + 2</description></item>
///   <item><term>known</term><description>3 … V − 1, the tokens in the order given | 1 … K: key k is id k</description></item>
///   <item><term>V</term><description>known tokens + 3 | K + 3</description></item>
/// </list>
/// <para>Keys are never renumbered (a model trained on keys keeps its ids, and a key vector maps to ids without a table),
/// so their start and end ids come after the keys.</para>
/// <para>What every model does with the reserved ids. Start is only read: the input before the first token of a
/// language model's text and of a sequence-to-sequence target; it is never a target. End is the target after the last
/// token; generation and decoding stop when they choose it and do not return it. Unknown is read with its own trained
/// embedding row and scored like any other id (a training target may be unknown). Neither unknown nor start is ever
/// generated or decoded: a language model samples, and a sequence-to-sequence decoder's greedy and beam search choose,
/// among the other ids. A model that reads tokens but never start or end (a sequence-to-sequence source, the token
/// features of a tagger or classifier) needs the ids below <see cref="SourceCount"/> only: V for characters or tokens,
/// K + 1 for keys.</para>
/// <para>As text: <see cref="Encode(string)"/> never fails, anything outside the vocabulary becomes 0;
/// <see cref="Decode"/> writes 0 as <see cref="UnknownText"/> (U+FFFD) and skips start and end. As ML.NET keys:
/// <see cref="IdOfKey"/> and <see cref="KeyOf"/>.</para>
/// </remarks>
public sealed class Vocabulary
{
    /// <summary>Id of anything outside the vocabulary, in every vocabulary.</summary>
    public const int UnknownId = 0;

    /// <summary>Number of reserved ids (unknown, start, end): V is the known tokens (or keys) + 3.</summary>
    public const int ReservedCount = 3;

    /// <summary>How <see cref="Decode"/> writes the unknown id: U+FFFD, the replacement character.</summary>
    public const string UnknownText = "\uFFFD";

    /// <summary>The name of the unknown id in <see cref="Tokens"/>.</summary>
    public const string UnknownToken = "<unk>";

    /// <summary>The name of the start id in <see cref="Tokens"/>.</summary>
    public const string StartToken = "<s>";

    /// <summary>The name of the end id in <see cref="Tokens"/>.</summary>
    public const string EndToken = "</s>";

    private readonly Dictionary<string, int>? _ids;
    private readonly Dictionary<char, int>? _characterIds;
    private readonly int _keyCount;
    private string[]? _tokens;

    /// <summary>A vocabulary of the given known characters or tokens, which take ids 3, 4, … in order.</summary>
    /// <exception cref="ArgumentException">A token is null, empty or repeated, a character-level token is not one character,
    /// or a word-level token holds white space.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="level"/> is not Characters or Tokens (a vocabulary of keys is <see cref="OfKeys"/>).</exception>
    public Vocabulary(IEnumerable<string> tokens, VocabularyLevel level)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (level is not (VocabularyLevel.Characters or VocabularyLevel.Tokens))
            throw new ArgumentOutOfRangeException(nameof(level), level, "level must be Characters or Tokens; a vocabulary of ML.NET keys is Vocabulary.OfKeys(keyCount).");
        Level = level;
        var known = tokens.ToArray();
        _tokens = new string[ReservedCount + known.Length];
        _tokens[UnknownId] = UnknownToken;
        _tokens[1] = StartToken;
        _tokens[2] = EndToken;
        _ids = new Dictionary<string, int>(known.Length, StringComparer.Ordinal);
        if (level == VocabularyLevel.Characters) _characterIds = new Dictionary<char, int>(known.Length);
        for (int i = 0; i < known.Length; i++)
        {
            string token = known[i];
            if (string.IsNullOrEmpty(token)) throw new ArgumentException($"Token {i} is null or empty; every token needs at least one character.", nameof(tokens));
            if (level == VocabularyLevel.Characters && token.Length != 1)
                throw new ArgumentException($"Token {i} is \"{token}\", but a character vocabulary holds single characters.", nameof(tokens));
            if (level == VocabularyLevel.Tokens && token.Any(char.IsWhiteSpace))
                throw new ArgumentException($"Token {i} is \"{token}\", which holds white space; text is split on white space, so it could never be read.", nameof(tokens));
            if (!_ids.TryAdd(token, ReservedCount + i)) throw new ArgumentException($"Token {i} (\"{token}\") appears twice; tokens must be unique.", nameof(tokens));
            _characterIds?.Add(token[0], ReservedCount + i);
            _tokens[ReservedCount + i] = token;
        }
        Count = _tokens.Length;
        StartId = 1;
        EndId = 2;
        SourceCount = Count;
    }

    private Vocabulary(int keyCount)
    {
        Level = VocabularyLevel.Keys;
        _keyCount = keyCount;
        StartId = keyCount + 1;
        EndId = keyCount + 2;
        Count = keyCount + ReservedCount;
        SourceCount = keyCount + 1;
    }

    /// <summary>
    /// The vocabulary of an ML.NET key type of <paramref name="keyCount"/> keys: key k ∈ [1, K] is id k, key 0 (missing) is
    /// unknown, start is K + 1, end is K + 2, V = K + 3, and a reader of the keys alone needs K + 1 ids (<see cref="SourceCount"/>).
    /// Nothing is allocated per key.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keyCount"/> is below 1, or K + 3 ids do not fit an int.</exception>
    public static Vocabulary OfKeys(int keyCount)
    {
        if (keyCount < 1 || keyCount > int.MaxValue - ReservedCount)
            throw new ArgumentOutOfRangeException(nameof(keyCount), keyCount,
                string.Create(CultureInfo.InvariantCulture, $"keyCount is {keyCount}; a key type has 1 to {int.MaxValue - ReservedCount} keys here."));
        return new Vocabulary(keyCount);
    }

    /// <summary>
    /// The characters of <paramref name="texts"/> seen at least <paramref name="minimumCount"/> times, in ordinal order
    /// (so the same texts always give the same ids).
    /// </summary>
    public static Vocabulary FromCharacters(IEnumerable<string> texts, int minimumCount = 1)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumCount);
        var counts = new Dictionary<char, int>();
        foreach (string text in texts)
        {
            ArgumentNullException.ThrowIfNull(text, nameof(texts));
            foreach (char c in text) counts[c] = counts.GetValueOrDefault(c) + 1;
        }
        return new Vocabulary(counts.Where(pair => pair.Value >= minimumCount).Select(pair => pair.Key).Order()
            .Select(c => c.ToString()), VocabularyLevel.Characters);
    }

    /// <summary>The characters of one text; see <see cref="FromCharacters(IEnumerable{string}, int)"/>.</summary>
    public static Vocabulary FromCharacters(string text, int minimumCount = 1) => FromCharacters([text], minimumCount);

    /// <summary>
    /// The white-space separated tokens of <paramref name="texts"/> seen at least <paramref name="minimumCount"/> times, most
    /// frequent first (ties in ordinal order).
    /// </summary>
    public static Vocabulary FromTokens(IEnumerable<string> texts, int minimumCount = 1)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumCount);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string text in texts)
        {
            ArgumentNullException.ThrowIfNull(text, nameof(texts));
            foreach (string token in Split(text)) counts[token] = counts.GetValueOrDefault(token) + 1;
        }
        return new Vocabulary(counts.Where(pair => pair.Value >= minimumCount).OrderByDescending(pair => pair.Value)
            .ThenBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => pair.Key), VocabularyLevel.Tokens);
    }

    /// <summary>Characters, tokens or ML.NET keys.</summary>
    public VocabularyLevel Level { get; }

    /// <summary>V: the number of ids, the reserved ones included.</summary>
    public int Count { get; }

    /// <summary>The id read before the first token (1, or K + 1 for keys); never a target, never generated.</summary>
    public int StartId { get; }

    /// <summary>The id predicted after the last token (2, or K + 2 for keys); generation and decoding stop at it.</summary>
    public int EndId { get; }

    /// <summary>
    /// The ids a model needs that reads this vocabulary's tokens but never its start or end id (a sequence-to-sequence
    /// source, the token features of a tagger or classifier): ids 0 … SourceCount − 1. V for characters or tokens (whose
    /// start and end ids 1 and 2 are then never read), K + 1 for keys.
    /// </summary>
    public int SourceCount { get; }

    /// <summary>
    /// Every token by id: <see cref="UnknownToken"/>, <see cref="StartToken"/> and <see cref="EndToken"/> at the reserved ids,
    /// the known tokens at theirs (for keys, each key's decimal number; built on first use).
    /// </summary>
    public IReadOnlyList<string> Tokens => _tokens ??= KeyTokens();

    /// <summary>The id of a token; <see cref="UnknownId"/> when it is not in the vocabulary (the reserved names are not tokens).</summary>
    public int IdOf(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_ids is not null) return _ids.GetValueOrDefault(token, UnknownId);
        return ulong.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out ulong key) ? IdOfKey(key) : UnknownId;
    }

    /// <summary>The token of an id (the reserved names for unknown, start and end).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside [0, V).</exception>
    public string TokenOf(int id)
    {
        if ((uint)id >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(id), id, string.Create(CultureInfo.InvariantCulture, $"id {id} is outside the vocabulary [0, {Count})."));
        if (_tokens is not null) return _tokens[id];
        return id == UnknownId ? UnknownToken : id == StartId ? StartToken : id == EndId ? EndToken : id.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A vocabulary of keys: the id of ML.NET key <paramref name="key"/>, k for k ∈ [1, K]; key 0 (missing) and keys beyond K are unknown.</summary>
    /// <exception cref="InvalidOperationException">This is a vocabulary of characters or tokens.</exception>
    public int IdOfKey(ulong key)
    {
        RequireKeys();
        return key <= (ulong)_keyCount ? (int)key : UnknownId;
    }

    /// <summary>A vocabulary of keys: the ML.NET key of <paramref name="id"/>, k for k ∈ [1, K]; any other id (unknown, start, end, outside V) has no key and gives 0, missing.</summary>
    /// <exception cref="InvalidOperationException">This is a vocabulary of characters or tokens.</exception>
    public ulong KeyOf(int id)
    {
        RequireKeys();
        return id >= 1 && id <= _keyCount ? (ulong)id : 0;
    }

    /// <summary>
    /// The ids of a text's characters (or white-space separated tokens or keys), without start or end; anything outside the
    /// vocabulary becomes <see cref="UnknownId"/>.
    /// </summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Level != VocabularyLevel.Characters) return Split(text).Select(IdOf).ToArray();
        var ids = new int[text.Length];
        for (int i = 0; i < text.Length; i++) ids[i] = _characterIds!.GetValueOrDefault(text[i], UnknownId);
        return ids;
    }

    /// <summary>The ids of tokens already split (each looked up whole, as <see cref="IdOf"/>); anything outside the vocabulary becomes <see cref="UnknownId"/>.</summary>
    public int[] Encode(IEnumerable<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        return tokens.Select(IdOf).ToArray();
    }

    /// <summary>The text of ids: concatenated characters, or space-joined tokens or keys; unknown as U+FFFD, start and end skipped.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, V).</exception>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var text = new StringBuilder(ids.Length);
        bool first = true;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if (id == StartId || id == EndId) continue;
            if (!first && Level != VocabularyLevel.Characters) text.Append(' ');
            text.Append(id == UnknownId ? UnknownText : TokenOf(id));
            first = false;
        }
        return text.ToString();
    }

    /// <summary>
    /// The vocabulary as JSON, as stored in a model file: <c>{"Level":"Characters","Tokens":[…]}</c> with the known tokens
    /// (likewise for Tokens), or <c>{"Level":"Keys","KeyCount":K}</c>.
    /// </summary>
    public string ToJson() => JsonSerializer.Serialize(Level == VocabularyLevel.Keys
        ? new Stored(Level.ToString(), null, _keyCount)
        : new Stored(Level.ToString(), _tokens![ReservedCount..], null));

    /// <summary>Reads what <see cref="ToJson"/> wrote.</summary>
    /// <exception cref="InvalidDataException">The JSON is not a stored vocabulary; the message names <paramref name="source"/>.</exception>
    public static Vocabulary FromJson(string json, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        string where = source ?? "The model file";
        try
        {
            var stored = JsonSerializer.Deserialize<Stored>(json) ?? throw new InvalidDataException($"{where}: the vocabulary is empty.");
            // The level's exact name, as ToJson writes it (Enum.TryParse would also take "1" or "Characters, Tokens").
            if (stored.Level is null || !Enum.GetNames<VocabularyLevel>().Contains(stored.Level, StringComparer.Ordinal))
                throw new InvalidDataException($"{where}: the vocabulary level '{stored.Level}' is neither Characters, Tokens nor Keys.");
            var level = Enum.Parse<VocabularyLevel>(stored.Level);
            if (level == VocabularyLevel.Keys)
                return stored.Tokens is null && stored.KeyCount is int keyCount
                    ? OfKeys(keyCount)
                    : throw new InvalidDataException($"{where}: a vocabulary of keys stores its KeyCount and no token list.");
            if (stored.KeyCount is not null)
                throw new InvalidDataException($"{where}: a vocabulary of {level} stores its token list and no KeyCount.");
            return new Vocabulary(stored.Tokens ?? throw new InvalidDataException($"{where}: the vocabulary has no token list."), level);
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"{where}: the vocabulary is invalid ({exception.Message}).", exception);
        }
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Level} vocabulary of {Count} ids");

    private static string[] Split(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    private void RequireKeys()
    {
        if (Level != VocabularyLevel.Keys)
            throw new InvalidOperationException($"This is a vocabulary of {Level}; only a vocabulary of keys (Vocabulary.OfKeys) maps ML.NET keys.");
    }

    private string[] KeyTokens()
    {
        var tokens = new string[Count];
        for (int id = 0; id < tokens.Length; id++) tokens[id] = TokenOf(id);
        return tokens;
    }

    private sealed record Stored(
        string? Level,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string[]? Tokens,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? KeyCount);
}
