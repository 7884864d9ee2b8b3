using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// Lays documents of ids out as the one sequence a <see cref="LanguageModel"/> reads:
/// <c>start d_1 end start d_2 end …</c>. The model learns to predict every id from those before it, except the start id,
/// which is only ever read (its targets weigh 0).
/// </summary>
internal static class TokenSequence
{
    /// <summary>The sequence of <paramref name="documents"/>; ids are checked against the V ids of <paramref name="vocabulary"/>.</summary>
    public static int[] FromDocuments(IReadOnlyList<int[]> documents, Vocabulary vocabulary, string name)
    {
        ArgumentNullException.ThrowIfNull(documents, name);
        long length = 0;
        for (int d = 0; d < documents.Count; d++)
        {
            int[] document = documents[d] ?? throw new ArgumentException($"Document {d} of the {name} data is null.", name);
            CheckIds(document, vocabulary.Count, $"{name} document {d}", name);
            length += document.Length + 2;
        }
        if (length > Array.MaxLength) throw new ArgumentException($"The {name} data holds {length} ids with start and end; at most {Array.MaxLength} fit.", name);
        var sequence = new int[length];
        int at = 0;
        foreach (int[] document in documents)
        {
            sequence[at++] = vocabulary.StartId;
            document.CopyTo(sequence, at);
            at += document.Length;
            sequence[at++] = vocabulary.EndId;
        }
        return sequence;
    }

    /// <summary>The sequence <c>start x_1 … x_n</c> (and <c>end</c> when <paramref name="withEnd"/>) of one text's ids.</summary>
    public static int[] FromText(ReadOnlySpan<int> ids, bool withEnd, Vocabulary vocabulary, string name)
    {
        CheckIds(ids, vocabulary.Count, name, name);
        var sequence = new int[ids.Length + (withEnd ? 2 : 1)];
        sequence[0] = vocabulary.StartId;
        ids.CopyTo(sequence.AsSpan(1));
        if (withEnd) sequence[^1] = vocabulary.EndId;
        return sequence;
    }

    /// <summary>Rejects ids outside [0, V), naming the position and the value.</summary>
    public static void CheckIds(ReadOnlySpan<int> ids, int V, string what, string parameter)
    {
        for (int t = 0; t < ids.Length; t++)
            if ((uint)ids[t] >= (uint)V)
                throw new ArgumentException($"Id {t} of the {what} is {ids[t]}, outside the vocabulary [0, {V}); map unseen tokens to 0 (unknown).", parameter);
    }
}
