namespace MlNet.Rnn.Core.Tagging;

/// <summary>An entity (chunk) found in BIO tags: steps <c>[Start, End)</c> of sequence <see cref="Sequence"/>, of type <see cref="Type"/>.</summary>
/// <param name="Sequence">Index of the sequence.</param>
/// <param name="Start">First step.</param>
/// <param name="End">One past the last step.</param>
/// <param name="Type">The entity type: the tag name after <c>B-</c> or <c>I-</c>.</param>
public readonly record struct TaggedEntity(int Sequence, int Start, int End, string Type);

/// <summary>
/// Reads entities out of BIO tags with conlleval's rules: <c>O</c> is outside; <c>B-X</c> always starts an entity of type X;
/// <c>I-X</c> continues the open entity when it is of type X, and otherwise starts one (so an <c>I-</c> without a <c>B-</c>,
/// after <c>O</c> or after another type, begins an entity, as conlleval and seqeval's default mode do). An entity ends at
/// the end of its sequence.
/// </summary>
public static class BioEntities
{
    /// <summary>Whether every name is <c>O</c> or starts with <c>B-</c> or <c>I-</c> followed by a type.</summary>
    public static bool IsBioTagSet(IReadOnlyList<string> tagNames)
    {
        ArgumentNullException.ThrowIfNull(tagNames);
        if (tagNames.Count == 0) return false;
        foreach (string name in tagNames)
            if (!TryParse(name, out _, out _)) return false;
        return true;
    }

    /// <summary>
    /// Splits a BIO tag name into its prefix (<c>'B'</c>, <c>'I'</c> or <c>'O'</c>) and type (empty for <c>O</c>).
    /// The type is what follows the first hyphen, as conlleval splits it.
    /// </summary>
    public static bool TryParse(string name, out char prefix, out string type)
    {
        ArgumentNullException.ThrowIfNull(name);
        prefix = default;
        type = "";
        if (name == "O")
        {
            prefix = 'O';
            return true;
        }
        if (name.Length > 2 && (name[0] == 'B' || name[0] == 'I') && name[1] == '-')
        {
            prefix = name[0];
            type = name[2..];
            return true;
        }
        return false;
    }

    /// <summary>The entities of one sequence of tag indices into <paramref name="tagNames"/> (all BIO names).</summary>
    public static List<TaggedEntity> Extract(ReadOnlySpan<int> tags, IReadOnlyList<string> tagNames, int sequence = 0)
    {
        ArgumentNullException.ThrowIfNull(tagNames);
        var prefixes = new char[tagNames.Count];
        var types = new string[tagNames.Count];
        for (int c = 0; c < tagNames.Count; c++)
            if (!TryParse(tagNames[c], out prefixes[c], out types[c]))
                throw new ArgumentException($"Tag name '{tagNames[c]}' (index {c}) is not a BIO tag; BIO names are 'O', 'B-TYPE' or 'I-TYPE'.", nameof(tagNames));
        var entities = new List<TaggedEntity>();
        Extract(tags, prefixes, types, sequence, entities);
        return entities;
    }

    internal static void Extract(ReadOnlySpan<int> tags, char[] prefixes, string[] types, int sequence, List<TaggedEntity> entities)
    {
        int start = -1;
        string open = "";
        for (int t = 0; t < tags.Length; t++)
        {
            char prefix = prefixes[tags[t]];
            string type = types[tags[t]];
            bool continues = prefix == 'I' && start >= 0 && type == open;
            if (continues) continue;
            if (start >= 0) entities.Add(new TaggedEntity(sequence, start, t, open));
            start = prefix == 'O' ? -1 : t;
            open = type;
        }
        if (start >= 0) entities.Add(new TaggedEntity(sequence, start, tags.Length, open));
    }
}
