using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Experiments;

/// <summary>Which direction each metric improves in, and the leaderboard order.</summary>
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
}
