using System.Globalization;

namespace MlNet.Rnn.Examples.BrownTagging;

/// <summary>
/// Maps words to embedding ids. Words seen at least <c>minimumCount</c> times in training have their own id; other words
/// (rare in training, or unseen) take the id of their lower-cased form when that is known, else of a signature: a few
/// character features (capitalisation, digits, hyphen, and one common suffix), as parsers do for unknown words. Rare
/// training words are mapped to signatures too, so the signatures' embeddings are trained. Id 0 stays the "unknown" row.
/// </summary>
public sealed class WordIds
{
    private static readonly string[] s_suffixes =
        ["ing", "ed", "ly", "ion", "ions", "er", "ers", "est", "al", "ity", "ness", "ment", "able", "ible", "ous", "ive", "ic", "ful", "less", "ize",
         "ism", "ist", "ists", "ian", "ans", "ary", "ory", "ant", "ent", "ies", "es", "s", "y", "'s"];
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    /// <summary>Counts the training words and assigns ids to those seen <paramref name="minimumCount"/> times or more.</summary>
    public WordIds(IEnumerable<string> trainingWords, int minimumCount)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string word in trainingWords) counts[word] = counts.GetValueOrDefault(word) + 1;
        foreach (var (word, count) in counts.OrderBy(p => p.Key, StringComparer.Ordinal))
            if (count >= minimumCount) _ids[word] = _ids.Count + 1;
        KnownWords = _ids.Count;
        foreach (string word in counts.Keys.Order(StringComparer.Ordinal)) Signature(word, add: true);
    }

    /// <summary>Words with their own id.</summary>
    public int KnownWords { get; }

    /// <summary>V: ids in [0, V).</summary>
    public int VocabularySize => _ids.Count + 1;

    /// <summary>Whether <paramref name="word"/> has its own id.</summary>
    public bool IsKnown(string word) => _ids.ContainsKey(word);

    /// <summary>The id of a word: its own, its lower-cased form's, or its signature's.</summary>
    public int Id(string word)
    {
        if (_ids.TryGetValue(word, out int id)) return id;
        if (_ids.TryGetValue(word.ToLowerInvariant(), out id)) return id;
        return Signature(word, add: false);
    }

    private int Signature(string word, bool add)
    {
        string shape = word.Any(char.IsDigit) ? "num" : word.All(c => !char.IsLetter(c) || char.IsUpper(c)) ? "caps"
            : char.IsUpper(word[0]) ? "cap" : "low";
        string lower = word.ToLowerInvariant();
        string suffix = s_suffixes.Where(s => lower.Length > s.Length + 2 && lower.EndsWith(s, StringComparison.Ordinal)).MaxBy(s => s.Length) ?? "";
        string key = string.Create(CultureInfo.InvariantCulture, $"<unk:{shape}:{(word.Contains('-') ? "hyphen" : "")}:{suffix}>");
        if (_ids.TryGetValue(key, out int id)) return id;
        if (!add) return 0;
        _ids[key] = _ids.Count + 1;
        return _ids[key];
    }
}
