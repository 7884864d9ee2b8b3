namespace MlNet.Rnn.Tests.Trainers;

/// <summary>
/// <see cref="CancellationWatch"/>, which stops a fit on <c>MLContext.CancelExecution</c> and an experiment at its budget:
/// it cancels once its condition holds, never after it is disposed, and takes a period of any length. That it does not
/// need the thread pool is in <see cref="CancellationTests"/>.
/// </summary>
public sealed class CancellationWatchTests
{
    [Fact]
    public void ItCancelsOnceTheConditionHolds()
    {
        using var source = new CancellationTokenSource();
        int checks = 0;
        bool holds = false;
        using (new CancellationWatch(source, TimeSpan.FromMilliseconds(1), () => { Interlocked.Increment(ref checks); return Volatile.Read(ref holds); }, "test"))
        {
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref checks) >= 3, TimeSpan.FromMinutes(1)));
            Assert.False(source.IsCancellationRequested);
            Volatile.Write(ref holds, true);
            Assert.True(source.Token.WaitHandle.WaitOne(TimeSpan.FromMinutes(1)));
            // Once it has cancelled it stops checking.
            int atCancel = Volatile.Read(ref checks);
            Thread.Sleep(50);
            Assert.Equal(atCancel, Volatile.Read(ref checks));
        }
    }

    [Fact]
    public void OnceDisposed_ItNeitherChecksNorCancels()
    {
        using var source = new CancellationTokenSource();
        int checks = 0;
        new CancellationWatch(source, TimeSpan.FromMilliseconds(1), () => { Interlocked.Increment(ref checks); return false; }, "test").Dispose();
        int atDispose = Volatile.Read(ref checks);
        Thread.Sleep(50);
        Assert.Equal(atDispose, Volatile.Read(ref checks));
        Assert.False(source.IsCancellationRequested);
    }

    [Fact]
    public void APeriodLongerThanAWaitCanTake_IsWaitedOutWithoutAnError()
    {
        // ManualResetEventSlim.Wait refuses more than int.MaxValue ms (24.8 days); on the watch's thread that refusal would end
        // the process. An experiment's budget of a year must simply be waited out, and disposing must still stop it.
        using var source = new CancellationTokenSource();
        var watch = new CancellationWatch(source, TimeSpan.FromDays(365), () => true, "test");
        Thread.Sleep(100);
        watch.Dispose();
        Assert.False(source.IsCancellationRequested);
    }
}
