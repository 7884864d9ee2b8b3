namespace MlNet.Rnn.Experiments;

/// <summary>
/// What an experiment ranks trials by, measured on the validation data after every epoch (so successive halving can stop
/// weak trials after few epochs).
/// </summary>
public enum RecurrentExperimentMetric
{
    /// <summary>The training loss on the validation data (cross-entropy or squared error); lower is better. Fits every task.</summary>
    ValidationLoss,

    /// <summary>The weighted fraction of rows classified right; higher is better. Binary and multiclass classification only.</summary>
    Accuracy,

    /// <summary>The root of the weighted mean squared error; lower is better. Regression only.</summary>
    RootMeanSquaredError,
}
