using Microsoft.Extensions.Logging;
using Microsoft.ML;
using MlNet.Rnn.Tests.Forecasting;
using MlNet.Rnn.Tests.Options;

namespace MlNet.Rnn.Tests.Trainers;

/// <summary>
/// A running <c>Fit</c> stops when the options' <see cref="RecurrentTrainerOptionsBase.CancellationToken"/> or the
/// <see cref="MLContext"/>'s cancellation (<c>CancelExecution</c>, which AutoML uses) asks: with an <see cref="OperationCanceledException"/> that says who cancelled,
/// before the next batch (the token) or within the 50 ms the run watches the context at, and without leaving the temporary
/// file of its rows behind. Each task's trainer passing the token on is in <c>TaskOptionsActTests</c>; the forecaster's here.
/// These tests run alone (one of them holds every thread-pool worker).
/// </summary>
[Collection(Name)]
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CancellationTests
{
    private const string Name = "Cancellation, alone: holds the thread pool";

    /// <summary>A logger that calls <paramref name="onFirstEpoch"/> when the first epoch is reported.</summary>
    private static RecordingLogger CancellingLogger(Action onFirstEpoch) => new((_, message) =>
    {
        if (message.StartsWith("Epoch 1:", StringComparison.Ordinal)) onFirstEpoch();
    });

    /// <summary>The epochs <paramref name="logger"/> was told of.</summary>
    private static int Epochs(RecordingLogger logger)
    {
        lock (logger.Lines) return logger.Messages.Count(m => m.StartsWith("Epoch ", StringComparison.Ordinal));
    }

    /// <summary>400 rows of 400 steps × 2 features, 1.3 MB: over a 1 MB TrainingDataMemoryMegabytes, so Fit reads them from a temporary file.</summary>
    private static IDataView Rows(MLContext mlContext) => OptionProbe.ToDataView(mlContext, Enumerable.Range(0, 400).Select(r =>
    {
        var random = new Random(r);
        float[] features = [.. Enumerable.Range(0, 2 * 400).Select(_ => random.NextSingle() * 2 - 1)];
        return new ProbeRow { Label = features[^2] > 0, Features = features, Copy = features, Noise = features };
    }));

    private static RecurrentBinaryTrainer.Options Options(ILogger logger, int epochs) => new()
    {
        LabelColumnName = nameof(ProbeRow.Label), FeaturesPerStep = 2, HiddenSize = 4, BatchSize = 50, NumberOfEpochs = epochs,
        TrainingDataMemoryMegabytes = 1, Logger = logger, Seed = 1,
    };

    [Fact]
    public void TheOptionsToken_StopsFitBeforeTheBatchAfterItIsCancelled()
    {
        var mlContext = new MLContext(seed: 1);
        using var cancellation = new CancellationTokenSource();
        var logger = CancellingLogger(cancellation.Cancel);
        var options = Options(logger, epochs: 50);
        options.CancellationToken = cancellation.Token;

        var error = Assert.Throws<OperationCanceledException>(() => mlContext.BinaryClassification.Trainers.Lstm(options).Fit(Rows(mlContext)));

        Assert.StartsWith("RecurrentBinaryTrainer.Fit was cancelled (the options' CancellationToken); no model was made", error.Message);
        Assert.Equal(cancellation.Token, error.CancellationToken);
        Assert.Equal(1, Epochs(logger)); // cancelled as epoch 1 was reported: not one batch of epoch 2 ran
        SpillFile.AssertGone(SpillFile.PathIn(logger.Messages));
    }

    [Fact]
    public void MLContextCancelExecution_StopsARunningFit()
    {
        var mlContext = new MLContext(seed: 1);
        // MLContext.CancelExecution is internal to ML.NET: AutoML calls it, and users through the Microsoft.ML.Experimental
        // package's extension method; this is that call.
        var cancel = typeof(MLContext).GetMethod("CancelExecution", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!;
        var logger = CancellingLogger(() => cancel.Invoke(mlContext, null));
        var options = Options(logger, epochs: 2000);

        var error = Assert.Throws<OperationCanceledException>(() => mlContext.BinaryClassification.Trainers.Lstm(options).Fit(Rows(mlContext)));

        Assert.StartsWith("RecurrentBinaryTrainer.Fit was cancelled (MLContext.CancelExecution)", error.Message);
        Assert.True(error.CancellationToken.IsCancellationRequested, "the exception carries the run's cancelled token, not the options' (never cancelled)");
        // The context is watched every 50 ms and an epoch of 8 batches of 400 steps takes milliseconds: the fit stops a few
        // epochs after the cancel, far short of the 2,000 asked for (which bound the test's time should the cancel be lost).
        Assert.InRange(Epochs(logger), 1, 1000);
        SpillFile.AssertGone(SpillFile.PathIn(logger.Messages));
    }

    /// <summary>A fit cancelled before it starts stops at the first row it reads (it checks every 1,024 rows), not after reading them all.</summary>
    [Fact]
    public void AFitCancelledBeforeItStarts_ReadsOneRow()
    {
        var mlContext = new MLContext(seed: 1);
        int read = 0;
        var rows = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 3000).Select(r =>
        {
            Interlocked.Increment(ref read);
            return new ProbeRow { Label = r % 2 == 0, Features = [r % 7, 1], Copy = [0, 0], Noise = [0, 0] };
        }));
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        var options = Options(new RecordingLogger(), epochs: 1);
        options.CancellationToken = cancellation.Token;

        Assert.Throws<OperationCanceledException>(() => mlContext.BinaryClassification.Trainers.Lstm(options).Fit(rows));

        Assert.Equal(1, read);
    }

    /// <summary>The context cancelled after a fit ended touches nothing of it: the fit's watch of the context ended with it.</summary>
    [Fact]
    public void MLContextCancelExecution_AfterAFit_HarmsNothing()
    {
        var mlContext = new MLContext(seed: 1);
        var model = mlContext.BinaryClassification.Trainers.Lstm(Options(new RecordingLogger(), epochs: 1)).Fit(Rows(mlContext));
        var cancel = typeof(MLContext).GetMethod("CancelExecution", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!;
        cancel.Invoke(mlContext, null);
        // A watch still running would see the cancel within its 50 ms period and cancel the fit's disposed token source,
        // which throws on the watch's thread and ends the process.
        Thread.Sleep(500);
        Assert.NotNull(model.Transform(Rows(mlContext)).Preview(1));
    }

    [Fact]
    public void MLContextCancelExecution_IsSeenWhileTheThreadPoolIsBusy()
    {
        // Every thread-pool worker is held and a thousand more items wait in the pool's queue, which the pool works through at
        // about a new worker every half second. A watch on a periodic thread-pool timer (as before) missed the cancel here for the
        // whole 2,000 epochs, as on CI; the watch must not depend on the pool.
        var release = new ManualResetEventSlim(); // not disposed: items still queued after the test wait on it and return
        for (int i = 0; i < 1000; i++) ThreadPool.UnsafeQueueUserWorkItem(_ => release.Wait(), null);
        try
        {
            var mlContext = new MLContext(seed: 1);
            var cancel = typeof(MLContext).GetMethod("CancelExecution", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!;
            var logger = CancellingLogger(() => cancel.Invoke(mlContext, null));

            var error = Assert.Throws<OperationCanceledException>(
                () => mlContext.BinaryClassification.Trainers.Lstm(Options(logger, epochs: 2000)).Fit(Rows(mlContext)));

            Assert.StartsWith("RecurrentBinaryTrainer.Fit was cancelled (MLContext.CancelExecution)", error.Message);
            Assert.InRange(Epochs(logger), 1, 1000);
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public void ACancelledForecasterFit_Stops()
    {
        var mlContext = new MLContext(seed: 1);
        using var cancellation = new CancellationTokenSource();
        var logger = CancellingLogger(cancellation.Cancel);
        var options = new RecurrentForecastingEstimator.Options
        {
            OutputColumnName = "Forecast", InputColumnName = nameof(Observation.Value), WindowSize = 12, Horizon = 2, HiddenSize = 4,
            NumberOfEpochs = 50, Seed = 1, Logger = logger, CancellationToken = cancellation.Token,
        };
        var error = Assert.Throws<OperationCanceledException>(
            () => mlContext.Forecasting.ForecastByGru(options).Fit(mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(200))));
        Assert.StartsWith("RecurrentForecastingEstimator.Fit was cancelled (the options' CancellationToken)", error.Message);
        Assert.Equal(1, Epochs(logger));
    }
}
