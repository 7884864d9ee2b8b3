using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Trainer;

/// <summary>
/// What the one training loop adds for every task: the epoch callback (a stop is a pause that keeps the weights, a checkpoint
/// on request continues exactly), the stop reason and step count in the history, the time budget on an injected clock
/// (the stop comes after the step during which it ran out, however fast the machine), and the checks of its arguments.
/// </summary>
public sealed class TrainingLoopTests
{
    private static SequenceModel Model() => new(new SequenceModelOptions { Cell = RecurrentCellType.Gru, FeaturesPerStep = 1, HiddenSize = 8, Seed = 3 });

    private static TrainerOptions Options => new() { Epochs = 6, BatchSize = 25, LearningRate = 0.01f, Seed = 2 };

    [Fact]
    public void EpochCallback_Stop_PausesWithTheWeightsAsTheyAre_AndACheckpointThenContinuesExactly()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-loop-{Guid.NewGuid():N}.safetensors");
        var training = SequenceTrainerTests.SignOfSum(100, 1);
        // Validation labels are the opposite of the rule, so the better the model learns, the worse its validation loss:
        // the best epoch is the first, and a stop that restored it would change the weights.
        var validation = OppositeSignOfSum(40, 2);
        try
        {
            var uninterrupted = Model();
            var full = new SequenceTrainer(uninterrupted, new BinaryCrossEntropyWithLogits(), Options with { EarlyStoppingPatience = 50 });
            full.Train(training, validation);
            Assert.Equal(TrainingStopReason.EpochsCompleted, full.History.StopReason);
            Assert.Equal(6 * 4, full.History.Steps);

            var seen = new List<int>();
            var paused = Model();
            var first = new SequenceTrainer(paused, new BinaryCrossEntropyWithLogits(), Options with
            {
                EarlyStoppingPatience = 50, CheckpointPath = path,
                EpochCallback = report =>
                {
                    seen.Add(report.Epoch);
                    return report.Epoch == 3 ? EpochDecision.Stop | EpochDecision.Checkpoint : EpochDecision.Continue;
                },
            });
            var history = first.Train(training, validation);
            Assert.Equal([1, 2, 3], seen);
            Assert.Equal(TrainingStopReason.Callback, history.StopReason);
            Assert.False(history.StoppedEarly);
            Assert.Equal(1, history.BestEpoch);
            Assert.Equal(3 * 4, history.Steps);
            // A pause restores nothing, even though early stopping is on: the checkpoint holds exactly these weights.
            Assert.Equal(paused.Parameters.Values.ToArray(), SequenceModelFile.Load(path).Parameters.Values.ToArray());

            var resumed = Model();
            var second = new SequenceTrainer(resumed, new BinaryCrossEntropyWithLogits(), Options with { EarlyStoppingPatience = 50 });
            second.ResumeFrom(path);
            second.Train(training, validation);
            Assert.Equal(uninterrupted.Parameters.Values.ToArray(), resumed.Parameters.Values.ToArray());
            Assert.Equal(6, second.History.Epochs.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>As <see cref="SequenceTrainerTests.SignOfSum"/>, labelled with the opposite of its rule.</summary>
    private static Core.Data.SequenceDataset OppositeSignOfSum(int count, int seed)
    {
        var random = new Random(seed);
        var data = new Core.Data.SequenceDataset(1, 1);
        for (int i = 0; i < count; i++)
        {
            var steps = new float[3 + random.Next(10)];
            for (int t = 0; t < steps.Length; t++) steps[t] = random.NextSingle() * 2 - 1;
            data.Add(steps, [steps.Sum() > 0 ? 0 : 1]);
        }
        return data;
    }

    [Fact]
    public void EpochCallback_Checkpoint_WithoutAPath_IsAClearError()
    {
        var trainer = new SequenceTrainer(Model(), new BinaryCrossEntropyWithLogits(), Options with { EpochCallback = _ => EpochDecision.Checkpoint });
        var error = Assert.Throws<InvalidOperationException>(() => trainer.Train(SequenceTrainerTests.SignOfSum(50, 1)));
        Assert.Contains("CheckpointPath", error.Message);
    }

    [Fact]
    public void MaxTrainingTime_StopsAfterTheStepDuringWhichItRanOut_OnTheGivenClock()
    {
        // The clock moves 1 s per step (inside the loss, which every step calls once): a budget of 5.5 s ends training after
        // the sixth step, in the second epoch of four steps, which is still reported.
        var clock = new SteppingClock();
        var loss = new ClockedLoss(new BinaryCrossEntropyWithLogits(), clock);
        var trainer = new SequenceTrainer(Model(), loss, Options with { MaxTrainingTime = TimeSpan.FromSeconds(5.5), TimeProvider = clock });
        var history = trainer.Train(SequenceTrainerTests.SignOfSum(100, 1));
        Assert.Equal(TrainingStopReason.TimeBudget, history.StopReason);
        Assert.Equal(6, history.Steps);
        Assert.Equal(2, history.Epochs.Count);
        Assert.Equal(TimeSpan.FromSeconds(6), history.Epochs[^1].Elapsed);
        Assert.Equal(TimeSpan.Zero, history.Epochs[^1].Remaining);

        // The same budget on a clock that stands still changes nothing: every epoch runs.
        var still = new SequenceTrainer(Model(), new BinaryCrossEntropyWithLogits(),
            Options with { MaxTrainingTime = TimeSpan.FromSeconds(5.5), TimeProvider = new SteppingClock() });
        Assert.Equal(TrainingStopReason.EpochsCompleted, still.Train(SequenceTrainerTests.SignOfSum(100, 1)).StopReason);
    }

    [Fact]
    public void CosineSchedule_WithATimeBudget_FollowsTheLargerShareOfStepsAndTime()
    {
        // Six epochs of four steps = 24 planned steps, but the budget (12 s at 1 s per step) is half spent after 6 steps:
        // the rate then is the cosine's at step 12 of 24, the midpoint (base + min) / 2, not its value at step 6.
        var clock = new SteppingClock();
        var trainer = new SequenceTrainer(Model(), new ClockedLoss(new BinaryCrossEntropyWithLogits(), clock),
            Options with { Schedule = ScheduleKind.Cosine, MinimumLearningRate = 0.002f, MaxTrainingTime = TimeSpan.FromSeconds(12), TimeProvider = clock });
        var history = trainer.Train(SequenceTrainerTests.SignOfSum(100, 1));
        Assert.Equal(TrainingStopReason.TimeBudget, history.StopReason);
        Assert.Equal(12, history.Steps);
        var cosine = new CosineSchedule(24, 0, 0.002f);
        // Epoch 2 ends after step 8: elapsed 7 s before it, so its rate is the cosine's at step max(7, 7/12·24 = 14) = 14.
        Assert.Equal(cosine.LearningRate(0.01f, 14, 4), history.Epochs[1].LearningRate, 6);
        Assert.True(history.Epochs[1].LearningRate < cosine.LearningRate(0.01f, 7, 4));
    }

    [Fact]
    public void Train_RejectsATaskOverOtherParameters_AndAScopeAsTheModel()
    {
        var parameters = new ParameterSet();
        parameters.Add("w", 3);
        var scope = parameters.Scope("part.");
        scope.Add("v", 2);
        Assert.Throws<ArgumentException>(() => new TrainingLoop(scope, Options, "{}"));
        var loop = new TrainingLoop(parameters, Options, "{}");
        var other = new SequenceTrainerTaskStub(new ParameterSet());
        Assert.Throws<ArgumentException>(() => loop.Train(other));
    }

    private sealed class SequenceTrainerTaskStub(ParameterSet parameters) : ITrainingTask
    {
        public ParameterSet Parameters => parameters;
        public string MetricName => "none";
        public string ExampleName => "examples";
        public bool HasValidation => false;
        public int StepsPerEpoch => 1;
        public int BeginEpoch(int epoch, Random? random) => 1;
        public (double Loss, double Weight, long Examples) Step(int step) => (0, 1, 1);
        public (double Loss, double? Metric) Evaluate() => (0, null);
    }

    /// <summary>A clock that moves only when told, one second at a time.</summary>
    private sealed class SteppingClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Tick() => _ticks += TimeSpan.TicksPerSecond;
    }

    /// <summary>A loss that moves the clock by one second each time a training step computes it.</summary>
    private sealed class ClockedLoss(ILoss inner, SteppingClock clock) : ILoss
    {
        public double Compute(ReadOnlySpan<float> output, ReadOnlySpan<float> targets, int rows, int width, ReadOnlySpan<float> weights, Span<float> gradient)
        {
            clock.Tick();
            return inner.Compute(output, targets, rows, width, weights, gradient);
        }
    }
}
