using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Tests.Data;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// Pairs larger than memory: a cache of <see cref="SequencePairs.CreateCache"/> under its budget trains bit for bit as the pairs
/// in memory; past it (a few KB, so it spills into many parts, more than a window) every pair comes back exactly once an
/// epoch, as it was added, in batches bucketed by (source length, target length), the trainer reads each part once an epoch, the model still learns to reverse digits far above the
/// most frequent token's rate, evaluation reads the parts as it reads memory, and errors name a pair by the row it was added as.
/// Encoding a pair allocates nothing once the buffers hold it (scoring stages every batch's rows this way).
/// </summary>
public sealed class SequenceToSequenceStreamingTests
{
    /// <summary>A budget of a few KB: parts of about 128 bytes, two or three pairs each.</summary>
    private const long TinyBudget = 4 << 10;

    private static SequenceCache Cache(SequencePairs pairs, long budget, int seed = 1)
    {
        var cache = SequencePairs.CreateCache(budget, seed);
        for (int i = 0; i < pairs.Count; i++) SequencePairs.AddTo(cache, pairs.Sources[i], pairs.Targets[i]);
        cache.Complete();
        return cache;
    }

    /// <summary>Pairs whose source and target lengths (1 to 6) are drawn independently, so a total length does not order them.</summary>
    private static SequencePairs MixedLengths(int count, int seed)
    {
        var random = new Random(seed);
        var pairs = new SequencePairs();
        for (int i = 0; i < count; i++)
            pairs.Add([.. Enumerable.Range(0, random.Next(1, 7)).Select(_ => random.Next(1, 11))], [.. Enumerable.Range(0, random.Next(1, 7)).Select(_ => random.Next(3, 13))]);
        return pairs;
    }

    private static SequenceToSequenceModel Model(AttentionKind attention = AttentionKind.Luong) => new(SequenceToSequenceLearningTests.SmallOptions with
    {
        Attention = attention, EmbeddingSize = 8, HiddenSize = 16, MaxDegreeOfParallelism = 1,
    });

    private static float[] Weights(SequenceToSequenceModel model) => [.. model.EncoderParameters.Values, .. model.DecoderParameters.Values];

    [Theory]
    [InlineData(AttentionKind.Luong)]
    [InlineData(AttentionKind.Bahdanau)]
    public void UnderTheBudget_ACacheOfPairsTrainsBitForBitAsThePairsInMemory(AttentionKind attention)
    {
        var training = SequenceToSequenceLearningTests.ReversedDigits(120, seed: 11);
        var validation = SequenceToSequenceLearningTests.ReversedDigits(30, seed: 12);
        var options = new TrainerOptions { Epochs = 3, BatchSize = 8, LearningRate = 1e-2f, Seed = 4, EarlyStoppingPatience = 2 };
        using var trainingCache = Cache(training, budget: 1 << 20);
        using var validationCache = Cache(validation, budget: 1 << 20);
        Assert.False(trainingCache.Spilled || validationCache.Spilled);

        var inMemory = Model(attention);
        var memoryHistory = new SequencePairTrainer(inMemory, options).Train(training, validation);
        var cached = Model(attention);
        var cachedHistory = new SequencePairTrainer(cached, options).Train(trainingCache, validationCache);

        Assert.Equal(Weights(inMemory), Weights(cached));
        Assert.Equal(memoryHistory.Epochs.Select(e => (e.TrainingLoss, e.ValidationLoss, e.ValidationMetric)),
            cachedHistory.Epochs.Select(e => (e.TrainingLoss, e.ValidationLoss, e.ValidationMetric)));
    }

    [Fact]
    public void EncodingPairsIntoBuffersThatHoldThemAlready_AllocatesNothing()
    {
        int[][] sources = [.. Enumerable.Range(0, 64).Select(r => Enumerable.Range(1, 1 + r % 9).ToArray())];
        var pairs = SequencePairs.From(sources, sources);
        var staged = new SequenceDataset(featuresPerStep: 0, targetWidth: 1);
        void Stage()
        {
            staged.Clear();
            for (int r = 0; r < sources.Length; r++) SequencePairs.Append(staged, sources[r], sources[r]);
        }
        Stage();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Stage();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(pairs.Count, staged.Count);
        Assert.Equal(sources[5], SequencePairs.TargetOf(staged, 5).ToArray());
    }

    [Fact]
    public void OverTheBudget_EveryPairComesBackExactlyOnceAnEpoch_AsItWasAdded_InBatchesSortedBySourceThenTargetLength()
    {
        var pairs = MixedLengths(500, seed: 13);
        using var cache = Cache(pairs, TinyBudget);
        Assert.True(cache.Spilled);
        Assert.True(cache.PartCount > 2 * SequenceEpoch.PartsPerWindow, $"{cache.PartCount} parts");

        const int batchSize = 7;
        var epoch = new SequenceEpoch(cache, batchSize, bucketByLength: true, SequencePairs.BucketKey);
        var random = new Random(3);
        var orders = new List<long[]>();
        for (int e = 0; e < 2; e++)
        {
            epoch.Begin(random);
            var seen = new List<long>();
            var sizes = new List<int>();
            while (epoch.Next(out var examples, out int[] indices))
            {
                sizes.Add(indices.Length);
                // Bucketed in each window by (source length, target length): a batch is a run of the window's sorted pairs.
                var lengths = indices.Select(index => (SequencePairs.SourceOf(examples, index).Length, SequencePairs.TargetOf(examples, index).Length)).ToArray();
                Assert.Equal(lengths.Order(), lengths);
                foreach (int index in indices)
                {
                    long row = examples.NumberOf(index);
                    seen.Add(row);
                    Assert.Equal(pairs.Sources[(int)row], SequencePairs.SourceOf(examples, index).ToArray());
                    Assert.Equal(pairs.Targets[(int)row], SequencePairs.TargetOf(examples, index).ToArray());
                }
            }
            Assert.Equal(Enumerable.Range(0, pairs.Count).Select(i => (long)i), seen.Order());
            Assert.Equal(epoch.BatchCount, sizes.Count);
            // The last window's partial batch is the only one (earlier windows carry theirs over); bucketing places it anywhere in that window.
            Assert.Single(sizes, size => size < batchSize);
            Assert.Equal(pairs.Count, sizes.Sum());
            orders.Add([.. seen]);
        }
        Assert.NotEqual(orders[0], orders[1]);
    }

    [Fact]
    public void TheTrainerReadsEachPartOnceToCheckIt_ThenOnceAnEpoch_ToTrainOrValidate_AndTakesOneStepPerBatch()
    {
        var pairs = SequenceToSequenceLearningTests.ReversedDigits(200, seed: 14);
        using var cache = Cache(pairs, TinyBudget);
        using var validationCache = Cache(SequenceToSequenceLearningTests.ReversedDigits(60, seed: 15), TinyBudget);
        Assert.True(validationCache.PartCount > 1);
        var training = new CountingSource(cache);
        var validation = new CountingSource(validationCache);
        const int epochs = 3, batchSize = 16;
        var history = new SequencePairTrainer(Model(), new TrainerOptions { Epochs = epochs, BatchSize = batchSize, Seed = 2 }).Train(training, validation);
        Assert.Equal(epochs, history.Epochs.Count);
        Assert.All(training.Reads, reads => Assert.Equal(1 + epochs, reads));
        Assert.All(validation.Reads, reads => Assert.Equal(1 + epochs, reads));
        Assert.Equal(epochs * ((pairs.Count + batchSize - 1) / batchSize), history.Steps);
    }

    [Fact]
    public void PairsSpilledIntoManyParts_TrainAModelThatReversesDigits()
    {
        var pairs = SequenceToSequenceLearningTests.ReversedDigits(1000, seed: 16);
        using var cache = Cache(pairs, TinyBudget);
        Assert.True(cache.PartCount > 2 * SequenceEpoch.PartsPerWindow, $"{cache.PartCount} parts");
        var model = Model();
        var trainer = new SequencePairTrainer(model, new TrainerOptions { Epochs = 4, BatchSize = 32, LearningRate = 1e-2f, Seed = 5 });
        trainer.Train(cache);

        // Teacher-forced steps of the held-out pairs: every target token and the end token. Predicting the most frequent one
        // at every step is the baseline.
        var test = SequenceToSequenceLearningTests.ReversedDigits(300, seed: 17);
        var steps = Enumerable.Range(0, test.Count).SelectMany(i => test.Targets[i].Append(model.Options.EndId)).ToArray();
        double baseline = steps.GroupBy(id => id).Max(group => group.Count()) / (double)steps.Length;
        var (_, accuracy) = trainer.Evaluate(test);
        Assert.True(accuracy > baseline + 0.5, $"teacher-forced token accuracy {accuracy:F3}; the most frequent token's rate {baseline:F3}");
    }

    [Fact]
    public void EvaluatingASpilledCache_GivesWhatThePairsInMemoryGive()
    {
        var model = Model();
        var trainer = new SequencePairTrainer(model, new TrainerOptions { Epochs = 1, BatchSize = 16, LearningRate = 1e-2f, Seed = 6 });
        trainer.Train(SequenceToSequenceLearningTests.ReversedDigits(200, seed: 18));
        var test = SequenceToSequenceLearningTests.ReversedDigits(300, seed: 19);
        using var cache = Cache(test, TinyBudget);
        Assert.True(cache.Spilled);

        var (memoryLoss, memoryAccuracy) = trainer.Evaluate(test);
        var (cacheLoss, cacheAccuracy) = trainer.Evaluate(cache);
        Assert.Equal(memoryLoss, cacheLoss, 1e-5);
        Assert.Equal(memoryAccuracy, cacheAccuracy, 1e-9);
        Assert.Equal(model.Evaluate(test), model.Evaluate(cache));
    }

    [Fact]
    public void ABadPairInASpilledCache_IsNamedByTheRowItWasAddedAs()
    {
        var pairs = SequenceToSequenceLearningTests.ReversedDigits(300, seed: 20);
        using var cache = SequencePairs.CreateCache(TinyBudget, seed: 1);
        for (int i = 0; i < pairs.Count; i++) SequencePairs.AddTo(cache, i == 217 ? [1, 11] : pairs.Sources[i], pairs.Targets[i]);
        Assert.Contains("Row 300: the target sequence is empty", Assert.Throws<ArgumentException>(() => SequencePairs.AddTo(cache, [1], [])).Message);
        Assert.Contains("Row 300: target token 0 has id -3", Assert.Throws<ArgumentException>(() => SequencePairs.AddTo(cache, [1], [-3])).Message);
        Assert.True(cache.Spilled);
        var model = Model();
        var trainer = new SequencePairTrainer(model, new TrainerOptions { Epochs = 1 });
        string message = Assert.Throws<ArgumentException>(() => trainer.Train(cache)).Message;
        Assert.Contains("Row 217: source token 1 has id 11", message);
        Assert.Contains("Row 217: source token 1 has id 11", Assert.Throws<ArgumentException>(() => model.Evaluate(cache)).Message);

        // Data of another shape is not pairs.
        using var numeric = new SequenceCache(2, 1, false, TinyBudget, seed: 1);
        numeric.Add([1f, 2f], [1f]);
        Assert.Contains("does not hold sequence pairs", Assert.Throws<ArgumentException>(() => trainer.Train(numeric)).Message);
        var wrongLength = new SequenceDataset(0, 1);
        wrongLength.AddTokens([1, 3], [3f]);
        Assert.Contains("Row 0 of training is not a sequence pair: its source length 3", Assert.Throws<ArgumentException>(() => trainer.Train(wrongLength)).Message);
    }
}
