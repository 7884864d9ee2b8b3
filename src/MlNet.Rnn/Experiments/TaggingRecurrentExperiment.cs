using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tagging;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// A search over recurrent sequence taggers (a key-vector label, one tag per step), ranked by validation token accuracy
/// unless told otherwise; the best run's <see cref="TaggingMetrics"/> (token, per-tag and entity scores) come from
/// <c>mlContext.SequenceTagging.Evaluate</c>.
/// </summary>
public sealed class TaggingRecurrentExperiment : RecurrentExperiment<SequenceTaggingTrainer.Options, TaggingMetrics>
{
    internal TaggingRecurrentExperiment(MLContext mlContext, RecurrentExperimentSettings<SequenceTaggingTrainer.Options> settings)
        : base(mlContext, settings)
    {
    }

    private protected override string TaskName => "sequence tagging";

    private protected override RecurrentExperimentMetric DefaultMetric => RecurrentExperimentMetric.Accuracy;

    private protected override IReadOnlyList<RecurrentExperimentMetric> FittingMetrics => [RecurrentExperimentMetric.Accuracy, RecurrentExperimentMetric.ValidationLoss];

    private protected override RecurrentTrainerBase<SequenceTaggingTrainer.Options> CreateTrainer(IHostEnvironment env, RecurrentCellType cell, SequenceTaggingTrainer.Options options) =>
        new SequenceTaggingTrainer(env, cell, options);

    private protected override TaggingMetrics Evaluate(MLContext mlContext, IDataView scored, string labelColumnName) =>
        mlContext.SequenceTagging.Evaluate(scored, labelColumnName);
}
