using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML;

namespace MlNet.Rnn.Examples.DefaultsSuite;

/// <summary>A character language model of Moby-Dick by the default LSTM, against unigram and bigram add-one character models.</summary>
internal static partial class MobyDickTask
{
    private const char End = '\uFFFF', Start = '\uFFFE', Unknown = '\uFFFD';

    /// <summary>The task's split: the book's paragraphs in order, the first 90% of the characters to train, the rest to test.</summary>
    public static (string[] Train, string[] Test) Split()
    {
        string book = File.ReadAllText(DataCache.File("moby-dick", "data.txt")).ReplaceLineEndings("\n");
        string[] paragraphs = [.. Paragraphs().Split(book).Where(p => p.Length > 0)];
        long total = paragraphs.Sum(p => (long)p.Length), cumulative = 0;
        int split = 0;
        while (split < paragraphs.Length && cumulative < total * 9 / 10) cumulative += paragraphs[split++].Length;
        return (paragraphs[..split], paragraphs[split..]);
    }

    public static IReadOnlyList<TaskResult> Run(int seeds)
    {
        var (train, test) = Split();
        long cumulative = train.Sum(p => (long)p.Length), total = cumulative + test.Sum(p => (long)p.Length);
        string[] paragraphs = [.. train, .. test];
        long testTokens = test.Sum(p => (long)p.Length + 1);
        Console.WriteLine($"moby-dick: {paragraphs.Length:N0} paragraphs, {train.Length:N0} training ({cumulative:N0} characters), {test.Length:N0} test ({total - cumulative:N0} characters)");

        var bits = new List<double>();
        var fitSeconds = new List<double>();
        long scoredTokens = 0;
        var clock = new Stopwatch();
        for (int seed = 1; seed <= seeds; seed++)
        {
            var mlContext = new MLContext(seed: seed);
            clock.Restart();
            var model = mlContext.LanguageModeling.Trainers.Lstm().Fit(mlContext.Data.LoadFromEnumerable(train.Select(p => new TextRow { Text = p })));
            fitSeconds.Add(clock.Elapsed.TotalSeconds);
            var metrics = mlContext.LanguageModeling.Evaluate(model.Transform(mlContext.Data.LoadFromEnumerable(test.Select(p => new TextRow { Text = p }))));
            bits.Add(metrics.BitsPerToken);
            scoredTokens = metrics.TokenCount;
            Console.WriteLine($"moby-dick: LanguageModeling Lstm() seed {seed}: {metrics.BitsPerToken:F4} bits per character over {metrics.TokenCount:N0} tokens, fit {fitSeconds[^1]:F1} s");
        }

        // Add-one unigram and bigram models over the training characters, the end of a row and an unknown character.
        var symbols = new HashSet<char>(train.SelectMany(p => p)) { End, Unknown };
        int v = symbols.Count;
        var unigram = new Dictionary<char, long>();
        var bigram = new Dictionary<(char, char), long>();
        var context = new Dictionary<char, long>();
        long count = 0;
        foreach (string paragraph in train)
        {
            char previous = Start;
            foreach (char c in paragraph.Append(End))
            {
                unigram[c] = unigram.GetValueOrDefault(c) + 1;
                bigram[(previous, c)] = bigram.GetValueOrDefault((previous, c)) + 1;
                context[previous] = context.GetValueOrDefault(previous) + 1;
                count++;
                previous = c;
            }
        }
        double unigramBits = 0, bigramBits = 0;
        foreach (string paragraph in test)
        {
            char previous = Start;
            foreach (char raw in paragraph.Append(End))
            {
                char c = symbols.Contains(raw) ? raw : Unknown;
                unigramBits -= Math.Log2((unigram.GetValueOrDefault(c) + 1.0) / (count + v));
                bigramBits -= Math.Log2((bigram.GetValueOrDefault((previous, c)) + 1.0) / (context.GetValueOrDefault(previous) + v));
                previous = c;
            }
        }
        Console.WriteLine($"moby-dick: bits per character: " +
            $"unigram {unigramBits / testTokens:F4}, bigram {bigramBits / testTokens:F4} over {testTokens:N0}");
        return
        [
            new("moby-dick", "`LanguageModeling.Trainers.Lstm()`", train.Length, "bits per character", false, bits,
                [new("unigram add-one", unigramBits / testTokens), new("bigram add-one", bigramBits / testTokens)], fitSeconds.Average(),
                string.Create(CultureInfo.InvariantCulture,
                    $"rows are paragraphs; {cumulative:N0} training characters; {scoredTokens:N0} scored test tokens (baselines {testTokens:N0}: characters + one end per row)")),
        ];
    }

    [GeneratedRegex(@"\n[ \t]*\n\s*")]
    private static partial Regex Paragraphs();
}

/// <summary>A paragraph.</summary>
public sealed class TextRow
{
    public string Text { get; set; } = "";
}
