using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tagging;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Data;
using MlNet.Rnn.Logging;
using MlNet.Rnn.Models;
using MlNet.Rnn.Scoring;
using MlNet.Rnn.Tagging;

namespace MlNet.Rnn;

/// <summary>
/// Trains a recurrent tagger (many-to-many aligned): the core's <see cref="SequenceTagger"/>, a network that reads every
/// step and gives C logits per step, <c>z[T, C]</c>, minimising softmax cross-entropy over every step,
/// <c>l = −Σ_t log softmax(z_t)_{y_t}</c>, weighted per row. Bidirectional by default, so each step's tag sees the whole
/// sequence. The feature column holds token keys or numeric steps (as the other recurrent trainers read it); the label is a
/// vector of keys aligned with it, one per step (rows with a missing key are skipped). Outputs <c>PredictedLabel</c>, a key
/// vector of the label's key type as long as the input (so <c>MapKeyToValue</c> works), and <c>Score</c>, the softmax of
/// every step, <c>[T·C]</c> step-major; with <see cref="RecurrentTrainerOptions.HiddenStateColumnName"/> set, also the features its
/// head reads at every step, the top layer's output <c>[T·D·H]</c> step-major. Create it with
/// <c>mlContext.SequenceTagging.Trainers.Rnn/Lstm/Gru</c>.
/// </summary>
public sealed class SequenceTaggingTrainer : RecurrentTrainerBase<SequenceTaggingTrainer.Options>
{
    /// <summary>Options of <see cref="SequenceTaggingTrainer"/>; the defaults are those of the simple catalog overloads (bidirectional).</summary>
    public sealed class Options : RecurrentTrainerOptions
    {
    }

    internal SequenceTaggingTrainer(IHostEnvironment env, RecurrentCellType cell, Options options)
        : base(env, nameof(SequenceTaggingTrainer), cell, options)
    {
    }

    private protected override RecurrentTask Task => RecurrentTask.SequenceTagging;

    private protected override string ExpectedLabel => TagColumn.Expected;

    private protected override bool PerStepTargets => true;

    private protected override bool LabelFits(SchemaShape.Column label) => TagColumn.Fits(label);

    private protected override bool LabelFits(DataViewType label) => TagColumn.Fits(label);

    private protected override int OutputSize(DataViewSchema.Column label) => KeyVectorColumn.KeyCountOf(label.Type)!.Value;

    private protected override ILoss CreateLoss(int outputSize) => new SoftmaxCrossEntropy();

    private protected override TargetReader CreateTargetReader(DataViewRow row, DataViewSchema.Column label, int outputSize) =>
        new TagColumn(label, outputSize).CreateTargetReader(row);

}
