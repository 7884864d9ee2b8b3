using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tagging;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Tagging;

/// <summary>The tagger learns aligned tags, predicts per step, saves and loads, and rejects misaligned labels.</summary>
public sealed class SequenceTaggerTests
{
    /// <summary>Tokens 1..8, lengths 1..12; the tag of step t compares it with step t − 1: 0 smaller, 1 larger, 2 equal or first.</summary>
    internal static SequenceDataset CompareWithPrevious(int count, int seed)
    {
        var data = TaggedSequences.CreateTokens();
        foreach (var (tokens, tags) in CompareWithPreviousRows(count, seed)) TaggedSequences.AddTokens(data, tokens, tags, 3);
        return data;
    }

    /// <summary>The rows of <see cref="CompareWithPrevious"/>, as token and tag arrays.</summary>
    private static List<(int[] Tokens, int[] Tags)> CompareWithPreviousRows(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new List<(int[], int[])>();
        for (int i = 0; i < count; i++)
        {
            var tokens = new int[1 + random.Next(12)];
            var tags = new int[tokens.Length];
            for (int t = 0; t < tokens.Length; t++)
            {
                tokens[t] = 1 + random.Next(8);
                tags[t] = t == 0 || tokens[t] == tokens[t - 1] ? 2 : tokens[t] < tokens[t - 1] ? 0 : 1;
            }
            rows.Add((tokens, tags));
        }
        return rows;
    }

    /// <summary>The token accuracy on <paramref name="test"/> of tagging each token with its most frequent tag in <paramref name="train"/>.</summary>
    private static double PerTokenLookupAccuracy(List<(int[] Tokens, int[] Tags)> train, List<(int[] Tokens, int[] Tags)> test)
    {
        var pairs = train.SelectMany(row => row.Tokens.Zip(row.Tags)).ToArray();
        var best = pairs.GroupBy(p => p.First).ToDictionary(g => g.Key, g => g.GroupBy(p => p.Second).MaxBy(t => t.Count())!.Key);
        int overall = pairs.GroupBy(p => p.Second).MaxBy(g => g.Count())!.Key;
        return test.SelectMany(row => row.Tokens.Zip(row.Tags)).Average(p => best.GetValueOrDefault(p.First, overall) == p.Second ? 1.0 : 0.0);
    }

    private static SequenceTagger TrainedTagger()
    {
        var tagger = new SequenceTagger(SequenceTagger.DefaultOptions(tagCount: 3, vocabularySize: 9) with { EmbeddingSize = 8, HiddenSize = 24, Seed = 3 });
        tagger.Train(CompareWithPrevious(800, 1), null, new TrainerOptions { Epochs = 12, BatchSize = 32, LearningRate = 0.02f, Seed = 1 });
        return tagger;
    }

    private static readonly Lazy<SequenceTagger> s_trained = new(TrainedTagger);

    [Fact]
    public void DefaultOptions_AreBidirectionalAndReadEveryStep()
    {
        var options = SequenceTagger.DefaultOptions(5, vocabularySize: 10);
        Assert.True(options.Bidirectional, "A tagger should read both directions by default.");
        Assert.Equal(SequenceReadout.EveryStep, options.Readout);
        Assert.Equal(5, options.OutputSize);
    }

    [Fact]
    public void Train_LearnsTagFromTokenAndPreviousToken_FarAboveAPerTokenLookup()
    {
        var tagger = s_trained.Value;
        var metrics = tagger.Evaluate(CompareWithPrevious(300, 2), ["smaller", "larger", "same"]);
        double lookup = PerTokenLookupAccuracy(CompareWithPreviousRows(800, 1), CompareWithPreviousRows(300, 2));
        Assert.InRange(lookup, 0.4, 0.7);
        Assert.True(metrics.TokenAccuracy > lookup + 0.3 && metrics.TokenAccuracy > 0.95,
            $"Held-out token accuracy {metrics.TokenAccuracy:F4}; tagging each token by itself scores {lookup:F4}.\n{metrics}");
        Assert.Null(metrics.Entities);
    }

    [Fact]
    public void Predict_SingleSequence_AgreesWithBatchPrediction_AndGivesProbabilities()
    {
        var tagger = s_trained.Value;
        var data = CompareWithPrevious(40, 5);
        int[][] batch = tagger.Predict(data);
        var batchData = new SequenceBatch();
        for (int i = 0; i < data.Count; i++)
        {
            data.Fill([i], batchData);
            int[] tokens = batchData.Ids.ToArray();
            var tags = new int[tokens.Length];
            var probabilities = new float[tokens.Length * 3];
            tagger.Predict(tokens, tags, probabilities);
            Assert.Equal(batch[i], tags);
            Assert.Equal(batch[i], tagger.Predict(tokens));
            for (int t = 0; t < tokens.Length; t++)
            {
                var p = probabilities.AsSpan(t * 3, 3);
                float sum = p[0] + p[1] + p[2];
                Assert.True(Math.Abs(sum - 1) < 1e-5, $"Sequence {i}, step {t}: probabilities sum to {sum}, {sum - 1:E2} away from 1.");
                Assert.Equal(tags[t], System.Numerics.Tensors.TensorPrimitives.IndexOfMax(p));
            }
        }
    }

    [Fact]
    public void SequenceOfLengthOne_IsTagged()
    {
        Assert.Equal([2], s_trained.Value.Predict(new[] { 5 }));
    }

    [Fact]
    public void SaveLoad_GivesIdenticalPredictions()
    {
        var tagger = s_trained.Value;
        using var stream = new MemoryStream();
        tagger.Save(stream);
        stream.Position = 0;
        var loaded = SequenceTagger.Load(stream);
        var data = CompareWithPrevious(50, 6);
        Assert.Equal(tagger.Predict(data), loaded.Predict(data));
    }

    [Fact]
    public void NumericSteps_AreTagged()
    {
        // Two features per step; the tag says which of them is larger, shifted by one step (needs the previous step).
        var random = new Random(4);
        List<float[]> Steps(int count, out List<int[]> tags)
        {
            var steps = new List<float[]>();
            tags = [];
            for (int i = 0; i < count; i++)
            {
                int length = 2 + random.Next(8);
                var values = new float[length * 2];
                var labels = new int[length];
                for (int j = 0; j < values.Length; j++) values[j] = random.NextSingle() * 2 - 1;
                for (int t = 0; t < length; t++) labels[t] = t == 0 ? 2 : values[(t - 1) * 2] > values[(t - 1) * 2 + 1] ? 0 : 1;
                steps.Add(values);
                tags.Add(labels);
            }
            return steps;
        }
        var training = TaggedSequences.FromSteps(Steps(600, out var trainingTags), 2, trainingTags, 3);
        var heldOut = TaggedSequences.FromSteps(Steps(200, out var heldOutTags), 2, heldOutTags, 3);
        var tagger = new SequenceTagger(SequenceTagger.DefaultOptions(3, featuresPerStep: 2) with { HiddenSize = 16, Seed = 2 });
        double untrained = tagger.Evaluate(heldOut).TokenAccuracy;
        tagger.Train(training, null, new TrainerOptions { Epochs = 10, BatchSize = 32, LearningRate = 0.02f });
        double accuracy = tagger.Evaluate(heldOut).TokenAccuracy;
        var allTags = heldOutTags.SelectMany(t => t).ToArray();
        double majority = allTags.GroupBy(t => t).Max(g => g.Count()) / (double)allTags.Length;
        Assert.True(untrained < majority + 0.1, $"the untrained tagger scores {untrained:F4}, the majority tag {majority:F4}");
        Assert.True(accuracy > majority + 0.4, $"Held-out token accuracy {accuracy:F4} on numeric steps; the majority tag scores {majority:F4}.");
        Assert.Equal(3, tagger.Predict(new[] { 0.5f, -0.5f, 0.1f, 0.2f, -0.3f, 0.9f }).Length);
    }

    [Fact]
    public void LabelLengthDifferentFromInput_NamesRowAndBothLengths()
    {
        var exception = Assert.Throws<ArgumentException>(() =>
            TaggedSequences.FromTokens([[1, 2, 3], [4, 5, 6, 7]], [[0, 1, 0], [1, 1, 0]], 2));
        Assert.Contains("Row 1", exception.Message);
        Assert.Contains("3 tags", exception.Message);
        Assert.Contains("4 tokens", exception.Message);

        var steps = Assert.Throws<ArgumentException>(() => TaggedSequences.FromSteps([new float[6]], 2, [[0, 1]], 2));
        Assert.Contains("Row 0: the label has 2 tags but the input has 3 steps", steps.Message);
    }

    [Fact]
    public void BadTagsAndInputs_AreRejectedWithTheValue()
    {
        var tag = Assert.Throws<ArgumentException>(() => TaggedSequences.FromTokens([[1, 2]], [[0, 7]], 3));
        Assert.Contains("Row 0, step 1: tag 7 is outside [0, 3)", tag.Message);
        var tagger = new SequenceTagger(SequenceTagger.DefaultOptions(3, vocabularySize: 9) with { HiddenSize = 4, EmbeddingSize = 2 });
        var token = Assert.Throws<ArgumentException>(() => tagger.Predict(new[] { 1, 9 }));
        Assert.Contains("Token 1 has id 9", token.Message);
        Assert.Throws<ArgumentException>(() => new SequenceTagger(new SequenceModelOptions { OutputSize = 3 }));
        Assert.Throws<ArgumentException>(() => tagger.Train(new SequenceDataset(0, 1), null, new TrainerOptions()));
    }
}
