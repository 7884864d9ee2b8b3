using Microsoft.Extensions.Logging;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// How a forecasting experiment searches: its time budget, the <see cref="RecurrentSearchSpace"/> (cells, hidden sizes, layers,
/// dropout, learning rate, batch sizes, clipping; the forecaster reads forwards only, so <see cref="RecurrentSearchSpace.Bidirectional"/>,
/// <see cref="RecurrentSearchSpace.RecurrentDropout"/> and <see cref="RecurrentSearchSpace.LearnedInitialState"/> are not drawn),
/// optionally window sizes, the estimator options every trial starts from, the validation tail, and the successive-halving
/// schedule: a trial is first fitted for <see cref="MinimumEpochs"/> epochs; only the best 1/<see cref="ReductionFactor"/> of a
/// rung are fitted again for ×<see cref="ReductionFactor"/> epochs, up to the estimator options' <see cref="RecurrentTrainerOptionsBase.NumberOfEpochs"/>.
/// </summary>
public sealed class ForecastingExperimentSettings
{
    /// <summary>The time budget in seconds, counted from the start of <c>Execute</c>; a running fit is cut at its next batch. A refit comes after it.</summary>
    public double MaxExperimentTimeInSeconds { get; set; } = 60;

    /// <summary>
    /// The clock the budget (<see cref="MaxExperimentTimeInSeconds"/>) and the result's search time are measured on. Leave it
    /// <see cref="TimeProvider.System"/>; a test gives a fake clock it advances itself, so the budget's effect is exact.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>What is searched.</summary>
    public RecurrentSearchSpace SearchSpace { get; set; } = new();

    /// <summary>Window sizes W to search; null keeps the <c>windowSize</c> given to <c>Execute</c>.</summary>
    public IList<int>? WindowSizes { get; set; }

    /// <summary>
    /// Every option a trial does not draw (confidence level, bounds, calibration fraction, early stopping, parallelism…); its
    /// <see cref="RecurrentTrainerOptionsBase.NumberOfEpochs"/> is the most epochs any trial trains. Its columns,
    /// window size, horizon and seed are ignored: <c>Execute</c>'s arguments and <see cref="Seed"/> give them.
    /// </summary>
    public RecurrentForecastingEstimator.Options EstimatorOptions { get; set; } = new();

    /// <summary>Without validation data: the share of the series, at its end, held out to rank the trials, in (0, 1).</summary>
    public double ValidationFraction { get; set; } = 0.2;

    /// <summary>Seed of the sampling and of every trial; null takes one from the <c>MLContext</c>'s seed.</summary>
    public int? Seed { get; set; }

    /// <summary>The most configurations tried; when reached, the best paused trials continue until none is left.</summary>
    public int MaxTrials { get; set; } = int.MaxValue;

    /// <summary>Epochs of the first rung.</summary>
    public int MinimumEpochs { get; set; } = 1;

    /// <summary>η: a rung promotes its best 1/η trials, to η times the epochs.</summary>
    public int ReductionFactor { get; set; } = 3;

    /// <summary>After the search, fit the best configuration again on the whole series (training and validation), for the best run's epochs.</summary>
    public bool RefitOnAllData { get; set; }

    /// <summary>Receives each trial's result and the leaderboard (Information); null uses the estimator options' logger.</summary>
    public ILogger? Logger { get; set; }
}
