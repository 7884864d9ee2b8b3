using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Scoring;

namespace MlNet.Rnn;

/// <summary>
/// Trains a recurrent network (RNN, LSTM or GRU) with a C-logit head for multiclass classification, minimising softmax
/// cross-entropy, <c>l = −log softmax(z)_y</c>, weighted per row. The label is a key of C ≥ 2 values (as
/// <c>MapValueToKey</c> makes); rows whose key is missing are skipped. Outputs, as ML.NET's own multiclass trainers:
/// <c>Score</c>, the vector of softmax probabilities with the label's key values as slot names, and
/// <c>PredictedLabel</c>, the label's key type (so <c>MapKeyToValue</c> turns it back into the label's values).
/// Create it with <c>mlContext.MulticlassClassification.Trainers.Rnn/Lstm/Gru</c>.
/// </summary>
public sealed class RecurrentMulticlassTrainer : RecurrentTrainerBase<RecurrentMulticlassTrainer.Options>
{
    /// <summary>Options of <see cref="RecurrentMulticlassTrainer"/>; the defaults are those of the simple catalog overloads.</summary>
    public sealed class Options : RecurrentTrainerOptions
    {
        /// <summary>
        /// The multiclass classifier's <see cref="RecurrentTrainerOptionsBase.HiddenSize"/> unless set: 128, twice the other
        /// sequence trainers' 64. On the defaults suite's images read row by row (<c>DEFAULTS.md</c>, Fashion-MNIST's ten classes)
        /// 64 units fell just short of L-BFGS maximum entropy on 1,000 images (0.7878 against 0.7880) where 128 beat it on each
        /// of 3 seeds (0.7908; both reading the final states), and 128 still beat it on 20,000 images. A pass costs more: the
        /// recurrent product grows with H².
        /// </summary>
        public const int DefaultHiddenSize = 128;

        /// <summary>Options with the multiclass classifier's defaults (<see cref="DefaultHiddenSize"/> hidden units).</summary>
        public Options() => HiddenSize = DefaultHiddenSize;

        /// <summary>Per-class weights in the loss, in key order (one per class), or null for equal weights.</summary>
        public float[]? ClassWeights { get; set; }

        /// <summary>Label smoothing ε in [0, 1]: the target puts ε/C on every class.</summary>
        public float LabelSmoothing { get; set; }

        internal override void Validate()
        {
            base.Validate();
            Check(LabelSmoothing >= 0 && LabelSmoothing <= 1, nameof(LabelSmoothing), LabelSmoothing, "must be in [0, 1]");
            Check(ClassWeights is null || ClassWeights.All(w => w >= 0 && float.IsFinite(w)), nameof(ClassWeights), ClassWeights is null ? null : string.Join(", ", ClassWeights),
                "must hold finite weights ≥ 0");
        }
    }

    private const string Expected = "Key with at least 2 values (e.g. MapValueToKey of the label)";

    internal RecurrentMulticlassTrainer(IHostEnvironment env, RecurrentCellType cell, Options options)
        : base(env, nameof(RecurrentMulticlassTrainer), cell, options)
    {
    }

    private protected override RecurrentTask Task => RecurrentTask.MulticlassClassification;

    /// <summary>The mean of the top layer's outputs over the steps, unless set otherwise (<see cref="RecurrentTrainerOptions.Readout"/>).</summary>
    private protected override SequenceReadout DefaultReadout => SequenceReadout.MeanOverSteps;

    private protected override string ExpectedLabel => Expected;

    private protected override bool LabelFits(SchemaShape.Column label) =>
        label.Kind == SchemaShape.Column.VectorKind.Scalar && label.IsKey && label.ItemType.RawType == typeof(uint);

    private protected override bool LabelFits(DataViewType label) => label is KeyDataViewType { Count: >= 2 and <= int.MaxValue } key && key.RawType == typeof(uint);

    private protected override int OutputSize(DataViewSchema.Column label)
    {
        int classes = (int)label.Type.GetKeyCount();
        if (TrainerOptions.ClassWeights is { } weights && weights.Length != classes)
            throw Host.Except(string.Create(CultureInfo.InvariantCulture,
                $"ClassWeights holds {weights.Length} weights but the label '{label.Name}' has {classes} classes; give one weight per class, in key order."));
        return classes;
    }

    private protected override ILoss CreateLoss(int outputSize) => new SoftmaxCrossEntropy(TrainerOptions.ClassWeights, TrainerOptions.LabelSmoothing);

    private protected override TargetReader CreateTargetReader(DataViewRow row, DataViewSchema.Column label, int outputSize) =>
        TargetReader.Scalar(LabelGetter(row, label));

    private static Func<float> LabelGetter(DataViewRow row, DataViewSchema.Column label)
    {
        var getter = row.GetGetter<uint>(label);
        ulong classes = label.Type.GetKeyCount();
        uint key = 0;
        return () =>
        {
            getter(ref key);
            return key == 0 || key > classes ? float.NaN : key - 1; // key 0 is missing
        };
    }
}
