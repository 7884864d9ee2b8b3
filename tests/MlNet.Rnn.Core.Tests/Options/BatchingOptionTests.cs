using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Options;

/// <summary>
/// The batching options act as documented: Epochs and BatchSize (every example once per epoch, in batches of BatchSize),
/// Shuffle (off: the data's order every epoch; on: a new order each epoch), Seed (decides the order: the same seed repeats
/// the weights bit for bit, another changes them, and without shuffling it changes nothing), BucketByLength (each batch
/// holds a contiguous range of lengths). The sequence trainer's batches are seen through a loss that records its targets
/// (each example's target is its index); the sequence-to-sequence trainer's through runs that must give bit-identical
/// weights to training on data laid out in the expected order.
/// </summary>
public sealed class BatchingOptionTests
{
    /// <summary>Records the examples of every training batch (the targets are the examples' indices) and computes MSE.</summary>
    private sealed class RecordingLoss : ILoss
    {
        private readonly MeanSquaredError _inner = new();
        public List<int[]> Batches { get; } = [];

        public double Compute(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, int rows, int width, ReadOnlySpan<float> weights, Span<float> gradient)
        {
            var batch = new int[rows];
            for (int r = 0; r < rows; r++) batch[r] = (int)target[r * width];
            Batches.Add(batch);
            return _inner.Compute(prediction, target, rows, width, weights, gradient);
        }
    }

    private const int Examples = 43, BatchSize = 8, BatchesPerEpoch = 6;

    /// <summary>43 sequences of 1 to 15 steps; example i has target i.</summary>
    private static SequenceDataset IndexedData()
    {
        var random = new Random(21);
        var data = new SequenceDataset(1, 1);
        for (int i = 0; i < Examples; i++)
            data.Add(Enumerable.Range(0, 1 + random.Next(15)).Select(_ => random.NextSingle() - 0.5f).ToArray(), [i]);
        return data;
    }

    private static SequenceModel TinyModel() =>
        new(new SequenceModelOptions { Cell = RecurrentCellType.Gru, FeaturesPerStep = 1, HiddenSize = 2, Seed = 1, MaxDegreeOfParallelism = 1 });

    /// <summary>The batches of each epoch and the weights after training.</summary>
    private static (int[][][] Epochs, float[] Weights) Record(TrainerOptions options, SequenceDataset? data = null)
    {
        var model = TinyModel();
        var loss = new RecordingLoss();
        new SequenceTrainer(model, loss, options with { BatchSize = BatchSize, LearningRate = 1e-3f }).Train(data ?? IndexedData());
        int perEpoch = loss.Batches.Count / options.Epochs;
        var epochs = Enumerable.Range(0, options.Epochs).Select(e => loss.Batches.Skip(e * perEpoch).Take(perEpoch).ToArray()).ToArray();
        return (epochs, model.Parameters.Values.ToArray());
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void EveryEpoch_HoldsEveryExampleOnce_InBatchesOfBatchSize(bool shuffle, bool bucket)
    {
        var (epochs, _) = Record(new TrainerOptions { Epochs = 3, Shuffle = shuffle, BucketByLength = bucket, Seed = 2 });
        Assert.Equal(3, epochs.Length);
        foreach (var batches in epochs)
        {
            Assert.Equal(BatchesPerEpoch, batches.Length);
            Assert.Equal(Enumerable.Range(0, Examples), batches.SelectMany(b => b).Order());
            Assert.Equal(BatchesPerEpoch - 1, batches.Count(b => b.Length == BatchSize));
            Assert.Single(batches, b => b.Length == Examples % BatchSize);
        }
    }

    [Fact]
    public void ShuffleOff_ReadsTheDataInItsOrder_EveryEpoch()
    {
        var (epochs, _) = Record(new TrainerOptions { Epochs = 2, Shuffle = false, BucketByLength = false, Seed = 2 });
        foreach (var batches in epochs)
            for (int b = 0; b < BatchesPerEpoch; b++)
                Assert.Equal(Enumerable.Range(b * BatchSize, Math.Min(BatchSize, Examples - b * BatchSize)), batches[b]);
    }

    [Fact]
    public void ShuffleOn_ReadsANewOrderEachEpoch_ThatTheSeedDecides()
    {
        var options = new TrainerOptions { Epochs = 2, Shuffle = true, BucketByLength = false, Seed = 2 };
        var (epochs, weights) = Record(options);
        int[] first = [.. epochs[0].SelectMany(b => b)], second = [.. epochs[1].SelectMany(b => b)];
        Assert.NotEqual(Enumerable.Range(0, Examples), first);
        Assert.NotEqual(first, second);

        var (again, sameWeights) = Record(options);
        Assert.Equal(epochs, again);
        Assert.Equal(weights, sameWeights);
        var (other, otherWeights) = Record(options with { Seed = 3 });
        Assert.NotEqual(first, other[0].SelectMany(b => b));
        Assert.NotEqual(weights, otherWeights);
    }

    [Fact]
    public void Seed_ChangesNothingWithoutShuffling()
    {
        // The seed is the shuffling's only: initialisation and dropout take the model's seed.
        var options = new TrainerOptions { Epochs = 2, Shuffle = false, BucketByLength = true, Seed = 2 };
        Assert.Equal(Record(options).Weights, Record(options with { Seed = 3 }).Weights);
    }

    /// <summary>Whether the batches' length ranges are disjoint: no batch has a length strictly inside another's range.</summary>
    private static bool LengthRangesAreContiguous(int[][] batches, SequenceDataset data)
    {
        var ranges = batches.Select(b => (Min: b.Min(data.LengthOf), Max: b.Max(data.LengthOf))).ToArray();
        for (int a = 0; a < ranges.Length; a++)
            for (int b = 0; b < ranges.Length; b++)
                if (a != b && !(ranges[a].Max <= ranges[b].Min || ranges[b].Max <= ranges[a].Min)) return false;
        return true;
    }

    [Fact]
    public void BucketByLength_FillsEachBatchFromAContiguousRangeOfLengths_InAShuffledBatchOrder()
    {
        var data = IndexedData();
        var (bucketed, _) = Record(new TrainerOptions { Epochs = 2, Shuffle = true, BucketByLength = true, Seed = 2 }, data);
        foreach (var batches in bucketed)
            Assert.True(LengthRangesAreContiguous(batches, data),
                $"Batch lengths: {string.Join(" | ", batches.Select(b => string.Join(",", b.Select(data.LengthOf).Order())))}");
        Assert.NotEqual(bucketed[0].Select(b => b.Min()), bucketed[1].Select(b => b.Min()));

        // Without bucketing the same data gives batches of mixed lengths, so the check above can fail.
        var (mixed, _) = Record(new TrainerOptions { Epochs = 1, Shuffle = true, BucketByLength = false, Seed = 2 }, data);
        Assert.False(LengthRangesAreContiguous(mixed[0], data));
    }

    [Fact]
    public void BucketByLengthWithoutShuffling_ReadsTheExamplesShortestFirst()
    {
        var data = IndexedData();
        var (epochs, _) = Record(new TrainerOptions { Epochs = 1, Shuffle = false, BucketByLength = true }, data);
        int[] lengths = [.. epochs[0].SelectMany(b => b).Select(data.LengthOf)];
        Assert.Equal(lengths.Order(), lengths);
    }

    // The sequence-to-sequence trainer has no loss to plug in; its batches show in the weights. Six pairs whose
    // (source length, target length) keys all differ, so sorting them by length has one result.
    private static readonly int[][] s_sources = [[1, 2, 3, 4], [2], [3, 1], [4, 4, 2, 1, 3], [1, 3, 2], [2, 2]];
    private static readonly int[][] s_targets = [[3, 4], [4, 4, 3], [5], [3, 5, 4, 4], [4, 3, 5], [3]];

    private static float[] TrainTranslator(int[] order, TrainerOptions options)
    {
        var model = new SequenceToSequenceModel(new SequenceToSequenceOptions
        {
            Cell = RecurrentCellType.Gru, SourceVocabularySize = 5, TargetVocabularySize = 6, EmbeddingSize = 3, HiddenSize = 3,
            Attention = AttentionKind.Luong, Seed = 5, MaxDegreeOfParallelism = 1,
        });
        var pairs = SequencePairs.From([.. order.Select(i => s_sources[i])], [.. order.Select(i => s_targets[i])]);
        new SequencePairTrainer(model, options with { BatchSize = 2, LearningRate = 0.05f }).Train(pairs);
        return [.. model.EncoderParameters.Values, .. model.DecoderParameters.Values];
    }

    private static readonly int[] s_dataOrder = [0, 1, 2, 3, 4, 5];

    [Fact]
    public void SequenceToSequence_ShuffleOff_ReadsTheSameOrderEveryEpoch_ShuffleOnANewOneThatTheSeedDecides()
    {
        var unshuffled = new TrainerOptions { Epochs = 2, Shuffle = false, BucketByLength = false, Seed = 1 };
        float[] twoEpochs = TrainTranslator(s_dataOrder, unshuffled);
        // Two epochs in the data's order are one epoch over the data twice.
        Assert.Equal(TrainTranslator([.. s_dataOrder, .. s_dataOrder], unshuffled with { Epochs = 1 }), twoEpochs);
        Assert.Equal(twoEpochs, TrainTranslator(s_dataOrder, unshuffled with { Seed = 2 }));

        var shuffled = unshuffled with { Shuffle = true };
        float[] shuffledWeights = TrainTranslator(s_dataOrder, shuffled);
        Assert.NotEqual(twoEpochs, shuffledWeights);
        Assert.Equal(shuffledWeights, TrainTranslator(s_dataOrder, shuffled));
        Assert.NotEqual(shuffledWeights, TrainTranslator(s_dataOrder, shuffled with { Seed = 2 }));
    }

    [Fact]
    public void SequenceToSequence_BucketByLength_ReadsThePairsSortedBySourceThenTargetLength()
    {
        int[] byLength = [.. s_dataOrder.OrderBy(i => s_sources[i].Length).ThenBy(i => s_targets[i].Length)];
        Assert.NotEqual(s_dataOrder, byLength);
        var options = new TrainerOptions { Epochs = 2, Shuffle = false, BucketByLength = true };
        float[] bucketed = TrainTranslator(s_dataOrder, options);
        Assert.Equal(TrainTranslator(byLength, options with { BucketByLength = false }), bucketed);
        Assert.NotEqual(TrainTranslator(s_dataOrder, options with { BucketByLength = false }), bucketed);
    }

    [Fact]
    public void SequenceToSequence_EpochsAndBatchSize_SetTheNumberOfSteps()
    {
        // AdamW multiplies every weight by 1 − lr·λ at each step, and Adam moves a weight without gradient not at all: the
        // embedding row of a source id that never occurs shrinks by exactly (1 − lr·λ)^steps, steps = epochs·⌈pairs / batch⌉.
        foreach (var (epochs, batch) in new[] { (2, 2), (3, 4), (1, 6) })
        {
            var model = new SequenceToSequenceModel(new SequenceToSequenceOptions
            {
                Cell = RecurrentCellType.Gru, SourceVocabularySize = 6, TargetVocabularySize = 6, EmbeddingSize = 3, HiddenSize = 3, Seed = 5,
                MaxDegreeOfParallelism = 1,
            });
            var row = model.EncoderParameters.ValuesOf(model.EncoderParameters["embedding.weight"]).Slice(5 * 3, 3);
            float[] before = row.ToArray();
            new SequencePairTrainer(model, new TrainerOptions
            {
                Epochs = epochs, BatchSize = batch, Optimizer = OptimizerKind.AdamW, LearningRate = 0.1f, WeightDecay = 0.5f,
            }).Train(SequencePairs.From(s_sources, s_targets));
            int steps = epochs * ((s_sources.Length + batch - 1) / batch);
            float[] after = model.EncoderParameters.ValuesOf(model.EncoderParameters["embedding.weight"]).Slice(5 * 3, 3).ToArray();
            for (int i = 0; i < 3; i++) Assert.Equal(before[i] * Math.Pow(0.95, steps), after[i], Math.Abs(before[i]) * 1e-5);
        }
    }
}
