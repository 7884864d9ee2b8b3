using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Trainer;

/// <summary>
/// <see cref="SequenceTrainer"/> counts the tokens of its training data, over every part of a cache spilled to disk as well as
/// in memory, and gives the model the frequency-scaled token dropout of <see cref="SequenceModel.UseTokenCounts"/>: a token
/// seen n times is read as unknown with probability α/(α + n), α = p/(1 − p), the counts computed here by hand.
/// </summary>
public sealed class TokenDropoutTrainingTests
{
    private static readonly int[][] s_sentences = [[1, 2, 2], [3, 2, 1], [2, 2], [4, 1, 2, 2], [2], [5, 2, 3]];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheTrainer_GivesTheModelEachTokensRate_FromItsCountInTheTrainingData(bool spilled)
    {
        long[] counts = new long[8];
        foreach (int id in s_sentences.SelectMany(s => s)) counts[id]++;
        using var cache = new SequenceCache(0, 1, perStepTargets: false, memoryBudget: spilled ? 64 : 1 << 20, seed: 1);
        var copies = Enumerable.Range(0, 20).SelectMany(_ => s_sentences).ToArray();
        foreach (int[] ids in copies) cache.AddTokens(ids, [ids.Length % 2]);
        cache.Complete();
        Assert.Equal(spilled, cache.Spilled);
        Assert.True(!spilled || cache.PartCount > 1, "the spilled cache holds several parts");

        var model = new SequenceModel(new SequenceModelOptions { VocabularySize = 8, EmbeddingSize = 3, HiddenSize = 4, TokenDropout = 0.2f, Seed = 1, MaxDegreeOfParallelism = 1 });
        Assert.Equal(0.2f, model.TokenDropoutOf(2)); // before training: every token alike
        new SequenceTrainer(model, new BinaryCrossEntropyWithLogits(), new TrainerOptions { Epochs = 1, BatchSize = 8 }).Train(cache);

        double alpha = 0.2 / 0.8;
        for (int id = 1; id < 8; id++)
            Assert.Equal(alpha / (alpha + Math.Max(1, 20 * counts[id])), model.TokenDropoutOf(id), 1e-6);
    }
}
