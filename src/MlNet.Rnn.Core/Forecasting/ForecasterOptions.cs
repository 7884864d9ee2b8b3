using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Forecasting;

/// <summary>
/// Everything a <see cref="RecurrentForecaster"/> does, with defaults in one place; the names follow ML.NET's
/// <c>ForecastBySsa</c> (<c>windowSize</c>, <c>horizon</c>, <c>confidenceLevel</c>). Legend: W window size, HZ horizon,
/// K exogenous features, H hidden size.
/// </summary>
public sealed record ForecasterOptions
{
    /// <summary>W: past observations the model reads for one forecast.</summary>
    public int WindowSize { get; init; } = 24;

    /// <summary>HZ: future values forecast at once.</summary>
    public int Horizon { get; init; } = 1;

    /// <summary>K: exogenous feature values observed with each observation (their past values are read with the series').</summary>
    public int ExogenousFeatures { get; init; }

    /// <summary>The share of future values the confidence bounds should cover, in (0, 1).</summary>
    public float ConfidenceLevel { get; init; } = 0.95f;

    /// <summary>How held-out residuals become bounds.</summary>
    public ForecastIntervalMethod IntervalMethod { get; init; } = ForecastIntervalMethod.Gaussian;

    /// <summary>
    /// The share of the series, at its end, held out from training: the forecasts of its windows give the residuals behind
    /// the bounds (and the validation loss when <see cref="Training"/> uses early stopping). At least HZ observations when
    /// positive; 0 uses in-sample residuals, whose bounds are too narrow.
    /// </summary>
    public double CalibrationFraction { get; init; } = 0.2;

    /// <summary>
    /// After the held-out residuals are measured, train the final model again on the whole series (same options, for as many
    /// epochs as the first fit kept), so the most recent observations shape it too; the bounds stay those of the first fit.
    /// Costs a second training run; without it the model never learns from the held-out tail.
    /// </summary>
    public bool RefitOnFullSeries { get; init; } = true;

    /// <summary>The recurrent cell.</summary>
    public RecurrentCellType Cell { get; init; } = RecurrentCellType.Lstm;

    /// <summary>H.</summary>
    public int HiddenSize { get; init; } = 64;

    /// <summary>Recurrent layers.</summary>
    public int Layers { get; init; } = 1;

    /// <summary>Dropout between recurrent layers and before the head, in training.</summary>
    public float Dropout { get; init; }

    /// <summary>Seed of initialisation and dropout (shuffling takes <see cref="TrainerOptions.Seed"/>).</summary>
    public int Seed { get; init; }

    /// <summary>Threads a batch may be split across.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Windows overlap, so the forecaster makes them from the series as training reads them: while all of them fit in this many
    /// megabytes they are made once per epoch and shuffled together; beyond it they are made a part of consecutive windows at
    /// a time and mixed in windows of parts drawn at random, so memory holds the series and about this much, however long the
    /// series. Default 1024.
    /// </summary>
    public int TrainingDataMemoryMegabytes { get; init; } = 1024;

    /// <summary>The training loop: epochs, batch size, learning rate, early stopping, logging.</summary>
    public TrainerOptions Training { get; init; } = new() { Epochs = 60, BatchSize = 16, LearningRate = 0.005f };

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first invalid option, its value and its valid range.</summary>
    public void Validate()
    {
        if (Horizon <= 0)
            throw new ArgumentOutOfRangeException(nameof(Horizon), Horizon, $"Horizon is {Horizon}; it must be at least 1 (the number of future values to forecast).");
        if (WindowSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(WindowSize), WindowSize, $"WindowSize is {WindowSize}; it must be at least 1 (past observations per forecast).");
        if (ExogenousFeatures < 0)
            throw new ArgumentOutOfRangeException(nameof(ExogenousFeatures), ExogenousFeatures, $"ExogenousFeatures is {ExogenousFeatures}; it must be 0 or more.");
        if (!(ConfidenceLevel > 0 && ConfidenceLevel < 1))
            throw new ArgumentOutOfRangeException(nameof(ConfidenceLevel), ConfidenceLevel, $"ConfidenceLevel is {ConfidenceLevel}; it must be in (0, 1), e.g. 0.95.");
        if (!Enum.IsDefined(IntervalMethod))
            throw new ArgumentOutOfRangeException(nameof(IntervalMethod), IntervalMethod, "IntervalMethod must be Gaussian or EmpiricalQuantile.");
        if (!(CalibrationFraction >= 0 && CalibrationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(CalibrationFraction), CalibrationFraction, $"CalibrationFraction is {CalibrationFraction}; it must be in [0, 1).");
        if (TrainingDataMemoryMegabytes < 1)
            throw new ArgumentOutOfRangeException(nameof(TrainingDataMemoryMegabytes), TrainingDataMemoryMegabytes,
                $"TrainingDataMemoryMegabytes is {TrainingDataMemoryMegabytes}; it must be at least 1.");
        ArgumentNullException.ThrowIfNull(Training);
    }
}
