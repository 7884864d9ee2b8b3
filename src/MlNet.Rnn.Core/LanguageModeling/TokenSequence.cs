using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// Lays ids out as a <see cref="LanguageModel"/> reads them: one text as <c>start x_1 … x_n [end]</c>, documents one after another
/// as <c>start d_1 end start d_2 end …</c> (<see cref="TokenStore"/>). The model learns to predict every id from those before it,
/// except the start id, which is only ever read (its targets weigh 0).
/// </summary>
internal static class TokenSequence
{
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
