using Microsoft.ML;
using MlNet.Rnn.Scoring;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// What an experiment found: the best run, its fitted model (the pre-featurizer, if any, then the recurrent predictor;
/// saveable with <c>mlContext.Model.Save</c>), its metrics on the validation data, and every run.
/// </summary>
/// <typeparam name="TMetrics">ML.NET's metrics of the task.</typeparam>
public sealed class RecurrentExperimentResult<TMetrics>
    where TMetrics : class
{
    internal RecurrentExperimentResult(RecurrentRunDetail bestRun, IReadOnlyList<RecurrentRunDetail> runDetails, ITransformer model,
        RecurrentPredictionTransformer predictor, TMetrics? validationMetrics, bool refitOnAllData, bool cancelled, TimeSpan searchTime)
    {
        BestRun = bestRun;
        RunDetails = runDetails;
        Model = model;
        Predictor = predictor;
        ValidationMetrics = validationMetrics;
        RefitOnAllData = refitOnAllData;
        Cancelled = cancelled;
        SearchTime = searchTime;
    }

    /// <summary>The run with the best optimizing metric.</summary>
    public RecurrentRunDetail BestRun { get; }

    /// <summary>Every run, by trial id, as it ended.</summary>
    public IReadOnlyList<RecurrentRunDetail> RunDetails { get; }

    /// <summary>Every run that trained at least one epoch and did not diverge, best first.</summary>
    public IReadOnlyList<RecurrentRunDetail> Leaderboard => RecurrentExperimentRanking.Rank(RunDetails);

    /// <summary>The best run's model on the experiment's input columns: the fitted pre-featurizer (if given) followed by <see cref="Predictor"/>.</summary>
    public ITransformer Model { get; }

    /// <summary>The best run's recurrent predictor, with its best epoch's weights (or the refit's).</summary>
    public RecurrentPredictionTransformer Predictor { get; }

    /// <summary>ML.NET's metrics of the best run on the validation data, before any refit; null with cross-validation.</summary>
    public TMetrics? ValidationMetrics { get; }

    /// <summary>Whether <see cref="Model"/> was trained again on all data (always, with cross-validation).</summary>
    public bool RefitOnAllData { get; }

    /// <summary>Whether the caller's cancellation ended the search (the result holds the best run so far).</summary>
    public bool Cancelled { get; }

    /// <summary>Time from the start of <c>Execute</c> to the end of the search (before any refit and evaluation).</summary>
    public TimeSpan SearchTime { get; }
}
