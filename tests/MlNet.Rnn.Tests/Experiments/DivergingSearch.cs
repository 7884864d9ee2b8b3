using Microsoft.Extensions.Logging;
using Microsoft.ML;
using MlNet.Rnn.Experiments;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>
/// A regression search every trial of which diverges in its first epoch: plain SGD at a learning rate of 5, no clipping,
/// an Elman ReLU network, on labels near 10^6.
/// </summary>
internal static class DivergingSearch
{
    /// <summary>200 rows of 8 steps with their labels scaled by 10^6, the same rows for training and validation.</summary>
    public static IDataView Data(MLContext mlContext)
    {
        var rows = Synthetic.Rows(200, 8, 1, seed: 1);
        foreach (var row in rows) row.Value *= 1e6f;
        return Synthetic.ToDataView(mlContext, rows);
    }

    public static RecurrentExperimentSettings<RecurrentRegressionTrainer.Options> Settings(int maxTrials, ILogger? logger = null) => new()
    {
        MaxExperimentTimeInSeconds = 600, Seed = 7, MaxTrials = maxTrials, Logger = logger,
        TrainerOptions = new()
        {
            NumberOfEpochs = 2, MaxDegreeOfParallelism = 1, LabelColumnName = nameof(TaskRow.Value), Optimizer = Core.Training.OptimizerKind.Sgd,
            RnnActivation = Core.Cells.RnnActivation.Relu,
        },
        SearchSpace = new()
        {
            Cells = [Core.Models.RecurrentCellType.Rnn], HiddenSizes = [32], NumbersOfLayers = [1], BatchSizes = [16],
            LearningRate = SearchRange.Fixed(5f), GradientClipNorms = [0f],
        },
    };
}
