using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>What a <see cref="Vocabulary"/> token is.</summary>
public enum VocabularyLevel
{
    /// <summary>One UTF-16 character per token; text is split into characters and decoded by concatenation.</summary>
    Characters,
    /// <summary>One word per token; text is split on white space and decoded by joining with one space.</summary>
    Tokens,
}

/// <summary>
/// Maps characters or word tokens to ids and back. Ids 0, 1 and 2 are reserved: <see cref="UnknownId"/> (anything not in
/// the vocabulary), <see cref="StartId"/> (what a text is read after; never generated) and <see cref="EndId"/> (what ends a
/// document; generation stops at it). The known tokens take ids 3 .. V − 1 in the order given.
/// </summary>
/// <remarks>
/// Encoding never fails: a character or token outside the vocabulary becomes id 0 (unknown), which the model reads with its
/// own trained embedding row; decoding writes id 0 as <see cref="UnknownText"/> (U+FFFD) and skips the start and end ids.
/// </remarks>
public sealed class Vocabulary
{
    /// <summary>Id of anything outside the vocabulary.</summary>
    public const int UnknownId = 0;

    /// <summary>Id of the start token, read before the first token of a text.</summary>
    public const int StartId = 1;

    /// <summary>Id of the end token, predicted after the last token of a document.</summary>
    public const int EndId = 2;

    /// <summary>Number of reserved ids (unknown, start, end).</summary>
    public const int ReservedCount = 3;

    /// <summary>How <see cref="Decode"/> writes the unknown id: U+FFFD, the replacement character.</summary>
    public const string UnknownText = "\uFFFD";

    private static readonly string[] s_reservedNames = ["<unk>", "<s>", "</s>"];
    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    /// <summary>A vocabulary of the given known tokens, which take ids 3, 4, … in order.</summary>
    /// <exception cref="ArgumentException">A token is null, empty or repeated, or a character-level token is not one character.</exception>
    public Vocabulary(IEnumerable<string> tokens, VocabularyLevel level)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (!Enum.IsDefined(level)) throw new ArgumentOutOfRangeException(nameof(level), level, "level must be Characters or Tokens.");
        Level = level;
        var known = tokens.ToArray();
        _tokens = new string[ReservedCount + known.Length];
        s_reservedNames.CopyTo(_tokens, 0);
        _ids = new Dictionary<string, int>(known.Length, StringComparer.Ordinal);
        for (int i = 0; i < known.Length; i++)
        {
            string token = known[i];
            if (string.IsNullOrEmpty(token)) throw new ArgumentException($"Token {i} is null or empty; every token needs at least one character.", nameof(tokens));
            if (level == VocabularyLevel.Characters && token.Length != 1)
                throw new ArgumentException($"Token {i} is \"{token}\", but a character vocabulary holds single characters.", nameof(tokens));
            if (level == VocabularyLevel.Tokens && token.Any(char.IsWhiteSpace))
                throw new ArgumentException($"Token {i} is \"{token}\", which holds white space; text is split on white space, so it could never be read.", nameof(tokens));
            if (!_ids.TryAdd(token, ReservedCount + i)) throw new ArgumentException($"Token {i} (\"{token}\") appears twice; tokens must be unique.", nameof(tokens));
            _tokens[ReservedCount + i] = token;
        }
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

    /// <summary>Characters or word tokens.</summary>
    public VocabularyLevel Level { get; }

    /// <summary>V: the number of ids, reserved ones included.</summary>
    public int Count => _tokens.Length;

    /// <summary>Every token by id; ids 0..2 read <c>&lt;unk&gt;</c>, <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>The id of a token; <see cref="UnknownId"/> when it is not in the vocabulary.</summary>
    public int IdOf(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _ids.GetValueOrDefault(token, UnknownId);
    }

    /// <summary>The token of an id (the reserved names for ids 0..2).</summary>
    public string TokenOf(int id)
    {
        if ((uint)id >= (uint)_tokens.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"id {id} is outside the vocabulary [0, {_tokens.Length}).");
        return _tokens[id];
    }

    /// <summary>
    /// The ids of a text's characters (or white-space separated tokens), without start or end; anything outside the
    /// vocabulary becomes <see cref="UnknownId"/>.
    /// </summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Level == VocabularyLevel.Tokens) return Split(text).Select(IdOf).ToArray();
        var ids = new int[text.Length];
        Span<char> one = stackalloc char[1];
        var lookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        for (int i = 0; i < text.Length; i++)
        {
            one[0] = text[i];
            ids[i] = lookup.TryGetValue(one, out int id) ? id : UnknownId;
        }
        return ids;
    }

    /// <summary>The text of ids: concatenated characters or space-joined tokens; unknown as U+FFFD, start and end skipped.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var text = new StringBuilder(ids.Length);
        bool first = true;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if (id == StartId || id == EndId) continue;
            if (!first && Level == VocabularyLevel.Tokens) text.Append(' ');
            text.Append(id == UnknownId ? UnknownText : TokenOf(id));
            first = false;
        }
        return text.ToString();
    }

    /// <summary>The vocabulary as JSON (level and known tokens), as stored in a model file.</summary>
    public string ToJson() => JsonSerializer.Serialize(new Stored(Level.ToString(), _tokens[ReservedCount..]));

    /// <summary>Reads what <see cref="ToJson"/> wrote.</summary>
    /// <exception cref="InvalidDataException">The JSON is not a stored vocabulary; the message names <paramref name="source"/>.</exception>
    public static Vocabulary FromJson(string json, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        string where = source ?? "The model file";
        try
        {
            var stored = JsonSerializer.Deserialize<Stored>(json) ?? throw new InvalidDataException($"{where}: the vocabulary is empty.");
            if (!Enum.TryParse<VocabularyLevel>(stored.Level, ignoreCase: false, out var level) || !Enum.IsDefined(level))
                throw new InvalidDataException($"{where}: the vocabulary level '{stored.Level}' is neither Characters nor Tokens.");
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

    private sealed record Stored(string Level, string[] Tokens);
}
