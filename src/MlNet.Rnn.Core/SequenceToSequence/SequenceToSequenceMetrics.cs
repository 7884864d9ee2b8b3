namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// How decoded sequences compare with the expected ones (ids without start and end tokens).
/// </summary>
/// <param name="Count">Number of sequences compared.</param>
/// <param name="ExactMatch">Share of sequences decoded exactly.</param>
/// <param name="TokenAccuracy">
/// Position-aligned token accuracy: <c>Σ_i #{t : ŷ_i,t = y_i,t} / Σ_i max(|y_i|, |ŷ_i|)</c>, so missing and extra tokens count as errors.
/// </param>
/// <param name="MeanEditDistance">Mean Levenshtein distance over tokens (insertions, deletions, substitutions each cost 1).</param>
public sealed record SequenceToSequenceMetrics(int Count, double ExactMatch, double TokenAccuracy, double MeanEditDistance)
{
    /// <summary>Compares <paramref name="predicted"/> with <paramref name="expected"/>, row by row.</summary>
    public static SequenceToSequenceMetrics Compute(IReadOnlyList<int[]> expected, IReadOnlyList<int[]> predicted)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(predicted);
        if (expected.Count != predicted.Count)
            throw new ArgumentException($"expected holds {expected.Count} sequences but predicted holds {predicted.Count}; give one prediction per row.", nameof(predicted));
        var accumulator = new Accumulator();
        for (int i = 0; i < expected.Count; i++) accumulator.Add(expected[i] ?? [], predicted[i] ?? []);
        return accumulator.Metrics;
    }

    /// <summary>The sums behind the metrics, added row by row, so rows read a part at a time need not be held.</summary>
    public sealed class Accumulator
    {
        private long _count, _exact, _correct, _positions, _edits;

        /// <summary>Compares one row's prediction <paramref name="ŷ"/> with its expected sequence <paramref name="y"/>.</summary>
        public void Add(ReadOnlySpan<int> y, ReadOnlySpan<int> ŷ)
        {
            _count++;
            if (y.SequenceEqual(ŷ)) _exact++;
            for (int t = 0; t < Math.Min(y.Length, ŷ.Length); t++)
                if (y[t] == ŷ[t]) _correct++;
            _positions += Math.Max(y.Length, ŷ.Length);
            _edits += EditDistance(y, ŷ);
        }

        /// <summary>The metrics of the rows added.</summary>
        public SequenceToSequenceMetrics Metrics => new((int)_count, _count == 0 ? 0 : (double)_exact / _count,
            _positions == 0 ? 1 : (double)_correct / _positions, _count == 0 ? 0 : (double)_edits / _count);
    }

    /// <summary>Levenshtein distance between two token sequences, in O(|a|·|b|) time and O(|b|) memory.</summary>
    public static int EditDistance(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        Span<int> row = b.Length < 256 ? stackalloc int[b.Length + 1] : new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) row[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(above + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
