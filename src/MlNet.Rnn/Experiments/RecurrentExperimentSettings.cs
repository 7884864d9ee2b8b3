using Microsoft.Extensions.Logging;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// How an experiment searches: its time budget, the metric, the <see cref="RecurrentSearchSpace"/>, the trainer options every
/// trial starts from, and the successive-halving schedule (ASHA): a trial first trains <see cref="MinimumEpochs"/> epochs;
/// only the best 1/<see cref="ReductionFactor"/> of the trials at a rung continue to the next, ×<see cref="ReductionFactor"/>
/// epochs, up to <see cref="RecurrentTrainerOptionsBase.NumberOfEpochs"/> of <see cref="TrainerOptions"/>.
/// </summary>
/// <typeparam name="TOptions">The task's trainer options.</typeparam>
public sealed class RecurrentExperimentSettings<TOptions>
    where TOptions : RecurrentTrainerOptions, new()
{
    /// <summary>
    /// The time budget in seconds, counted from the start of <c>Execute</c>: no epoch runs past it (a running one is cut at the
    /// next batch). Refitting on all data and evaluating the best run come after it.
    /// </summary>
    public double MaxExperimentTimeInSeconds { get; set; } = 60;

    /// <summary>
    /// The clock the budget (<see cref="MaxExperimentTimeInSeconds"/>) and the result's search time are measured on. Leave it
    /// <see cref="TimeProvider.System"/>; a test gives a fake clock it advances itself, so the budget's effect is exact.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The metric trials are ranked by; null takes the task's default (accuracy, or RMSE for regression).</summary>
    public RecurrentExperimentMetric? OptimizingMetric { get; set; }

    /// <summary>What is searched.</summary>
    public RecurrentSearchSpace SearchSpace { get; set; } = new();

    /// <summary>
    /// Every option a trial does not draw from the search space (columns, embedding size, optimizer, schedule, early-stopping
    /// patience, parallelism…); its <see cref="RecurrentTrainerOptionsBase.NumberOfEpochs"/> (<see cref="RecurrentTrainerOptionsBase.DefaultEpochs"/> when null) is the most epochs any trial trains.
    /// Its seed is ignored: each trial's seed derives from <see cref="Seed"/>.
    /// </summary>
    public TOptions TrainerOptions { get; set; } = new();

    /// <summary>Seed of the sampling and of every trial; null takes one from the <c>MLContext</c>'s seed.</summary>
    public int? Seed { get; set; }

    /// <summary>The most configurations tried; when reached, the best paused trials continue until none is left.</summary>
    public int MaxTrials { get; set; } = int.MaxValue;

    /// <summary>Epochs of the first rung: what every trial trains before it is compared.</summary>
    public int MinimumEpochs { get; set; } = 1;

    /// <summary>η: a rung promotes its best 1/η trials, to η times the epochs.</summary>
    public int ReductionFactor { get; set; } = 3;

    /// <summary>After the search, train the best configuration again on training and validation data together, for its best epoch count.</summary>
    public bool RefitOnAllData { get; set; }

    /// <summary>Receives each trial's result and the leaderboard (Information) and every epoch (Debug); null uses the trainer options' logger.</summary>
    public ILogger? Logger { get; set; }
}
