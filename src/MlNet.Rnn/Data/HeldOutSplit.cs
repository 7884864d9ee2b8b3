namespace MlNet.Rnn.Data;

/// <summary>
/// Which rows a fit holds out of its training rows to decide when to stop (<see cref="RecurrentTrainerOptionsBase.ValidationFraction"/>),
/// drawn from the seed as the rows are read, and how the two caches share the memory budget as they share the rows.
/// </summary>
internal sealed class HeldOutSplit(float fraction, int seed)
{
    private readonly Random _random = new(unchecked(seed * 31 + 17));

    /// <summary>Whether to hold out the next row; never before the training rows have one.</summary>
    public bool HoldsOut(long trainingRows) => fraction > 0 && trainingRows > 0 && _random.NextDouble() < fraction;

    /// <summary>The training rows' and the held-out rows' shares of <paramref name="budget"/> bytes (each at least one byte).</summary>
    public (long Training, long HeldOut) Budgets(long budget)
    {
        long heldOut = (long)(budget * (double)fraction);
        return (Math.Max(budget - heldOut, 1), Math.Max(heldOut, 1));
    }
}
