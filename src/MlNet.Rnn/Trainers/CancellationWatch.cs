namespace MlNet.Rnn;

/// <summary>
/// Cancels a token source when a condition holds, checked every period on a thread of its own until disposed. Not a
/// thread-pool timer: a timer's callback waits behind whatever else the process has queued to the pool (a fit's batches,
/// the trials of a search, a host's requests), so an experiment's budget overran by seconds on a 2-core machine and CI saw
/// a fit miss <c>MLContext.CancelExecution</c> for two minutes.
/// </summary>
internal sealed class CancellationWatch : IDisposable
{
    private static readonly TimeSpan LongestWait = TimeSpan.FromMilliseconds(int.MaxValue);
    private readonly ManualResetEventSlim _ended = new();
    private readonly Thread _thread;

    /// <param name="source">What to cancel.</param>
    /// <param name="period">How long to wait before each check (any length: an experiment's budget of a year is waited out in pieces).</param>
    /// <param name="shouldCancel">The condition; checked on the watch's thread.</param>
    /// <param name="name">The thread's name, for a debugger.</param>
    public CancellationWatch(CancellationTokenSource source, TimeSpan period, Func<bool> shouldCancel, string name)
    {
        _thread = new Thread(() =>
        {
            while (!Ended(period))
            {
                if (shouldCancel())
                {
                    source.Cancel();
                    return;
                }
            }
        })
        { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Waits up to <paramref name="period"/> for <see cref="Dispose"/>; <see cref="ManualResetEventSlim.Wait(TimeSpan)"/> takes at most 24.8 days.</summary>
    private bool Ended(TimeSpan period)
    {
        for (; period > LongestWait; period -= LongestWait)
            if (_ended.Wait(LongestWait)) return true;
        return _ended.Wait(period);
    }

    /// <summary>Stops watching (without cancelling) and waits for the watch's thread to end.</summary>
    public void Dispose()
    {
        _ended.Set();
        _thread.Join();
        _ended.Dispose();
    }
}
