namespace MlNet.Rnn.Experiments;

/// <summary>
/// Cancels a token source when an experiment's time budget runs out. On the real clock (<see cref="TimeProvider.System"/>)
/// a <see cref="CancellationWatch"/> waits out the budget on a thread of its own (the trials keep the thread pool busy). Any
/// other <see cref="TimeProvider"/> (a test's fake clock) gets a timer of its own making, which fires when that clock says
/// the budget is spent.
/// </summary>
internal sealed class BudgetTimer : IDisposable
{
    private readonly IDisposable _wait;

    private BudgetTimer(CancellationTokenSource source, TimeSpan remaining, TimeProvider timeProvider) =>
        _wait = timeProvider == TimeProvider.System
            ? new CancellationWatch(source, remaining, static () => true, "MlNet.Rnn experiment budget")
            : timeProvider.CreateTimer(_ => source.Cancel(), null, remaining, Timeout.InfiniteTimeSpan);

    /// <summary>Cancels <paramref name="source"/> once <paramref name="remaining"/> has passed on <paramref name="timeProvider"/> (at once when it is not positive).</summary>
    public static BudgetTimer? Start(CancellationTokenSource source, TimeSpan remaining, TimeProvider timeProvider)
    {
        if (remaining > TimeSpan.Zero) return new BudgetTimer(source, remaining, timeProvider);
        source.Cancel();
        return null;
    }

    /// <summary>Stops the timer without cancelling.</summary>
    public void Dispose() => _wait.Dispose();
}
