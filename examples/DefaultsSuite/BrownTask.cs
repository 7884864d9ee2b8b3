using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;

namespace MlNet.Rnn.Examples.DefaultsSuite;

/// <summary>Part-of-speech tagging of Brown sentences by the default LSTM tagger, against each word's most frequent training tag.</summary>
internal static class BrownTask
{
    private const int TestSentences = 2_000;

    /// <summary>The task's split: Brown sentences shuffled with <c>new Random(1)</c>, the first ones for training, the last 2,000 for testing.</summary>
    public static (TagRow[] Train, TagRow[] Test) Split(int trainingSentences)
    {
        var sentences = BrownCorpus.Read(BrownCorpus.Folder());
        new Random(1).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sentences));
        TagRow[] Rows(IEnumerable<TaggedSentence> part) => [.. part.Select(s => new TagRow { Words = s.Words, Tags = s.Tags })];
        return (Rows(sentences.Take(trainingSentences)), Rows(sentences.TakeLast(TestSentences)));
    }

    /// <summary>The words as the features' keys, the tags as the label's: what every tagger of the task reads.</summary>
    public static IEstimator<ITransformer> Keys(MLContext mlContext) =>
        mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(TagRow.Words))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TagRow.Tags)));

    /// <summary>The share of the test tokens a model's predicted tags (its "PredictedLabel" keys) get right.</summary>
    public static double TokenAccuracy(MLContext mlContext, ITransformer model, TagRow[] test)
    {
        var scored = model.Transform(mlContext.Data.LoadFromEnumerable(test));
        var tags = mlContext.Transforms.Conversion.MapKeyToValue("PredictedTags", "PredictedLabel").Fit(scored).Transform(scored);
        var predicted = mlContext.Data.CreateEnumerable<TagPrediction>(tags, reuseRowObject: false).ToArray();
        long correct = 0, tokens = 0;
        for (int s = 0; s < test.Length; s++)
            for (int i = 0; i < test[s].Tags.Length; i++, tokens++)
                if (i < predicted[s].PredictedTags.Length && predicted[s].PredictedTags[i] == test[s].Tags[i]) correct++;
        return (double)correct / tokens;
    }

    /// <summary>
    /// The unigram tagger: each word's most frequent training tag (ties: the first in ordinal order), and the most frequent
    /// tag, for unknown words.
    /// </summary>
    public static (Dictionary<string, string> Best, string MostFrequent) UnigramTagger(TagRow[] train) =>
        (train.SelectMany(s => s.Words.Zip(s.Tags)).GroupBy(p => p.First, StringComparer.Ordinal).ToDictionary(g => g.Key,
            g => g.CountBy(p => p.Second).OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).First().Key, StringComparer.Ordinal),
         train.SelectMany(s => s.Tags).CountBy(t => t).OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).First().Key);

    public static IReadOnlyList<TaskResult> Run(string task, int trainingSentences, int seeds)
    {
        var (train, test) = Split(trainingSentences);
        long testTokens = test.Sum(s => s.Words.Length);
        Console.WriteLine($"{task}: {train.Length:N0} training sentences ({train.Sum(s => s.Words.Length):N0} tokens), {test.Length:N0} test ({testTokens:N0} tokens)");

        var accuracies = new List<double>();
        var unknownAccuracies = new List<double>();
        var fitSeconds = new List<double>();
        var clock = new Stopwatch();
        var (best, mostFrequent) = UnigramTagger(train);
        for (int seed = 1; seed <= seeds; seed++)
        {
            var mlContext = new MLContext(seed: seed);
            clock.Restart();
            var model = Keys(mlContext)
                .Append(mlContext.SequenceTagging.Trainers.Lstm())
                .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedTags", "PredictedLabel"))
                .Fit(mlContext.Data.LoadFromEnumerable(train));
            fitSeconds.Add(clock.Elapsed.TotalSeconds);
            var predicted = mlContext.Data.CreateEnumerable<TagPrediction>(model.Transform(mlContext.Data.LoadFromEnumerable(test)), reuseRowObject: false).ToArray();
            long correct = 0, unknownCorrect = 0, unknownTokens = 0;
            for (int s = 0; s < test.Length; s++)
                for (int i = 0; i < test[s].Tags.Length; i++)
                {
                    bool right = i < predicted[s].PredictedTags.Length && predicted[s].PredictedTags[i] == test[s].Tags[i];
                    if (right) correct++;
                    if (best.ContainsKey(test[s].Words[i])) continue;
                    unknownTokens++;
                    if (right) unknownCorrect++;
                }
            accuracies.Add((double)correct / testTokens);
            unknownAccuracies.Add(unknownTokens == 0 ? 0 : (double)unknownCorrect / unknownTokens);
            Console.WriteLine($"{task}: SequenceTagging Lstm() seed {seed}: token accuracy {accuracies[^1]:F4}, fit {fitSeconds[^1]:F1} s");
        }

        long unigramCorrect = 0, unknown = 0, unigramUnknownCorrect = 0;
        for (int s = 0; s < test.Length; s++)
            for (int i = 0; i < test[s].Words.Length; i++)
            {
                bool known = best.TryGetValue(test[s].Words[i], out string? tag);
                bool right = (known ? tag : mostFrequent) == test[s].Tags[i];
                if (right) unigramCorrect++;
                if (known) continue;
                unknown++;
                if (right) unigramUnknownCorrect++;
            }
        double unigram = (double)unigramCorrect / testTokens;
        Console.WriteLine($"{task}: most frequent tag per word {unigram:F4}");
        return
        [
            new(task, "`SequenceTagging.Trainers.Lstm()`", train.Length, "token accuracy", true, accuracies, [new("most frequent tag per word", unigram)], fitSeconds.Average(),
                string.Create(CultureInfo.InvariantCulture,
                    $"{TestSentences:N0} test sentences, {testTokens:N0} tokens, {unknown:N0} of unseen words (ours right on {unknownAccuracies.Average():F3} of them, " +
                    $"the baseline on {(double)unigramUnknownCorrect / unknown:F3}); unknown → '{mostFrequent}'")),
        ];
    }
}

/// <summary>A sentence's words and tags.</summary>
public sealed class TagRow
{
    public string[] Words { get; set; } = [];

    public string[] Tags { get; set; } = [];
}

/// <summary>The predicted tags of a sentence.</summary>
public sealed class TagPrediction
{
    public string[] PredictedTags { get; set; } = [];
}
