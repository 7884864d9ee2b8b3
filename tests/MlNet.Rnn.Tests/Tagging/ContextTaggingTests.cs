using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Models;
using Xunit.Abstractions;

namespace MlNet.Rnn.Tests.Tagging;

/// <summary>A sentence with tags and a second tag column (e.g. a baseline's prediction), as text.</summary>
public sealed class TwoTagSentence
{
    public string[] Words { get; set; } = [];
    public string[] Tags { get; set; } = [];
    public string[] Other { get; set; } = [];
}

/// <summary>
/// Taggers that must read context, through <c>mlContext.SequenceTagging</c>: a tag that is the class of the word to the left
/// (a per-word lookup table, computed in the test, stays near chance; any recurrent tagger learns it), a tag that is the class
/// of the word to the right (only a bidirectional tagger can know it: a unidirectional one stays near the lookup's score),
/// and entities whose type only the preceding word tells (the learned entity F1 above the lookup's), with the entity-level
/// evaluation checked on predictions whose precision and recall are counted by hand.
/// </summary>
public sealed class ContextTaggingTests(ITestOutputHelper output)
{
    private static readonly string[] s_classA = ["a0", "a1", "a2", "a3", "a4", "a5"];
    private static readonly string[] s_classB = ["b0", "b1", "b2", "b3", "b4", "b5"];

    /// <summary>
    /// Sentences of 4 to 8 words drawn evenly from two classes of six words. Left: each word's tag is the class ("A"/"B") of the
    /// word before it, "S" for the first. Right: the class of the word after it, "E" for the last.
    /// </summary>
    private static TwoTagSentence[] ClassSentences(int count, int seed, bool right)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var words = Enumerable.Range(0, random.Next(4, 9)).Select(_ => random.Next(2) == 0 ? s_classA[random.Next(6)] : s_classB[random.Next(6)]).ToArray();
            string ClassOf(int t) => words[t][0] == 'a' ? "A" : "B";
            var tags = Enumerable.Range(0, words.Length).Select(t => right
                ? t == words.Length - 1 ? "E" : ClassOf(t + 1)
                : t == 0 ? "S" : ClassOf(t - 1)).ToArray();
            return new TwoTagSentence { Words = words, Tags = tags, Other = tags };
        })];
    }

    /// <summary>The per-word lookup's tags for <paramref name="test"/> in <see cref="TwoTagSentence.Other"/>.</summary>
    private static TwoTagSentence[] PerWordLookup(IReadOnlyList<TwoTagSentence> train, IReadOnlyList<TwoTagSentence> test)
    {
        var predicted = TagBaselines.PerWordLookup(train.Select(s => (s.Words, s.Tags)), test.Select(s => s.Words));
        return [.. test.Select((s, r) => new TwoTagSentence { Words = s.Words, Tags = s.Tags, Other = predicted[r] })];
    }

    private static double Accuracy(IEnumerable<TwoTagSentence> rows) => TagBaselines.Accuracy(rows.Select(s => s.Tags), rows.Select(s => s.Other));

    private static IEstimator<ITransformer> Pipeline(MLContext mlContext, SequenceTaggingTrainer trainer) =>
        mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(TwoTagSentence.Words))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TwoTagSentence.Tags)))
            .Append(trainer);

    private static SequenceTaggingTrainer.Options Options(bool bidirectional) => new()
    {
        Bidirectional = bidirectional, EmbeddingSize = 8, HiddenSize = 12, NumberOfEpochs = 10, BatchSize = 16, LearningRate = 0.03f, Seed = 1,
        MaxDegreeOfParallelism = 1,
    };

    private static double TokenAccuracy(MLContext mlContext, SequenceTaggingTrainer.Options options, TwoTagSentence[] train, TwoTagSentence[] test)
    {
        var model = Pipeline(mlContext, mlContext.SequenceTagging.Trainers.Lstm(options)).Fit(mlContext.Data.LoadFromEnumerable(train));
        return mlContext.SequenceTagging.Evaluate(model.Transform(mlContext.Data.LoadFromEnumerable(test))).TokenAccuracy;
    }

    [Fact]
    public void ATagSetByTheWordToTheLeftIsLearnedWhereAPerWordLookupStaysNearChance()
    {
        var mlContext = new MLContext(seed: 1);
        var train = ClassSentences(240, seed: 1, right: false);
        var test = ClassSentences(80, seed: 2, right: false);

        double lookup = Accuracy(PerWordLookup(train, test));
        var frozen = Options(false);
        frozen.LearningRate = 1e-30f; // the initial weights: a rate of 10⁻³⁰ moves none
        double untrained = TokenAccuracy(mlContext, frozen, train, test);
        double forwards = TokenAccuracy(mlContext, Options(false), train, test);

        output.WriteLine($"left context: lookup {lookup:F3}, untrained {untrained:F3}, unidirectional {forwards:F3}");
        Assert.InRange(lookup, 0.35, 0.6);
        Assert.True(untrained < lookup + 0.1, $"an untrained tagger scores {untrained:F3}, the lookup {lookup:F3}");
        Assert.True(forwards > lookup + 0.35, $"a unidirectional LSTM scores {forwards:F3}; the per-word lookup {lookup:F3}");
    }

    [Fact]
    public void ATagSetByTheWordToTheRightNeedsTheBackwardDirection()
    {
        var mlContext = new MLContext(seed: 1);
        var train = ClassSentences(240, seed: 3, right: true);
        var test = ClassSentences(80, seed: 4, right: true);

        double lookup = Accuracy(PerWordLookup(train, test));
        double forwards = TokenAccuracy(mlContext, Options(false), train, test);
        double both = TokenAccuracy(mlContext, Options(true), train, test);

        output.WriteLine($"right context: lookup {lookup:F3}, unidirectional {forwards:F3}, bidirectional {both:F3}");
        Assert.InRange(lookup, 0.35, 0.6);
        Assert.True(forwards < lookup + 0.1, $"a unidirectional LSTM cannot see the next word, yet scores {forwards:F3} (lookup {lookup:F3})");
        Assert.True(both > lookup + 0.35, $"a bidirectional LSTM scores {both:F3}; the per-word lookup {lookup:F3}");
    }

    /// <summary>
    /// Sentences of filler words (O) and names from one list of four: after "in" a name is a place (B-LOC); after "met" or "with"
    /// it is a person (B-PER), sometimes followed by a surname (I-PER). Only the word before a name tells its type.
    /// </summary>
    private static TwoTagSentence[] EntitySentences(int count, int seed)
    {
        string[] names = ["paris", "jordan", "florence", "sydney"];
        string[] surnames = ["smith", "jones"];
        string[] filler = ["the", "a", "saw", "and", "went", "today"];
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var words = new List<string>();
            var tags = new List<string>();
            int length = random.Next(4, 10);
            while (words.Count < length)
            {
                int pick = random.Next(10);
                if (pick < 4) { words.Add(filler[random.Next(filler.Length)]); tags.Add("O"); continue; }
                bool place = pick >= 7;
                words.Add(place ? "in" : random.Next(2) == 0 ? "met" : "with");
                tags.Add("O");
                words.Add(names[random.Next(names.Length)]);
                tags.Add(place ? "B-LOC" : "B-PER");
                if (!place && random.Next(2) == 0) { words.Add(surnames[random.Next(2)]); tags.Add("I-PER"); }
            }
            return new TwoTagSentence { Words = [.. words], Tags = [.. tags], Other = [.. tags] };
        })];
    }

    private static readonly string[] s_bio = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];

    [Fact]
    public void EntityScoresCountWholeSpansAsCountedByHand()
    {
        // Gold: PER[0,2) LOC[3,4) | LOC[1,3) | none. Predicted: PER[0,1) LOC[3,4) | LOC[1,3) (an I- after O opens a span) | PER[0,1).
        // Matches: LOC[3,4) and LOC[1,3): precision 2/4, recall 2/3, F1 = 2·(1/2)(2/3)/(1/2 + 2/3) = 4/7. Tokens: 9 of 12 right.
        var mlContext = new MLContext(seed: 1);
        string[][] gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-LOC", "I-LOC", "O"], ["O", "O", "O", "O"]];
        string[][] predicted = [["B-PER", "O", "O", "B-LOC"], ["O", "I-LOC", "I-LOC", "O"], ["B-PER", "O", "O", "O"]];

        var metrics = TagBaselines.Evaluate(mlContext, gold, predicted, s_bio);

        Assert.Equal(9.0 / 12, metrics.TokenAccuracy, 12);
        Assert.NotNull(metrics.Entities);
        Assert.Equal(0.5, metrics.Entities!.Precision, 12);
        Assert.Equal(2.0 / 3, metrics.Entities.Recall, 12);
        Assert.Equal(4.0 / 7, metrics.Entities.F1, 12);
        Assert.Equal(1.0, metrics.Entities.PerType["LOC"].F1, 12);
        Assert.Equal(0.0, metrics.Entities.PerType["PER"].F1, 12);
    }

    [Fact]
    public void ALearnedTaggerFindsEntitiesWhoseTypeOnlyThePrecedingWordTells()
    {
        var mlContext = new MLContext(seed: 1);
        var train = EntitySentences(240, seed: 5);
        var test = EntitySentences(80, seed: 6);

        var lookup = TagBaselines.Evaluate(mlContext, test.Select(s => s.Tags), PerWordLookup(train, test).Select(s => s.Other), s_bio);
        var model = Pipeline(mlContext, mlContext.SequenceTagging.Trainers.Gru(Options(bidirectional: true))).Fit(mlContext.Data.LoadFromEnumerable(train));
        var learned = mlContext.SequenceTagging.Evaluate(model.Transform(mlContext.Data.LoadFromEnumerable(test)));

        output.WriteLine($"entities: lookup F1 {lookup.Entities!.F1:F3} (tokens {lookup.TokenAccuracy:F3}), learned F1 {learned.Entities!.F1:F3} (tokens {learned.TokenAccuracy:F3})");
        Assert.InRange(lookup.Entities.F1, 0.3, 0.75);
        Assert.True(learned.Entities!.F1 > lookup.Entities.F1 + 0.2, $"learned entity F1 {learned.Entities.F1:F3}; per-word lookup {lookup.Entities.F1:F3}");
        Assert.True(learned.Entities.F1 > 0.9, learned.ToString());
    }
}
