using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;

namespace MlNet.Rnn.Core.Tests.LanguageModeling;

/// <summary>
/// <see cref="TokenSampler"/>, the draw behind <see cref="LanguageModel.Generate(ReadOnlySpan{int}, int, float, int, int?)"/>, with
/// the uniform draw u scripted: the candidates (every id but unknown and start) are walked in id order, or, under top-k, in
/// order of logit descending with ties to the lower id, and the first whose cumulative probability passes u·Σp is drawn;
/// <c>p_j ∝ exp((z_j − max z) / τ)</c> (logits far from 0 as well); top-k of at least the candidates is every token; greedy
/// breaks ties to the lower id; a draw that rounding leaves past every probability gives the last candidate.
/// </summary>
public sealed class TokenSamplerTests
{
    /// <summary>A <see cref="Random"/> whose <see cref="Random.NextDouble"/> returns the given values in turn.</summary>
    private sealed class ScriptedRandom(params double[] values) : Random
    {
        private int _next;

        public override double NextDouble() => values[_next++];
    }

    private static int Draw(float[] logits, Vocabulary vocabulary, float temperature, int topK, double u, double[]? probabilities = null) =>
        TokenSampler.Sample(logits, vocabulary, temperature, topK, new ScriptedRandom(u), new int[logits.Length], probabilities ?? new double[logits.Length]);

    /// <summary>Candidates in id order: every id but unknown (0) and start.</summary>
    private static int[] Candidates(Vocabulary vocabulary) =>
        [.. Enumerable.Range(0, vocabulary.Count).Where(j => j != Vocabulary.UnknownId && j != vocabulary.StartId)];

    /// <summary>The documented draw, computed apart: the first of <paramref name="order"/> whose cumulative share of Σp exceeds u.</summary>
    private static int Expected(float[] logits, int[] order, float temperature, double u)
    {
        double max = order.Max(j => (double)logits[j]);
        double[] p = [.. order.Select(j => Math.Exp((logits[j] - max) / temperature))];
        double target = u * p.Sum(), cumulative = 0;
        for (int i = 0; i < order.Length; i++)
        {
            cumulative += p[i];
            if (cumulative > target) return order[i];
        }
        return order[^1];
    }

    [Fact]
    public void TopK_KeepsTheKLikeliestCandidates_ByLogitDescending_TiesToTheLowerId()
    {
        // Keys 1 … 40, start 41, end 42: 41 candidates, more than Array.Sort sorts by insertion (stably). One logit on top,
        // then runs of equal logits (j mod 3), the second of which the cut at k = 20 splits; unknown and start lead but never count.
        var vocabulary = Vocabulary.OfKeys(40);
        int V = vocabulary.Count;
        var logits = new float[V];
        foreach (int j in Candidates(vocabulary)) logits[j] = j % 3;
        logits[17] = 9;
        logits[Vocabulary.UnknownId] = logits[vocabulary.StartId] = 100;
        const int k = 20;
        int[] expected = [.. Candidates(vocabulary).OrderByDescending(j => logits[j]).ThenBy(j => j).Take(k)];
        Assert.Equal([17, 2, 5, 8, 11, 14, 20, 23, 26, 29, 32, 35, 38, 1, 4, 7, 10, 13, 16, 19], expected);

        // At τ = 10³⁰ every kept candidate has p = exp(−0) = 1 exactly, so u = (i + ½)/k draws the i-th in the sampler's order.
        int[] order = [.. Enumerable.Range(0, k).Select(i => Draw(logits, vocabulary, 1e30f, k, (i + 0.5) / k))];
        Assert.Equal(expected, order);
    }

    [Fact]
    public void TopKOfAtLeastTheCandidates_DrawsAsEveryToken_InIdOrder()
    {
        var vocabulary = Vocabulary.OfKeys(6); // candidates 1 … 6 and end 8
        float[] logits = [4f, 0.3f, 1.7f, -0.4f, 2.2f, 0.9f, 1.1f, 3f, 0.5f];
        int[] candidates = Candidates(vocabulary);
        Assert.Equal(7, candidates.Length);
        for (int i = 0; i < 50; i++)
        {
            double u = (i + 0.37) / 50;
            int expected = Expected(logits, candidates, 0.8f, u);
            foreach (int topK in new[] { 0, 7, 8, 100 })
                Assert.True(expected == Draw(logits, vocabulary, 0.8f, topK, u), $"u = {u}, topK = {topK}: expected id {expected}");
        }
    }

    [Fact]
    public void Temperature_DividesTheLogits_AndLogitsFarFromZeroDrawAsNearIt()
    {
        // Keys 1, 2 (start 3, end 4): candidates 1, 2, 4 with z = 1, 3, 2 and τ = ½: p ∝ e^−4, 1, e^−2.
        var vocabulary = Vocabulary.OfKeys(2);
        float[] logits = [0f, 1f, 3f, 0f, 2f];
        double sum = Math.Exp(-4) + 1 + Math.Exp(-2), first = Math.Exp(-4) / sum, second = (Math.Exp(-4) + 1) / sum;
        (double U, int Id)[] draws = [(first * 0.999, 1), (first * 1.001, 2), (second * 0.999, 2), (second * 1.001, 4), (0.999, 4)];
        foreach (float shift in new[] { 0f, 500f })
        {
            float[] shifted = [.. logits.Select(z => z + shift)];
            foreach (var (u, id) in draws)
                Assert.True(id == Draw(shifted, vocabulary, 0.5f, 0, u), $"logits + {shift}, u = {u}: expected id {id}");
        }
    }

    [Fact]
    public void Greedy_TakesTheLargestLogit_TiesToTheLowerId()
    {
        var vocabulary = Vocabulary.OfKeys(2); // candidates 1, 2, 4
        Assert.Equal(2, Draw([9f, 0f, 5f, 9f, 5f], vocabulary, 0f, 0, 0.5));
        Assert.Equal(2, Draw([9f, 0f, 5f, 9f, 5f], vocabulary, 1f, 1, 0.5));
        Assert.Equal(1, Draw([9f, 7f, 5f, 9f, 5f], vocabulary, 0f, 0, 0.5));
        Assert.Equal(4, Draw([9f, 0f, 5f, 9f, 6f], vocabulary, 0f, 0, 0.5));
    }

    [Fact]
    public void ADrawThatRoundingLeavesPastEveryProbability_GivesTheLastCandidate()
    {
        // Equal logits give p = 1 for each of the 7 candidates, so u = 1 · 7 is left at exactly 0 after the walk; the scratch
        // holds stale probabilities from an earlier draw, as it does during a generation.
        var vocabulary = Vocabulary.OfKeys(6);
        var stale = Enumerable.Repeat(1.0, vocabulary.Count).ToArray();
        Assert.Equal(vocabulary.EndId, Draw(new float[vocabulary.Count], vocabulary, 1f, 0, 1.0, stale));
        Assert.Equal(2, Draw(new float[vocabulary.Count], vocabulary, 1f, 2, 1.0, stale));
    }
}
