using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tests.Trainer;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.LanguageModeling;

/// <summary>
/// <see cref="LanguageModelTask"/>, language modeling as the training loop drives it: every epoch's dropout masks (the stack's
/// and the head's) depend on the seed and the epoch alone, the head's drawn from <c>Mix(seed, −epoch)</c>; a shuffled epoch
/// starts its streams inside the text even when the text is shorter than a chunk; an epoch of exactly 2³¹ − 1 chunks is
/// counted; a chunk whose targets all weigh nothing is a loss of 0, not a divergence; per-epoch validation reads one stream
/// per 1,000 ids (at least one, at most <see cref="LanguageModelTrainingOptions.ValidationStreams"/>); and the log names the
/// examples tokens.
/// </summary>
public sealed class LanguageModelTaskTests
{
    private static readonly Vocabulary s_vocabulary = Vocabulary.FromCharacters("abcdefgh ");

    private static SequenceModelOptions Options(int seed = 6) => LanguageModel.DefaultOptions(s_vocabulary) with
    {
        EmbeddingSize = 3, HiddenSize = 4, Layers = 2, Dropout = 0.4f, RecurrentDropout = 0.3f, Seed = seed, MaxDegreeOfParallelism = 1,
    };

    private static LanguageModelTrainingOptions Training(int batchSize, int chunkSteps, int validationStreams = 32) => new()
    {
        Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 1, BatchSize = batchSize }, ChunkSteps = chunkSteps,
        ValidationStreams = validationStreams,
    };

    private static int[] Sequence(string text) => TokenSequence.FromText(s_vocabulary.Encode(text), withEnd: true, s_vocabulary, "text");

    private static (LanguageModelTask Task, StreamingLogits Logits) NewTask(SequenceModel model, ITokenSource training, ITokenSource? validation,
        LanguageModelTrainingOptions options)
    {
        var logits = new StreamingLogits(model);
        return (new LanguageModelTask(model, s_vocabulary, logits, training, validation, options), logits);
    }

    [Fact]
    public void AnEpochsDropoutMasks_DependOnTheSeedAndTheEpochAlone()
    {
        var text = new TokenArray(Sequence("abcdefgh abc hag"));
        var options = Training(batchSize: 2, chunkSteps: 3);

        // One task runs two chunks of epoch 1 first; another starts at epoch 2. Neither steps the optimizer, so both have the
        // same weights: their first chunk of epoch 2 must be the same, masks included.
        var (after, afterLogits) = NewTask(new SequenceModel(Options()), text, null, options);
        after.BeginEpoch(1, random: null);
        after.Step(0);
        after.Step(1);
        after.BeginEpoch(2, random: null);
        var (loss, weight, _) = after.Step(0);
        float[] mask = afterLogits.HeadDropoutMask.ToArray();

        var (fresh, freshLogits) = NewTask(new SequenceModel(Options()), text, null, options);
        fresh.BeginEpoch(2, random: null);
        var (freshLoss, freshWeight, _) = fresh.Step(0);
        Assert.Equal(freshWeight, weight);
        Assert.Equal(freshLoss, loss);
        Assert.Equal(freshLogits.HeadDropoutMask.ToArray(), mask);

        // The head's mask, 3 steps × 2 streams × H = 4, is drawn from Mix(seed, −epoch), a stream of its own.
        var draws = new Random(TrainingLoop.Mix(6, -2));
        float keep = 1f - 0.4f;
        float[] expected = [.. Enumerable.Range(0, 3 * 2 * 4).Select(_ => draws.NextSingle() < keep ? 1f / keep : 0f)];
        Assert.Equal(expected, mask);
    }

    [Fact]
    public void ShuffledEpochs_OfATextShorterThanAChunk_StartInsideIt()
    {
        // "a" is start, a, end: two pairs. Each epoch starts its stream at an offset in [0, min(k, 2)): 0 or 1, never past the
        // last pair, however many epochs.
        var model = new LanguageModel(s_vocabulary, Options() with { Dropout = 0f, RecurrentDropout = 0f, Layers = 1 });
        var history = model.Train("a", null, new LanguageModelTrainingOptions
        { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 30, BatchSize = 1, Shuffle = true, Seed = 1 }, ChunkSteps = 64 });
        Assert.Equal(30, history.Epochs.Count);
        Assert.All(history.Epochs, epoch => Assert.True(epoch.TrainingLoss > 0 && double.IsFinite(epoch.TrainingLoss), $"loss {epoch.TrainingLoss}"));
    }

    /// <summary>A sequence of <paramref name="count"/> ids that is never read.</summary>
    private sealed class UnreadSequence(long count) : ITokenSource
    {
        public long Count => count;

        public void Read(long position, Span<int> destination) => throw new InvalidOperationException("not read in this test");
    }

    [Fact]
    public void AnEpochOfExactlyIntMaxValueChunks_IsCounted()
    {
        // 2³¹ ids: 2³¹ − 1 pairs, one stream of one-step chunks.
        var model = new SequenceModel(Options());
        var (task, _) = NewTask(model, new UnreadSequence(1L << 31), null, Training(batchSize: 1, chunkSteps: 1));
        Assert.Equal(int.MaxValue, task.StepsPerEpoch);
        Assert.Throws<ArgumentException>(() => NewTask(model, new UnreadSequence((1L << 31) + 1), null, Training(batchSize: 1, chunkSteps: 1)));
    }

    [Fact]
    public void AChunkWhoseTargetsAllWeighNothing_IsALossOfZero()
    {
        // start end start a end: the second pair's target is the start id (weight 0), and it is a chunk of its own.
        int[] sequence = [s_vocabulary.StartId, s_vocabulary.EndId, .. Sequence("a")];
        var model = new SequenceModel(Options());
        var (task, _) = NewTask(model, new TokenArray(sequence), null, Training(batchSize: 1, chunkSteps: 1));
        Assert.Equal(4, task.BeginEpoch(1, random: null));
        Assert.Equal((0.0, 0.0, 0L), task.Step(1));
        var (loss, weight, examples) = task.Step(2);
        Assert.Equal((1.0, 1L), (weight, examples));
        Assert.True(loss > 0 && double.IsFinite(loss), $"loss {loss}");
    }

    [Theory]
    [InlineData(1999, 1)]
    [InlineData(2000, 1)]
    [InlineData(2001, 2)]
    [InlineData(9001, 3)]
    public void Validation_ReadsOneStreamPerThousandIds_AtLeastOne_AtMostTheOption(int ids, int streams)
    {
        var random = new Random(ids);
        int[] text = [.. Enumerable.Range(0, ids - 2).Select(_ => random.Next(3, s_vocabulary.Count))];
        var model = new LanguageModel(s_vocabulary, Options() with { Dropout = 0f, RecurrentDropout = 0f, Layers = 1 });
        var (task, _) = NewTask(model.Model, new TokenArray(Sequence("abc")), new TokenArray(TokenSequence.FromText(text, withEnd: true, s_vocabulary, "text")),
            Training(batchSize: 2, chunkSteps: 4, validationStreams: 3));
        var (loss, bits) = task.Evaluate();
        var expected = model.Evaluate(text, scoreEnd: true, streams);
        Assert.Equal(expected.CrossEntropy, loss);
        Assert.Equal(expected.BitsPerToken, bits);
        // One stream more or fewer scores otherwise: the count is what the comparison tells apart.
        foreach (int other in new[] { streams - 1, streams + 1 }.Where(s => s >= 1))
            Assert.NotEqual(model.Evaluate(text, scoreEnd: true, other).CrossEntropy, loss);
    }

    [Fact]
    public void TheEpochLog_CountsTokensPerSecond()
    {
        var logger = new LineLogger();
        var model = new LanguageModel(s_vocabulary, Options() with { Dropout = 0f, RecurrentDropout = 0f, Layers = 1 });
        model.Train("abcdefgh", null, new LanguageModelTrainingOptions
        { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 1, BatchSize = 2, Logger = logger }, ChunkSteps = 4 });
        string epoch = Assert.Single(logger.Lines, line => line.StartsWith("Epoch 1:", StringComparison.Ordinal));
        Assert.Matches(@", \d+ tokens/s, ", epoch);
    }
}
