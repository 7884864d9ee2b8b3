using Microsoft.Extensions.Logging;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// The logger a trial's <see cref="SequenceTrainer"/> reports to. The trainer logs each epoch right after adding it to its
/// history; the watch then keeps a copy of the weights of the best epoch so far (by the experiment's metric, when asked
/// to) and, once the stretch's target epoch is done, cancels the stretch's token. The trainer checks the token before its
/// next batch, that is before any change to the model, so it can save a checkpoint from which training continues exactly
/// where an uninterrupted run would be.
/// </summary>
internal sealed class EpochWatch(SequenceModel model, RecurrentExperimentMetric metric, bool keepBestWeights, double bestScore, ILogger? forward) : ILogger
{
    private int _seen, _target;
    private CancellationTokenSource? _stretch;
    private TrainingHistory? _history;

    /// <summary>The history of the trainer that reports here; epochs already in it (from a checkpoint) are not looked at again.</summary>
    public TrainingHistory? History
    {
        get => _history;
        set
        {
            _history = value;
            _seen = value?.Epochs.Count ?? 0;
        }
    }

    /// <summary>The best score (larger is better) seen, including before this watch.</summary>
    public double BestScore { get; private set; } = bestScore;

    /// <summary>The weights after the best epoch this watch saw; null when no epoch beat the score it started from.</summary>
    public float[]? BestWeights { get; private set; }

    /// <summary>Cancels <paramref name="stretch"/> once <paramref name="targetEpochs"/> epochs are done; null disarms.</summary>
    public void Arm(CancellationTokenSource? stretch, int targetEpochs)
    {
        _stretch = stretch;
        _target = targetEpochs;
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var epochs = _history?.Epochs;
        while (epochs is not null && _seen < epochs.Count)
        {
            double score = RecurrentExperimentRanking.Score(metric, RecurrentExperimentRanking.Value(metric, epochs[_seen++]));
            if (score > BestScore)
            {
                BestScore = score;
                if (!keepBestWeights) continue;
                BestWeights ??= new float[model.Parameters.Count];
                model.Parameters.Values.CopyTo(BestWeights);
            }
        }
        if (epochs is not null && epochs.Count >= _target) _stretch?.Cancel();
        forward?.Log(logLevel == LogLevel.Information ? LogLevel.Debug : logLevel, eventId, state, exception, formatter);
    }
}
