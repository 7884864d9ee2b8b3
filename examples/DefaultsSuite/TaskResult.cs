namespace MlNet.Rnn.Examples.DefaultsSuite;

/// <summary>A baseline's score on the task's metric.</summary>
public sealed record Score(string Name, double Value);

/// <summary>
/// One row of the table: our trainer with its defaults against every baseline, on one metric of one task. Ours is fitted once
/// per seed (MLContext seeds 1, 2, …); its score is the mean over the seeds.
/// </summary>
public sealed record TaskResult(string Task, string Trainer, int TrainingRows, string Metric, bool HigherIsBetter, IReadOnlyList<double> OursBySeed,
    IReadOnlyList<Score> Baselines, double FitSeconds, string Notes)
{
    /// <summary>The mean over the seeds.</summary>
    public double Ours => OursBySeed.Average();

    /// <summary>Whether ours (the mean over the seeds) is strictly better than every baseline.</summary>
    public bool BeatsEveryBaseline => Beats(Ours);

    /// <summary>How many seeds alone beat every baseline.</summary>
    public int SeedsBeatingEveryBaseline => OursBySeed.Count(Beats);

    /// <summary>The best baseline.</summary>
    public Score BestBaseline => HigherIsBetter ? Baselines.MaxBy(b => b.Value)! : Baselines.MinBy(b => b.Value)!;

    private bool Beats(double ours) => Baselines.All(b => HigherIsBetter ? ours > b.Value : ours < b.Value);
}
