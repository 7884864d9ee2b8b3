using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML;

namespace MlNet.Rnn.Examples.DefaultsSuite;

/// <summary>Binary text classification: the default LSTM over word keys against FeaturizeText with SDCA and L-BFGS logistic regression.</summary>
internal static partial class TextTasks
{
    public static IReadOnlyList<TaskResult> Sentiment(int seeds)
    {
        var (train, test) = SentimentSplit();
        return Run("sentiment", train, test, seeds);
    }

    /// <summary>The sentiment task's split: the UCI Amazon sentences shuffled with seed 1, the first 800 to train, the other 200 to test.</summary>
    public static (Sentence[] Train, Sentence[] Test) SentimentSplit()
    {
        var sentences = SentimentFile.ReadAmazon();
        new Random(1).Shuffle(sentences);
        return (sentences[..800], sentences[800..]);
    }

    /// <summary>The default LSTM's pipeline over a sentence's word keys.</summary>
    public static IEstimator<ITransformer> Pipeline(MLContext mlContext) =>
        mlContext.Transforms.Text.NormalizeText("Normalized", "Text", keepPunctuations: false)
            .Append(mlContext.Transforms.Text.TokenizeIntoWords("Tokens", "Normalized"))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Tokens"))
            .Append(mlContext.BinaryClassification.Trainers.Lstm(featureColumnName: "Tokens"));

    public static IReadOnlyList<TaskResult> Spam(int seeds)
    {
        var (train, test, duplicates) = SpamCorpus.Read();
        Console.WriteLine($"spam: {train.Length + test.Length:N0} messages ({duplicates} duplicates dropped), {train.Length:N0} train " +
            $"({train.Count(s => s.Label):N0} spam), {test.Length:N0} test ({test.Count(s => s.Label):N0} spam)");
        return Run("spam", train, test, seeds);
    }

    private static TaskResult[] Run(string task, Sentence[] train, Sentence[] test, int seeds)
    {
        var mlContext = new MLContext(seed: 1);
        IDataView trainView = mlContext.Data.LoadFromEnumerable(train), testView = mlContext.Data.LoadFromEnumerable(test);

        var accuracy = new List<double>();
        var auc = new List<double>();
        var f1 = new List<double>();
        var fitSeconds = new List<double>();
        var clock = new Stopwatch();
        for (int seed = 1; seed <= seeds; seed++)
        {
            var seeded = new MLContext(seed: seed);
            clock.Restart();
            var ours = Pipeline(seeded).Fit(seeded.Data.LoadFromEnumerable(train));
            fitSeconds.Add(clock.Elapsed.TotalSeconds);
            var metrics = seeded.BinaryClassification.Evaluate(ours.Transform(seeded.Data.LoadFromEnumerable(test)));
            accuracy.Add(metrics.Accuracy);
            auc.Add(metrics.AreaUnderRocCurve);
            f1.Add(metrics.F1Score);
            Console.WriteLine($"{task}: Lstm() seed {seed}: accuracy {metrics.Accuracy:F4}, AUC {metrics.AreaUnderRocCurve:F4}, fit {fitSeconds[^1]:F1} s");
        }

        clock.Restart();
        var sdca = mlContext.Transforms.Text.FeaturizeText("Features", "Text")
            .Append(mlContext.BinaryClassification.Trainers.SdcaLogisticRegression()).Fit(trainView);
        var sdcaMetrics = mlContext.BinaryClassification.Evaluate(sdca.Transform(testView));
        double sdcaSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var lbfgs = mlContext.Transforms.Text.FeaturizeText("Features", "Text")
            .Append(mlContext.BinaryClassification.Trainers.LbfgsLogisticRegression()).Fit(trainView);
        var lbfgsMetrics = mlContext.BinaryClassification.Evaluate(lbfgs.Transform(testView));
        double lbfgsSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"{task}: SDCA accuracy {sdcaMetrics.Accuracy:F4} AUC {sdcaMetrics.AreaUnderRocCurve:F4} ({sdcaSeconds:F1} s); " +
            $"L-BFGS accuracy {lbfgsMetrics.Accuracy:F4} AUC {lbfgsMetrics.AreaUnderRocCurve:F4} ({lbfgsSeconds:F1} s)");

        const string Trainer = "`BinaryClassification.Trainers.Lstm(featureColumnName: \"Tokens\")`";
        string notes = string.Create(CultureInfo.InvariantCulture,
            $"{test.Length:N0} test rows; F1 ours {f1.Average():F3}, SDCA {sdcaMetrics.F1Score:F3}, L-BFGS {lbfgsMetrics.F1Score:F3}; baselines fit in {sdcaSeconds:F1} / {lbfgsSeconds:F1} s");
        return
        [
            new(task, Trainer, train.Length, "accuracy", true, accuracy,
                [new("FeaturizeText+SDCA-LR", sdcaMetrics.Accuracy), new("FeaturizeText+L-BFGS-LR", lbfgsMetrics.Accuracy)], fitSeconds.Average(), notes),
            new(task, Trainer, train.Length, "AUC", true, auc,
                [new("FeaturizeText+SDCA-LR", sdcaMetrics.AreaUnderRocCurve), new("FeaturizeText+L-BFGS-LR", lbfgsMetrics.AreaUnderRocCurve)], fitSeconds.Average(), "same fits as the row above"),
        ];
    }
}

/// <summary>
/// Reads the SpamAssassin public corpus as fetched by <c>examples/data/fetch.sh spam</c> (a folder per group, one raw message
/// per .txt file named <c>NNNNN.md5.txt</c>): the Subject header and the first 200 words of the body, nothing else of the
/// headers (they name the mailing lists and servers each group came through).
/// </summary>
internal static partial class SpamCorpus
{
    private static readonly string[] s_groups = ["easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"];

    public static (Sentence[] Train, Sentence[] Test, int Duplicates) Read()
    {
        string root = Path.Combine(DataCache.Root(), "spam");
        if (!Directory.Exists(Path.Combine(root, "spam-2")))
            throw new FileNotFoundException($"{Path.GetFullPath(root)} is missing; fetch it first: examples/data/fetch.sh spam");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var train = new List<Sentence>();
        var test = new List<Sentence>();
        int duplicates = 0;
        foreach (string group in s_groups)
            foreach (string path in Directory.GetFiles(Path.Combine(root, group), "*.txt").Order(StringComparer.Ordinal))
            {
                string md5 = Path.GetFileName(path).Split('.')[1];
                if (!seen.Add(md5))
                {
                    duplicates++;
                    continue;
                }
                var message = new Sentence { Text = Text(File.ReadAllText(path, Encoding.Latin1)), Label = group.StartsWith("spam", StringComparison.Ordinal) };
                (int.Parse(md5.AsSpan(0, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) < 0x33 ? test : train).Add(message);
            }
        return ([.. train], [.. test], duplicates);
    }

    private static string Text(string raw)
    {
        raw = raw.ReplaceLineEndings("\n");
        int blank = raw.IndexOf("\n\n", StringComparison.Ordinal);
        string headers = blank < 0 ? raw : raw[..blank], body = blank < 0 ? "" : raw[(blank + 2)..];
        var subject = new StringBuilder();
        bool inSubject = false;
        foreach (string line in headers.Split('\n'))
        {
            if (line.StartsWith("Subject:", StringComparison.OrdinalIgnoreCase))
            {
                inSubject = subject.Length == 0;
                if (inSubject) subject.Append(line.AsSpan("Subject:".Length));
            }
            else if (inSubject && line.Length > 0 && char.IsWhiteSpace(line[0])) subject.Append(' ').Append(line.Trim());
            else inSubject = false;
        }
        body = Tags().Replace(body, " ");
        string words = string.Join(' ', body.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Take(200));
        return Addresses().Replace(subject.ToString().Trim() + "\n" + words, " ");
    }

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tags();

    [GeneratedRegex(@"\S+@\S+")]
    private static partial Regex Addresses();
}
