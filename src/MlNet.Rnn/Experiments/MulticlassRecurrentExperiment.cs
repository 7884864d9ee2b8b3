using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// A search over recurrent multiclass classifiers (key label), ranked by validation accuracy unless told otherwise; the
/// best run's <see cref="MulticlassClassificationMetrics"/> come from ML.NET's evaluator.
/// </summary>
public sealed class MulticlassRecurrentExperiment : RecurrentExperiment<RecurrentMulticlassTrainer.Options, MulticlassClassificationMetrics>
{
    internal MulticlassRecurrentExperiment(MLContext mlContext, RecurrentExperimentSettings<RecurrentMulticlassTrainer.Options> settings)
        : base(mlContext, settings)
    {
    }

    private protected override string TaskName => "multiclass classification";

    private protected override RecurrentExperimentMetric DefaultMetric => RecurrentExperimentMetric.Accuracy;

    private protected override IReadOnlyList<RecurrentExperimentMetric> FittingMetrics => [RecurrentExperimentMetric.Accuracy, RecurrentExperimentMetric.ValidationLoss];

    private protected override RecurrentTrainerBase<RecurrentMulticlassTrainer.Options> CreateTrainer(IHostEnvironment env, RecurrentCellType cell, RecurrentMulticlassTrainer.Options options) =>
        new RecurrentMulticlassTrainer(env, cell, options);

    private protected override MulticlassClassificationMetrics Evaluate(MLContext mlContext, IDataView scored, string labelColumnName) =>
        mlContext.MulticlassClassification.Evaluate(scored, labelColumnName);
}
