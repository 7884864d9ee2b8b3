using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn;

/// <summary>
/// What the trainers of a labelled sequence take besides <see cref="RecurrentTrainerOptionsBase"/> (binary, multiclass,
/// regression, tagging): the label and weight columns, how a numeric input is cut into steps, the direction, recurrent
/// dropout, a learned initial state and an optional hidden-state output column.
/// </summary>
public abstract class RecurrentTrainerOptions : RecurrentTrainerOptionsBase
{
    /// <summary>
    /// The multiclass, regression and tagging trainers' learning rate for LSTM and GRU networks when <see cref="RecurrentTrainerOptionsBase.LearningRate"/>
    /// is null: Adam at 1e-2. On the tasks of the defaults suite (<c>examples/DefaultsSuite</c>, <c>DEFAULTS.md</c>) it did
    /// better than 1e-3 on nearly every one (text, series, images read by rows, tagging), and its stability task's deep,
    /// bidirectional and long LSTM and GRU networks train well with it. The binary classifier starts higher
    /// (<see cref="RecurrentBinaryTrainer.Options.DefaultBinaryLearningRate"/>). An Elman RNN takes
    /// <see cref="DefaultRnnLearningRate"/>: at 1e-2 a stack of three tanh layers learned nothing in the suite's stability task.
    /// </summary>
    public const float DefaultLearningRate = 1e-2f;

    /// <summary>The sequence trainers' learning rate for an Elman RNN when <see cref="RecurrentTrainerOptionsBase.LearningRate"/> is null: 1e-3.</summary>
    public const float DefaultRnnLearningRate = 1e-3f;

    /// <inheritdoc />
    internal override float DefaultLearningRateFor(Core.Models.RecurrentCellType cell) =>
        cell == Core.Models.RecurrentCellType.Rnn ? DefaultRnnLearningRate : DefaultLearningRate;

    /// <summary>The label column.</summary>
    public string LabelColumnName { get; set; } = DefaultColumnNames.Label;

    /// <summary>An optional Single column of per-row weights; null for none.</summary>
    public string? ExampleWeightColumnName { get; set; }

    /// <summary>I: features per time step of a Single vector column (ignored for key columns).</summary>
    public int FeaturesPerStep { get; set; } = 1;

    /// <summary>
    /// Whether each layer also reads the sequence backwards (D = 2); true by default. A many-to-one head then reads the forward
    /// direction's last state and the reverse direction's state after the first step, so the start of a long sequence is as
    /// close to it as the end: on the defaults suite (<c>DEFAULTS.md</c>) it lifted text, image and series tasks alike, at
    /// twice the cost of a pass. Set false for a unidirectional network (needed by <see cref="TruncatedBpttSteps"/>).
    /// </summary>
    public bool Bidirectional { get; set; } = true;

    /// <summary>Recurrent (variational) dropout on the state entering W_hh, one mask per sequence; in [0, 1).</summary>
    public float RecurrentDropout { get; set; }

    /// <summary>
    /// Token inputs (a key column), training only: the probability p that a token seen once in the training rows is read as
    /// unknown (key 0); a token seen n times is dropped with probability α/(α + n), α = p/(1 − p), so rare words teach the model
    /// what to do with a word it has not seen and frequent ones are almost never dropped. When the keys come from
    /// <c>MapValueToKey</c> fitted on the training rows, no training token is unknown, and without this every new word at
    /// scoring time would read an embedding that never trained. In [0, 1); ignored for numeric inputs.
    /// </summary>
    public float TokenDropout { get; set; } = 0.2f;

    /// <summary>
    /// What the head of a binary, multiclass or regression network reads: <see cref="SequenceReadout.LastStep"/>, the top
    /// layer's final states, or <see cref="SequenceReadout.MeanOverSteps"/>, the mean of its outputs over each row's real steps
    /// (mean pooling), so every step of a long text reaches the head directly. Null (the default) takes the task's:
    /// <see cref="SequenceReadout.MeanOverSteps"/> for the binary and multiclass classifiers — on the defaults suite's
    /// SpamAssassin mails (about 200 words each) it lifted accuracy from 0.979 to 0.982 and AUC from 0.996 to 0.998 (the final
    /// states over 2 seeds, the mean over 3), level with
    /// FeaturizeText with SDCA on accuracy and past it on AUC, and kept the Amazon sentences and Fashion-MNIST where they were
    /// (<c>DEFAULTS.md</c>) — and <see cref="SequenceReadout.LastStep"/> for regression (a series' next value hangs on its
    /// last values: the mean raised the error of the suite's series regressions by up to 61%) and whenever
    /// <see cref="TruncatedBpttSteps"/> is set (which reads each row where it ends). The tagger reads every step and ignores this.
    /// </summary>
    public SequenceReadout? Readout { get; set; }

    /// <summary>Whether the initial hidden (and cell) state is learned rather than zeros.</summary>
    public bool LearnedInitialState { get; set; }

    /// <summary>
    /// When set, the transformer also outputs this column: the features the task's head reads, from the top layer (both
    /// directions concatenated, D·H values per step). Binary and multiclass classification and regression: each row's final
    /// hidden state (the forward direction's last step, the reverse direction's first), or with
    /// <see cref="SequenceReadout.MeanOverSteps"/> (see <see cref="Readout"/>) the mean of the outputs over the row's steps, a fixed-size Single vector of D·H that
    /// another ML.NET trainer can take as features. Sequence tagging: the output at every step, a variable-size Single vector of
    /// T·D·H for a row of T steps, step t's D·H values at <c>[t·D·H, (t+1)·D·H)</c>.
    /// </summary>
    public string? HiddenStateColumnName { get; set; }

    /// <summary>
    /// Truncated backpropagation through time for long sequences: the network runs in chunks of this many steps, carrying its
    /// state from chunk to chunk, and gradients flow back at most one chunk. A training pass then keeps one chunk's
    /// activations (about <c>B × TruncatedBpttSteps</c> steps' worth) instead of the whole sequence's, the remedy when rows of
    /// thousands of steps do not fit in memory. A classifier or regressor learns from each sequence's last
    /// <c>TruncatedBpttSteps</c> steps (earlier steps still shape the state it reads); a tagger from every step. 0 (the
    /// default) backpropagates through every step. Needs <see cref="Bidirectional"/> = false.
    /// </summary>
    public int TruncatedBpttSteps { get; set; }

    /// <summary>
    /// The memory one training batch may need for its activations, caches and gradients, in megabytes. Before training starts,
    /// the largest batch (<see cref="RecurrentTrainerOptionsBase.BatchSize"/> rows of the longest sequence) is estimated; when
    /// it needs more, <c>Fit</c> stops with an error that says how much it needs and which options reduce it (a smaller batch,
    /// <see cref="TruncatedBpttSteps"/>, shorter sequences, a smaller network). 0 (the default): half of the memory available
    /// to the process.
    /// </summary>
    public int MaxBatchMemoryMegabytes { get; set; }

    /// <summary>
    /// Standardize, while training, each numeric feature (over every step) and a regression label with the training rows'
    /// mean and standard deviation; the fitted model folds both into its first layer and its head, so it reads the raw column
    /// and predicts in the label's units. On by default: values far from 0 or of very different scales (prices, temperatures,
    /// sensor readings) otherwise saturate the cells and train slowly. Off trains on the values as given. Token inputs are
    /// not affected. The losses in the fit's log are in standardized units. Experiments (<c>mlContext.RecurrentExperiments</c>)
    /// train on the values as given.
    /// </summary>
    public bool Standardize { get; set; } = true;

    /// <summary>A shallow copy (arrays and the logger are shared), which experiments vary one trial at a time.</summary>
    internal new RecurrentTrainerOptions Copy() => (RecurrentTrainerOptions)base.Copy();

    /// <inheritdoc />
    internal override void Validate()
    {
        base.Validate();
        Check(!string.IsNullOrWhiteSpace(LabelColumnName), nameof(LabelColumnName), LabelColumnName, "must name a column");
        Check(ExampleWeightColumnName is null || ExampleWeightColumnName.Trim().Length > 0, nameof(ExampleWeightColumnName),
            ExampleWeightColumnName, "must name a column, or be null for none");
        Check(HiddenStateColumnName is null || HiddenStateColumnName.Trim().Length > 0, nameof(HiddenStateColumnName),
            HiddenStateColumnName, "must name a column, or be null for none");
        Check(FeaturesPerStep >= 1, nameof(FeaturesPerStep), FeaturesPerStep, "must be at least 1");
        Check(TruncatedBpttSteps == 0 || !Bidirectional, nameof(TruncatedBpttSteps), TruncatedBpttSteps,
            "needs a unidirectional network (the reverse direction reads the whole sequence): set Bidirectional = false or TruncatedBpttSteps = 0");
        Check(Readout is null or SequenceReadout.LastStep or SequenceReadout.MeanOverSteps, nameof(Readout), Readout,
            "must be LastStep or MeanOverSteps, or null for the task's default (the tagger reads every step)");
        Check(TruncatedBpttSteps == 0 || Readout != SequenceReadout.MeanOverSteps, nameof(TruncatedBpttSteps), TruncatedBpttSteps,
            "needs the head to read the final states (the mean over every step needs the whole sequence): set Readout = LastStep (or null) or TruncatedBpttSteps = 0");
        ToModelOptions(Core.Models.RecurrentCellType.Lstm, vocabularySize: 0, outputSize: 1, seed: 0).Validate();
    }

    /// <inheritdoc />
    internal override TrainerOptions ToTrainerOptions(Core.Models.RecurrentCellType cell, int seed, bool hasValidationData, ILogger? logger) =>
        base.ToTrainerOptions(cell, seed, hasValidationData, logger) with
        {
            TruncatedBpttSteps = TruncatedBpttSteps,
            MaxBatchMemoryMegabytes = MaxBatchMemoryMegabytes,
            Standardize = Standardize,
        };

    /// <summary>The network's shape for the core.</summary>
    internal Core.Models.SequenceModelOptions ToModelOptions(Core.Models.RecurrentCellType cell, int vocabularySize, int outputSize, int seed) => new()
    {
        Cell = cell,
        RnnActivation = RnnActivation,
        FeaturesPerStep = FeaturesPerStep,
        VocabularySize = vocabularySize,
        EmbeddingSize = EmbeddingSize,
        HiddenSize = HiddenSize,
        Layers = NumberOfLayers,
        Bidirectional = Bidirectional,
        Dropout = Dropout,
        RecurrentDropout = RecurrentDropout,
        TokenDropout = TokenDropout,
        LearnedInitialState = LearnedInitialState,
        OutputSize = outputSize,
        Seed = seed,
        MaxDegreeOfParallelism = MaxDegreeOfParallelism,
    };
}
