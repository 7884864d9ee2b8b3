using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Trainer;

/// <summary>
/// <see cref="TrainerOptions.EarlyStoppingOnAccuracy"/> judges epochs by the validation accuracy, the loss breaking ties: on
/// a script of validation losses and accuracies that disagree, the loop stops and restores the epoch the accuracy picks, not
/// the one the loss picks (which it picks when the option is off, or when the task's metric is not an accuracy), says so in
/// its log, and a checkpoint carries the best accuracy so a resumed run stops where an uninterrupted one does (and one
/// resumed at its last epoch says how its kept epoch was judged). Also <see cref="TrainerOptions.MinimumSteps"/> at its bound.
/// </summary>
public sealed class EarlyStoppingOnAccuracyTests
{
    // Epoch:                               1    2    3    4     5     6    7     8
    private static readonly double[] s_loss = [1.0, 0.8, 0.7, 0.75, 0.72, 0.9, 0.71, 1.1];
    private static readonly double[] s_accuracy = [0.5, 0.6, 0.6, 0.7, 0.7, 0.7, 0.6, 0.6];

    /// <summary>
    /// One step per epoch whose gradient is 1 on the one weight: plain SGD at rate 1 moves it to −e after epoch e, so the
    /// weight names the epoch whose weights were kept. Validation reports epoch e's scripted loss and metric.
    /// </summary>
    private sealed class ScriptedTask(ParameterSet parameters, bool accuracy) : ITrainingTask
    {
        private int _epoch;

        public ParameterSet Parameters => parameters;
        public string MetricName => accuracy ? "accuracy" : "rmse";
        public bool MetricIsAccuracy => accuracy;
        public string ExampleName => "examples";
        public bool HasValidation => true;
        public int StepsPerEpoch => 1;

        public int BeginEpoch(int epoch, Random? random)
        {
            _epoch = epoch;
            return 1;
        }

        public (double Loss, double Weight, long Examples) Step(int step)
        {
            parameters.Gradients.Fill(1);
            return (1, 1, 1);
        }

        public (double Loss, double? Metric) Evaluate() => (s_loss[_epoch - 1], s_accuracy[_epoch - 1]);
    }

    private static TrainerOptions Options(bool onAccuracy, LineLogger? logger = null) => new()
    {
        Epochs = 8, BatchSize = 1, LearningRate = 1, Optimizer = OptimizerKind.Sgd, GradientClipNorm = 0, Seed = 1,
        EarlyStoppingPatience = 2, EarlyStoppingOnAccuracy = onAccuracy, Logger = logger,
    };

    private static (TrainingHistory History, float Weight, LineLogger Logger) Run(bool onAccuracy, bool accuracyMetric)
    {
        var parameters = new ParameterSet();
        parameters.Add("w", 1);
        var logger = new LineLogger();
        var history = new TrainingLoop(parameters, Options(onAccuracy, logger), "{}").Train(new ScriptedTask(parameters, accuracyMetric));
        return (history, parameters.Values[0], logger);
    }

    [Fact]
    public void OnAccuracy_KeepsTheMostAccurateEpoch_TheLossBreakingTies()
    {
        // Epoch 4 is the most accurate and epoch 5 ties it with a lower loss, so it is better; epoch 6 ties it with a higher
        // loss and epoch 7 is less accurate (with the lowest loss since epoch 3), so neither is: patience 2 stops after
        // epoch 7 and keeps epoch 5 (the loss alone would keep epoch 3).
        var (history, weight, logger) = Run(onAccuracy: true, accuracyMetric: true);
        Assert.Equal((7, 5, true), (history.Epochs.Count, history.BestEpoch, history.StoppedEarly));
        Assert.Equal(-5f, weight);
        Assert.Contains("Training stopped: the validation accuracy stopped improving after 7 epochs and 7 optimizer steps; " +
            "restored the weights of epoch 5, the best validation accuracy.", logger.Lines);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void OnTheLoss_WhenOffOrWhenTheMetricIsNotAnAccuracy_KeepsTheEpochOfTheLowestLoss(bool onAccuracy, bool accuracyMetric)
    {
        // The lowest loss is epoch 3's; epochs 4 and 5 are worse: stopped after epoch 5.
        var (history, weight, logger) = Run(onAccuracy, accuracyMetric);
        Assert.Equal((5, 3, true), (history.Epochs.Count, history.BestEpoch, history.StoppedEarly));
        Assert.Equal(-3f, weight);
        Assert.Contains("Training stopped: the validation loss stopped improving after 5 epochs and 5 optimizer steps; " +
            "restored the weights of epoch 3, the best validation loss.", logger.Lines);
    }

    /// <summary>The scripted task without its own <c>MetricIsAccuracy</c>: the interface's default, a metric that is no accuracy.</summary>
    private sealed class UnsaidMetricTask(ScriptedTask task) : ITrainingTask
    {
        public ParameterSet Parameters => task.Parameters;
        public string MetricName => task.MetricName;
        public string ExampleName => task.ExampleName;
        public bool HasValidation => task.HasValidation;
        public int StepsPerEpoch => task.StepsPerEpoch;
        public int BeginEpoch(int epoch, Random? random) => task.BeginEpoch(epoch, random);
        public (double Loss, double Weight, long Examples) Step(int step) => task.Step(step);
        public (double Loss, double? Metric) Evaluate() => task.Evaluate();
    }

    [Fact]
    public void ATaskThatDoesNotSayItsMetricIsAnAccuracy_IsJudgedByTheLoss()
    {
        var parameters = new ParameterSet();
        parameters.Add("w", 1);
        var history = new TrainingLoop(parameters, Options(onAccuracy: true), "{}").Train(new UnsaidMetricTask(new ScriptedTask(parameters, accuracy: true)));
        Assert.Equal((5, 3, true), (history.Epochs.Count, history.BestEpoch, history.StoppedEarly));
    }

    /// <summary>
    /// A run checkpointed at its last epoch and resumed trains no further epoch, restores the epoch it kept, and says how
    /// that epoch was judged: by accuracy only when the option is on and the metric is an accuracy.
    /// </summary>
    [Theory]
    [InlineData(false, true, 4, 3, "loss")]
    [InlineData(true, false, 4, 3, "loss")]
    [InlineData(true, true, 6, 5, "accuracy")]
    public void ARunResumedAtItsLastEpoch_RestoresTheKeptEpoch_SayingHowItWasJudged(bool onAccuracy, bool accuracyMetric, int epochs, int kept, string judged)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-accuracy-{Guid.NewGuid():N}.safetensors");
        try
        {
            var parameters = new ParameterSet();
            parameters.Add("w", 1);
            var options = Options(onAccuracy) with { Epochs = epochs };
            var first = new TrainingLoop(parameters, options with { CheckpointPath = path, CheckpointEvery = epochs }, "{}");
            Assert.Equal((epochs, kept, false), (first.Train(new ScriptedTask(parameters, accuracyMetric)).Epochs.Count, first.History.BestEpoch, first.History.StoppedEarly));

            var resumedParameters = new ParameterSet();
            resumedParameters.Add("w", 1);
            var logger = new LineLogger();
            var resumed = new TrainingLoop(resumedParameters, options with { Logger = logger }, "{}");
            resumed.ResumeFrom(path);
            resumed.Train(new ScriptedTask(resumedParameters, accuracyMetric));
            Assert.Equal(-kept, resumedParameters.Values[0]);
            Assert.Contains($"Training stopped: every epoch ran after {epochs} epochs and {epochs} optimizer steps; " +
                $"restored the weights of epoch {kept}, the best validation {judged}.", logger.Lines);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary><see cref="TrainerOptions.MinimumSteps"/> holds early stopping back until that many optimizer steps, no longer.</summary>
    [Theory]
    [InlineData(5, 5)]
    [InlineData(6, 6)]
    public void MinimumSteps_HoldsEarlyStoppingBack_UntilExactlyThatManySteps(int minimumSteps, int stoppedAfter)
    {
        // By the loss, patience 2 stops after epoch 5 (one step an epoch).
        var parameters = new ParameterSet();
        parameters.Add("w", 1);
        var history = new TrainingLoop(parameters, Options(onAccuracy: false) with { MinimumSteps = minimumSteps }, "{}")
            .Train(new ScriptedTask(parameters, accuracy: false));
        Assert.Equal((stoppedAfter, 3, true), (history.Epochs.Count, history.BestEpoch, history.StoppedEarly));
    }

    [Fact]
    public void ACheckpoint_CarriesTheBestAccuracy_SoAResumedRunStopsAsAnUninterruptedOne()
    {
        // Paused after epoch 5, the most accurate; a resumed run that forgot its accuracy would take epoch 6 (as accurate,
        // with a higher loss, but better than nothing) as the best.
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-accuracy-{Guid.NewGuid():N}.safetensors");
        try
        {
            var parameters = new ParameterSet();
            parameters.Add("w", 1);
            var first = new TrainingLoop(parameters, Options(onAccuracy: true) with
            {
                CheckpointPath = path,
                EpochCallback = report => report.Epoch == 5 ? EpochDecision.Stop | EpochDecision.Checkpoint : EpochDecision.Continue,
            }, "{}");
            Assert.Equal(5, first.Train(new ScriptedTask(parameters, accuracy: true)).Epochs.Count);

            var resumedParameters = new ParameterSet();
            resumedParameters.Add("w", 1);
            var resumed = new TrainingLoop(resumedParameters, Options(onAccuracy: true), "{}");
            resumed.ResumeFrom(path);
            var history = resumed.Train(new ScriptedTask(resumedParameters, accuracy: true));
            Assert.Equal((7, 5), (history.Epochs.Count, history.BestEpoch));
            Assert.Equal(-5f, resumedParameters.Values[0]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
