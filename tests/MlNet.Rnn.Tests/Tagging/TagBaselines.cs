using Microsoft.ML;
using MlNet.Rnn.Core.Tagging;

namespace MlNet.Rnn.Tests.Tagging;

/// <summary>What a tagger must beat: tagging each word by itself, with no context.</summary>
public static class TagBaselines
{
    /// <summary>
    /// Each word's most frequent tag in the training sentences (the overall most frequent tag for a word never seen), applied
    /// to every word of <paramref name="test"/>: the best a per-word lookup table can do.
    /// </summary>
    public static string[][] PerWordLookup(IEnumerable<(string[] Words, string[] Tags)> train, IEnumerable<string[]> test)
    {
        var pairs = train.SelectMany(s => s.Words.Zip(s.Tags)).ToArray();
        string overall = pairs.GroupBy(p => p.Second).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
        var best = pairs.GroupBy(p => p.First).ToDictionary(g => g.Key,
            g => g.GroupBy(p => p.Second).OrderByDescending(t => t.Count()).ThenBy(t => t.Key, StringComparer.Ordinal).First().Key);
        return [.. test.Select(words => words.Select(w => best.GetValueOrDefault(w, overall)).ToArray())];
    }

    /// <summary>The share of tags equal to the gold ones.</summary>
    public static double Accuracy(IEnumerable<string[]> gold, IEnumerable<string[]> predicted) =>
        gold.Zip(predicted).SelectMany(pair => pair.First.Zip(pair.Second)).Average(pair => pair.First == pair.Second ? 1.0 : 0.0);

    /// <summary>A row of gold and predicted tags as text.</summary>
    private sealed class GoldAndPredicted
    {
        public string[] Gold { get; set; } = [];
        public string[] Predicted { get; set; } = [];
    }

    /// <summary>
    /// <c>mlContext.SequenceTagging.Evaluate</c> of <paramref name="predicted"/> tags against <paramref name="gold"/> ones, both
    /// mapped to one key type of <paramref name="tagNames"/> (in that order).
    /// </summary>
    public static TaggingMetrics Evaluate(MLContext mlContext, IEnumerable<string[]> gold, IEnumerable<string[]> predicted, IReadOnlyList<string> tagNames)
    {
        var data = mlContext.Data.LoadFromEnumerable(gold.Zip(predicted, (g, p) => new GoldAndPredicted { Gold = g, Predicted = p }));
        var keyed = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(GoldAndPredicted.Gold),
                keyData: mlContext.Data.LoadFromEnumerable(tagNames.Select(tag => new { Gold = tag })))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("PredictedLabel", nameof(GoldAndPredicted.Predicted),
                keyData: mlContext.Data.LoadFromEnumerable(tagNames.Select(tag => new { Predicted = tag }))))
            .Fit(data).Transform(data);
        return mlContext.SequenceTagging.Evaluate(keyed);
    }
}
