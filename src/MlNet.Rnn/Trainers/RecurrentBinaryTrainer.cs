using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Scoring;

namespace MlNet.Rnn;

/// <summary>
/// Trains a recurrent network (RNN, LSTM or GRU) with a one-logit head for binary classification, minimising binary
/// cross-entropy on the logit, <c>l = max(z, 0) − z·y + log(1 + e^−|z|)</c>, weighted per row. The label is Boolean.
/// Outputs, as ML.NET's own binary trainers: <c>Score</c> (the logit z), <c>Probability</c> = σ(z) and
/// <c>PredictedLabel</c> = z &gt; 0. Create it with <c>mlContext.BinaryClassification.Trainers.Rnn/Lstm/Gru</c>.
/// </summary>
public sealed class RecurrentBinaryTrainer : RecurrentTrainerBase<RecurrentBinaryTrainer.Options>
{
    /// <summary>Options of <see cref="RecurrentBinaryTrainer"/>; the defaults are those of the simple catalog overloads.</summary>
    public sealed class Options : RecurrentTrainerOptions
    {
        /// <summary>Weight of the positive class in the loss (PyTorch's <c>pos_weight</c>); above 1 favours recall.</summary>
        public float PositiveClassWeight { get; set; } = 1f;

        internal override void Validate()
        {
            base.Validate();
            Check(PositiveClassWeight > 0 && float.IsFinite(PositiveClassWeight), nameof(PositiveClassWeight), PositiveClassWeight, "must be a positive finite number");
        }
    }

    internal RecurrentBinaryTrainer(IHostEnvironment env, RecurrentCellType cell, Options options)
        : base(env, nameof(RecurrentBinaryTrainer), cell, options)
    {
    }

    private protected override RecurrentTask Task => RecurrentTask.BinaryClassification;

    private protected override string ExpectedLabel => "Boolean";

    private protected override bool LabelFits(SchemaShape.Column label) =>
        label.Kind == SchemaShape.Column.VectorKind.Scalar && !label.IsKey && label.ItemType is BooleanDataViewType;

    private protected override bool LabelFits(DataViewType label) => label is BooleanDataViewType;

    private protected override int OutputSize(DataViewSchema.Column label) => 1;

    private protected override ILoss CreateLoss(int outputSize) => new BinaryCrossEntropyWithLogits(TrainerOptions.PositiveClassWeight);

    private protected override TargetReader CreateTargetReader(DataViewRow row, DataViewSchema.Column label, int outputSize) =>
        TargetReader.Scalar(LabelGetter(row, label));

    private static Func<float> LabelGetter(DataViewRow row, DataViewSchema.Column label)
    {
        var getter = row.GetGetter<bool>(label);
        bool value = false;
        return () =>
        {
            getter(ref value);
            return value ? 1f : 0f;
        };
    }
}
