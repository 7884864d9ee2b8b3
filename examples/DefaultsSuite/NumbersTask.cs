using System.Diagnostics;
using System.Globalization;
using Humanizer;
using Microsoft.ML;

namespace MlNet.Rnn.Examples.DefaultsSuite;

/// <summary>Numbers → English words by the default LSTM encoder–decoder, against the words of the nearest training number.</summary>
internal static class NumbersTask
{
    private const int MostTrainingPairs = 20_000, TestPairs = 1_000;

    public static IReadOnlyList<TaskResult> Run(string task, int trainingPairs, int seeds)
    {
        // As examples/NumbersToWords: digit count uniform in 1–9, then a uniform number of that many digits; distinct numbers.
        var random = new Random(1);
        var seen = new HashSet<int>();
        var numbers = new List<int>();
        while (numbers.Count < MostTrainingPairs + TestPairs)
        {
            int digits = random.Next(1, 10), low = digits == 1 ? 0 : (int)Math.Pow(10, digits - 1);
            int number = random.Next(low, (int)Math.Pow(10, digits));
            if (seen.Add(number)) numbers.Add(number);
        }
        var english = CultureInfo.GetCultureInfo("en-US");
        PairRow Row(int n) => new() { Digits = n.ToString(CultureInfo.InvariantCulture), Words = n.ToWords(english).Replace("-", " - ", StringComparison.Ordinal).Split(' ') };
        PairRow[] train = [.. numbers.Take(trainingPairs).Select(Row)], test = [.. numbers.TakeLast(TestPairs).Select(Row)];
        Console.WriteLine($"{task}: {train.Length:N0} training pairs, {test.Length:N0} held-out (disjoint)");

        var predictions = new List<string[][]>();
        var fitSeconds = new List<double>();
        var clock = new Stopwatch();
        for (int seed = 1; seed <= seeds; seed++)
        {
            var mlContext = new MLContext(seed: seed);
            clock.Restart();
            var model = mlContext.Transforms.Text.TokenizeIntoCharactersAsKeys("Features", nameof(PairRow.Digits), useMarkerCharacters: false)
                .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(PairRow.Words)))
                .Append(mlContext.SequenceToSequence.Trainers.Lstm())
                .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedWords", "PredictedLabel"))
                .Fit(mlContext.Data.LoadFromEnumerable(train));
            fitSeconds.Add(clock.Elapsed.TotalSeconds);
            predictions.Add([.. mlContext.Data.CreateEnumerable<PairPrediction>(model.Transform(mlContext.Data.LoadFromEnumerable(test)), reuseRowObject: false)
                .Select(p => p.PredictedWords)]);
            Console.WriteLine($"{task}: SequenceToSequence Lstm() seed {seed}: fit {fitSeconds[^1]:F1} s");
        }
        string[][] predicted = predictions[0];

        int[] sorted = [.. numbers.Take(trainingPairs).Order()];
        string[][] nearest = [.. test.Select(row =>
        {
            int n = int.Parse(row.Digits, CultureInfo.InvariantCulture), at = Array.BinarySearch(sorted, n);
            if (at < 0) at = ~at;
            int best = at == 0 ? sorted[0] : at == sorted.Length ? sorted[^1] : n - sorted[at - 1] <= sorted[at] - n ? sorted[at - 1] : sorted[at];
            return Row(best).Words;
        })];
        double Exact(string[][] guesses) => test.Zip(guesses).Average(p => p.First.Words.SequenceEqual(p.Second) ? 1.0 : 0.0);
        double Tokens(string[][] guesses) => (double)test.Zip(guesses).Sum(p => p.First.Words.Zip(p.Second).Count(w => w.First == w.Second)) / test.Sum(r => r.Words.Length);
        Console.WriteLine($"{task}: exact match SequenceToSequence Lstm() {string.Join(" ", predictions.Select(p => Exact(p).ToString("F4", CultureInfo.InvariantCulture)))}, " +
            $"nearest training number {Exact(nearest):F4}; token accuracy {string.Join(" ", predictions.Select(p => Tokens(p).ToString("F4", CultureInfo.InvariantCulture)))} vs {Tokens(nearest):F4}");
        for (int i = 0; i < 3; i++) Console.WriteLine($"  {test[i].Digits} → {string.Join(' ', predicted[i])}");
        return
        [
            new(task, "`SequenceToSequence.Trainers.Lstm()`", train.Length, "exact match", true, [.. predictions.Select(Exact)], [new("nearest training number", Exact(nearest))], fitSeconds.Average(),
                string.Create(CultureInfo.InvariantCulture,
                    $"{TestPairs:N0} held-out numbers; the baseline's 0 is by construction (no held-out number is in training), see the next row; e.g. (seed 1) {test[0].Digits} → \"{string.Join(' ', predicted[0])}\"")),
            new(task, "`SequenceToSequence.Trainers.Lstm()`", train.Length, "token accuracy", true, [.. predictions.Select(Tokens)], [new("nearest training number", Tokens(nearest))], fitSeconds.Average(),
                "same fit; the i-th predicted word against the i-th expected word, over every expected word"),
        ];
    }
}

/// <summary>A number's digits and its words.</summary>
public sealed class PairRow
{
    public string Digits { get; set; } = "";

    public string[] Words { get; set; } = [];
}

/// <summary>The predicted words of a number.</summary>
public sealed class PairPrediction
{
    public string[] PredictedWords { get; set; } = [];
}
