using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// <see cref="SequenceBatch.Reset"/>: sizes are checked by name (a token batch has 0 features per step), every view has the
/// size its shape gives (ids only for tokens, targets rows·W, weights rows), and a reset clears everything a previous use of
/// the batch wrote, at any size.
/// </summary>
public sealed class SequenceBatchTests
{
    [Fact]
    public void Reset_RefusesSizesBelowTheirMinimum_ByName()
    {
        var batch = new SequenceBatch();
        Assert.Equal("batchSize", Assert.Throws<ArgumentOutOfRangeException>(() => batch.Reset(0, 1, 1, 1, false)).ParamName);
        Assert.Equal("steps", Assert.Throws<ArgumentOutOfRangeException>(() => batch.Reset(1, 0, 1, 1, false)).ParamName);
        Assert.Equal("featuresPerStep", Assert.Throws<ArgumentOutOfRangeException>(() => batch.Reset(1, 1, -1, 1, false)).ParamName);
        Assert.Equal("targetWidth", Assert.Throws<ArgumentOutOfRangeException>(() => batch.Reset(1, 1, 1, 0, false)).ParamName);
        batch.Reset(1, 1, 0, 1, false);
        Assert.True(batch.Tokens);
        Assert.Equal(1, batch.Ids.Length);
    }

    [Theory]
    [InlineData(3, 4, 2, 2, true)]
    [InlineData(3, 4, 2, 3, false)]
    [InlineData(2, 5, 0, 2, true)]
    [InlineData(2, 5, 0, 3, false)]
    public void Reset_SizesEveryView_FromItsShape(int B, int T, int I, int W, bool perStep)
    {
        var batch = new SequenceBatch();
        batch.Reset(B, T, I, W, perStep);
        int rows = perStep ? T * B : B;
        Assert.Equal((B, T, I, W, perStep, rows), (batch.BatchSize, batch.Steps, batch.FeaturesPerStep, batch.TargetWidth, batch.PerStepTargets, batch.TargetRows));
        Assert.Equal(T * B * I, batch.Input.Length);
        Assert.Equal(I == 0 ? T * B : 0, batch.Ids.Length);
        Assert.Equal(B, batch.Lengths.Length);
        Assert.Equal(rows * W, batch.Targets.Length);
        Assert.Equal(rows, batch.Weights.Length);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    public void Reset_ClearsWhatThePreviousUseWrote(int I)
    {
        var batch = new SequenceBatch();
        foreach (var (B, T) in new[] { (3, 4), (3, 4), (1, 2), (2, 4) })
        {
            batch.Reset(B, T, I, 2, perStepTargets: true);
            Assert.All(batch.Input.ToArray(), value => Assert.Equal(0f, value));
            Assert.All(batch.Ids.ToArray(), value => Assert.Equal(0, value));
            Assert.All(batch.Lengths.ToArray(), value => Assert.Equal(0, value));
            Assert.All(batch.Targets.ToArray(), value => Assert.Equal(0f, value));
            Assert.All(batch.Weights.ToArray(), value => Assert.Equal(0f, value));
            batch.Input.Fill(7f);
            batch.Ids.Fill(7);
            batch.Lengths.Fill(7);
            batch.Targets.Fill(7f);
            batch.Weights.Fill(7f);
        }
    }
}
