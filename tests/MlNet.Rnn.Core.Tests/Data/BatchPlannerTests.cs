using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// How <see cref="BatchPlanner"/> composes an epoch: every example exactly once, in batches of the given size with one last
/// partial batch and no empty batch; without bucketing the epoch is the seeded shuffle cut into consecutive batches (no
/// shuffle without a random); with bucketing each pool of <see cref="BatchPlanner.BucketPoolBatches"/> batches is sorted by
/// length, the last pool being partial, and the batches are then shuffled. Bad arguments are refused by name.
/// </summary>
public sealed class BatchPlannerTests
{
    /// <summary>A numeric data set of <paramref name="count"/> examples, example i of length <c>lengthOf(i)</c>.</summary>
    private static SequenceDataset Data(int count, Func<int, int> lengthOf)
    {
        var data = new SequenceDataset(1, 1);
        for (int i = 0; i < count; i++) data.Add(new float[lengthOf(i)], [0f]);
        return data;
    }

    /// <summary>Distinct lengths in a scrambled order, so sorting by length has one answer.</summary>
    private static int DistinctLength(int i) => 1 + (i * 37 % 151);

    private static int[][] Chunk(IReadOnlyList<int> order, int batchSize) =>
        [.. Enumerable.Range(0, (order.Count + batchSize - 1) / batchSize).Select(b => order.Skip(b * batchSize).Take(batchSize).ToArray())];

    [Fact]
    public void Plan_RefusesNoDataAndABatchSizeBelowOne()
    {
        var data = Data(3, _ => 1);
        Assert.Equal("data", Assert.Throws<ArgumentNullException>(() => BatchPlanner.Plan(null!, 2, null, false)).ParamName);
        Assert.Equal("batchSize", Assert.Throws<ArgumentOutOfRangeException>(() => BatchPlanner.Plan(data, 0, null, false)).ParamName);
        Assert.Equal("batchSize", Assert.Throws<ArgumentOutOfRangeException>(() => BatchPlanner.Plan(data, -1, null, false)).ParamName);
        Assert.Equal([[0], [1], [2]], BatchPlanner.Plan(data, 1, null, false));
    }

    [Theory]
    [InlineData(9, 3)]
    [InlineData(10, 3)]
    [InlineData(3, 5)]
    public void Plan_WithoutRandom_CutsTheExamplesInOrder_WithOneLastPartialBatch(int count, int batchSize)
    {
        var batches = BatchPlanner.Plan(Data(count, DistinctLength), batchSize, null, bucketByLength: false);
        Assert.Equal(Chunk([.. Enumerable.Range(0, count)], batchSize), batches);
        Assert.All(batches, batch => Assert.NotEmpty(batch));
    }

    [Fact]
    public void Plan_WithoutBucketing_IsTheSeededShuffleCutIntoConsecutiveBatches()
    {
        var data = Data(23, DistinctLength);
        int[] order = [.. Enumerable.Range(0, 23)];
        new Random(7).Shuffle(order);
        Assert.NotEqual(Enumerable.Range(0, 23), order);
        Assert.Equal(Chunk(order, 4), BatchPlanner.Plan(data, 4, new Random(7), bucketByLength: false));
    }

    [Fact]
    public void Plan_WithBucketingAndNoRandom_SortsEachPoolByLength_TheLastPoolPartial()
    {
        // Batch size 2: pools of 100 examples; 150 examples make one full pool and one of 50.
        var data = Data(150, DistinctLength);
        var expected = Enumerable.Range(0, 100).OrderBy(DistinctLength).Concat(Enumerable.Range(100, 50).OrderBy(DistinctLength)).ToArray();
        Assert.Equal(Chunk(expected, 2), BatchPlanner.Plan(data, 2, null, bucketByLength: true));
    }

    [Fact]
    public void Plan_WithBucketing_ShufflesThenSortsEachPool_ThenShufflesTheBatches()
    {
        var data = Data(150, DistinctLength);
        var random = new Random(11);
        int[] order = [.. Enumerable.Range(0, 150)];
        random.Shuffle(order);
        int[] bucketed = [.. order.Take(100).OrderBy(DistinctLength), .. order.Skip(100).OrderBy(DistinctLength)];
        int[][] expected = Chunk(bucketed, 2);
        random.Shuffle(expected);

        int[][] batches = BatchPlanner.Plan(data, 2, new Random(11), bucketByLength: true);
        Assert.Equal(expected, batches);
        Assert.Equal(Enumerable.Range(0, 150), batches.SelectMany(batch => batch).Order());
        // The batches themselves are not in length order: the shuffle after bucketing mixes short and long.
        int[] longest = [.. batches.Select(batch => batch.Max(DistinctLength))];
        Assert.NotEqual(longest.Order(), longest);
    }
}
