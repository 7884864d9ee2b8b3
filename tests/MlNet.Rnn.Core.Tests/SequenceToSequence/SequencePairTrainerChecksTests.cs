using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// The pair trainer's checks and its evaluation: the loss it reports is the mean over every taught token (the end token
/// included) of −log P, computed here from <see cref="SequenceToSequenceModel.Score"/>, in batches of any size; no pairs
/// evaluate to zero, and training needs at least one.
/// </summary>
public sealed class SequencePairTrainerChecksTests
{
    private static SequenceToSequenceModel Model() =>
        new(SequenceToSequenceLearningTests.SmallOptions with { EmbeddingSize = 4, HiddenSize = 8, MaxDegreeOfParallelism = 1 });

    [Fact]
    public void TheEvaluatedLossIsTheMeanNegativeLogProbabilityPerTaughtToken()
    {
        var model = Model();
        var random = new Random(2);
        int[][] sources = [.. Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, random.Next(1, 5)).Select(_ => random.Next(0, 11)).ToArray())];
        int[][] targets = [.. Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(3, 13)).ToArray())];
        double sum = 0;
        for (int i = 0; i < sources.Length; i++) sum -= model.Score(sources[i], targets[i]);
        double expected = sum / targets.Sum(target => target.Length + 1);

        foreach (int batchSize in new[] { 1, 32, 1000 })
        {
            var (loss, accuracy) = new SequencePairTrainer(model, new TrainerOptions { BatchSize = batchSize }).Evaluate(SequencePairs.From(sources, targets));
            Assert.Equal(expected, loss, 1e-5);
            Assert.InRange(accuracy, 0.0, 1.0);
        }
    }

    [Fact]
    public void NoPairsEvaluateToZero_AndTrainingNeedsOne()
    {
        var trainer = new SequencePairTrainer(Model(), new TrainerOptions { Epochs = 1 });
        Assert.Equal((0.0, 0.0), trainer.Evaluate(new SequencePairs()));
        var error = Assert.Throws<ArgumentException>(() => trainer.Train(new SequencePairs()));
        Assert.Equal("training", error.ParamName);
        Assert.StartsWith("The training pairs hold no row.", error.Message);
        Assert.Equal("training", Assert.Throws<ArgumentNullException>(() => trainer.Train(null!)).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentNullException>(() => trainer.Evaluate(null!)).ParamName);
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => new SequencePairTrainer(null!, new TrainerOptions())).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => new SequencePairTrainer(Model(), null!)).ParamName);
        Assert.Empty(trainer.History.Epochs);
    }
}
