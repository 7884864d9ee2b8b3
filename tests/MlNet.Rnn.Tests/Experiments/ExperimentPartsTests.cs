using Microsoft.Extensions.Time.Testing;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Experiments;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>
/// The experiments' small parts one by one, against values computed in the test: a search range's draw, the ranking by each
/// metric, the run details' text, the budget timer on a fake clock, and a trial's epoch watch.
/// </summary>
public sealed class ExperimentPartsTests
{
    [Fact]
    public void ARangeDrawsUniformly_OnALogScaleWhenAsked_AndAFixedRangeItsValue()
    {
        double u = new Random(5).NextDouble();
        Assert.Equal((float)(0.1 + u * (0.5 - 0.1)), new SearchRange(0.1f, 0.5f).Draw(new Random(5)));
        Assert.Equal((float)Math.Exp(Math.Log(1e-3f) + u * (Math.Log(3e-2f) - Math.Log(1e-3f))), new SearchRange(1e-3f, 3e-2f, LogScale: true).Draw(new Random(5)));
        // A fixed range gives its value exactly, on either scale, and still takes its draw, so the choices after it do not move.
        var random = new Random(5);
        Assert.Equal(0.3f, SearchRange.Fixed(0.3f).Draw(random));
        Assert.Equal(1.7e-3f, new SearchRange(1.7e-3f, 1.7e-3f, LogScale: true).Draw(random));
        var reference = new Random(5);
        reference.NextDouble();
        reference.NextDouble();
        Assert.Equal(reference.Next(), random.Next());

        Assert.Equal("[0.001, 0.03] log", new SearchRange(1e-3f, 3e-2f, LogScale: true).ToString());
        Assert.Equal("[0, 0.5]", new SearchRange(0f, 0.5f).ToString());
    }

    private static EpochReport Report(int epoch, double? loss, double? metric) =>
        new(epoch, TrainingLoss: 1, loss, metric, "Accuracy", GradientNorm: 0, LearningRate: 0, SamplesPerSecond: 0, TimeSpan.Zero, TimeSpan.Zero);

    [Fact]
    public void TrialsRankByTheirMetric_HigherAccuracyAndLowerLossOrErrorFirst_TiesByTrialId()
    {
        var report = Report(1, loss: 0.3, metric: 0.8);
        Assert.Equal(0.3, RecurrentExperimentRanking.Value(RecurrentExperimentMetric.ValidationLoss, report));
        Assert.Equal(0.8, RecurrentExperimentRanking.Value(RecurrentExperimentMetric.Accuracy, report));
        Assert.Equal(0.8, RecurrentExperimentRanking.Value(RecurrentExperimentMetric.RootMeanSquaredError, report));
        Assert.True(double.IsNaN(RecurrentExperimentRanking.Value(RecurrentExperimentMetric.ValidationLoss, Report(1, null, 0.8))));
        Assert.True(double.IsNaN(RecurrentExperimentRanking.Value(RecurrentExperimentMetric.Accuracy, Report(1, 0.3, null))));

        Assert.Equal(0.8, RecurrentExperimentRanking.Score(RecurrentExperimentMetric.Accuracy, 0.8));
        Assert.Equal(-0.3, RecurrentExperimentRanking.Score(RecurrentExperimentMetric.ValidationLoss, 0.3));
        Assert.Equal(-0.3, RecurrentExperimentRanking.Score(RecurrentExperimentMetric.RootMeanSquaredError, 0.3));
        Assert.Equal(double.NegativeInfinity, RecurrentExperimentRanking.Score(RecurrentExperimentMetric.Accuracy, double.NaN));
        Assert.Equal(double.NegativeInfinity, RecurrentExperimentRanking.Score(RecurrentExperimentMetric.ValidationLoss, double.NaN));

        var options = new RecurrentBinaryTrainer.Options();
        RecurrentRunDetail Run(int id, RecurrentExperimentMetric metric, double value, RecurrentTrialStatus status = RecurrentTrialStatus.Paused, int epochs = 1) =>
            new(id, RecurrentCellType.Lstm, options, value, metric, Enumerable.Repeat(value, epochs).ToArray(), epochs, status, 0);

        var accuracy = RecurrentExperimentRanking.Rank([
            Run(1, RecurrentExperimentMetric.Accuracy, 0.7), Run(2, RecurrentExperimentMetric.Accuracy, 0.9),
            Run(3, RecurrentExperimentMetric.Accuracy, 0.99, RecurrentTrialStatus.Diverged), Run(4, RecurrentExperimentMetric.Accuracy, double.NaN),
            Run(5, RecurrentExperimentMetric.Accuracy, 0.95, epochs: 0), Run(6, RecurrentExperimentMetric.Accuracy, 0.7, RecurrentTrialStatus.Completed)]);
        Assert.Equal([2, 1, 6], accuracy.Select(run => run.TrialId));
        var loss = RecurrentExperimentRanking.Rank([
            Run(3, RecurrentExperimentMetric.ValidationLoss, 0.2), Run(1, RecurrentExperimentMetric.ValidationLoss, 0.5),
            Run(2, RecurrentExperimentMetric.ValidationLoss, 0.2, RecurrentTrialStatus.EarlyStopped)]);
        Assert.Equal([2, 3, 1], loss.Select(run => run.TrialId));
    }

    [Fact]
    public void ForecastingRunsRankByTheirMeanAbsoluteError_LowestFirst_TiesByTrialId()
    {
        var options = new ForecasterOptions();
        ForecastingRunDetail Run(int id, double mae, RecurrentTrialStatus status = RecurrentTrialStatus.Paused) =>
            new(id, options, mae, mae * 2, [mae], 1, 1, status, 0);

        var ranked = ForecastingRunDetail.Rank([Run(1, 0.5), Run(2, 0.3), Run(3, 0.1, RecurrentTrialStatus.Diverged), Run(4, double.NaN),
            Run(5, 0.3, RecurrentTrialStatus.Completed), Run(6, 0.9, RecurrentTrialStatus.Interrupted)]);
        Assert.Equal([2, 5, 1, 6], ranked.Select(run => run.TrialId));
    }

    [Fact]
    public void ARunDescribesItsConfigurationMetricEpochsStatusAndTime()
    {
        var plain = new RecurrentBinaryTrainer.Options
        {
            HiddenSize = 16, NumberOfLayers = 2, Bidirectional = false, Dropout = 0.3f, RecurrentDropout = 0, LearningRate = 3.5e-3f, BatchSize = 32,
            GradientClipNorm = 5, LearnedInitialState = false,
        };
        var run = new RecurrentRunDetail(7, RecurrentCellType.Gru, plain, 0.8125, RecurrentExperimentMetric.Accuracy, [0.5, 0.8125, 0.75], 2,
            RecurrentTrialStatus.EarlyStopped, 12.34);
        Assert.Equal("Gru H 16 L 2, dropout 0.30, lr 3.5e-03, B 32, clip 5", run.Configuration);
        Assert.Equal(3, run.Epochs);
        Assert.Equal("trial   7  " + run.Configuration.PadRight(62) + "  Accuracy 0.8125 (epoch 2 of 3)  EarlyStopped   12.3 s", run.ToString());

        var every = new RecurrentBinaryTrainer.Options
        {
            HiddenSize = 8, NumberOfLayers = 1, Bidirectional = true, RecurrentDropout = 0.25f, LearningRate = 1e-2f, BatchSize = 16,
            GradientClipNorm = 0.5f, LearnedInitialState = true,
        };
        Assert.Equal("Lstm H 8 L 1 bi, dropout 0.00, recurrent dropout 0.25, lr 1.0e-02, B 16, clip 0.5, learned h0",
            (run with { Cell = RecurrentCellType.Lstm, Options = every }).Configuration);

        var forecast = new ForecastingRunDetail(3, new ForecasterOptions
        {
            Cell = RecurrentCellType.Rnn, WindowSize = 12, HiddenSize = 8, Layers = 1, Dropout = 0.1f,
            Training = new TrainerOptions { LearningRate = 3e-3f, BatchSize = 16, GradientClipNorm = 1 },
        }, 0.123456, 0.2, [0.2, 0.123456], 3, 9, RecurrentTrialStatus.Completed, 1.24);
        Assert.Equal("Rnn W 12 H 8 L 1, dropout 0.10, lr 3.0e-03, B 16, clip 1", forecast.Configuration);
        Assert.Equal("trial   3  " + forecast.Configuration.PadRight(62) + "  MAE 0.12346 RMSE 0.2 (epochs 3 of 9)  Completed       1.2 s", forecast.ToString());
    }

    [Fact]
    public void TheBudgetTimerCancelsWhenItsClockSaysTheBudgetIsSpent_AndNeverOnceDisposed()
    {
        var clock = new FakeTimeProvider();
        using (var source = new CancellationTokenSource())
        {
            using var timer = BudgetTimer.Start(source, TimeSpan.FromSeconds(5), clock);
            Assert.NotNull(timer);
            clock.Advance(TimeSpan.FromSeconds(4.999));
            Assert.False(source.IsCancellationRequested);
            clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.True(source.IsCancellationRequested);
        }
        using (var source = new CancellationTokenSource())
        {
            BudgetTimer.Start(source, TimeSpan.FromSeconds(5), clock)!.Dispose();
            clock.Advance(TimeSpan.FromSeconds(10));
            Assert.False(source.IsCancellationRequested);
        }
        // A budget spent before the search starts cancels at once, with no timer.
        foreach (var remaining in new[] { TimeSpan.Zero, TimeSpan.FromSeconds(-1) })
        {
            using var source = new CancellationTokenSource();
            Assert.Null(BudgetTimer.Start(source, remaining, clock));
            Assert.True(source.IsCancellationRequested);
        }

        // The real clock's thread: disposed before its hour is up, it does not cancel; a budget of a millisecond cancels (no
        // duration is asserted, only that the cancellation comes).
        using (var source = new CancellationTokenSource())
        {
            BudgetTimer.Start(source, TimeSpan.FromHours(1), TimeProvider.System)!.Dispose();
            Assert.False(source.IsCancellationRequested);
        }
        using (var source = new CancellationTokenSource())
        {
            using var timer = BudgetTimer.Start(source, TimeSpan.FromMilliseconds(1), TimeProvider.System);
            Assert.True(source.Token.WaitHandle.WaitOne(TimeSpan.FromMinutes(1)));
        }
    }

    [Fact]
    public void TheEpochWatchKeepsTheBestEpochsWeightsAndStopsAtTheTarget()
    {
        var model = new SequenceModel(new SequenceModelOptions { FeaturesPerStep = 1, HiddenSize = 2, OutputSize = 1, Seed = 1 });
        var watch = new EpochWatch(model, RecurrentExperimentMetric.ValidationLoss, keepBestWeights: true, bestScore: -0.5);
        watch.Arm(3);

        // A loss of 0.6 does not beat the score the watch started from (−0.5): no weights kept.
        Assert.Equal(EpochDecision.Continue, watch.OnEpoch(Report(1, loss: 0.6, metric: 0.9)));
        Assert.Null(watch.BestWeights);
        Assert.Equal(-0.5, watch.BestScore);

        float[] atEpoch2 = model.Parameters.ReadOnlyValues.ToArray();
        Assert.Equal(EpochDecision.Continue, watch.OnEpoch(Report(2, loss: 0.4, metric: 0.1)));
        Assert.Equal(-0.4, watch.BestScore);
        Assert.Equal(atEpoch2, watch.BestWeights);

        float[] kept = watch.BestWeights!;
        model.Parameters.Values.Fill(0.25f);
        Assert.Equal(EpochDecision.Stop, watch.OnEpoch(Report(3, loss: 0.4, metric: 0.1)));
        Assert.Equal(atEpoch2, watch.BestWeights); // an equal epoch does not replace the earlier one
        Assert.Equal(EpochDecision.Stop, watch.OnEpoch(Report(3, loss: 0.45, metric: 0.1)));
        Assert.Equal(atEpoch2, watch.BestWeights); // a worse epoch leaves the best epoch's copy
        Assert.Equal(EpochDecision.Stop, watch.OnEpoch(Report(4, loss: 0.3, metric: 0.1)));
        Assert.All(watch.BestWeights!, value => Assert.Equal(0.25f, value));
        Assert.Same(kept, watch.BestWeights); // one copy, overwritten

        // Counting by the trainer's history (which includes the epochs of a checkpoint) rather than the report's number.
        var history = new TrainingHistory();
        var resumed = new EpochWatch(model, RecurrentExperimentMetric.Accuracy, keepBestWeights: false, double.NegativeInfinity) { History = history };
        resumed.Arm(2);
        history.Epochs.Add(Report(1, 0.5, 0.5));
        Assert.Equal(EpochDecision.Continue, resumed.OnEpoch(Report(5, 0.5, 0.5)));
        history.Epochs.Add(Report(2, 0.5, 0.7));
        Assert.Equal(EpochDecision.Stop, resumed.OnEpoch(Report(1, 0.5, 0.7)));
        Assert.Equal(0.7, resumed.BestScore);
        Assert.Null(resumed.BestWeights); // not asked to keep them
    }

    [Fact]
    public void TheDefaultSearchSpaceIsTheDocumentedOne()
    {
        var space = new RecurrentSearchSpace();
        Assert.Equal([RecurrentCellType.Lstm, RecurrentCellType.Gru, RecurrentCellType.Rnn], space.Cells);
        Assert.Equal([16, 32, 64, 128], space.HiddenSizes);
        Assert.Equal([1, 2], space.NumbersOfLayers);
        Assert.Equal([false, true], space.Bidirectional);
        Assert.Equal(new SearchRange(0f, 0.5f), space.Dropout);
        Assert.Equal(SearchRange.Fixed(0f), space.RecurrentDropout);
        Assert.Equal(new SearchRange(3e-4f, 1e-2f, LogScale: true), space.LearningRate);
        Assert.Equal([16, 32, 64], space.BatchSizes);
        Assert.Equal([1f, 5f], space.GradientClipNorms);
        Assert.Equal([false, true], space.LearnedInitialState);
    }
}
