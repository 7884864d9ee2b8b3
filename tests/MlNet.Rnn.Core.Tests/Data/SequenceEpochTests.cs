using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// <see cref="SequenceEpoch"/> as its documentation describes it: a null source and a batch size below 1 are refused by name
/// with the runtime's whole message; a source of one part is planned exactly as <see cref="BatchPlanner.Plan"/> plans it, and
/// after its last batch <c>Next</c> says false (again and again) until the next <c>Begin</c>, which replays the epoch; a source
/// of many parts is read in windows of at most <see cref="SequenceEpoch.PartsPerWindow"/> parts (in order when the random is
/// null, so 20 parts make a window of 16 and one of 4), the examples of a window's partial batch carried, under their numbers,
/// to the next window, so only the epoch's last batch is partial; a <c>Begin</c> without a random after one with a random reads
/// the parts in order again; and an epoch abandoned midway leaves nothing (no carried example) to the next.
/// </summary>
public sealed class SequenceEpochTests
{
    /// <summary>A source in memory of the given parts (each returned as it is, as a source in memory returns itself).</summary>
    private sealed class Parts(SequenceDataset[] parts) : ISequenceSource
    {
        public int FeaturesPerStep => parts[0].FeaturesPerStep;
        public int TargetWidth => parts[0].TargetWidth;
        public bool PerStepTargets => parts[0].PerStepTargets;
        public long ExampleCount => parts.Sum(part => (long)part.Count);
        public int PartCount => parts.Length;
        public int PartSize(int part) => parts[part].Count;
        public SequenceSummary PartSummary(int part) => parts[part].Summary();
        public SequenceDataset ReadPart(int part, SequenceDataset buffer) => parts[part];
    }

    /// <summary>
    /// <paramref name="partCount"/> parts of <paramref name="partSize"/> examples, numbered through the source: example n has
    /// 1 + n % 3 steps of value n, target n and weight 1.
    /// </summary>
    private static Parts Source(int partCount, int partSize)
    {
        var parts = new SequenceDataset[partCount];
        for (int p = 0; p < partCount; p++)
        {
            parts[p] = new SequenceDataset(1, 1) { FirstExampleNumber = p * partSize };
            for (int n = p * partSize; n < (p + 1) * partSize; n++) parts[p].Add([.. Enumerable.Repeat((float)n, 1 + n % 3)], [n]);
        }
        return new Parts(parts);
    }

    /// <summary>
    /// The rest of the epoch's batches, each as the numbers (targets) of its examples, and the size of the window each came
    /// from; checks that every example served keeps its number and its steps.
    /// </summary>
    private static (List<int[]> Batches, List<int> Windows) Rest(SequenceEpoch epoch)
    {
        var batches = new List<int[]>();
        var windows = new List<int>();
        while (epoch.Next(out var examples, out int[] indices))
        {
            int[] numbers = [.. indices.Select(i => (int)examples.TargetOf(i)[0])];
            for (int b = 0; b < indices.Length; b++)
            {
                Assert.Equal(numbers[b], examples.NumberOf(indices[b]));
                Assert.Equal(Enumerable.Repeat((float)numbers[b], 1 + numbers[b] % 3), examples.ValuesOf(indices[b]).ToArray());
            }
            batches.Add(numbers);
            windows.Add(examples.Count);
        }
        return (batches, windows);
    }

    private static int[][] Chunk(int count, int batchSize) =>
        [.. Enumerable.Range(0, count).Chunk(batchSize)];

    [Fact]
    public void ANullSourceAndABatchSizeBelowOne_AreRefusedByName()
    {
        var data = Source(1, 3);
        var source = Assert.Throws<ArgumentNullException>(() => new SequenceEpoch(null!, 2, bucketByLength: false));
        Assert.Equal("source", source.ParamName);
        Assert.Equal("Value cannot be null. (Parameter 'source')", source.Message);
        foreach (int batchSize in new[] { 0, -1 })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceEpoch(data, batchSize, bucketByLength: false));
            Assert.Equal("batchSize", error.ParamName);
            Assert.Equal(batchSize, error.ActualValue);
            Assert.Equal($"batchSize ('{batchSize}') must be a non-negative and non-zero value. (Parameter 'batchSize'){Environment.NewLine}Actual value was {batchSize}.",
                error.Message);
        }
    }

    [Fact]
    public void ADataSet_IsPlannedAsBatchPlannerPlansIt_AndAfterItsLastBatchNextSaysFalseUntilTheNextBegin()
    {
        var data = new SequenceDataset(1, 1);
        for (int n = 0; n < 10; n++) data.Add([.. Enumerable.Repeat((float)n, 1 + n * 7 % 5)], [n]);
        var epoch = new SequenceEpoch(data, 3, bucketByLength: true);
        Assert.Equal(4, epoch.BatchCount);
        for (int round = 0; round < 2; round++)
        {
            epoch.Begin(new Random(7));
            int[][] plan = BatchPlanner.Plan(data, 3, new Random(7), bucketByLength: true);
            Assert.Equal(4, plan.Length);
            foreach (int[] expected in plan)
            {
                Assert.True(epoch.Next(out var examples, out int[] indices));
                Assert.Same(data, examples);
                Assert.Equal(expected, indices);
            }
            for (int after = 0; after < 3; after++)
            {
                Assert.False(epoch.Next(out var none, out int[] nothing));
                Assert.Null(none);
                Assert.Empty(nothing);
            }
        }
    }

    [Fact]
    public void ManyParts_AreReadInWindowsOfSixteenInOrderWithoutARandom_CarryingAWindowsPartialBatchUnderItsNumbers()
    {
        // 20 parts of 2: a window of 16 parts (32 examples: 10 batches of 3 and 30, 31 carried), then 30, 31 and the 4 parts
        // left (10 examples: 3 batches and the epoch's one partial batch).
        var epoch = new SequenceEpoch(Source(20, 2), 3, bucketByLength: false);
        Assert.Equal(14, epoch.BatchCount);
        epoch.Begin(null);
        var (batches, windows) = Rest(epoch);
        Assert.Equal(Chunk(40, 3), batches);
        Assert.Equal([.. Enumerable.Repeat(32, 10), .. Enumerable.Repeat(10, 4)], windows);
        Assert.False(epoch.Next(out _, out _));
    }

    [Fact]
    public void ABeginWithoutARandom_AfterOneWithARandom_ReadsThePartsInOrderAgain()
    {
        var epoch = new SequenceEpoch(Source(20, 2), 3, bucketByLength: false);
        epoch.Begin(new Random(3));
        var (shuffled, _) = Rest(epoch);
        Assert.Equal(Enumerable.Range(0, 40), shuffled.SelectMany(batch => batch).Order());
        Assert.NotEqual(Enumerable.Range(0, 40), shuffled.SelectMany(batch => batch));
        // Unbucketed, a window's batches are its shuffled examples in order, so the epoch's one partial batch is its last.
        Assert.Equal([.. Enumerable.Repeat(3, 13), 1], shuffled.Select(batch => batch.Length));

        epoch.Begin(null);
        Assert.Equal(Chunk(40, 3), Rest(epoch).Batches);
    }

    [Fact]
    public void AnEpochAbandonedMidway_LeavesNothingToTheNext()
    {
        var epoch = new SequenceEpoch(Source(20, 2), 3, bucketByLength: false);
        epoch.Begin(null);
        // The first batch reads the first window, whose partial batch (30, 31) waits for the second.
        Assert.True(epoch.Next(out _, out int[] first));
        Assert.Equal([0, 1, 2], first);
        epoch.Begin(null);
        var (batches, windows) = Rest(epoch);
        Assert.Equal(Chunk(40, 3), batches);
        Assert.Equal(32, windows[0]);
    }
}
