using MlNet.Rnn.Experiments;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>
/// Successive halving on scripted trials whose scores are fixed: the rungs, and the exact order of jobs (which trial trains to
/// which rung's epochs) written out by hand from the rule in <see cref="SuccessiveHalving{TTrial}"/>'s documentation.
/// </summary>
public sealed class SuccessiveHalvingTests
{
    private sealed class ScriptedTrial(int id, double score) : IRungTrial
    {
        public int Id { get; } = id;

        public double Score { get; } = score;

        public RecurrentTrialStatus Status { get; set; } = RecurrentTrialStatus.Paused;

        public int Epochs { get; set; }

        public int Rung { get; set; } = -1;
    }

    /// <summary>Runs a search over trials scored by <paramref name="scores"/> (trial id i scores scores[i − 1]); returns the jobs as (trial, epochs).</summary>
    private static List<(int Trial, int Epochs)> Jobs(SuccessiveHalving<ScriptedTrial> halving, double[] scores, int maxTrials,
        Func<ScriptedTrial, int, bool>? advance = null, CancellationToken budget = default, List<int>? reported = null)
    {
        var jobs = new List<(int, int)>();
        halving.Search([], id => new ScriptedTrial(id, scores[id - 1]), maxTrials, (trial, epochs) =>
        {
            jobs.Add((trial.Id, epochs));
            if (advance is not null) return advance(trial, epochs);
            trial.Epochs = epochs;
            if (epochs == halving.Rungs[^1]) trial.Status = RecurrentTrialStatus.Completed;
            return true;
        }, trial => reported?.Add(trial.Id), budget);
        return jobs;
    }

    [Theory]
    [InlineData(1, 10, 3, new[] { 1, 3, 10 })]
    [InlineData(1, 9, 3, new[] { 1, 3, 9 })]
    [InlineData(1, 27, 3, new[] { 1, 3, 9, 27 })]
    [InlineData(2, 10, 3, new[] { 3, 10 })]
    [InlineData(3, 9, 3, new[] { 3, 9 })]
    [InlineData(1, 8, 2, new[] { 1, 2, 4, 8 })]
    [InlineData(1, 1, 3, new[] { 1 })]
    [InlineData(5, 3, 3, new[] { 3 })]
    public void RungsAreTheEpochsDividedByEtaDownToTheMinimum(int minimum, int maximum, int eta, int[] rungs) =>
        Assert.Equal(rungs, new SuccessiveHalving<ScriptedTrial>(minimum, maximum, eta).Rungs);

    [Fact]
    public void TheTopThirdOfEachRungIsPromotedBeforeANewTrialStarts()
    {
        // η 3, rungs 1, 3, 9; trial 2 is the best, then 5, 6, 8, 1, 9, 4, 7, 3.
        double[] scores = [0.5, 0.9, 0.1, 0.3, 0.8, 0.7, 0.2, 0.6, 0.4];
        var reported = new List<int>();
        var jobs = Jobs(new SuccessiveHalving<ScriptedTrial>(1, 9, 3), scores, maxTrials: 9, reported: reported);

        // Three trials in rung 0 let its best (2) go on; six let the second (5) go; nine the third (6), and then rung 1 holds
        // three, so its best (2) goes to the last rung. Nothing is left to promote and no trial may start: the search ends.
        (int, int)[] expected = [(1, 1), (2, 1), (3, 1), (2, 3), (4, 1), (5, 1), (6, 1), (5, 3), (7, 1), (8, 1), (9, 1), (6, 3), (2, 9)];
        Assert.Equal(expected, jobs);
        Assert.Equal(expected.Select(job => job.Item1), reported);
    }

    [Fact]
    public void WhenNoTrialMayStart_TheLeaderOfEachRungClimbsToTheLast()
    {
        double[] scores = [0.5, 0.9];
        Assert.Equal([(1, 1), (2, 1), (2, 3), (2, 9)], Jobs(new SuccessiveHalving<ScriptedTrial>(1, 9, 3), scores, maxTrials: 2));
        // One trial: it trains rung by rung to the end.
        Assert.Equal([(1, 1), (1, 3), (1, 9)], Jobs(new SuccessiveHalving<ScriptedTrial>(1, 9, 3), [0.1], maxTrials: 1));
    }

    [Fact]
    public void ATrialThatStoppedIsNeverPromoted()
    {
        // Trial 2 leads rung 0 but stopped early after its first stretch: neither the top third nor the last promotion takes it.
        double[] scores = [0.5, 0.9, 0.1];
        var jobs = Jobs(new SuccessiveHalving<ScriptedTrial>(1, 9, 3), scores, maxTrials: 3, advance: (trial, epochs) =>
        {
            trial.Epochs = epochs;
            if (trial.Id == 2) trial.Status = RecurrentTrialStatus.EarlyStopped;
            return true;
        });
        Assert.Equal([(1, 1), (2, 1), (3, 1)], jobs);
    }

    [Fact]
    public void AStretchTheBudgetCutEndsTheSearchUnrecorded_AndACancelledBudgetStartsNothing()
    {
        var halving = new SuccessiveHalving<ScriptedTrial>(1, 9, 3);
        var trials = new List<ScriptedTrial>();
        var reported = new List<int>();
        halving.Search(trials, id => new ScriptedTrial(id, id), 9, (trial, epochs) =>
        {
            trial.Epochs = epochs;
            return trial.Id < 2;
        }, trial => reported.Add(trial.Id), default);
        Assert.Equal([1, 2], reported); // the cut stretch is still reported
        Assert.Equal([0, -1], trials.Select(trial => trial.Rung));

        using var spent = new CancellationTokenSource();
        spent.Cancel();
        Assert.Empty(Jobs(new SuccessiveHalving<ScriptedTrial>(1, 9, 3), [0.5], maxTrials: 9, budget: spent.Token));

        // The budget running out during a stretch that finished: the stretch counts, and no other job starts.
        using var budget = new CancellationTokenSource();
        var jobs = Jobs(new SuccessiveHalving<ScriptedTrial>(1, 9, 3), [0.5, 0.6, 0.7], maxTrials: 9, advance: (trial, epochs) =>
        {
            trial.Epochs = epochs;
            if (trial.Id == 2) budget.Cancel();
            return true;
        }, budget: budget.Token);
        Assert.Equal([(1, 1), (2, 1)], jobs);
    }

    [Fact]
    public void ATrialIsRecordedInEveryRungItsEpochsReach_AndInNoneItFellShortOf()
    {
        var halving = new SuccessiveHalving<ScriptedTrial>(1, 9, 3);
        // A trial that trained 3 epochs at once reached rungs 0 and 1; it counts among rung 0's trials too.
        var jumper = new ScriptedTrial(1, 0.5) { Epochs = 3 };
        halving.Record(jumper);
        Assert.Equal(1, jumper.Rung);
        var best = new ScriptedTrial(2, 0.9) { Epochs = 1 };
        var third = new ScriptedTrial(3, 0.1) { Epochs = 1 };
        halving.Record(best);
        halving.Record(third);
        Assert.Equal((best, 1), halving.NextPromotion()!.Value); // rung 0 holds three trials, so its best goes on

        // A trial that stopped at 2 epochs, short of rung 1's 3, stays in rung 0.
        var stopped = new ScriptedTrial(4, 0.2) { Epochs = 1 };
        halving.Record(stopped);
        stopped.Epochs = 2;
        halving.Record(stopped);
        Assert.Equal(0, stopped.Rung);
        best.Epochs = 3;
        halving.Record(best);
        Assert.Equal(1, best.Rung);
        // Rung 1 holds the jumper and the best, whose leader (best) waits there; rung 0's top third (best) moved on.
        Assert.Null(halving.NextPromotion());
        Assert.Equal((best, 2), halving.LastPromotion()!.Value);
        best.Epochs = 9;
        halving.Record(best);
        Assert.Equal(2, best.Rung);
        Assert.Null(halving.LastPromotion());
    }

    [Fact]
    public void EqualScoresAreRankedByTrialId()
    {
        // Three equal trials in rung 0: the top third is the first of them.
        Assert.Equal([(1, 1), (2, 1), (3, 1), (1, 3), (1, 9)], Jobs(new SuccessiveHalving<ScriptedTrial>(1, 9, 3), [0.5, 0.5, 0.5], maxTrials: 3));
    }
}
