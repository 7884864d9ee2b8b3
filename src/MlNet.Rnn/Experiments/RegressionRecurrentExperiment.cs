using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// A search over recurrent regressors (Single label), ranked by validation RMSE unless told otherwise; the
/// best run's <see cref="RegressionMetrics"/> come from ML.NET's evaluator.
/// </summary>
public sealed class RegressionRecurrentExperiment : RecurrentExperiment<RecurrentRegressionTrainer.Options, RegressionMetrics>
{
    internal RegressionRecurrentExperiment(MLContext mlContext, RecurrentExperimentSettings<RecurrentRegressionTrainer.Options> settings)
        : base(mlContext, settings)
    {
    }

    private protected override string TaskName => "regression";

    private protected override RecurrentExperimentMetric DefaultMetric => RecurrentExperimentMetric.RootMeanSquaredError;

    private protected override IReadOnlyList<RecurrentExperimentMetric> FittingMetrics => [RecurrentExperimentMetric.RootMeanSquaredError, RecurrentExperimentMetric.ValidationLoss];

    private protected override RecurrentTrainerBase<RecurrentRegressionTrainer.Options> CreateTrainer(IHostEnvironment env, RecurrentCellType cell, RecurrentRegressionTrainer.Options options) =>
        new RecurrentRegressionTrainer(env, cell, options);

    private protected override RegressionMetrics Evaluate(MLContext mlContext, IDataView scored, string labelColumnName) =>
        mlContext.Regression.Evaluate(scored, labelColumnName);
}
