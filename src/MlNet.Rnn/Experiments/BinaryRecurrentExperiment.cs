using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// A search over recurrent binary classifiers (Boolean label), ranked by validation accuracy unless told otherwise; the
/// best run's <see cref="BinaryClassificationMetrics"/> come from ML.NET's evaluator.
/// </summary>
public sealed class BinaryRecurrentExperiment : RecurrentExperiment<RecurrentBinaryTrainer.Options, BinaryClassificationMetrics>
{
    internal BinaryRecurrentExperiment(MLContext mlContext, RecurrentExperimentSettings<RecurrentBinaryTrainer.Options> settings)
        : base(mlContext, settings)
    {
    }

    private protected override string TaskName => "binary classification";

    private protected override RecurrentExperimentMetric DefaultMetric => RecurrentExperimentMetric.Accuracy;

    private protected override IReadOnlyList<RecurrentExperimentMetric> FittingMetrics => [RecurrentExperimentMetric.Accuracy, RecurrentExperimentMetric.ValidationLoss];

    private protected override RecurrentTrainerBase<RecurrentBinaryTrainer.Options> CreateTrainer(IHostEnvironment env, RecurrentCellType cell, RecurrentBinaryTrainer.Options options) =>
        new RecurrentBinaryTrainer(env, cell, options);

    private protected override BinaryClassificationMetrics Evaluate(MLContext mlContext, IDataView scored, string labelColumnName) =>
        mlContext.BinaryClassification.Evaluate(scored, labelColumnName);
}
