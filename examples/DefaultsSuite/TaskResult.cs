namespace MlNet.Rnn.Examples.DefaultsSuite;

/// <summary>A baseline's score on the task's metric.</summary>
public sealed record Score(string Name, double Value);

/// <summary>One row of the table: our trainer with its defaults against every baseline, on one metric of one task.</summary>
public sealed record TaskResult(string Task, string Trainer, int TrainingRows, string Metric, bool HigherIsBetter, double Ours,
    IReadOnlyList<Score> Baselines, double FitSeconds, string Notes)
{
    /// <summary>Whether ours is strictly better than every baseline.</summary>
    public bool BeatsEveryBaseline => Baselines.All(b => HigherIsBetter ? Ours > b.Value : Ours < b.Value);

    /// <summary>The best baseline.</summary>
    public Score BestBaseline => HigherIsBetter ? Baselines.MaxBy(b => b.Value)! : Baselines.MinBy(b => b.Value)!;
}
