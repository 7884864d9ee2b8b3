using System.Globalization;
using MlNet.Rnn.Core.Forecasting;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// One trial of a forecasting experiment: its configuration (the core's <see cref="ForecasterOptions"/>), the epochs of its
/// latest fit, its validation errors, how it ended and how long its fits took.
/// </summary>
/// <param name="TrialId">1-based, in the order trials were drawn.</param>
/// <param name="Options">The trial's forecaster options (cell, W, H, layers, dropout, seed; training: learning rate, batch size, clipping, epochs).</param>
/// <param name="MeanAbsoluteError">Mean absolute error of the forecasts of the validation tail (every horizon step of every window whose future lies in it), at the best rung; NaN before any fit.</param>
/// <param name="RootMeanSquaredError">Root mean squared error of the same forecasts.</param>
/// <param name="MeanAbsoluteErrorPerRung">The validation MAE after each fit (one per rung reached).</param>
/// <param name="BestEpochs">The epochs of the fit with the best MAE.</param>
/// <param name="Epochs">The epochs of the latest finished fit.</param>
/// <param name="Status">Where the trial stands.</param>
/// <param name="RuntimeInSeconds">Time of all its fits and evaluations.</param>
/// <param name="Exception">Why it diverged, when it did.</param>
public sealed record ForecastingRunDetail(int TrialId, ForecasterOptions Options, double MeanAbsoluteError, double RootMeanSquaredError,
    IReadOnlyList<double> MeanAbsoluteErrorPerRung, int BestEpochs, int Epochs, RecurrentTrialStatus Status, double RuntimeInSeconds,
    Exception? Exception = null)
{
    /// <summary>The drawn configuration in one line, e.g. "Gru W 24 H 32 L 1, dropout 0.12, lr 2.3e-03, B 16, clip 5".</summary>
    // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
    public string Configuration => string.Create(CultureInfo.InvariantCulture,
        $"{Options.Cell} W {Options.WindowSize} H {Options.HiddenSize} L {Options.Layers}, dropout {Options.Dropout:F2}, " +
        $"lr {Options.Training.LearningRate:0.0e+00}, B {Options.Training.BatchSize}, clip {Options.Training.GradientClipNorm:g3}");

    /// <summary>One leaderboard line.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"trial {TrialId,3}  {Configuration,-62}  MAE {MeanAbsoluteError:G5} RMSE {RootMeanSquaredError:G5} (epochs {BestEpochs} of {Epochs})  {Status,-12} {RuntimeInSeconds,6:F1} s");

    /// <summary>Runs with a finished fit that did not diverge, best (lowest MAE) first, ties by trial id.</summary>
    internal static IReadOnlyList<ForecastingRunDetail> Rank(IEnumerable<ForecastingRunDetail> runs) =>
        runs.Where(run => run.Status != RecurrentTrialStatus.Diverged && !double.IsNaN(run.MeanAbsoluteError))
            .OrderBy(run => run.MeanAbsoluteError).ThenBy(run => run.TrialId).ToArray();
}

/// <summary>
/// What a forecasting experiment found: the best run, its fitted <see cref="RecurrentForecastingTransformer"/> (saveable with
/// <c>mlContext.Model.Save</c>), its validation errors and every run.
/// </summary>
public sealed class ForecastingExperimentResult
{
    internal ForecastingExperimentResult(ForecastingRunDetail bestRun, IReadOnlyList<ForecastingRunDetail> runDetails, RecurrentForecastingTransformer model,
        bool refitOnAllData, bool cancelled, TimeSpan searchTime)
    {
        BestRun = bestRun;
        RunDetails = runDetails;
        Model = model;
        RefitOnAllData = refitOnAllData;
        Cancelled = cancelled;
        SearchTime = searchTime;
    }

    /// <summary>The run with the lowest validation MAE.</summary>
    public ForecastingRunDetail BestRun { get; }

    /// <summary>Every run, by trial id, as it ended.</summary>
    public IReadOnlyList<ForecastingRunDetail> RunDetails { get; }

    /// <summary>Every run with a finished fit that did not diverge, best first.</summary>
    public IReadOnlyList<ForecastingRunDetail> Leaderboard => ForecastingRunDetail.Rank(RunDetails);

    /// <summary>
    /// The best run's forecaster: fitted on the training part (its engine starts after it), or on the whole series when
    /// <see cref="RefitOnAllData"/>.
    /// </summary>
    public RecurrentForecastingTransformer Model { get; }

    /// <summary>The best run's mean absolute error on the validation tail (before any refit).</summary>
    public double ValidationMeanAbsoluteError => BestRun.MeanAbsoluteError;

    /// <summary>The best run's root mean squared error on the validation tail (before any refit).</summary>
    public double ValidationRootMeanSquaredError => BestRun.RootMeanSquaredError;

    /// <summary>Whether <see cref="Model"/> was fitted again on the whole series.</summary>
    public bool RefitOnAllData { get; }

    /// <summary>Whether the caller's cancellation ended the search (the result holds the best run so far).</summary>
    public bool Cancelled { get; }

    /// <summary>Time from the start of <c>Execute</c> to the end of the search (before any refit).</summary>
    public TimeSpan SearchTime { get; }
}
