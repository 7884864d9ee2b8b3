using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Scoring;

namespace MlNet.Rnn;

/// <summary>The loss a <see cref="RecurrentRegressionTrainer"/> minimises.</summary>
public enum RegressionLoss
{
    /// <summary><c>l = (ŷ − y)²</c>.</summary>
    MeanSquaredError,
    /// <summary><c>l = ½(ŷ − y)²</c> for <c>|ŷ − y| ≤ δ</c>, else <c>δ(|ŷ − y| − ½δ)</c>: robust to outliers.</summary>
    Huber,
}

/// <summary>
/// Trains a recurrent network (RNN, LSTM or GRU) with a one-value head for regression, minimising the mean squared error
/// (or the Huber loss), weighted per row. The label is Single; rows whose label is NaN are skipped. Output, as ML.NET's
/// own regression trainers: <c>Score</c>. Create it with <c>mlContext.Regression.Trainers.Rnn/Lstm/Gru</c>.
/// </summary>
public sealed class RecurrentRegressionTrainer : RecurrentTrainerBase<RecurrentRegressionTrainer.Options>
{
    /// <summary>Options of <see cref="RecurrentRegressionTrainer"/>; the defaults are those of the simple catalog overloads.</summary>
    public sealed class Options : RecurrentTrainerOptions
    {
        /// <summary>The loss.</summary>
        public RegressionLoss Loss { get; set; } = RegressionLoss.MeanSquaredError;

        /// <summary>δ of the Huber loss.</summary>
        public float HuberDelta { get; set; } = 1f;

        internal override void Validate()
        {
            base.Validate();
            Check(Enum.IsDefined(Loss), nameof(Loss), Loss, "must be MeanSquaredError or Huber");
            Check(HuberDelta > 0 && float.IsFinite(HuberDelta), nameof(HuberDelta), HuberDelta, "must be a positive finite number");
        }
    }

    internal RecurrentRegressionTrainer(IHostEnvironment env, RecurrentCellType cell, Options options)
        : base(env, nameof(RecurrentRegressionTrainer), cell, options)
    {
    }

    private protected override RecurrentTask Task => RecurrentTask.Regression;

    private protected override string ExpectedLabel => "Single";

    private protected override bool LabelFits(SchemaShape.Column label) =>
        label.Kind == SchemaShape.Column.VectorKind.Scalar && !label.IsKey && label.ItemType == NumberDataViewType.Single;

    private protected override bool LabelFits(DataViewType label) => label == NumberDataViewType.Single;

    private protected override int OutputSize(DataViewSchema.Column label) => 1;

    private protected override ILoss CreateLoss(int outputSize) =>
        TrainerOptions.Loss == RegressionLoss.Huber ? new Huber(TrainerOptions.HuberDelta) : new MeanSquaredError();

    private protected override TargetReader CreateTargetReader(DataViewRow row, DataViewSchema.Column label, int outputSize) =>
        TargetReader.Scalar(LabelGetter(row, label));

    private static Func<float> LabelGetter(DataViewRow row, DataViewSchema.Column label)
    {
        var getter = row.GetGetter<float>(label);
        float value = 0;
        return () =>
        {
            getter(ref value);
            return float.IsFinite(value) ? value : float.NaN; // NaN is a missing label; an infinite one cannot be learned either
        };
    }
}
