using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// <see cref="SequenceCache"/>, how the trainers hold data larger than memory. Under its budget it is one part, the data set
/// itself, and trains bit for bit as a <see cref="SequenceDataset"/>. Over it, every example comes back exactly once, as it
/// was added, from parts no larger than the budget allows; a sorted input is spread over the parts; errors number examples
/// as they were added; the file goes when the cache is disposed; and a trainer learns from the parts as from memory,
/// checking classes without reading parts whose summary is clean.
/// </summary>
public sealed class SequenceCacheTests
{
    /// <summary>Example i: 2 + i % 9 steps of 3 features whose first value is i; target i % 2 (sorted: the first half 0).</summary>
    private static void Fill(SequenceCache cache, int count, bool sortedTargets = false, bool tokens = false)
    {
        var random = new Random(5);
        for (int i = 0; i < count; i++)
        {
            int length = 2 + i % 9;
            float target = sortedTargets ? (i < count / 2 ? 0 : 1) : i % 2;
            if (tokens)
            {
                int[] ids = [.. Enumerable.Range(0, length).Select(t => t == 0 ? i : random.Next(50))];
                cache.AddTokens(ids, [target], 1 + i % 3);
            }
            else
            {
                float[] steps = [.. Enumerable.Range(0, length * 3).Select(v => v == 0 ? i : random.NextSingle())];
                cache.Add(steps, [target], 1 + i % 3);
            }
        }
    }

    private static List<SequenceDataset> Parts(SequenceCache cache)
    {
        var parts = new List<SequenceDataset>();
        for (int p = 0; p < cache.PartCount; p++)
        {
            var buffer = new SequenceDataset(cache.FeaturesPerStep, cache.TargetWidth, cache.PerStepTargets);
            var part = cache.ReadPart(p, buffer);
            Assert.Equal(cache.PartSize(p), part.Count);
            Assert.Equal(part.Summary(), cache.PartSummary(p));
            parts.Add(part);
        }
        return parts;
    }

    [Fact]
    public void UnderItsBudget_TheCacheIsOnePartInMemory()
    {
        using var cache = new SequenceCache(3, 1, false, memoryBudget: 1 << 20, seed: 1);
        Fill(cache, 100);
        Assert.False(cache.Spilled);
        Assert.Null(cache.FilePath);
        Assert.Equal(1, cache.PartCount);
        var buffer = new SequenceDataset(3, 1);
        var part = cache.ReadPart(0, buffer);
        Assert.NotSame(buffer, part);
        Assert.Equal(100, part.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OverItsBudget_EveryExampleComesBackOnceAsItWasAdded_FromBoundedParts(bool tokens)
    {
        const int count = 3000;
        const long budget = 64 << 10;
        using var cache = new SequenceCache(tokens ? 0 : 3, 1, false, budget, seed: 1);
        Fill(cache, count, tokens: tokens);
        using var expected = new SequenceCache(tokens ? 0 : 3, 1, false, long.MaxValue, seed: 1);
        Fill(expected, count, tokens: tokens);
        var all = expected.ReadPart(0, null!);

        Assert.True(cache.Spilled);
        // On Unix the file is unlinked once open, so not even a killed process leaves it behind; Windows deletes it on close.
        Assert.Equal(OperatingSystem.IsWindows(), File.Exists(cache.FilePath));
        Assert.True(cache.BytesOnDisk > count * 12);
        Assert.Equal(count, cache.ExampleCount);
        var seen = new bool[count];
        foreach (var part in Parts(cache))
        {
            // A part holds what fits in budget / (2·16) bytes, plus the example that filled it.
            Assert.True(4 * (part.ValueCount + part.TargetCount) + 24L * part.Count <= budget / 32 + 4 * 3 * 11 + 36, $"a part of {part.Count} examples");
            for (int i = 0; i < part.Count; i++)
            {
                int id = tokens ? part.IdsOf(i)[0] : (int)part.ValuesOf(i)[0];
                Assert.False(seen[id], $"example {id} came back twice");
                seen[id] = true;
                Assert.Equal(all.LengthOf(id), part.LengthOf(i));
                Assert.Equal(all.WeightOf(id), part.WeightOf(i));
                Assert.Equal(all.TargetOf(id).ToArray(), part.TargetOf(i).ToArray());
                if (tokens) Assert.Equal(all.IdsOf(id).ToArray(), part.IdsOf(i).ToArray());
                else Assert.Equal(all.ValuesOf(id).ToArray(), part.ValuesOf(i).ToArray());
            }
        }
        Assert.All(seen, Assert.True);
        string path = cache.FilePath!;
        cache.Dispose();
        Assert.False(File.Exists(path), "the temporary file outlived the cache");
    }

    [Fact]
    public void AnEpochOverSpilledParts_ServesEveryExampleOnceInFullBatches_MixingASortedInput()
    {
        using var cache = new SequenceCache(3, 1, false, memoryBudget: 64 << 10, seed: 2);
        Fill(cache, 3000, sortedTargets: true);
        Assert.True(cache.PartCount > 2 * SequenceEpoch.PartsPerWindow);
        var epoch = new SequenceEpoch(cache, batchSize: 32, bucketByLength: true);
        Assert.Equal(94, epoch.BatchCount);
        var batch = new SequenceBatch();
        for (int e = 0; e < 2; e++)
        {
            epoch.Begin(new Random(e));
            var seen = new bool[3000];
            int batches = 0, partial = 0;
            while (epoch.Next(batch))
            {
                batches++;
                if (batch.BatchSize < 32) partial++;
                for (int b = 0; b < batch.BatchSize; b++)
                {
                    int id = (int)batch.Input[b * 3];
                    Assert.False(seen[id], $"example {id} twice in epoch {e}");
                    seen[id] = true;
                }
                // The input's first half is class 0 and its second half class 1; windows of parts drawn from the whole file
                // mix them in every batch.
                double ones = batch.Targets.ToArray().Average();
                Assert.InRange(ones, 0.1, 0.9);
            }
            Assert.Equal(epoch.BatchCount, batches);
            Assert.Equal(1, partial); // 3000 = 93·32 + 24: one partial batch, however the windows split the examples
            Assert.All(seen, Assert.True);
        }
    }

    [Fact]
    public void AfterASpill_ErrorsNumberExamplesAsTheyWereAdded_AndACompleteCacheRefusesMore()
    {
        using var cache = new SequenceCache(3, 1, false, memoryBudget: 16 << 10, seed: 1);
        Fill(cache, 500);
        Assert.True(cache.Spilled);
        var error = Assert.Throws<ArgumentException>(() => cache.Add([1, 2, float.NaN], [0]));
        Assert.Equal("Example 500, step 0, feature 2 is NaN; features must be finite. (Parameter 'steps')", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Add([1, 2, 3], [0], weight: -1));
        cache.Complete();
        Assert.Contains("complete", Assert.Throws<InvalidOperationException>(() => cache.Add([1, 2, 3], [0])).Message);
    }

    private static SequenceModel Model() => new(new SequenceModelOptions
    {
        Cell = RecurrentCellType.Gru, FeaturesPerStep = 1, HiddenSize = 16, Seed = 1, MaxDegreeOfParallelism = 1,
    });

    private static SequenceCache Cached(SequenceDataset data, long budget, int seed = 1)
    {
        var cache = new SequenceCache(data.FeaturesPerStep, data.TargetWidth, data.PerStepTargets, budget, seed);
        for (int i = 0; i < data.Count; i++) cache.Add(data.ValuesOf(i), data.TargetOf(i), data.WeightOf(i));
        return cache;
    }

    [Fact]
    public void UnderItsBudget_TrainingIsBitForBitTrainingOnTheDataSet()
    {
        var data = Trainer.SequenceTrainerTests.SignOfSum(300, 1);
        var options = new TrainerOptions { Epochs = 2, BatchSize = 32, LearningRate = 0.01f };
        var inMemory = Model();
        new SequenceTrainer(inMemory, new BinaryCrossEntropyWithLogits(), options).Train(data);
        var cached = Model();
        using var cache = Cached(data, long.MaxValue);
        new SequenceTrainer(cached, new BinaryCrossEntropyWithLogits(), options).Train(cache);
        Assert.Equal(inMemory.Parameters.Values.ToArray(), cached.Parameters.Values.ToArray());
    }

    [Fact]
    public void FromSpilledParts_ATrainerLearnsAsFromMemory_AndTheSameSeedGivesTheSameWeights()
    {
        var options = new TrainerOptions { Epochs = 8, BatchSize = 32, LearningRate = 0.01f };
        var test = Trainer.SequenceTrainerTests.SignOfSum(500, 3);
        double positives = Enumerable.Range(0, test.Count).Average(i => test.TargetOf(i)[0]), majority = Math.Max(positives, 1 - positives);
        float[] Train()
        {
            var model = Model();
            using var training = Cached(Trainer.SequenceTrainerTests.SignOfSum(1500, 1), 32 << 10);
            using var validation = Cached(Trainer.SequenceTrainerTests.SignOfSum(300, 2), 8 << 10, seed: 2);
            Assert.True(training.Spilled && validation.Spilled && training.PartCount > 10);
            var trainer = new SequenceTrainer(model, new BinaryCrossEntropyWithLogits(), options);
            var history = trainer.Train(training, validation);
            Assert.Equal(8, history.Epochs.Count);
            var (_, accuracy) = trainer.Evaluate(test);
            Assert.True(accuracy > majority + 0.35, $"Held-out accuracy {accuracy:F3}; the majority class scores {majority:F3}.");
            Assert.Equal(trainer.Evaluate(validation).Loss, history.Epochs[^1].ValidationLoss!.Value, 6);
            return model.Parameters.Values.ToArray();
        }
        Assert.Equal(Train(), Train());
    }

    [Fact]
    public void ABadClassInASpilledPart_IsNamedByItsNumberInTheWholeData()
    {
        var data = Trainer.SequenceTrainerTests.SignOfSum(400, 1);
        using var cache = new SequenceCache(1, 1, false, 8 << 10, seed: 1);
        for (int i = 0; i < data.Count; i++) cache.Add(data.ValuesOf(i), i == 377 ? [2] : data.TargetOf(i), data.WeightOf(i));
        Assert.True(cache.Spilled);
        var model = new SequenceModel(new SequenceModelOptions { FeaturesPerStep = 1, HiddenSize = 4, OutputSize = 2 });
        var error = Assert.Throws<ArgumentException>(() => new SequenceTrainer(model, new SoftmaxCrossEntropy(), new TrainerOptions()).Train(cache));
        Assert.StartsWith("The training data's example 377 has class target 2; classes are whole numbers in [0, 1].", error.Message);
    }
}
