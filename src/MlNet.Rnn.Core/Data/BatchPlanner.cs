namespace MlNet.Rnn.Core.Data;

/// <summary>
/// Splits a data set into mini-batches for one epoch: shuffled by a seeded <see cref="Random"/>, optionally
/// bucketed by length (examples of similar length batched together, so little padding is computed), with a last
/// partial batch rather than dropped examples.
/// </summary>
public static class BatchPlanner
{
    /// <summary>Pool of batches sorted by length together when bucketing: large enough to group lengths, small enough to stay random.</summary>
    public const int BucketPoolBatches = 50;

    /// <summary>
    /// Returns the batches of one epoch as index arrays; every example appears exactly once. When bucketing, examples are sorted
    /// within a pool by <paramref name="bucketKey"/> (their length when null).
    /// </summary>
    public static int[][] Plan(SequenceDataset data, int batchSize, Random? random, bool bucketByLength, Func<SequenceDataset, int, long>? bucketKey = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int count = data.Count;
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        random?.Shuffle(order);
        if (bucketByLength)
        {
            int pool = batchSize * BucketPoolBatches;
            for (int start = 0; start < count; start += pool)
            {
                var slice = order.AsSpan(start, Math.Min(pool, count - start));
                var keys = new long[slice.Length];
                for (int i = 0; i < slice.Length; i++) keys[i] = bucketKey is null ? data.LengthOf(slice[i]) : bucketKey(data, slice[i]);
                keys.AsSpan().Sort(slice);
            }
        }
        var batches = new int[(count + batchSize - 1) / batchSize][];
        for (int b = 0; b < batches.Length; b++) batches[b] = order.AsSpan(b * batchSize, Math.Min(batchSize, count - b * batchSize)).ToArray();
        if (bucketByLength) random?.Shuffle(batches);
        return batches;
    }
}
