// The defaults suite of issue 11: each task fits the recurrent trainer called with column names only (no options object,
// nothing tuned) and, on the same split in the same run, the classical baselines; prints a markdown table and, with --out,
// merges its rows into a file (rows of tasks not run this time are kept, so tasks can be run one at a time).
// Fetch the data once:  examples/data/fetch.sh
// Run:                  dotnet run -c Release --project examples/DefaultsSuite -- [task ...] [--seeds N] [--out DEFAULTS.md]   (no task: all)
// --seeds N fits ours with MLContext seeds 1..N (the baselines once, seed 1) and reports the mean, the range and how many seeds win.
// The search-* tasks run a RecurrentExperiments search of --search-seconds S (default 300) on a small task's split, beside the defaults.
// The int8 task (only when named) scores one default model of each kind in float32 and in int8 and prints the change.
using System.Diagnostics;
using System.Globalization;
using MlNet.Rnn.Examples.DefaultsSuite;

var tasks = new (string Name, string Data, Func<int, IReadOnlyList<TaskResult>> Run)[]
{
    ("sentiment", "sentiment", TextTasks.Sentiment),
    ("spam", "spam", TextTasks.Spam),
    ("sunspots", "sunspots", seeds => SeriesTasks.Run("sunspots", "yearly sunspot numbers 1700–2008", SeriesTasks.Sunspots(), season: 11, seeds)),
    ("nile", "nile", seeds => SeriesTasks.Run("nile", "yearly Nile flow 1871–1970", MlNet.Rnn.Examples.StatsmodelsSeries.Nile(), season: null, seeds)),
    ("elnino", "elnino", seeds => SeriesTasks.Run("elnino", "monthly El Niño SST 1950–2010", MlNet.Rnn.Examples.StatsmodelsSeries.ElNino(), season: 12, seeds)),
    ("macro", "macrodata", seeds => SeriesTasks.Run("macro", "quarterly US unemployment rate 1959–2009 (macrodata 'unemp')", MlNet.Rnn.Examples.StatsmodelsSeries.Macro("unemp"), season: 4, seeds)),
    ("fashion-1k", "fashion-mnist", seeds => FashionTask.Run("fashion-1k", 1_000, seeds)),
    ("fashion-20k", "fashion-mnist", seeds => FashionTask.Run("fashion-20k", 20_000, seeds)),
    ("brown-100", "brown", seeds => BrownTask.Run("brown-100", 100, seeds)),
    ("brown-1k", "brown", seeds => BrownTask.Run("brown-1k", 1_000, seeds)),
    ("brown-20k", "brown", seeds => BrownTask.Run("brown-20k", 20_000, seeds)),
    ("numbers-500", "(generated)", seeds => NumbersTask.Run("numbers-500", 500, seeds)),
    ("numbers-20k", "(generated)", seeds => NumbersTask.Run("numbers-20k", 20_000, seeds)),
    ("moby-dick", "moby-dick", MobyDickTask.Run),
    ("stability", "(generated)", StabilityTask.Run),
    ("int8", "sentiment, fashion-mnist, sunspots, brown, moby-dick", Int8Task.Run),
    ("search-brown-100", "brown", _ => SearchTasks.Brown("search-brown-100", 100, SearchSeconds)),
    ("search-fashion-1k", "fashion-mnist", _ => SearchTasks.Fashion("search-fashion-1k", 1_000, SearchSeconds)),
};
string[] names = [.. tasks.Select(t => t.Name)];

string? output = null;
int seeds = 1;
var chosen = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--out" && i + 1 < args.Length) output = args[++i];
    else if (args[i] == "--seeds" && i + 1 < args.Length && int.TryParse(args[i + 1], out seeds) && seeds >= 1) i++;
    else if (args[i] == "--search-seconds" && i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out double budget) && budget > 0)
    {
        SearchSeconds = budget;
        i++;
    }
    else if (names.Contains(args[i])) chosen.Add(args[i]);
    else
    {
        Console.Error.WriteLine($"unknown argument '{args[i]}'; tasks: {string.Join(' ', names)}; options: --out FILE, --seeds N (ours fitted with MLContext seeds 1..N; default 1), --search-seconds S (the search tasks' budget; default 300)");
        return 2;
    }
}
if (chosen.Count == 0) chosen.AddRange(names.Where(name => name != "int8")); // int8 compares precisions, not the defaults with a baseline

var rows = new List<TableRow>();
foreach (var task in tasks.Where(t => chosen.Contains(t.Name)))
{
    Console.WriteLine($"== {task.Name} ({DateTime.UtcNow:HH:mm:ss} UTC)");
    var clock = Stopwatch.StartNew();
    try
    {
        var results = task.Run(seeds);
        double wall = clock.Elapsed.TotalSeconds;
        foreach (var result in results)
        {
            var row = TableRow.From(result, wall);
            rows.Add(row);
            Console.WriteLine(row.Markdown);
        }
    }
    catch (FileNotFoundException missing)
    {
        rows.Add(TableRow.NotRun(task.Name, $"not run: data set absent ({missing.Message})"));
        Console.WriteLine(rows[^1].Markdown);
    }
    catch (Exception failure)
    {
        Console.WriteLine(failure);
        string message = failure.Message.ReplaceLineEndings(" ").Replace("|", "/", StringComparison.Ordinal);
        rows.Add(TableRow.NotRun(task.Name, $"FAILED after {clock.Elapsed.TotalSeconds:F0} s: {failure.GetType().Name}: {message}"));
        Console.WriteLine(rows[^1].Markdown);
    }
    Console.WriteLine($"== {task.Name}: wall time {clock.Elapsed.TotalSeconds:F1} s");
}

Console.WriteLine();
Console.WriteLine(TableRow.Header);
foreach (var row in rows) Console.WriteLine(row.Markdown);
if (output is not null)
{
    DefaultsFile.Merge(output, rows, [.. names.Where(name => name != "int8")], chosen, seeds); // int8 writes no row of its own
    Console.WriteLine($"merged {rows.Count} rows into {Path.GetFullPath(output)}");
}
return 0;

/// <summary>One line of the markdown table, keyed by task and trainer/metric so a later run replaces it.</summary>
internal sealed record TableRow(string Task, string Markdown)
{
    public const string Header =
        "| task | ours (defaults) | training rows | metric | ours | baselines | beats every baseline | fit s (ours) | task wall s | notes |\n" +
        "|---|---|---:|---|---:|---|---|---:|---:|---|";

    public static TableRow From(TaskResult r, double wallSeconds)
    {
        string Format(double value) => value.ToString(Math.Abs(value) >= 100 ? "F1" : "F4", CultureInfo.InvariantCulture);
        string baselines = string.Join("; ", r.Baselines.Select(b => $"{b.Name} {Format(b.Value)}"));
        var best = r.BestBaseline;
        double gap = r.Ours - best.Value;
        string seedsWon = r.OursBySeed.Count > 1 ? $"; {r.SeedsBeatingEveryBaseline} of {r.OursBySeed.Count} seeds win" : "";
        string verdict = r.BeatsEveryBaseline
            ? $"yes (by {Format(Math.Abs(gap))} over {best.Name}{seedsWon})"
            : gap == 0 ? $"**no** (ties {best.Name}{seedsWon})"
            : $"**no** ({(r.HigherIsBetter ? "below" : "above")} {best.Name} by {Format(Math.Abs(gap))}{seedsWon})";
        string ours = r.OursBySeed.Count > 1
            ? $"{Format(r.Ours)} ({Format(r.OursBySeed.Min())}–{Format(r.OursBySeed.Max())}, {r.OursBySeed.Count} seeds)"
            : Format(r.Ours);
        return new(r.Task, string.Create(CultureInfo.InvariantCulture,
            $"| {r.Task} | {r.Trainer} | {r.TrainingRows:N0} | {r.Metric} | {ours} | {baselines} | {verdict} | {r.FitSeconds:F1} | {wallSeconds:F0} | {r.Notes} |"));
    }

    public static TableRow NotRun(string task, string reason) => new(task, $"| {task} | — | — | — | — | — | — | — | — | {reason} |");
}

/// <summary>Constants of the suite.</summary>
internal static partial class Program
{
    /// <summary>The time budget of the search tasks (<c>--search-seconds</c>): 5 minutes unless set.</summary>
    public static double SearchSeconds { get; private set; } = 300;
}
