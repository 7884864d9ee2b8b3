using System.Globalization;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Experiments;

/// <summary>Where a trial stands.</summary>
public enum RecurrentTrialStatus
{
    /// <summary>Reached its rung and waits to be promoted (successive halving stopped it, unless it is promoted later).</summary>
    Paused,

    /// <summary>Trained every epoch of the trainer options.</summary>
    Completed,

    /// <summary>Its own early stopping ended it (no better validation loss for the patience).</summary>
    EarlyStopped,

    /// <summary>The loss or the gradient stopped being finite; it is left out of the ranking.</summary>
    Diverged,

    /// <summary>The budget ran out or the experiment was cancelled during one of its epochs; its finished epochs count.</summary>
    Interrupted,
}

/// <summary>
/// One trial of an experiment: the configuration, how many epochs it trained, its best validation metric and when, how it
/// ended, and how long it took. <see cref="RecurrentExperiment{TOptions, TMetrics}.Execute(Microsoft.ML.IDataView, Microsoft.ML.IDataView, string?, string?, Microsoft.ML.IEstimator{Microsoft.ML.ITransformer}?, IProgress{RecurrentRunDetail}?, CancellationToken)"/>
/// reports a new one each time a trial finishes a stretch of epochs.
/// </summary>
/// <param name="TrialId">1-based, in the order trials were drawn.</param>
/// <param name="Cell">The recurrent cell.</param>
/// <param name="Options">The trial's full trainer options (the settings' options with the drawn values).</param>
/// <param name="Metric">The optimizing metric at <paramref name="BestEpoch"/> (the mean over folds with cross-validation); NaN before any epoch.</param>
/// <param name="MetricName">The optimizing metric.</param>
/// <param name="MetricPerEpoch">The optimizing metric after each epoch.</param>
/// <param name="BestEpoch">The epoch with the best metric, whose weights the trial's model keeps.</param>
/// <param name="Status">Where the trial stands.</param>
/// <param name="RuntimeInSeconds">Training time of all its epochs (and folds).</param>
/// <param name="Exception">Why it diverged, when it did.</param>
public sealed record RecurrentRunDetail(int TrialId, RecurrentCellType Cell, RecurrentTrainerOptions Options, double Metric,
    RecurrentExperimentMetric MetricName, IReadOnlyList<double> MetricPerEpoch, int BestEpoch, RecurrentTrialStatus Status,
    double RuntimeInSeconds, Exception? Exception = null)
{
    /// <summary>Epochs trained.</summary>
    public int Epochs => MetricPerEpoch.Count;

    /// <summary>The drawn configuration in one line, e.g. "Gru H 64 L 2 bi, dropout 0.12, lr 2.3e-03, B 32, clip 5, learned h0".</summary>
    // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
    public string Configuration => string.Create(CultureInfo.InvariantCulture,
        $"{Cell} H {Options.HiddenSize} L {Options.NumberOfLayers}{(Options.Bidirectional ? " bi" : "")}, dropout {Options.Dropout:F2}" +
        $"{(Options.RecurrentDropout > 0 ? $", recurrent dropout {Options.RecurrentDropout:F2}" : "")}, lr {Options.LearningRate:0.0e+00}, " +
        $"B {Options.BatchSize}, clip {Options.GradientClipNorm:g3}{(Options.LearnedInitialState ? ", learned h0" : "")}");

    /// <summary>One leaderboard line: trial, configuration, metric, epochs, status and time.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"trial {TrialId,3}  {Configuration,-62}  {MetricName} {Metric:F4} (epoch {BestEpoch} of {Epochs})  {Status,-12} {RuntimeInSeconds,6:F1} s");
}
