using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// <see cref="SequenceDataset"/> beyond the numeric basics: the constructor's checks by name; token sequences (refused in a
/// numeric set and the reverse, empty or negative ids refused naming the example and token, id 0 accepted) and their
/// time-major ids in a batch; per-step and per-sequence targets of width 2 placed at <c>[t, b, w]</c> and <c>[b, w]</c>;
/// target and weight checks at their boundaries (weight 0 accepted, non-finite targets refused); the largest token id and its
/// first example; <see cref="SequenceDataset.Clear"/>, after which new examples read as if the set were new; and
/// <see cref="SequenceDataset.Fill"/> refuses a null batch by name.
/// </summary>
public sealed class SequenceDatasetContractTests
{
    [Fact]
    public void Constructor_RefusesNegativeFeaturesAndATargetWidthBelowOne_ByName()
    {
        Assert.Equal("featuresPerStep", Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceDataset(-1, 1)).ParamName);
        Assert.Equal("targetWidth", Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceDataset(1, 0)).ParamName);
        Assert.True(new SequenceDataset(0, 1).Tokens);
    }

    [Fact]
    public void TokensAndNumericSteps_AreEachRefusedInTheOtherKindOfSet()
    {
        var tokens = new SequenceDataset(0, 1);
        var numeric = new SequenceDataset(2, 1);
        var floats = Assert.Throws<InvalidOperationException>(() => tokens.Add([1f, 2f], [0f]));
        Assert.Contains("holds token sequences; add ids, not floats", floats.Message);
        var ids = Assert.Throws<InvalidOperationException>(() => numeric.AddTokens([1, 2], [0f]));
        Assert.Contains("holds numeric sequences; add floats, not ids", ids.Message);
        Assert.Equal((0, 0), (tokens.Count, numeric.Count));
    }

    [Fact]
    public void AddTokens_RefusesEmptyAndNegativeIds_NamingExampleAndToken_AndAcceptsTheUnknownId()
    {
        var data = new SequenceDataset(0, 1);
        data.AddTokens([0, 0], [1f]);
        var empty = Assert.Throws<ArgumentException>(() => data.AddTokens(ReadOnlySpan<int>.Empty, [0f]));
        Assert.Equal("ids", empty.ParamName);
        Assert.Contains("Example 1 has no token", empty.Message);
        var negative = Assert.Throws<ArgumentException>(() => data.AddTokens([4, 2, -3], [0f]));
        Assert.Equal("ids", negative.ParamName);
        Assert.Contains("Example 1, token 2 has id -3", negative.Message);
        var first = Assert.Throws<ArgumentException>(() => data.AddTokens([-1], [0f]));
        Assert.Contains("Example 1, token 0 has id -1", first.Message);
        var target = Assert.Throws<ArgumentException>(() => data.AddTokens([1, 2], [0f, 1f]));
        Assert.Equal("target", target.ParamName);
        Assert.Contains("Example 1 has 2 target values; 1 are expected", target.Message);
        Assert.Equal(1, data.Count);
        Assert.Equal(2, data.ValueCount);
    }

    [Fact]
    public void TokenSequences_FillTimeMajorIds_WithZeroPadding()
    {
        var data = new SequenceDataset(0, 1);
        data.AddTokens([5, 6, 7], [1f], weight: 2f);
        data.AddTokens([8], [2f]);
        data.AddTokens([9, 10], [3f], weight: 0.5f);
        Assert.Equal(6, data.ValueCount);
        Assert.Equal([3, 1, 2], new[] { data.LengthOf(0), data.LengthOf(1), data.LengthOf(2) });
        var batch = new SequenceBatch();
        data.Fill([2, 0, 1], batch);
        Assert.Equal((3, 3, true), (batch.BatchSize, batch.Steps, batch.Tokens));
        // [T, B]: step 0 = 9, 5, 8; step 1 = 10, 6, pad; step 2 = pad, 7, pad.
        Assert.Equal([9, 5, 8, 10, 6, 0, 0, 7, 0], batch.Ids.ToArray());
        Assert.Equal([2, 3, 1], batch.Lengths.ToArray());
        Assert.Equal([3f, 1f, 2f], batch.Targets.ToArray());
        Assert.Equal([0.5f, 2f, 1f], batch.Weights.ToArray());
    }

    [Fact]
    public void PerStepTargetsOfWidthTwo_LandAtStepSequenceAndColumn()
    {
        var data = new SequenceDataset(1, 2, perStepTargets: true);
        data.Add([1f, 2f, 3f], [10, 11, 20, 21, 30, 31], weight: 3f);
        data.Add([4f], [40, 41]);
        var wrong = Assert.Throws<ArgumentException>(() => data.Add([1f, 2f, 3f], [1, 2, 3, 4, 5]));
        Assert.Equal("target", wrong.ParamName);
        Assert.Contains("Example 2 has 3 steps but 5 target values; per-step targets need 3·2 = 6", wrong.Message);
        Assert.Equal([10f, 11, 20, 21, 30, 31], data.TargetOf(0).ToArray());

        var batch = new SequenceBatch();
        data.Fill([1, 0], batch);
        // [T, B, W]
        Assert.Equal([40f, 41, 10, 11, 0, 0, 20, 21, 0, 0, 30, 31], batch.Targets.ToArray());
        Assert.Equal([1f, 3f, 0f, 3f, 0f, 3f], batch.Weights.ToArray());
    }

    [Fact]
    public void SequenceTargetsOfWidthTwo_LandAtSequenceAndColumn()
    {
        var data = new SequenceDataset(1, 2);
        data.Add([1f, 2f], [10, 11]);
        data.Add([3f], [20, 21]);
        data.Add([4f, 5f, 6f], [30, 31]);
        var batch = new SequenceBatch();
        data.Fill([2, 0, 1], batch);
        Assert.Equal([30f, 31, 10, 11, 20, 21], batch.Targets.ToArray());
    }

    [Fact]
    public void TargetsMustBeFinite_AndWeightsFiniteAndAtLeastZero()
    {
        var data = new SequenceDataset(1, 2);
        data.Add([1f], [0f, 0f], weight: 0f);
        Assert.Equal(0f, data.WeightOf(0));
        var nan = Assert.Throws<ArgumentException>(() => data.Add([1f], [0f, float.NaN]));
        Assert.Equal("target", nan.ParamName);
        Assert.Contains("Example 1, target 1 is NaN; targets must be finite", nan.Message);
        var infinite = Assert.Throws<ArgumentException>(() => data.Add([1f], [float.PositiveInfinity, 0f]));
        Assert.Contains("Example 1, target 0 is Infinity", infinite.Message);
        var weight = Assert.Throws<ArgumentOutOfRangeException>(() => data.Add([1f], [0f, 0f], float.NaN));
        Assert.Equal("weight", weight.ParamName);
        var tokens = new SequenceDataset(0, 1);
        Assert.Throws<ArgumentException>(() => tokens.AddTokens([1], [float.NaN]));
        Assert.Equal("weight", Assert.Throws<ArgumentOutOfRangeException>(() => tokens.AddTokens([1], [0f], -0.5f)).ParamName);
        Assert.Equal((1, 0), (data.Count, tokens.Count));
    }

    [Fact]
    public void MaxTokenId_IsTheLargestIdAndTheFirstExampleHoldingIt()
    {
        Assert.Equal((-1, -1), new SequenceDataset(0, 1).MaxTokenId());
        var numeric = new SequenceDataset(1, 1);
        numeric.Add([5f, 6f], [0f]);
        Assert.Equal((-1, -1), numeric.MaxTokenId());

        var zeros = new SequenceDataset(0, 1);
        zeros.AddTokens([0, 0], [0f]);
        Assert.Equal((0, 0), zeros.MaxTokenId());

        var data = new SequenceDataset(0, 1);
        data.AddTokens([3, 1], [0f]);
        data.AddTokens([2, 9, 4], [0f]);
        data.AddTokens([9], [0f]);
        data.AddTokens([5, 6], [0f]);
        Assert.Equal((9, 1), data.MaxTokenId());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Clear_EmptiesTheSet_AndNewExamplesReadAsInANewSet(bool tokens)
    {
        var data = new SequenceDataset(tokens ? 0 : 1, 1, perStepTargets: true);
        void Add(int length, float first, float weight)
        {
            float[] target = [.. Enumerable.Range(0, length).Select(t => first + t)];
            if (tokens) data.AddTokens([.. Enumerable.Range(0, length).Select(t => (int)first + t)], target, weight);
            else data.Add(target, target, weight);
        }
        Add(4, 100, 5f);
        Add(1, 200, 6f);
        data.Clear();
        Assert.Equal((0, 0L), (data.Count, data.ValueCount));
        Add(2, 10, 1f);
        Add(3, 20, 2f);
        Assert.Equal((2, 5L), (data.Count, data.ValueCount));
        Assert.Equal([2, 3], new[] { data.LengthOf(0), data.LengthOf(1) });
        Assert.Equal([1f, 2f], new[] { data.WeightOf(0), data.WeightOf(1) });
        Assert.Equal([20f, 21, 22], data.TargetOf(1).ToArray());

        var batch = new SequenceBatch();
        data.Fill([1, 0], batch);
        float[] steps = [20, 10, 21, 11, 22, 0];
        if (tokens) Assert.Equal(steps.Select(value => (int)value), batch.Ids.ToArray());
        else Assert.Equal(steps, batch.Input.ToArray());
        Assert.Equal(steps, batch.Targets.ToArray());
        Assert.Equal([2f, 1f, 2f, 1f, 2f, 0f], batch.Weights.ToArray());
    }

    [Fact]
    public void Fill_RefusesANullBatch_ByName_EvenForNoExample()
    {
        var data = new SequenceDataset(1, 1);
        data.Add([1f], [0f]);
        Assert.Equal("batch", Assert.Throws<ArgumentNullException>(() => data.Fill([0], null!)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentNullException>(() => data.Fill([], null!)).ParamName);
    }
}
