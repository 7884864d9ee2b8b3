using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// A trial's epoch callback (<see cref="TrainerOptions.EpochCallback"/>): after every epoch it keeps a copy of the weights of
/// the best epoch so far (by the experiment's metric, when asked to) and, once the stretch's target epoch is done, tells the
/// training loop to stop. The loop then returns with the weights as they are, so a checkpoint written now continues exactly
/// where an uninterrupted run would be.
/// </summary>
internal sealed class EpochWatch(SequenceModel model, RecurrentExperimentMetric metric, bool keepBestWeights, double bestScore)
{
    private int _target;

    /// <summary>The history of the trainer this watch is the callback of, to count its epochs (including those of a checkpoint).</summary>
    public TrainingHistory? History { get; set; }

    /// <summary>The best score (larger is better) seen, including before this watch.</summary>
    public double BestScore { get; private set; } = bestScore;

    /// <summary>The weights after the best epoch this watch saw; null when no epoch beat the score it started from.</summary>
    public float[]? BestWeights { get; private set; }

    /// <summary>Stops training once <paramref name="targetEpochs"/> epochs are done.</summary>
    public void Arm(int targetEpochs) => _target = targetEpochs;

    /// <summary>The callback: records the epoch's score and says whether the stretch is over.</summary>
    public EpochDecision OnEpoch(EpochReport report)
    {
        double score = RecurrentExperimentRanking.Score(metric, RecurrentExperimentRanking.Value(metric, report));
        if (score > BestScore)
        {
            BestScore = score;
            if (keepBestWeights)
            {
                BestWeights ??= new float[model.Parameters.Count];
                model.Parameters.ReadOnlyValues.CopyTo(BestWeights);
            }
        }
        return (History?.Epochs.Count ?? report.Epoch) >= _target ? EpochDecision.Stop : EpochDecision.Continue;
    }
}
