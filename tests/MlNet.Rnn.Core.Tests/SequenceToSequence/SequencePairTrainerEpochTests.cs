using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Tests.Trainer;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// What <see cref="SequencePairTrainer.Train"/> checks before the first step (the options against the presence of
/// validation pairs, then every training and validation pair, from memory or a cache), what its epochs report and log
/// (the metric "token accuracy", speed in pairs/s), that a step learns, that a run resumed from a checkpoint draws the
/// same dropout masks as an uninterrupted one, and the error when a source yields fewer pairs than it counts.
/// </summary>
public sealed class SequencePairTrainerEpochTests
{
    /// <summary>The small model these tests and <see cref="SequencePairTrainerEvaluationTests"/> train.</summary>
    internal static SequenceToSequenceModel Model(float dropout = 0f, int layers = 1) =>
        new(SequenceToSequenceLearningTests.SmallOptions with
        {
            EmbeddingSize = 4, HiddenSize = 8, Layers = layers, Dropout = dropout, MaxDegreeOfParallelism = 1,
        });

    private static SequencePairs Pairs(int count, int seed) => SequenceToSequenceLearningTests.ReversedDigits(count, seed);

    [Fact]
    public void TheOptionsAreCheckedAgainstTheValidationPairsBeforeThePairs()
    {
        var trainer = new SequencePairTrainer(Model(), new TrainerOptions { Epochs = 1, EarlyStoppingPatience = 2 });
        var error = Assert.Throws<ArgumentException>(() => trainer.Train(new SequencePairs()));
        Assert.Equal("EarlyStoppingPatience", error.ParamName);
        Assert.Equal("EarlyStoppingPatience is 2 but no validation data was given; pass validation data or set it to 0. (Parameter 'EarlyStoppingPatience')",
            error.Message);

        // With validation pairs the options pass, and the empty training pairs are what is refused.
        error = Assert.Throws<ArgumentException>(() => trainer.Train(new SequencePairs(), Pairs(2, seed: 1)));
        Assert.Equal("training", error.ParamName);
        Assert.Equal("The training pairs hold no row. (Parameter 'training')", error.Message);
        Assert.Empty(trainer.History.Epochs);
    }

    [Fact]
    public void ValidationPairsAreCheckedBeforeTheFirstStep()
    {
        var model = Model();
        var before = model.Parameters.Values.ToArray();
        var trainer = new SequencePairTrainer(model, new TrainerOptions { Epochs = 1, BatchSize = 4 });
        var validation = SequencePairs.From([[1, 2], [3]], [[4], [1]]);
        var error = Assert.Throws<ArgumentException>(() => trainer.Train(Pairs(8, seed: 2), validation));
        Assert.Equal("validation", error.ParamName);
        Assert.Equal("Row 1 of validation: target token 0 has id 1, the reserved start id; give targets without start and end tokens " +
            "and map unseen tokens to 0. (Parameter 'validation')", error.Message);
        Assert.Equal(before, model.Parameters.Values.ToArray());
        Assert.Empty(trainer.History.Epochs);
    }

    [Fact]
    public void PairsInACacheTrainAsThePairsInMemory()
    {
        var pairs = Pairs(12, seed: 3);
        using var cache = SequencePairs.CreateCache(1 << 20, seed: 1);
        for (int i = 0; i < pairs.Count; i++) SequencePairs.AddTo(cache, pairs.Sources[i], pairs.Targets[i]);
        float[] Trained(ISequenceSource training)
        {
            var model = Model();
            new SequencePairTrainer(model, new TrainerOptions { Epochs = 2, BatchSize = 4, Seed = 2 }).Train(training);
            return model.Parameters.Values.ToArray();
        }
        Assert.Equal(Trained(pairs), Trained(cache));
    }

    [Fact]
    public void EpochsReportTokenAccuracyAndLogPairsPerSecond()
    {
        var logger = new LineLogger();
        var model = Model();
        var trainer = new SequencePairTrainer(model, new TrainerOptions { Epochs = 1, BatchSize = 4, Logger = logger });
        var validation = Pairs(6, seed: 4);
        var history = trainer.Train(Pairs(8, seed: 5), validation);
        var report = Assert.Single(history.Epochs);
        Assert.Equal("token accuracy", report.MetricName);
        Assert.Equal(trainer.Evaluate(validation).TokenAccuracy, report.ValidationMetric);
        string line = Assert.Single(logger.Lines, line => line.StartsWith("Epoch 1:", StringComparison.Ordinal));
        Assert.Contains(", validation token accuracy ", line);
        Assert.Matches(@", \d+ pairs/s, ", line);
    }

    [Fact]
    public void AnEpochLowersTheLossOfThePairsItTrainsOn()
    {
        var model = Model();
        var pairs = Pairs(16, seed: 6);
        var trainer = new SequencePairTrainer(model, new TrainerOptions { Epochs = 3, BatchSize = 4, LearningRate = 1e-2f, Seed = 1 });
        double before = trainer.Evaluate(pairs).Loss;
        trainer.Train(pairs);
        double after = trainer.Evaluate(pairs).Loss;
        Assert.True(after < before - 0.05, $"loss {before:F4} → {after:F4}");
    }

    [Fact]
    public void ARunResumedFromACheckpointDrawsTheDropoutMasksOfAnUninterruptedOne()
    {
        var pairs = Pairs(12, seed: 7);
        var options = new TrainerOptions { Epochs = 2, BatchSize = 4, Seed = 5 };
        var uninterrupted = Model(dropout: 0.5f, layers: 2);
        new SequencePairTrainer(uninterrupted, options).Train(pairs);

        string path = Path.Combine(Path.GetTempPath(), $"seq2seq-resume-{Guid.NewGuid():N}.safetensors");
        try
        {
            var first = Model(dropout: 0.5f, layers: 2);
            var firstTrainer = new SequencePairTrainer(first, options with { Epochs = 1 });
            firstTrainer.Train(pairs);
            firstTrainer.SaveCheckpoint(path);
            Assert.NotEqual(uninterrupted.Parameters.Values.ToArray(), first.Parameters.Values.ToArray());

            var resumed = Model(dropout: 0.5f, layers: 2);
            var trainer = new SequencePairTrainer(resumed, options);
            trainer.ResumeFrom(path);
            trainer.Train(pairs);
            Assert.Equal(uninterrupted.Parameters.Values.ToArray(), resumed.Parameters.Values.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ASourceThatYieldsFewerPairsThanItCountsEndsTheEpochWithAnError()
    {
        var trainer = new SequencePairTrainer(Model(), new TrainerOptions { Epochs = 1, BatchSize = 4 });
        var error = Assert.Throws<InvalidOperationException>(() => trainer.Train(new Overcounted(Pairs(4, seed: 8), extra: 4)));
        Assert.Equal("The epoch ran out of batches at step 1.", error.Message);
    }

    /// <summary>Pairs that claim <paramref name="extra"/> more than they hold.</summary>
    private sealed class Overcounted(ISequenceSource pairs, int extra) : ISequenceSource
    {
        public int FeaturesPerStep => pairs.FeaturesPerStep;

        public int TargetWidth => pairs.TargetWidth;

        public bool PerStepTargets => pairs.PerStepTargets;

        public long ExampleCount => pairs.ExampleCount + extra;

        public int PartCount => pairs.PartCount;

        public int PartSize(int part) => pairs.PartSize(part);

        public SequenceSummary PartSummary(int part) => pairs.PartSummary(part);

        public SequenceDataset ReadPart(int part, SequenceDataset buffer) => pairs.ReadPart(part, buffer);
    }
}
