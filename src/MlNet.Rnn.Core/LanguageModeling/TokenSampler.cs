using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// Draws the next id from logits z <c>[V]</c>: with temperature τ &gt; 0 and the top-k ids by logit (all when k = 0, ties to
/// the lower id), <c>p_j ∝ exp((z_j − max z) / τ)</c>; τ = 0 or k = 1 is greedy, <c>argmax_j z_j</c>. The unknown and start
/// ids are never drawn: the first stands for text the model cannot write, the second is only read.
/// </summary>
internal static class TokenSampler
{
    /// <summary>
    /// The next id over <paramref name="vocabulary"/>'s V ids; <paramref name="order"/> (≥ V ints) and
    /// <paramref name="probabilities"/> (≥ V doubles) are scratch.
    /// </summary>
    public static int Sample(ReadOnlySpan<float> logits, Vocabulary vocabulary, float temperature, int topK, Random random, Span<int> order, Span<double> probabilities)
    {
        int V = logits.Length, candidates = 0;
        for (int j = 0; j < V; j++)
            if (j != Vocabulary.UnknownId && j != vocabulary.StartId) order[candidates++] = j;
        if (candidates == 0) return vocabulary.EndId;
        Span<int> ids = order.Slice(0, candidates);
        if (temperature == 0f || topK == 1) return Greedy(logits, ids);
        if (topK > 0 && topK < candidates)
        {
            // Stable order by logit, descending: equal logits keep the lower id first, so top-1 is the greedy choice.
            int[] sorted = ids.ToArray();
            var keys = new float[sorted.Length];
            for (int i = 0; i < keys.Length; i++) keys[i] = -logits[sorted[i]];
            Array.Sort(keys, sorted);
            SortTiesById(keys, sorted);
            sorted.AsSpan(0, topK).CopyTo(ids);
            ids = ids.Slice(0, topK);
        }
        float max = float.NegativeInfinity;
        foreach (int j in ids) max = Math.Max(max, logits[j]);
        double sum = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            probabilities[i] = Math.Exp((logits[ids[i]] - (double)max) / temperature);
            sum += probabilities[i];
        }
        double u = random.NextDouble() * sum;
        for (int i = 0; i < ids.Length; i++)
        {
            u -= probabilities[i];
            if (u < 0) return ids[i];
        }
        return ids[^1];
    }

    private static int Greedy(ReadOnlySpan<float> logits, ReadOnlySpan<int> ids)
    {
        int best = ids[0];
        foreach (int j in ids)
            if (logits[j] > logits[best]) best = j;
        return best;
    }

    private static void SortTiesById(float[] keys, int[] ids)
    {
        // Array.Sort is not stable; reorder each run of equal keys by id.
        for (int start = 0; start < keys.Length;)
        {
            int end = start + 1;
            while (end < keys.Length && keys[end] == keys[start]) end++;
            if (end - start > 1) Array.Sort(ids, start, end - start);
            start = end;
        }
    }
}
