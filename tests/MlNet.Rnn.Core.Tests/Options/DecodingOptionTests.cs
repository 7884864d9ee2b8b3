using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;

namespace MlNet.Rnn.Core.Tests.Options;

/// <summary>
/// <see cref="DecodingOptions"/> act as documented, checked against an exhaustive search that scores every candidate
/// translation with <see cref="SequenceToSequenceModel.Score"/>: a beam wide enough to keep every hypothesis with
/// LengthNormalization α = 0 finds the likeliest translation, which greedy decoding (BeamWidth 1) misses; α = 1 ranks by
/// log-probability per emitted token and picks a different one; MaxLength cuts every translation at that many tokens.
/// The model is untrained but peaked (output weights scaled up). The candidates are the targets decoding may emit: every
/// token but the unknown id 0 and the start id, which decoding never emits, though the model gives them probability.
/// </summary>
public sealed class DecodingOptionTests
{
    private const int EndId = 2, V = 5, Wide = 1000;
    private static readonly int[] s_tokens = [3, 4];

    private static SequenceToSequenceModel PeakedModel(float endBias = 0)
    {
        var model = new SequenceToSequenceModel(new SequenceToSequenceOptions
        {
            Cell = RecurrentCellType.Gru, SourceVocabularySize = 5, TargetVocabularySize = V, EmbeddingSize = 4, HiddenSize = 6,
            Attention = AttentionKind.Luong, Seed = 3, MaxDegreeOfParallelism = 1,
        });
        var parameters = model.DecoderParameters;
        foreach (ref float w in parameters.ValuesOf(parameters["output.weight"])) w *= 4;
        var bias = parameters.ValuesOf(parameters["output.bias"]);
        bias[EndId] += endBias;
        return model;
    }

    private static readonly int[][] s_sources = [[1], [2, 3], [4, 1, 2], [3, 3], [1, 4], [2], [4, 4, 3], [3, 1, 1, 2]];

    /// <summary>Every target of at most <paramref name="maxTokens"/> tokens from <see cref="s_tokens"/>, with its log P (end included).</summary>
    private static List<(int[] Tokens, double LogP)> Candidates(SequenceToSequenceModel model, int[] source, int maxTokens)
    {
        var all = new List<(int[], double)>();
        var frontier = new List<int[]> { Array.Empty<int>() };
        for (int length = 0; length <= maxTokens; length++)
        {
            foreach (int[] target in frontier) all.Add((target, model.Score(source, target)));
            frontier = [.. frontier.SelectMany(prefix => s_tokens.Select(token => (int[])[.. prefix, token]))];
        }
        return all;
    }

    /// <summary>log P / n^α, n the tokens emitted, the end token included.</summary>
    private static double Normalized(double logP, int emitted, double alpha) => logP / Math.Pow(Math.Max(emitted, 1), alpha);

    private static double Normalized(Translation translation, double alpha) =>
        Normalized(translation.LogProbability, translation.Tokens.Length + (translation.Ended ? 1 : 0), alpha);

    [Fact]
    public void WideBeamWithoutLengthNormalization_FindsTheLikeliestTranslation_GreedyDoesNot()
    {
        var model = PeakedModel();
        int greedyMissed = 0;
        foreach (int[] source in s_sources)
        {
            var best = Candidates(model, source, 3).MaxBy(c => c.LogP);
            var beam = model.Translate([source], new DecodingOptions { BeamWidth = Wide, LengthNormalization = 0, MaxLength = 4 })[0];
            Assert.True(beam.Ended);
            Assert.Equal(best.Tokens, beam.Tokens);
            Assert.Equal(best.LogP, beam.LogProbability, 1e-4);

            var greedy = model.Translate([source], new DecodingOptions { BeamWidth = 1, MaxLength = 4 })[0];
            if (greedy.Ended)
            {
                Assert.Equal(model.Score(source, greedy.Tokens), greedy.LogProbability, 1e-4);
                Assert.True(greedy.LogProbability <= best.LogP + 1e-6);
            }
            if (!greedy.Tokens.SequenceEqual(best.Tokens)) greedyMissed++;
        }
        Assert.True(greedyMissed > 0, "Greedy decoding found the likeliest translation of every source; the test cannot show what the beam adds.");
    }

    [Fact]
    public void LengthNormalization_RanksByLogProbabilityPerEmittedToken()
    {
        var model = PeakedModel();
        int differ = 0;
        foreach (int[] source in s_sources)
        {
            var plain = model.Translate([source], new DecodingOptions { BeamWidth = Wide, LengthNormalization = 0, MaxLength = 4 })[0];
            var normalized = model.Translate([source], new DecodingOptions { BeamWidth = Wide, LengthNormalization = 1, MaxLength = 4 })[0];
            // α = 1 searches at least as long as α = 0, so it saw α = 0's choice and preferred its own per token, while α = 0 preferred the likelier.
            Assert.True(Normalized(normalized, 1) >= Normalized(plain, 1) - 1e-9);
            Assert.True(plain.LogProbability >= normalized.LogProbability - 1e-9);
            if (normalized.Ended)
            {
                Assert.Equal(model.Score(source, normalized.Tokens), normalized.LogProbability, 1e-4);
                // Among the finished candidates no longer than it, none has a better log P per token.
                var rival = Candidates(model, source, normalized.Tokens.Length).MaxBy(c => Normalized(c.LogP, c.Tokens.Length + 1, 1));
                Assert.Equal(rival.Tokens, normalized.Tokens);
            }
            if (!plain.Tokens.SequenceEqual(normalized.Tokens)) differ++;
        }
        Assert.True(differ > 0, "α = 0 and α = 1 chose the same translation of every source; the test cannot show what α does.");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void MaxLength_CutsEveryTranslationAtThatManyTokens(int beamWidth)
    {
        // The end token made impossible: every translation runs to MaxLength and reports that it did not end.
        var model = PeakedModel(endBias: -50);
        foreach (int maxLength in new[] { 1, 3 })
            foreach (var translation in model.Translate(s_sources, new DecodingOptions { BeamWidth = beamWidth, MaxLength = maxLength }))
            {
                Assert.False(translation.Ended);
                Assert.Equal(maxLength, translation.Tokens.Length);
            }
    }
}
