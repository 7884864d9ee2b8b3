namespace MlNet.Rnn.Experiments;

/// <summary>
/// Cancels a token source when an experiment's time budget runs out. On the real clock (<see cref="TimeProvider.System"/>) it
/// waits on a dedicated thread: <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/> fires on the thread pool, which
/// the trials themselves keep busy (their batches run on it), so on a 2-core machine the budget could overrun by seconds
/// while the pool grew. Any other <see cref="TimeProvider"/> (a test's fake clock) gets a timer of its own making, which
/// fires when that clock says the budget is spent.
/// </summary>
internal sealed class BudgetTimer : IDisposable
{
    private readonly ManualResetEventSlim? _stopped;
    private readonly Thread? _thread;
    private readonly ITimer? _timer;

    private BudgetTimer(CancellationTokenSource source, TimeSpan remaining, TimeProvider timeProvider)
    {
        if (timeProvider != TimeProvider.System)
        {
            _timer = timeProvider.CreateTimer(_ => source.Cancel(), null, remaining, Timeout.InfiniteTimeSpan);
            return;
        }
        var stopped = _stopped = new ManualResetEventSlim();
        _thread = new Thread(() =>
        {
            if (!stopped.Wait(remaining)) source.Cancel();
        })
        { IsBackground = true, Name = "MlNet.Rnn experiment budget" };
        _thread.Start();
    }

    /// <summary>Cancels <paramref name="source"/> once <paramref name="remaining"/> has passed on <paramref name="timeProvider"/> (at once when it is not positive).</summary>
    public static BudgetTimer? Start(CancellationTokenSource source, TimeSpan remaining, TimeProvider timeProvider)
    {
        if (remaining > TimeSpan.Zero) return new BudgetTimer(source, remaining, timeProvider);
        source.Cancel();
        return null;
    }

    /// <summary>Stops the timer without cancelling.</summary>
    public void Dispose()
    {
        _timer?.Dispose();
        if (_stopped is null) return;
        _stopped.Set();
        _thread!.Join();
        _stopped.Dispose();
    }
}
