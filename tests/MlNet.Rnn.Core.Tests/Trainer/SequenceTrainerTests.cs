using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Trainer;

/// <summary>The training loop: learning, early stopping, checkpoint and resume, cancellation, determinism, logging, divergence.</summary>
public sealed class SequenceTrainerTests
{
    /// <summary>Binary task: is the sum of a sequence of values in [−1, 1] positive? Lengths 3..12.</summary>
    internal static SequenceDataset SignOfSum(int count, int seed, bool randomLabels = false)
    {
        var random = new Random(seed);
        var data = new SequenceDataset(1, 1);
        for (int i = 0; i < count; i++)
        {
            var steps = new float[3 + random.Next(10)];
            for (int t = 0; t < steps.Length; t++) steps[t] = random.NextSingle() * 2 - 1;
            float label = randomLabels ? random.Next(2) : steps.Sum() > 0 ? 1 : 0;
            data.Add(steps, [label]);
        }
        return data;
    }

    private static SequenceModel Model(RecurrentCellType cell = RecurrentCellType.Gru, int seed = 1, float dropout = 0) =>
        new(new SequenceModelOptions { Cell = cell, FeaturesPerStep = 1, HiddenSize = 16, Layers = dropout > 0 ? 2 : 1, Dropout = dropout, Seed = seed });

    [Fact]
    public void Train_LearnsSignOfSum_WellAboveChance()
    {
        var model = Model();
        var trainer = new SequenceTrainer(model, new BinaryCrossEntropyWithLogits(), new TrainerOptions { Epochs = 8, BatchSize = 32, LearningRate = 0.01f });
        var test = SignOfSum(500, 3);
        double positives = Enumerable.Range(0, test.Count).Average(i => test.TargetOf(i)[0]), majority = Math.Max(positives, 1 - positives);
        var (_, untrained) = trainer.Evaluate(test);
        var history = trainer.Train(SignOfSum(1500, 1), SignOfSum(300, 2));
        var (_, accuracy) = trainer.Evaluate(test);
        Assert.True(untrained < majority + 0.1, $"the untrained model scores {untrained:F3}, the majority class {majority:F3}");
        Assert.True(accuracy > majority + 0.35, $"Held-out accuracy {accuracy:F3}; the majority class scores {majority:F3}. Epochs: {string.Join("; ", history.Epochs)}");
        Assert.Equal(8, history.Epochs.Count);
        Assert.True(history.Epochs[^1].TrainingLoss < history.Epochs[0].TrainingLoss);
    }

    [Fact]
    public void EarlyStopping_StopsOnRandomLabels_AndRestoresBestWeights()
    {
        var model = Model(RecurrentCellType.Lstm);
        var trainer = new SequenceTrainer(model, new BinaryCrossEntropyWithLogits(),
            new TrainerOptions { Epochs = 60, BatchSize = 16, LearningRate = 0.02f, EarlyStoppingPatience = 3 });
        var validation = SignOfSum(200, 5, randomLabels: true);
        var history = trainer.Train(SignOfSum(200, 4, randomLabels: true), validation);
        Assert.True(history.StoppedEarly, $"Expected early stopping on random labels within 60 epochs; ran {history.Epochs.Count}.");
        Assert.Equal(history.BestEpoch + 3, history.Epochs.Count);
        double best = history.Epochs.Min(e => e.ValidationLoss!.Value);
        Assert.Equal(best, history.Epochs[history.BestEpoch - 1].ValidationLoss!.Value);
        Assert.Equal(best, trainer.Evaluate(validation).Loss, 6);
    }

    [Fact]
    public void ResumedTraining_EqualsUninterruptedTraining_BitForBit()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-checkpoint-{Guid.NewGuid():N}.safetensors");
        try
        {
            var training = SignOfSum(300, 7);
            var validation = SignOfSum(100, 8);
            var options = new TrainerOptions
            {
                Epochs = 5, BatchSize = 32, LearningRate = 0.01f, Schedule = ScheduleKind.Cosine, WarmupSteps = 5, ReduceOnPlateau = true,
                PlateauPatience = 0, EarlyStoppingPatience = 10, Seed = 3,
            };
            var uninterrupted = Model(RecurrentCellType.Lstm, dropout: 0.3f);
            new SequenceTrainer(uninterrupted, new BinaryCrossEntropyWithLogits(), options).Train(training, validation);

            // The first run writes a checkpoint after epoch 2 and is cancelled right after it.
            using var cancel = new CancellationTokenSource();
            var logger = new LineLogger(line => { if (line.StartsWith("Checkpoint after epoch 2")) cancel.Cancel(); });
            var interrupted = new SequenceTrainer(Model(RecurrentCellType.Lstm, dropout: 0.3f), new BinaryCrossEntropyWithLogits(),
                options with { CheckpointEvery = 2, CheckpointPath = path, Logger = logger });
            Assert.Throws<OperationCanceledException>(() => interrupted.Train(training, validation, cancel.Token));

            // The checkpoint must restore everything, whatever the model held before.
            var model = Model(RecurrentCellType.Lstm, dropout: 0.3f);
            model.Parameters.Values.Fill(0.5f);
            var trainer = new SequenceTrainer(model, new BinaryCrossEntropyWithLogits(), options);
            trainer.ResumeFrom(path);
            Assert.Equal(2, trainer.History.Epochs.Count);
            trainer.Train(training, validation);
            Assert.Equal(5, trainer.History.Epochs.Count);
            Assert.Equal(uninterrupted.Parameters.Values.ToArray(), model.Parameters.Values.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ResumeFrom_AFileOfAnotherModel_IsRejectedAndChangesNothing()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-checkpoint-{Guid.NewGuid():N}.safetensors");
        try
        {
            var other = new SequenceModel(new SequenceModelOptions { FeaturesPerStep = 1, HiddenSize = 8 });
            SequenceModelFile.Save(other, path);
            var model = Model();
            float[] before = model.Parameters.Values.ToArray();
            var trainer = new SequenceTrainer(model, new BinaryCrossEntropyWithLogits(), new TrainerOptions());
            var error = Assert.Throws<InvalidDataException>(() => trainer.ResumeFrom(path));
            Assert.Contains("the checkpoint's model options differ from this model's", error.Message);
            Assert.Equal(before, model.Parameters.Values.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Cancellation_StopsBetweenBatches()
    {
        using var source = new CancellationTokenSource();
        source.Cancel();
        var trainer = new SequenceTrainer(Model(), new BinaryCrossEntropyWithLogits(), new TrainerOptions { Epochs = 3 });
        Assert.Throws<OperationCanceledException>(() => trainer.Train(SignOfSum(100, 1), cancellationToken: source.Token));
    }

    [Fact]
    public void SameSeedsAndData_GiveBitIdenticalWeights()
    {
        float[] Run()
        {
            var model = Model(RecurrentCellType.Lstm, dropout: 0.2f);
            new SequenceTrainer(model, new BinaryCrossEntropyWithLogits(), new TrainerOptions { Epochs = 2, Seed = 5 }).Train(SignOfSum(400, 9));
            return model.Parameters.Values.ToArray();
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Logger_ReceivesOneLinePerEpochWithEveryQuantity()
    {
        var logger = new LineLogger();
        var trainer = new SequenceTrainer(Model(), new BinaryCrossEntropyWithLogits(), new TrainerOptions { Epochs = 2, Logger = logger });
        trainer.Train(SignOfSum(200, 1), SignOfSum(50, 2));
        var epochs = logger.Lines.Where(l => l.StartsWith("Epoch ")).ToArray();
        Assert.Equal(2, epochs.Length);
        foreach (var part in new[] { "loss", "validation loss", "validation accuracy", "gradient norm", "learning rate", "samples/s", "left" })
            Assert.Contains(part, epochs[1]);
    }

    [Fact]
    public void NonFiniteLoss_StopsWithEpochAndBatch_AndKeepsFiniteWeights()
    {
        var model = new SequenceModel(new SequenceModelOptions { Cell = RecurrentCellType.Rnn, RnnActivation = RnnActivation.Relu, FeaturesPerStep = 1, HiddenSize = 32, Seed = 2 });
        var data = new SequenceDataset(1, 1);
        var random = new Random(4);
        for (int i = 0; i < 64; i++) data.Add(Enumerable.Range(0, 200).Select(_ => random.NextSingle() * 4).ToArray(), [random.NextSingle() * 1e4f]);
        var trainer = new SequenceTrainer(model, new MeanSquaredError(),
            new TrainerOptions { Epochs = 50, LearningRate = 5f, Optimizer = OptimizerKind.Sgd, GradientClipNorm = 0 });
        var error = Assert.Throws<TrainingDivergedException>(() => trainer.Train(data));
        Assert.Matches(@"^Training diverged at epoch \d+, batch \d+: loss .+, gradient norm .+\. The model keeps the weights of the last finite step\.", error.Message);
        foreach (float value in model.Parameters.Values) Assert.True(float.IsFinite(value));
    }

    [Theory]
    [InlineData(nameof(TrainerOptions.LearningRate), "LearningRate is -1; it must be a positive finite number")]
    [InlineData(nameof(TrainerOptions.BatchSize), "BatchSize is 0; it must be at least 1")]
    [InlineData(nameof(TrainerOptions.EarlyStoppingPatience), "EarlyStoppingPatience is 3 but no validation data was given")]
    [InlineData(nameof(TrainerOptions.CheckpointPath), "CheckpointEvery is 1 but CheckpointPath is empty")]
    public void InvalidOptions_AreRejectedNamingTheOptionAndRange(string option, string message)
    {
        var options = option switch
        {
            nameof(TrainerOptions.LearningRate) => new TrainerOptions { LearningRate = -1 },
            nameof(TrainerOptions.BatchSize) => new TrainerOptions { BatchSize = 0 },
            nameof(TrainerOptions.EarlyStoppingPatience) => new TrainerOptions { EarlyStoppingPatience = 3 },
            _ => new TrainerOptions { CheckpointEvery = 1 },
        };
        var error = Assert.ThrowsAny<ArgumentException>(() => new SequenceTrainer(Model(), new MeanSquaredError(), options).Train(SignOfSum(10, 1)));
        Assert.Equal(option, error.ParamName);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void TokenIdsAndClassTargetsOutsideTheModel_AreRejectedBeforeTraining_NamingTheExample()
    {
        var model = new SequenceModel(new SequenceModelOptions { VocabularySize = 5, EmbeddingSize = 4, HiddenSize = 4, OutputSize = 3 });
        var trainer = new SequenceTrainer(model, new SoftmaxCrossEntropy(), new TrainerOptions { Epochs = 1 });
        var tokens = new SequenceDataset(0, 1);
        tokens.AddTokens([1, 2], [0]);
        tokens.AddTokens([4, 5, 1], [1]);
        var id = Assert.Throws<ArgumentException>(() => trainer.Train(tokens));
        Assert.Contains("example 1 holds token id 5, outside the model's vocabulary [0, 4]", id.Message);
        var classes = new SequenceDataset(0, 1);
        classes.AddTokens([1, 2], [0]);
        classes.AddTokens([3], [2.5f]);
        var target = Assert.Throws<ArgumentException>(() => trainer.Train(classes));
        Assert.Contains("example 1 has class target 2.5; classes are whole numbers in [0, 2]", target.Message);
    }
}
