using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Experiments;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>
/// One trial of an experiment, trained stretch by stretch on 400 training and 200 validation rows through a loss whose
/// validation values (and, when asked, a divergence or a cancellation) the test scripts: how a trial ends (early stopped by its
/// own patience, completed, interrupted, diverged), the metric averaged over folds that trained the same epochs, the best epoch
/// replaced only by a strictly better one and its weights kept across stretches, a diverged trial's score and folds, and its
/// training time.
/// </summary>
public sealed class TrialContractTests : IDisposable
{
    private readonly MLContext _mlContext = new(seed: 1);
    private readonly IChannel _channel;
    private readonly FitRun _run;
    private readonly RecurrentBinaryTrainer _template;
    private readonly PreparedSequenceData _data;
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-trial-").FullName;

    public TrialContractTests()
    {
        var options = Options();
        _channel = ((IHostEnvironment)_mlContext).Register("TrialContractTests").Start("Trial");
        _run = new FitRun(_channel, options, RecurrentCellType.Gru, seed: 5);
        _template = new RecurrentBinaryTrainer(_mlContext, RecurrentCellType.Gru, options);
        _data = _template.Prepare(_run, Synthetic.ToDataView(_mlContext, Synthetic.Rows(400, 8, 1, seed: 1)),
            Synthetic.ToDataView(_mlContext, Synthetic.Rows(ValidationRows, 8, 1, seed: 2)));
    }

    public void Dispose()
    {
        _data.Dispose();
        _run.Dispose();
        _channel.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>The validation set is scored in one batch of this many rows; every training batch has at most 32.</summary>
    private const int ValidationRows = 200;

    private static RecurrentBinaryTrainer.Options Options(int epochs = 3, int patience = 5) => new()
    {
        HiddenSize = 4, NumberOfLayers = 1, BatchSize = 32, LearningRate = 1e-2f, NumberOfEpochs = epochs, EarlyStoppingPatience = patience,
        MaxDegreeOfParallelism = 1, Seed = 11, Standardize = false,
    };

    /// <summary>
    /// One fold's script: the validation loss each epoch reports (by epoch, 1-based; past the list the true loss), the training
    /// batch (counted over the trial's life, 1-based) whose loss is NaN, and the training batch during which a token is cancelled.
    /// </summary>
    private sealed class Script(double[]? validationLosses = null, int divergeAtBatch = 0, int cancelAtBatch = 0, CancellationTokenSource? cancel = null)
    {
        public int TrainingBatches { get; private set; }

        public int Validations { get; private set; }

        public double Next(bool validation, double trueLoss)
        {
            if (validation)
            {
                Validations++;
                return validationLosses is not null && Validations <= validationLosses.Length ? validationLosses[Validations - 1] : trueLoss;
            }
            TrainingBatches++;
            if (TrainingBatches == cancelAtBatch) cancel!.Cancel();
            return TrainingBatches == divergeAtBatch ? double.NaN : trueLoss;
        }
    }

    /// <summary>The task's loss, its value replaced as the fold's script says (the gradient stays the true one).</summary>
    private sealed class ScriptedLoss(ILoss loss, Script script) : ILoss
    {
        public double Compute(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, int rows, int width, ReadOnlySpan<float> weights, Span<float> gradient) =>
            script.Next(rows == ValidationRows, loss.Compute(prediction, target, rows, width, weights, gradient));
    }

    /// <summary>A trial ranked by the validation loss, one fold per script, all on the same rows.</summary>
    private Trial Trial(RecurrentBinaryTrainer.Options options, Script[] folds, int id = 1, ILogger? logger = null)
    {
        int created = 0;
        return new Trial(id, RecurrentCellType.Gru, options, RecurrentExperimentMetric.ValidationLoss, folds.Select(_ => _data).ToArray(),
            _template.ModelOptions, size => new ScriptedLoss(_template.CreateLossFor(size), folds[created++ % folds.Length]), logger, _folder);
    }

    private static float[] Weights(SequenceModel model) => model.Parameters.ReadOnlyValues.ToArray();

    [Fact]
    public void ATrialWhoseValidationLossStopsImprovingForItsPatienceIsEarlyStopped()
    {
        var trial = Trial(Options(epochs: 5, patience: 1), [new Script([0.5, 0.625, 0.25])]);
        Assert.True(trial.Advance(5, default));
        Assert.Equal(RecurrentTrialStatus.EarlyStopped, trial.Status);
        Assert.Equal([0.5, 0.625], trial.Detail().MetricPerEpoch);
        Assert.Equal(1, trial.BestEpoch);
    }

    [Fact]
    public void CrossValidatedFoldsTrainEveryEpoch_AndTheMetricOfAnEpochIsTheMeanOverTheFolds()
    {
        // Each fold alone would stop after its 2nd epoch (patience 1); the folds of a trial train the same epochs, so none stops early.
        var trial = Trial(Options(epochs: 4, patience: 1), [new Script([0.25, 0.5, 0.75, 1]), new Script([0.75, 1, 0.5, 0.125])]);
        Assert.True(trial.Advance(4, default));
        Assert.Equal(RecurrentTrialStatus.Completed, trial.Status);
        Assert.Equal([0.5, 0.75, 0.625, 0.5625], trial.Detail().MetricPerEpoch);
        Assert.Equal(1, trial.BestEpoch);
        Assert.Equal(0.5, trial.BestMetric);
    }

    [Fact]
    public void ATrialCutMidEpochIsInterrupted_AndCountsOnlyTheEpochsEveryFoldFinished()
    {
        // 13 training batches per epoch: fold 0 trains its 2 epochs; the token is cancelled during fold 1's 2nd epoch.
        using var cancel = new CancellationTokenSource();
        var first = new Script([0.25, 0.5]);
        var second = new Script([0.75, 0.125], cancelAtBatch: 15, cancel: cancel);
        var trial = Trial(Options(epochs: 2), [first, second]);
        Assert.False(trial.Advance(2, cancel.Token));
        Assert.Equal(RecurrentTrialStatus.Interrupted, trial.Status);
        Assert.Equal(2, first.Validations);
        Assert.Equal(1, second.Validations);
        Assert.Equal([0.5], trial.Detail().MetricPerEpoch);
        Assert.Equal(1, trial.BestEpoch);
    }

    [Fact]
    public void AFoldThatDivergesEndsTheTrial_NoOtherFoldTrainsAfterIt()
    {
        var logger = new RecordingLogger();
        var second = new Script();
        var trial = Trial(Options(), [new Script(divergeAtBatch: 1), second], logger: logger);
        Assert.True(trial.Advance(1, default));
        Assert.Equal(RecurrentTrialStatus.Diverged, trial.Status);
        Assert.Equal(1, Assert.IsType<TrainingDivergedException>(trial.Exception).Epoch);
        Assert.Equal(0, second.TrainingBatches);
        Assert.DoesNotContain(logger.Lines, line => line.Message.StartsWith("Epoch ", StringComparison.Ordinal));
        Assert.Empty(trial.Detail().MetricPerEpoch);
    }

    [Fact]
    public void ATrialThatDivergedAfterAGoodEpochKeepsItsMetricButScoresMinusInfinity()
    {
        // Epoch 1's 13 batches train; the 1st batch of epoch 2 (the 14th) diverges.
        var trial = Trial(Options(), [new Script([0.5], divergeAtBatch: 14)]);
        Assert.True(trial.Advance(1, default));
        Assert.Equal(RecurrentTrialStatus.Paused, trial.Status);
        Assert.Equal(-0.5, trial.Score);

        Assert.True(trial.Advance(3, default));
        Assert.Equal(RecurrentTrialStatus.Diverged, trial.Status);
        Assert.Equal(2, Assert.IsType<TrainingDivergedException>(trial.Exception).Epoch);
        Assert.Equal(0.5, trial.BestMetric);
        Assert.Equal(double.NegativeInfinity, trial.Score);
    }

    [Fact]
    public void TheBestEpochsWeightsSurviveALaterStretchOfWorseEpochs()
    {
        var trial = Trial(Options(), [new Script([0.5, 0.875, 0.75])]);
        Assert.True(trial.Advance(1, default));
        float[] afterEpoch1 = Weights(trial.BestModel());

        Assert.True(trial.Advance(3, default));
        Assert.Equal(RecurrentTrialStatus.Completed, trial.Status);
        Assert.Equal(1, trial.BestEpoch);
        Assert.Equal(afterEpoch1, Weights(trial.BestModel()));
    }

    [Fact]
    public void AnEpochThatOnlyEqualsTheBestDoesNotReplaceIt()
    {
        var trial = Trial(Options(), [new Script([0.5, 0.5, 0.25])]);
        Assert.True(trial.Advance(2, default));
        Assert.Equal(1, trial.BestEpoch);
        Assert.Equal(0.5, trial.BestMetric);
        Assert.True(trial.Advance(3, default));
        Assert.Equal(3, trial.BestEpoch);
        Assert.Equal(0.25, trial.BestMetric);
    }

    [Fact]
    public void ATrialsRuntimeCountsItsTrainingOnly_NotTheTimeBetweenItsStretches()
    {
        var trial = Trial(Options(), [new Script()]);
        Assert.Equal(0, trial.Detail().RuntimeInSeconds);
        Assert.True(trial.Advance(1, default));
        double runtime = trial.Detail().RuntimeInSeconds;
        Assert.True(runtime > 0, $"runtime {runtime} s");

        // Another trial trains meanwhile: this one's time does not move.
        Assert.True(Trial(Options(), [new Script()], id: 2).Advance(1, default));
        Assert.Equal(runtime, trial.Detail().RuntimeInSeconds);
    }
}
