using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Tests.Data;

public sealed class SequenceDatasetTests
{
    [Fact]
    public void Fill_PadsTimeMajorAndMasksPaddedSteps()
    {
        var data = new SequenceDataset(2, 1, perStepTargets: true);
        data.Add([1, 2, 3, 4, 5, 6], [10, 11, 12], weight: 2);
        data.Add([7, 8], [20], weight: 0.5f);
        var batch = new SequenceBatch();
        data.Fill([1, 0], batch);
        Assert.Equal(3, batch.Steps);
        Assert.Equal([1, 3], batch.Lengths.ToArray());
        // [T, B, I]: step 0 = (7,8),(1,2); step 1 = pad,(3,4); step 2 = pad,(5,6)
        Assert.Equal([7, 8, 1, 2, 0, 0, 3, 4, 0, 0, 5, 6], batch.Input.ToArray());
        Assert.Equal([20, 10, 0, 11, 0, 12], batch.Targets.ToArray());
        Assert.Equal([0.5f, 2, 0, 2, 0, 2], batch.Weights.ToArray());
    }

    [Fact]
    public void Add_RejectsBadExamplesNamingTheRow()
    {
        var data = new SequenceDataset(3, 1);
        data.Add([1, 2, 3], [0]);
        var ragged = Assert.Throws<ArgumentException>(() => data.Add([1, 2, 3, 4], [0]));
        Assert.Contains("Example 1 has 4 values, which is not a multiple of 3", ragged.Message);
        var nan = Assert.Throws<ArgumentException>(() => data.Add([1, float.NaN, 3], [0]));
        Assert.Contains("Example 1, step 0, feature 1 is NaN", nan.Message);
        var empty = Assert.Throws<ArgumentException>(() => data.Add(ReadOnlySpan<float>.Empty, [0]));
        Assert.Contains("Example 1 has no step", empty.Message);
        var target = Assert.Throws<ArgumentException>(() => data.Add([1, 2, 3], [0, 1]));
        Assert.Contains("Example 1 has 2 target values; 1 are expected", target.Message);
        var weight = Assert.Throws<ArgumentOutOfRangeException>(() => data.Add([1, 2, 3], [0], -1));
        Assert.Contains("Example 1 has weight -1", weight.Message);
        Assert.Equal(1, data.Count);
    }

    [Fact]
    public void Plan_CoversEveryExampleOnce_IsSeeded_AndBucketsByLength()
    {
        var data = new SequenceDataset(1, 1);
        var random = new Random(5);
        for (int i = 0; i < 1000; i++) data.Add(new float[1 + random.Next(100)], [0]);
        int[][] first = BatchPlanner.Plan(data, 32, new Random(9), bucketByLength: true);
        int[][] again = BatchPlanner.Plan(data, 32, new Random(9), bucketByLength: true);
        Assert.Equal(first.SelectMany(b => b).Order(), Enumerable.Range(0, 1000));
        Assert.Equal(1000, first.Select(b => b.Length).Sum());
        Assert.Contains(first, b => b.Length == 1000 % 32);
        Assert.Equal(first.SelectMany(b => b), again.SelectMany(b => b));
        long padded(int[][] batches) => batches.Sum(b => (long)b.Length * b.Max(data.LengthOf));
        long real = Enumerable.Range(0, 1000).Sum(data.LengthOf);
        long bucketed = padded(first), shuffled = padded(BatchPlanner.Plan(data, 32, new Random(9), bucketByLength: false));
        Assert.True(bucketed < real * 1.1 && shuffled > real * 1.5,
            $"Padded steps: {bucketed} bucketed, {shuffled} shuffled, {real} real; bucketing should pad little.");
    }
}
