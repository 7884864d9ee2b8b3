using System.Globalization;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Experiments;

/// <summary>Which direction each metric improves in, the leaderboard order, and what a search that ranked no run says.</summary>
internal static class RecurrentExperimentRanking
{
    /// <summary>Whether a larger value of <paramref name="metric"/> is better.</summary>
    public static bool HigherIsBetter(RecurrentExperimentMetric metric) => metric == RecurrentExperimentMetric.Accuracy;

    /// <summary>The metric of one epoch's report, as measured on the validation data.</summary>
    public static double Value(RecurrentExperimentMetric metric, EpochReport report) => metric == RecurrentExperimentMetric.ValidationLoss
        ? report.ValidationLoss ?? double.NaN
        : report.ValidationMetric ?? double.NaN;

    /// <summary>The metric turned so that larger is better; NaN becomes −∞.</summary>
    public static double Score(RecurrentExperimentMetric metric, double value) =>
        double.IsNaN(value) ? double.NegativeInfinity : HigherIsBetter(metric) ? value : -value;

    /// <summary>Runs with at least one epoch that did not diverge, best first (ties by trial id).</summary>
    public static IReadOnlyList<RecurrentRunDetail> Rank(IEnumerable<RecurrentRunDetail> runs) =>
        runs.Where(run => run.Epochs > 0 && run.Status != RecurrentTrialStatus.Diverged && !double.IsNaN(run.Metric))
            .OrderByDescending(run => Score(run.MetricName, run.Metric)).ThenBy(run => run.TrialId).ToArray();

    /// <summary>
    /// The exception a search throws when it ranked no run: cancelled (<see cref="OperationCanceledException"/>); every
    /// trial diverged (<see cref="InvalidOperationException"/>: a larger budget would not help, smaller steps would); else
    /// the budget ran out before a trial finished <paramref name="oneStep"/> (<see cref="TimeoutException"/>).
    /// </summary>
    /// <param name="step">What a trial must finish to be ranked: "epoch", "fit".</param>
    /// <param name="oneStep">The same with its article: "an epoch", "a fit".</param>
    /// <param name="data">What the user can shrink: "data", "series".</param>
    /// <param name="values">What the user can scale: "the label and features", "the series".</param>
    /// <param name="searchTime">How long the search ran.</param>
    /// <param name="started">Trials started.</param>
    /// <param name="diverged">Trials that diverged.</param>
    /// <param name="cancelled">Whether the caller cancelled the search.</param>
    /// <param name="cancellationToken">The caller's token, carried by the cancellation.</param>
    public static Exception NoRankedRun(string step, string oneStep, string data, string values, TimeSpan searchTime, int started, int diverged,
        bool cancelled, CancellationToken cancellationToken)
    {
        // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
        string why = string.Create(CultureInfo.InvariantCulture,
            $"No trial finished {oneStep} within {searchTime.TotalSeconds:F1} s ({started} started, {diverged} diverged)");
        if (cancelled) return new OperationCanceledException($"{why}: the experiment was cancelled before any run could be returned.", cancellationToken);
        if (started > 0 && diverged == started)
            return new InvalidOperationException($"{why}: every trial's loss or gradient stopped being finite. Search smaller learning rates " +
                $"(SearchSpace.LearningRate), keep gradient clipping on (SearchSpace.GradientClipNorms above 0), or scale {values}.");
        return new TimeoutException($"{why}; raise MaxExperimentTimeInSeconds above one {step} of a trial, " +
            $"or shrink the {data} or the search space.");
    }
}
