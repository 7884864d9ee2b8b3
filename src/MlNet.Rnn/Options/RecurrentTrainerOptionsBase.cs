using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn;

/// <summary>
/// What every recurrent trainer takes (binary, multiclass, regression, tagging, sequence-to-sequence, language modeling,
/// forecasting; RNN, LSTM, GRU): the input column, the network's shape, and the one training loop's settings. Defaults live
/// here once; each task's options add what only it has, and its simple catalog overloads use these defaults. Legend: T
/// steps, I features per step, E embedding size, H hidden size, L layers, D directions.
/// </summary>
public abstract class RecurrentTrainerOptionsBase
{
    /// <summary>
    /// The input column. For the sequence trainers: a vector of Single (fixed or variable size) holding T steps ×
    /// <see cref="RecurrentTrainerOptions.FeaturesPerStep"/> values, step-major; or a vector of keys (as <c>MapValueToKey</c>
    /// makes from <c>TokenizeIntoWords</c>), fed through an embedding. Each task's options say what it reads here.
    /// </summary>
    public string FeatureColumnName { get; set; } = DefaultColumnNames.Features;

    /// <summary>H: hidden units per layer and direction.</summary>
    public int HiddenSize { get; set; } = 64;

    /// <summary>L: stacked recurrent layers.</summary>
    public int NumberOfLayers { get; set; } = 1;

    /// <summary>
    /// Passes over the training data. Null (the default) lets the binary, multiclass, regression, tagging and
    /// sequence-to-sequence trainers decide how long to train: they stop when the accuracy on validation rows (the validation
    /// data given to <c>Fit</c>, else <see cref="ValidationFraction"/> of the training rows, held out; for regression and
    /// sequence to sequence, the loss) has not improved for <see cref="EarlyStoppingPatience"/> epochs, but not before
    /// <see cref="AutomaticMinimumSteps"/> optimizer steps, and after at most <see cref="AutomaticMaximumEpochs"/> epochs or
    /// <see cref="AutomaticMaximumSteps"/> steps, whichever comes first (more when the minimum steps need them); then they keep
    /// the weights of the best epoch (the loss breaking ties of accuracy). The fit's log says why training stopped, after how
    /// many epochs and optimizer steps. A number trains exactly that many epochs on every training row (early stopping still
    /// applies when <c>Fit</c> gets validation data). The language model reads null as <see cref="DefaultEpochs"/> (the
    /// forecaster sets its own default).
    /// </summary>
    public int? NumberOfEpochs { get; set; }

    /// <summary>
    /// The share of training rows held out, chosen by the seed, to decide when to stop when <see cref="NumberOfEpochs"/> is
    /// null and <c>Fit</c> gets no validation data; in [0, 1). 0 holds none out: training then runs
    /// <see cref="DefaultEpochs"/> epochs, or more to reach <see cref="AutomaticMinimumSteps"/> steps.
    /// </summary>
    public float ValidationFraction { get; set; } = 0.1f;

    /// <summary>The epochs of a trainer that does not decide its own training length, when <see cref="NumberOfEpochs"/> is null.</summary>
    public const int DefaultEpochs = 10;

    /// <summary>When <see cref="NumberOfEpochs"/> is null: early stopping waits for at least this many optimizer steps.</summary>
    public const int AutomaticMinimumSteps = 1000;

    /// <summary>When <see cref="NumberOfEpochs"/> is null: the most epochs (unless <see cref="AutomaticMinimumSteps"/> needs more).</summary>
    public const int AutomaticMaximumEpochs = 100;

    /// <summary>
    /// When <see cref="NumberOfEpochs"/> is null: training ends after the epoch that reaches this many optimizer steps, so that
    /// large data sets, whose validation loss keeps creeping down, stop within minutes.
    /// </summary>
    public const int AutomaticMaximumSteps = 20_000;

    /// <summary><see cref="NumberOfEpochs"/>, or <see cref="DefaultEpochs"/> when it is null.</summary>
    internal int EpochsOrDefault => NumberOfEpochs ?? DefaultEpochs;

    /// <summary>
    /// The automatic training length (<see cref="NumberOfEpochs"/> null) on <paramref name="trainingRows"/> rows: with validation
    /// rows, early stopping after at least <see cref="AutomaticMinimumSteps"/> steps within <see cref="AutomaticMaximumEpochs"/>
    /// epochs and the epoch that reaches <see cref="AutomaticMaximumSteps"/> steps; without, <see cref="DefaultEpochs"/>. Either
    /// way enough epochs for the minimum steps. Also returns the rule in words, for the fit's log.
    /// </summary>
    internal static (TrainerOptions Options, string Description) AutomaticLength(TrainerOptions options, long trainingRows, bool validated, string judgedBy)
    {
        long stepsPerEpoch = Math.Max(1, (trainingRows + options.BatchSize - 1) / options.BatchSize);
        int epochsForMinimum = (int)Math.Min(int.MaxValue, (AutomaticMinimumSteps + stepsPerEpoch - 1) / stepsPerEpoch);
        int epochsForMaximum = (int)Math.Min(int.MaxValue, (AutomaticMaximumSteps + stepsPerEpoch - 1) / stepsPerEpoch);
        var automatic = options with
        {
            Epochs = Math.Max(validated ? Math.Min(AutomaticMaximumEpochs, epochsForMaximum) : DefaultEpochs, epochsForMinimum),
            MinimumSteps = validated ? AutomaticMinimumSteps : 0,
            EarlyStoppingOnAccuracy = true,
        };
        // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
        string description = validated
            ? string.Create(CultureInfo.InvariantCulture, $"; until the validation {judgedBy} has not improved for {automatic.EarlyStoppingPatience} epochs, after at least " +
                $"{automatic.MinimumSteps} optimizer steps, at most {automatic.Epochs} epochs (NumberOfEpochs not set)")
            : string.Create(CultureInfo.InvariantCulture, $"; {automatic.Epochs} epochs (NumberOfEpochs not set, no validation rows)");
        return (automatic, description);
    }

    /// <summary>B: sequences per optimisation step (a language model: the streams the text is read as, side by side).</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>
    /// The optimizer's base learning rate; null (the default for the sequence trainers and sequence to sequence) takes the
    /// task's and cell's default: for the multiclass, regression and tagging trainers 1e-2 with LSTM and GRU cells and
    /// 1e-3 with an Elman RNN (<see cref="RecurrentTrainerOptions.DefaultLearningRate"/>), for the binary classifier 2e-2 and
    /// 1e-3 (<see cref="RecurrentBinaryTrainer.Options.DefaultBinaryLearningRate"/>), 1e-3 for sequence to sequence. The
    /// forecaster's options start at 5e-3, the language model's at 2e-3.
    /// </summary>
    public float? LearningRate { get; set; }

    /// <summary>The learning rate of a <paramref name="cell"/> network when <see cref="LearningRate"/> is null.</summary>
    internal virtual float DefaultLearningRateFor(RecurrentCellType cell) => 1e-3f;

    /// <summary>The activation of an Elman RNN cell (ignored by LSTM and GRU).</summary>
    public RnnActivation RnnActivation { get; set; } = RnnActivation.Tanh;

    /// <summary>E: width of the learned token embedding when the input holds keys or tokens (ignored for numeric steps).</summary>
    public int EmbeddingSize { get; set; } = 64;

    /// <summary>Dropout between recurrent layers and before the head, in training only; in [0, 1).</summary>
    public float Dropout { get; set; }

    /// <summary>The optimizer.</summary>
    public OptimizerKind Optimizer { get; set; } = OptimizerKind.Adam;

    /// <summary>Momentum of SGD and RMSProp.</summary>
    public float Momentum { get; set; }

    /// <summary>Nesterov momentum for SGD.</summary>
    public bool Nesterov { get; set; }

    /// <summary>Weight decay: L2 for SGD, Adam and RMSProp; decoupled for AdamW.</summary>
    public float WeightDecay { get; set; }

    /// <summary>β1 of Adam and AdamW.</summary>
    public float Beta1 { get; set; } = 0.9f;

    /// <summary>β2 of Adam and AdamW.</summary>
    public float Beta2 { get; set; } = 0.999f;

    /// <summary>Clip the global gradient norm to this value (the remedy for exploding gradients); 0 turns it off.</summary>
    public float GradientClipNorm { get; set; } = 5f;

    /// <summary>Clip every gradient element to [−v, v]; 0 turns it off.</summary>
    public float GradientClipValue { get; set; }

    /// <summary>The learning-rate schedule.</summary>
    public ScheduleKind Schedule { get; set; } = ScheduleKind.Constant;

    /// <summary>Epochs between decays of <see cref="ScheduleKind.StepDecay"/>.</summary>
    public int StepDecayEpochs { get; set; } = 10;

    /// <summary>Decay factor of <see cref="ScheduleKind.StepDecay"/>.</summary>
    public float StepDecayGamma { get; set; } = 0.1f;

    /// <summary>Linear warm-up steps of <see cref="ScheduleKind.Cosine"/>.</summary>
    public int WarmupSteps { get; set; }

    /// <summary>Final rate of <see cref="ScheduleKind.Cosine"/>, and the floor of <see cref="ReduceOnPlateau"/>.</summary>
    public float MinimumLearningRate { get; set; }

    /// <summary>Multiply the rate by <see cref="PlateauFactor"/> when the validation loss stops improving (applies when Fit gets validation data).</summary>
    public bool ReduceOnPlateau { get; set; }

    /// <summary>Factor of <see cref="ReduceOnPlateau"/>.</summary>
    public float PlateauFactor { get; set; } = 0.5f;

    /// <summary>Epochs without improvement before <see cref="ReduceOnPlateau"/> acts.</summary>
    public int PlateauPatience { get; set; } = 2;

    /// <summary>
    /// When <c>Fit(trainData, validationData)</c> is given validation data: stop after this many epochs without a better
    /// validation loss and keep the best epoch's weights; 0 turns early stopping off. Ignored without validation data.
    /// </summary>
    public int EarlyStoppingPatience { get; set; } = 5;

    /// <summary>Shuffle the rows every epoch (a language model starts its streams at a random offset instead).</summary>
    public bool Shuffle { get; set; } = true;

    /// <summary>Batch sequences of similar length together, so little padding is computed (a language model's streams and a forecaster's windows have one length: no effect).</summary>
    public bool BucketByLength { get; set; } = true;

    /// <summary>Write a training checkpoint every this many epochs to <see cref="CheckpointPath"/>; 0 turns it off.</summary>
    public int CheckpointEvery { get; set; }

    /// <summary>
    /// Where checkpoints are written. With <see cref="RecurrentTrainerOptions.Standardize"/>, a checkpoint holds the weights of the
    /// standardized problem (the fitted model, not the checkpoint, reads raw values).
    /// </summary>
    public string? CheckpointPath { get; set; }

    /// <summary>Seed of initialisation, dropout and shuffling; null takes one from the <see cref="MLContext"/>'s seed.</summary>
    public int? Seed { get; set; }

    /// <summary>Threads a batch may be split across, in training and when one cursor scores.</summary>
    public int MaxDegreeOfParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>Also receives the progress messages that go to <see cref="MLContext.Log"/>.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>
    /// Stop training after the step during which this much time has passed (the epoch is still validated and reported); null
    /// for no limit. With <see cref="ScheduleKind.Cosine"/> the rate follows the larger share of steps or of this budget used.
    /// </summary>
    public TimeSpan? MaxTrainingTime { get; set; }

    /// <summary>The clock <see cref="MaxTrainingTime"/> is measured on; leave it <see cref="System.TimeProvider.System"/> (tests give a fake clock).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Stops <c>Fit</c> between two batches with an <see cref="OperationCanceledException"/>: no model is made and the
    /// temporary training data is deleted. The <see cref="MLContext"/>'s cancellation (<c>CancelExecution</c>, as ML.NET's AutoML
    /// and the Microsoft.ML.Experimental package call it) stops it the same way, within 50 ms.
    /// </summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Rows a scoring cursor runs through the network at once (memory stays bounded by this many rows).</summary>
    public int ScoringBatchSize { get; set; } = 256;

    /// <summary>
    /// The training (and validation) data <c>Fit</c> holds in memory, in megabytes; beyond it, the data goes to a temporary
    /// file, written once as the rows are read and deleted when <c>Fit</c> returns, and training reads it back a piece at a
    /// time, so data larger than memory trains. Rows and sequence pairs: each row to one of 16 parts drawn at random, and
    /// every epoch reads the parts back in windows of 16 drawn in a random order, shuffling (and bucketing) the rows of a
    /// window together. The language model: its text's ids in order, each of its streams reading a chunk at a time. The
    /// forecaster keeps its series in memory and makes its overlapping windows from it, all at once while they fit, a part of
    /// consecutive windows at a time beyond. Default 1024.
    /// </summary>
    public int TrainingDataMemoryMegabytes { get; set; } = 1024;

    /// <summary>A shallow copy (arrays and the logger are shared), which experiments vary one trial at a time.</summary>
    internal RecurrentTrainerOptionsBase Copy() => (RecurrentTrainerOptionsBase)MemberwiseClone();

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option, its value and the fix.</summary>
    internal virtual void Validate()
    {
        Check(!string.IsNullOrWhiteSpace(FeatureColumnName), nameof(FeatureColumnName), FeatureColumnName, "must name a column");
        Check(HiddenSize >= 1, nameof(HiddenSize), HiddenSize, "must be at least 1");
        Check(NumberOfLayers >= 1, nameof(NumberOfLayers), NumberOfLayers, "must be at least 1");
        Check(NumberOfEpochs is null or >= 1, nameof(NumberOfEpochs), NumberOfEpochs, "must be at least 1, or null to decide automatically");
        Check(ValidationFraction >= 0 && ValidationFraction < 1, nameof(ValidationFraction), ValidationFraction, "must be in [0, 1)");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
        Check(LearningRate is null || (LearningRate > 0 && float.IsFinite(LearningRate.Value)), nameof(LearningRate), LearningRate,
            "must be a positive finite number (try 1e-3), or null for the default");
        Check(Enum.IsDefined(RnnActivation), nameof(RnnActivation), RnnActivation, "must be Tanh, Relu or Sigmoid");
        Check(EmbeddingSize >= 1, nameof(EmbeddingSize), EmbeddingSize, "must be at least 1");
        Check(Dropout >= 0 && Dropout < 1, nameof(Dropout), Dropout, "must be in [0, 1)");
        Check(MaxDegreeOfParallelism >= 1, nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "must be at least 1");
        Check(ScoringBatchSize >= 1, nameof(ScoringBatchSize), ScoringBatchSize, "must be at least 1");
        Check(TrainingDataMemoryMegabytes >= 1, nameof(TrainingDataMemoryMegabytes), TrainingDataMemoryMegabytes, "must be at least 1");
        Check(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), EarlyStoppingPatience, "must be ≥ 0 (0 = off)");
        Check(TimeProvider is not null, nameof(TimeProvider), TimeProvider, "must be a clock; leave it TimeProvider.System");
        // The rest is checked where the core defines it, with its messages (ArgumentException naming the option).
        ToTrainerOptions(RecurrentCellType.Lstm, seed: 0, hasValidationData: true, logger: null).Validate(hasValidationData: true);
    }

    /// <summary>The one training loop's settings; early stopping and reduce-on-plateau only with validation data.</summary>
    internal virtual TrainerOptions ToTrainerOptions(RecurrentCellType cell, int seed, bool hasValidationData, ILogger? logger) => new()
    {
        Epochs = EpochsOrDefault,
        BatchSize = BatchSize,
        LearningRate = LearningRate ?? DefaultLearningRateFor(cell),
        Optimizer = Optimizer,
        Momentum = Momentum,
        Nesterov = Nesterov,
        WeightDecay = WeightDecay,
        Beta1 = Beta1,
        Beta2 = Beta2,
        GradientClipNorm = GradientClipNorm,
        GradientClipValue = GradientClipValue,
        Schedule = Schedule,
        StepDecayEpochs = StepDecayEpochs,
        StepDecayGamma = StepDecayGamma,
        WarmupSteps = WarmupSteps,
        MinimumLearningRate = MinimumLearningRate,
        ReduceOnPlateau = ReduceOnPlateau && hasValidationData,
        PlateauFactor = PlateauFactor,
        PlateauPatience = PlateauPatience,
        EarlyStoppingPatience = hasValidationData ? EarlyStoppingPatience : 0,
        Shuffle = Shuffle,
        BucketByLength = BucketByLength,
        Seed = seed,
        CheckpointEvery = CheckpointEvery,
        CheckpointPath = CheckpointPath,
        Logger = logger,
        MaxTrainingTime = MaxTrainingTime,
        TimeProvider = TimeProvider,
    };

    /// <summary>Throws when <paramref name="valid"/> is false, naming the option, its value and the rule.</summary>
    private protected static void Check(bool valid, string name, object? value, string rule)
    {
        if (!valid)
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} = {value ?? "null"} {rule}."));
    }
}
