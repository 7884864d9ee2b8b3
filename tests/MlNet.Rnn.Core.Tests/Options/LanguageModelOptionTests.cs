using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Options;

/// <summary>
/// The options as the language model reads them act as documented: Epochs, BatchSize (the streams) and ChunkSteps set the optimizer steps
/// (one per chunk of k steps of B streams), Shuffle moves each epoch's start by an offset below k that Seed decides,
/// ValidationStreams sets how the validation text is scored, MaxTrainingTime stops training at the first chunk past it.
/// (Its optimizer, schedule, clipping, plateau and early-stopping options are checked with the other trainers'.)
/// Steps are counted exactly through AdamW: each step multiplies every weight by 1 − lr·λ and Adam moves a weight without
/// gradient not at all, so the embedding row of 'd', which the training text never holds, shrinks by (1 − lr·λ)^steps.
/// </summary>
public sealed class LanguageModelOptionTests
{
    private const float Rate = 0.1f, Decay = 0.5f;

    /// <summary>"abcabcabca" is read as start, 10 characters, end: P = 11 next-character pairs.</summary>
    private const int Pairs = 11;

    private static LanguageModelTrainingOptions StepCounting(int epochs, int streams, int chunkSteps) => new()
    {
        Training = LanguageModelTrainingOptions.DefaultTraining with
        {
            Epochs = epochs, BatchSize = streams, Shuffle = false, Optimizer = OptimizerKind.AdamW, LearningRate = Rate, WeightDecay = Decay,
        },
        ChunkSteps = chunkSteps,
    };

    private static LanguageModelTrainingOptions With(LanguageModelTrainingOptions options, Func<TrainerOptions, TrainerOptions> change) =>
        options with { Training = change(options.Training) };

    /// <summary>Trains and returns the number of optimizer steps taken, read off the unused embedding row.</summary>
    private static int Steps(LanguageModelHarness harness, TrainingRun run)
    {
        var model = harness.Model.Model;
        int width = model.Options.EmbeddingSize, offset = model.Parameters["embedding.weight"].Offset + harness.Model.Vocabulary.IdOf("d") * width;
        double ratio = (double)run.Final[offset] / harness.Initial[offset];
        double steps = Math.Log(ratio) / Math.Log(1 - (double)Rate * Decay);
        Assert.True(Math.Abs(steps - Math.Round(steps)) < 1e-3, $"The unused row shrank by {ratio}, not a whole power of {1 - Rate * Decay} ({steps}).");
        for (int i = 1; i < width; i++)
            Assert.Equal(ratio, (double)run.Final[offset + i] / harness.Initial[offset + i], 1e-5);
        return (int)Math.Round(steps);
    }

    [Theory]
    [InlineData(2, 1, 11, 1)]
    [InlineData(2, 1, 4, 3)]
    [InlineData(1, 2, 3, 2)]
    [InlineData(3, 3, 2, 2)]
    [InlineData(2, 4, 1, 3)]
    public void EpochsStreamsAndChunkSteps_TakeOneStepPerChunkOfEveryStream(int epochs, int streams, int chunkSteps, int chunksPerEpoch)
    {
        // B streams of L = ⌈P/B⌉ pairs each, read k steps at a time: ⌈L/k⌉ chunks per epoch.
        Assert.Equal(chunksPerEpoch, ((Pairs + streams - 1) / streams + chunkSteps - 1) / chunkSteps);
        var harness = new LanguageModelHarness();
        var run = harness.Train(StepCounting(epochs, streams, chunkSteps), harness.Initial);
        Assert.Equal(epochs, run.History.Epochs.Count);
        Assert.Equal(epochs * chunksPerEpoch, Steps(harness, run));
    }

    [Fact]
    public void RandomOffsets_StartEpochsBelowChunkSteps_AtOffsetsTheSeedDecides()
    {
        // One stream, k = 2: an epoch from offset 0 reads 11 pairs in 6 chunks, from offset 1 reads 10 in 5.
        var harness = new LanguageModelHarness();
        var fixedStart = StepCounting(epochs: 8, streams: 1, chunkSteps: 2);
        var fixedRun = harness.Train(fixedStart, harness.Initial);
        Assert.Equal(8 * 6, Steps(harness, fixedRun));
        Assert.Equal(fixedRun.Final, harness.Train(With(fixedStart, o => o with { Seed = 9 }), harness.Initial).Final);

        var random = With(fixedStart, o => o with { Shuffle = true, Seed = 1 });
        var randomRun = harness.Train(random, harness.Initial);
        Assert.InRange(Steps(harness, randomRun), 8 * 5, 8 * 6 - 1);
        Assert.Equal(randomRun.Final, harness.Train(random, harness.Initial).Final);
        Assert.NotEqual(randomRun.Final, harness.Train(With(random, o => o with { Seed = 2 }), harness.Initial).Final);
    }

    [Fact]
    public void ValidationStreams_ScoresTheValidationTextInThatManyStreams()
    {
        // 2,401 validation ids: up to ⌊2400/1000⌋ = 2 streams, each starting from the initial state.
        string validation = string.Concat(Enumerable.Repeat("dabc", 600));
        var harness = new LanguageModelHarness();
        var options = StepCounting(epochs: 1, streams: 1, chunkSteps: 11);
        foreach (int streams in new[] { 1, 2 })
        {
            var run = harness.Train(options with { ValidationStreams = streams }, harness.Initial, validate: true, validationText: validation);
            double expected = harness.Model.Evaluate(validation, scoreEnd: true, streams: streams).CrossEntropy;
            Assert.Equal(expected, run.History.Epochs[0].ValidationLoss!.Value, 1e-9);
            Assert.Equal(expected / Math.Log(2), run.History.Epochs[0].ValidationMetric!.Value, 1e-9);
        }
        Assert.NotEqual(harness.Model.Evaluate(validation, scoreEnd: true, streams: 1).CrossEntropy,
            harness.Model.Evaluate(validation, scoreEnd: true, streams: 2).CrossEntropy, 1e-6);
    }

    [Fact]
    public void MaxTrainingTime_StopsAfterTheFirstChunkPastIt()
    {
        // A limit of one tick has passed after any chunk: training stops after the first, and reports that epoch.
        var harness = new LanguageModelHarness();
        var run = harness.Train(With(StepCounting(epochs: 5, streams: 1, chunkSteps: 2), o => o with { MaxTrainingTime = TimeSpan.FromTicks(1) }),
            harness.Initial, validate: true);
        Assert.Single(run.History.Epochs);
        Assert.Equal(1, Steps(harness, run));
        Assert.NotNull(run.History.Epochs[0].ValidationLoss);
        Assert.Contains(run.Lines, line => line.StartsWith("Training stopped: the training time budget ran out after 1 epochs and 1 optimizer steps", StringComparison.Ordinal));
    }
}
