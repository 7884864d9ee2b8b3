using Microsoft.ML;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>The experiments' tests' data: synthetic binary rows of 8 steps of 1 feature, a training view (seed 1) and a validation view (seed 2).</summary>
internal static class ExperimentData
{
    public static (IDataView Train, IDataView Validation) Split(MLContext mlContext, int trainingRows = 400, int validationRows = 200) =>
        (Synthetic.ToDataView(mlContext, Synthetic.Rows(trainingRows, 8, 1, seed: 1)), Synthetic.ToDataView(mlContext, Synthetic.Rows(validationRows, 8, 1, seed: 2)));
}
