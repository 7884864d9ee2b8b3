namespace MlNet.Rnn.Experiments;

/// <summary>
/// Asynchronous successive halving (ASHA; Li et al., 2020), run one stretch at a time. Rung k trains to
/// <see cref="Rungs"/>[k] epochs: ⌊max/η^(K−1−k)⌋ ≥ the first rung's epochs, up to max, the most the trainer options allow (max 10, η 3: 1, 3, 10).
/// Next job: the best trial in the top ⌊n_k/η⌋ of a rung that has not moved on, highest rung first; else a new trial; when
/// no new trial may start, the leader of a rung that has not moved on. Ties break by trial id, so the order of jobs depends
/// on the seed and the metrics only, never on timing.
/// </summary>
internal sealed class SuccessiveHalving<TTrial>
    where TTrial : class, IRungTrial
{
    private readonly int _reductionFactor;
    private readonly List<TTrial>[] _finishedRung;

    public SuccessiveHalving(int minimumEpochs, int maximumEpochs, int reductionFactor)
    {
        _reductionFactor = reductionFactor;
        var rungs = new List<int>();
        for (double epochs = maximumEpochs; epochs >= minimumEpochs; epochs /= reductionFactor) rungs.Insert(0, (int)Math.Floor(epochs + 1e-9));
        if (rungs.Count == 0) rungs.Add(maximumEpochs);
        Rungs = rungs.Distinct().ToArray();
        _finishedRung = Rungs.Select(_ => new List<TTrial>()).ToArray();
    }

    /// <summary>Epochs of each rung, increasing; the last is the trainer options' epochs.</summary>
    public IReadOnlyList<int> Rungs { get; }

    /// <summary>
    /// The search every experiment runs, until <paramref name="budget"/> is cancelled or no job is left: the next promotion,
    /// else a new trial from <paramref name="sample"/> (its id, 1-based), added to <paramref name="trials"/>, while fewer than
    /// <paramref name="maxTrials"/> exist,
    /// else the last promotion; <paramref name="advance"/> trains the trial to the rung's epochs and says whether the stretch
    /// finished (false: the budget cut it, which ends the search); <paramref name="report"/> hears each stretch.
    /// </summary>
    public void Search(List<TTrial> trials, Func<int, TTrial> sample, int maxTrials, Func<TTrial, int, bool> advance, Action<TTrial> report,
        CancellationToken budget)
    {
        while (!budget.IsCancellationRequested)
        {
            var job = NextPromotion();
            if (job is null && trials.Count < maxTrials)
            {
                trials.Add(sample(trials.Count + 1));
                job = (trials[^1], 0);
            }
            job ??= LastPromotion();
            if (job is null) break;
            var (trial, rung) = job.Value;
            bool whole = advance(trial, Rungs[rung]);
            if (whole) Record(trial);
            report(trial);
            if (!whole) break;
        }
    }

    /// <summary>Notes that <paramref name="trial"/> finished a stretch: it reached the rung whose epochs it has trained.</summary>
    public void Record(TTrial trial)
    {
        for (int k = Rungs.Count - 1; k > trial.Rung; k--)
        {
            if (trial.Epochs < Rungs[k]) continue;
            for (int j = trial.Rung + 1; j <= k; j++) _finishedRung[j].Add(trial);
            trial.Rung = k;
            break;
        }
    }

    /// <summary>A paused trial in the top 1/η of its rung, highest rung first, and the rung it goes to; null when none.</summary>
    public (TTrial Trial, int Rung)? NextPromotion()
    {
        for (int k = Rungs.Count - 2; k >= 0; k--)
        {
            var ranked = Ranked(_finishedRung[k]);
            int top = ranked.Count / _reductionFactor;
            foreach (var trial in ranked.Take(top))
                if (trial.Status == RecurrentTrialStatus.Paused && trial.Rung == k) return (trial, k + 1);
        }
        return null;
    }

    /// <summary>
    /// When no new trial may start: the leader of the highest rung whose leader still waits there, so the best trial reaches
    /// the last rung even when a rung holds fewer than η trials; the others stay stopped. Null when every leader has moved on.
    /// </summary>
    public (TTrial Trial, int Rung)? LastPromotion()
    {
        for (int k = Rungs.Count - 2; k >= 0; k--)
        {
            var ranked = Ranked(_finishedRung[k]);
            if (ranked.Count > 0 && ranked[0].Status == RecurrentTrialStatus.Paused && ranked[0].Rung == k) return (ranked[0], k + 1);
        }
        return null;
    }

    private static List<TTrial> Ranked(List<TTrial> trials) =>
        trials.OrderByDescending(trial => trial.Score).ThenBy(trial => trial.Id).ToList();
}

/// <summary>What <see cref="SuccessiveHalving{TTrial}"/> needs of a trial: its id, score (larger is better), status, epochs and rung.</summary>
internal interface IRungTrial
{
    int Id { get; }

    double Score { get; }

    RecurrentTrialStatus Status { get; }

    int Epochs { get; }

    /// <summary>The highest rung this trial reached; −1 before its first stretch.</summary>
    int Rung { get; set; }
}
