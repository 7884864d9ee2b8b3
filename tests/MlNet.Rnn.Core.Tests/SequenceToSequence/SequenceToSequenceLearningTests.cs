using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>The model learns a small task and decodes it; greedy and beam search agree where they must.</summary>
public sealed class SequenceToSequenceLearningTests
{
    // Source ids 1..10 are the digits 0..9; target ids 3..12 are the digits (0 unknown, 1 start, 2 end).
    internal static SequencePairs ReversedDigits(int count, int seed)
    {
        var random = new Random(seed);
        var pairs = new SequencePairs();
        for (int i = 0; i < count; i++)
        {
            int[] digits = new int[random.Next(2, 7)];
            for (int t = 0; t < digits.Length; t++) digits[t] = random.Next(10);
            pairs.Add(digits.Select(d => d + 1).ToArray(), Enumerable.Reverse(digits).Select(d => d + 3).ToArray());
        }
        return pairs;
    }

    internal static SequenceToSequenceOptions SmallOptions => new()
    {
        SourceVocabularySize = 11, TargetVocabularySize = 13, EmbeddingSize = 16, HiddenSize = 48, Seed = 1,
    };

    [Theory]
    [InlineData(AttentionKind.Luong)]
    [InlineData(AttentionKind.Bahdanau)]
    public void LearnsToReverseDigitStrings(AttentionKind attention)
    {
        var model = new SequenceToSequenceModel(SmallOptions with { Attention = attention });
        var trainer = new SequencePairTrainer(model, new TrainerOptions { Epochs = 12, BatchSize = 32, LearningRate = 1e-2f, Seed = 1 });
        var history = trainer.Train(ReversedDigits(2000, seed: 1), ReversedDigits(200, seed: 2));
        var metrics = model.Evaluate(ReversedDigits(300, seed: 3));
        // Copying the source (digits unreversed) is exact for palindromes only.
        var test = ReversedDigits(300, seed: 3);
        double copyExact = Enumerable.Range(0, test.Count).Average(i => test.Sources[i].Select(id => id + 2).SequenceEqual(test.Targets[i]) ? 1.0 : 0.0);
        Assert.True(metrics.ExactMatch > copyExact + 0.8 && metrics.ExactMatch > 0.95,
            $"held-out exact match {metrics.ExactMatch:F3}, copying the source {copyExact:F3} (token accuracy {metrics.TokenAccuracy:F3}, edit distance {metrics.MeanEditDistance:F3}); " +
            $"last epoch: {history.Epochs[^1]}");
        var beam = model.Evaluate(ReversedDigits(100, seed: 3), new DecodingOptions { BeamWidth = 4 });
        Assert.True(beam.ExactMatch > 0.95, $"beam search exact match {beam.ExactMatch:F3}");
    }

    [Theory]
    [InlineData(AttentionKind.Luong)]
    [InlineData(AttentionKind.Bahdanau)]
    public void BeamOfWidthOneIsGreedy(AttentionKind attention)
    {
        var model = new SequenceToSequenceModel(SmallOptions with { Attention = attention });
        var sources = ReversedDigits(30, seed: 4).Sources;
        var options = new DecodingOptions { MaxLength = 12 };
        var greedy = model.Translate(sources, options);
        var beam = model.Translate(sources, options with { BeamWidth = 1 });
        var (ids, lengths) = SequenceDecoding.Pad(sources);
        var beamSearch = SequenceDecoding.Beam(model, model.CreateWorkspace(), ids, sources.Count, lengths, options);
        for (int i = 0; i < sources.Count; i++)
        {
            Assert.Equal(greedy[i].Tokens, beam[i].Tokens);
            Assert.Equal(greedy[i].Tokens, beamSearch[i].Tokens);
            Assert.Equal(greedy[i].Ended, beamSearch[i].Ended);
            Assert.Equal(greedy[i].LogProbability, beamSearch[i].LogProbability, 9);
        }
    }

    [Fact]
    public void BeamFindsLikelierSequencesThanGreedy()
    {
        // A partly trained model is unsure at some steps, where the greedy choice can lead to a less likely sequence.
        var model = new SequenceToSequenceModel(SmallOptions with { Seed = 5 });
        new SequencePairTrainer(model, new TrainerOptions { Epochs = 1, BatchSize = 32, LearningRate = 1e-2f }).Train(ReversedDigits(1000, seed: 6));
        var sources = ReversedDigits(100, seed: 5).Sources;
        var greedy = model.Translate(sources, new DecodingOptions { MaxLength = 10 });
        var beam = model.Translate(sources, new DecodingOptions { BeamWidth = 8, LengthNormalization = 0, MaxLength = 10 });
        // Beam search is not guaranteed to beat greedy on every input (the greedy prefix can fall out of the beam), but it
        // should on balance, and find strictly likelier sequences on some.
        int better = 0, worse = 0, compared = 0;
        double beamTotal = 0, greedyTotal = 0;
        for (int i = 0; i < sources.Count; i++)
        {
            if (!greedy[i].Ended || !beam[i].Ended) continue;
            compared++;
            beamTotal += beam[i].LogProbability;
            greedyTotal += greedy[i].LogProbability;
            // The reported log-probability is the model's own score of the sequence.
            Assert.Equal(model.Score(sources[i], beam[i].Tokens), beam[i].LogProbability, 3);
            if (beam[i].LogProbability > greedy[i].LogProbability + 1e-4) better++;
            if (beam[i].LogProbability < greedy[i].LogProbability - 1e-4) worse++;
        }
        Assert.True(compared >= 50, $"only {compared} of {sources.Count} translations ended within MaxLength");
        Assert.True(better > 0 && better > worse && beamTotal > greedyTotal,
            $"beam search found likelier sequences {better} times and less likely ones {worse} times in {compared} comparisons " +
            $"(total log P {beamTotal:F3} against greedy's {greedyTotal:F3})");
    }

    [Fact]
    public void TrainingIsReproducible()
    {
        float[] Train()
        {
            var model = new SequenceToSequenceModel(SmallOptions with { Attention = AttentionKind.Bahdanau, Layers = 2, Dropout = 0.2f, HiddenSize = 16 });
            new SequencePairTrainer(model, new TrainerOptions { Epochs = 2, BatchSize = 16, Seed = 3 })
                .Train(ReversedDigits(100, seed: 8), ReversedDigits(20, seed: 9));
            return model.Parameters.Values.ToArray();
        }
        var (first, second) = (Train(), Train());
        Assert.Equal(first, second);
    }

    [Fact]
    public void MaxLengthStopsDecodingWithoutEndToken()
    {
        var model = new SequenceToSequenceModel(SmallOptions);
        foreach (int width in new[] { 1, 3 })
        {
            var translation = model.Translate([[1, 2, 3]], new DecodingOptions { BeamWidth = width, MaxLength = 2 })[0];
            Assert.True(translation.Ended ? translation.Tokens.Length <= 1 : translation.Tokens.Length == 2);
        }
    }
}
