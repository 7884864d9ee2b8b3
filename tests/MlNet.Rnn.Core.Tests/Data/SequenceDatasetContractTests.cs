using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// <see cref="SequenceDataset"/> beyond the numeric basics: the constructor's checks by name; token sequences (refused in a
/// numeric set and the reverse, empty or negative ids refused naming the example and token, id 0 accepted) and their
/// time-major ids in a batch; per-step and per-sequence targets of width 2 placed at <c>[t, b, w]</c> and <c>[b, w]</c>;
/// target and weight checks at their boundaries (weight 0 accepted, non-finite targets refused); the largest token id and its
/// first example; <see cref="SequenceDataset.Clear"/>, after which new examples read as if the set were new;
/// <see cref="SequenceDataset.Fill"/> refuses a null batch by name; the summary (longest sequence, largest id, smallest and
/// largest target, whether every target is whole, and the empty summary for no example); <c>AddAll</c> appends a whole set
/// (token or numeric) and <c>AddFrom</c> one example, both keeping the examples' numbers; <c>AllSteps</c> and <c>AllIds</c> hold
/// every step of their kind and nothing of the other; the bytes the examples take (4 per step value and target, 32 per
/// example); and the bytes adding an example would hold, its buffers kept when large enough (exactly full included) and
/// otherwise grown to twice their capacity, or to what is needed when that is more.
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

    [Fact]
    public void Summary_IsTheLongestSequenceLargestIdAndTargetRange_AndWhetherEveryTargetIsWhole()
    {
        Assert.Equal(SequenceSummary.Empty, new SequenceDataset(1, 1).Summary());

        var whole = new SequenceDataset(1, 2);
        whole.Add([1f], [3f, -2f]);
        whole.Add([1f, 2f, 3f], [5f, 0f]);
        Assert.Equal(new SequenceSummary(3, -1, -2f, 5f, true), whole.Summary());
        Assert.Equal(whole.Summary(), whole.PartSummary(0));

        var half = new SequenceDataset(1, 2);
        half.Add([1f], [1f, 2f]);
        half.Add([1f], [0.5f, 2f]);
        Assert.Equal(new SequenceSummary(1, -1, 0.5f, 2f, false), half.Summary());

        var tokens = new SequenceDataset(0, 1);
        tokens.AddTokens([4, 7], [1f]);
        Assert.Equal(new SequenceSummary(2, 7, 1f, 1f, true), tokens.Summary());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AddAll_AppendsEveryExampleOfASet_AndAddFromOne_KeepingTheirNumbers(bool tokens)
    {
        var window = new SequenceDataset(tokens ? 0 : 1, 1);
        var part = new SequenceDataset(tokens ? 0 : 1, 1) { FirstExampleNumber = 10 };
        void Add(SequenceDataset data, int[] steps, float target, float weight)
        {
            if (tokens) data.AddTokens(steps, [target], weight);
            else data.Add([.. steps.Select(step => (float)step)], [target], weight);
        }
        int[] Steps(SequenceDataset data, int index) => tokens ? data.IdsOf(index).ToArray() : [.. data.ValuesOf(index).ToArray().Select(step => (int)step)];
        Add(window, [1, 2], 0f, 1f);
        Add(part, [3, 4, 5], 1f, 2f);
        Add(part, [6, 7, 8, 9], 2f, 3f);
        window.AddAll(part);
        Assert.Equal((3, 9L, 3L), (window.Count, window.ValueCount, window.TargetCount));
        Assert.Equal([0L, 10L, 11L], Enumerable.Range(0, 3).Select(i => window.NumberOf(i)));
        Assert.Equal([[1, 2], [3, 4, 5], [6, 7, 8, 9]], Enumerable.Range(0, 3).Select(i => Steps(window, i)));
        Assert.Equal([0f, 1f, 2f], window.AllTargets.ToArray());
        Assert.Equal([1f, 2f, 3f], Enumerable.Range(0, 3).Select(window.WeightOf));

        // The examples AddFrom copies keep their numbers, whatever the set copied to already holds.
        var carry = new SequenceDataset(tokens ? 0 : 1, 1);
        carry.AddFrom(window, 2);
        carry.AddFrom(window, 1);
        carry.AddFrom(window, 0);
        Assert.Equal([11L, 10L, 0L], Enumerable.Range(0, 3).Select(i => carry.NumberOf(i)));
        Assert.Equal([[6, 7, 8, 9], [3, 4, 5], [1, 2]], Enumerable.Range(0, 3).Select(i => Steps(carry, i)));
        Assert.Equal([2f, 1f, 0f], carry.AllTargets.ToArray());
        Assert.Equal([3f, 2f, 1f], Enumerable.Range(0, 3).Select(carry.WeightOf));
    }

    [Fact]
    public void AllStepsAndAllIds_HoldEveryStepOfTheirKind_AndNothingOfTheOther()
    {
        var numeric = new SequenceDataset(2, 1);
        numeric.Add([1f, 2f, 3f, 4f], [0f]);
        numeric.Add([5f, 6f], [0f]);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], numeric.AllSteps.ToArray());
        Assert.True(numeric.AllIds.IsEmpty);

        var tokens = new SequenceDataset(0, 1);
        tokens.AddTokens([7, 8], [0f]);
        tokens.AddTokens([9], [0f]);
        Assert.Equal([7, 8, 9], tokens.AllIds.ToArray());
        Assert.True(tokens.AllSteps.IsEmpty);
    }

    [Fact]
    public void Bytes_AreFourPerStepValueAndTarget_AndThirtyTwoPerExample()
    {
        Assert.Equal(4 * (10 + 3) + 32 * 2, SequenceDataset.BytesOf(2, 10, 3));
        var data = new SequenceDataset(2, 1, perStepTargets: true);
        data.Add([1f, 2f, 3f, 4f, 5f, 6f], [1f, 2f, 3f]);
        data.Add([7f, 8f], [4f]);
        Assert.Equal(4 * (8 + 4) + 32 * 2, data.Bytes);
    }

    [Fact]
    public void BytesAfterAdding_KeepBuffersLargeEnough_AndOtherwiseDoubleThemOrGrowThemToWhatIsNeeded()
    {
        // 4 bytes per step value and target the buffers hold, and 32 per example with the one added.
        var data = new SequenceDataset(2, 1);
        Assert.Equal(4 * (4 + 1) + 32, data.BytesAfterAdding(4, 1)); // empty buffers grow to what is needed
        data.Add([1f, 2f, 3f, 4f], [5f]); // buffers of 4 step values and 1 target, both full
        Assert.Equal(4 * (8 + 2) + 32 * 2, data.BytesAfterAdding(2, 1)); // 6 > 4 and 2 > 1: both doubled
        Assert.Equal(4 * (14 + 2) + 32 * 2, data.BytesAfterAdding(10, 1)); // 14 is more than twice 4
        Assert.Equal(4 * (4 + 1) + 32 * 2, data.BytesAfterAdding(0, 0));
        data.Clear(); // the buffers are kept
        Assert.Equal(4 * (4 + 1) + 32, data.BytesAfterAdding(4, 1)); // exactly full: kept
        Assert.Equal(4 * (4 + 1) + 32, data.BytesAfterAdding(2, 1));
        data.Add([1f, 2f], [3f]);
        data.Add([4f, 5f], [6f]); // grown to 2 targets: 4 step values (full) and 2 targets
        Assert.Equal(4 * (4 + 2) + 32 * 3, data.BytesAfterAdding(0, 0));
        Assert.Equal(4 * (8 + 4) + 32 * 3, data.BytesAfterAdding(2, 1));

        var tokens = new SequenceDataset(0, 1);
        tokens.AddTokens([1, 2, 3], [0f]); // 3 ids and 1 target
        Assert.Equal(4 * (3 + 1) + 32 * 2, tokens.BytesAfterAdding(0, 0));
        Assert.Equal(4 * (6 + 2) + 32 * 2, tokens.BytesAfterAdding(1, 1));
    }
}
