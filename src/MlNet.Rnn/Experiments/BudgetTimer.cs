namespace MlNet.Rnn.Experiments;

/// <summary>
/// Cancels a token source when an experiment's time budget runs out, from a dedicated thread.
/// <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/> fires on the thread pool, which the trials themselves keep
/// busy (their batches run on it), so on a 2-core machine the budget could overrun by seconds while the pool grew.
/// </summary>
internal sealed class BudgetTimer : IDisposable
{
    private readonly ManualResetEventSlim _stopped = new();
    private readonly Thread _thread;

    private BudgetTimer(CancellationTokenSource source, TimeSpan remaining)
    {
        _thread = new Thread(() =>
        {
            if (!_stopped.Wait(remaining)) source.Cancel();
        })
        { IsBackground = true, Name = "MlNet.Rnn experiment budget" };
        _thread.Start();
    }

    /// <summary>Cancels <paramref name="source"/> after <paramref name="remaining"/> (at once when it is not positive).</summary>
    public static BudgetTimer? Start(CancellationTokenSource source, TimeSpan remaining)
    {
        if (remaining > TimeSpan.Zero) return new BudgetTimer(source, remaining);
        source.Cancel();
        return null;
    }

    /// <summary>Stops the timer without cancelling.</summary>
    public void Dispose()
    {
        _stopped.Set();
        _thread.Join();
        _stopped.Dispose();
    }
}
