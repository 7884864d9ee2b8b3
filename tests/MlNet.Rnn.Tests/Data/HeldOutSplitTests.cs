using MlNet.Rnn.Data;

namespace MlNet.Rnn.Tests.Data;

/// <summary>
/// The rows held out to decide when to stop: the two caches share the memory budget as they share the rows (so holding rows
/// out never doubles what a fit may keep in memory), the first row always trains, and the draw repeats with the seed.
/// </summary>
public sealed class HeldOutSplitTests
{
    [Theory]
    [InlineData(0.1f, 1_000_000, 900_000, 100_000)]
    [InlineData(0.5f, 1_000, 500, 500)]
    [InlineData(0f, 1_000, 1_000, 1)]
    public void TheTwoCaches_ShareTheBudget(float fraction, long budget, long training, long heldOut) =>
        Assert.Equal((training, heldOut), new HeldOutSplit(fraction, seed: 1).Budgets(budget));

    [Fact]
    public void TheFirstRowTrains_ARowIsHeldOutWithTheFraction_AndTheSeedRepeatsTheDraw()
    {
        static bool[] Draw(int seed) { var split = new HeldOutSplit(0.3f, seed); return [.. Enumerable.Range(0, 2_000).Select(n => split.HoldsOut(n))]; }

        Assert.False(new HeldOutSplit(0.99f, seed: 1).HoldsOut(trainingRows: 0));
        Assert.False(new HeldOutSplit(0f, seed: 1).HoldsOut(trainingRows: 5));
        bool[] first = Draw(7);
        Assert.InRange(first.Count(held => held) / 2_000.0, 0.27, 0.33);
        Assert.Equal(first, Draw(7));
        Assert.NotEqual(first, Draw(8));
    }
}
