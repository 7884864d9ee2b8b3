using MlNet.Rnn.Core.Tagging;

namespace MlNet.Rnn.Core.Tests.Tagging;

/// <summary>Token, per-tag, averaged and entity-level scores against values computed by hand; conlleval's BIO rules.</summary>
public sealed class TaggingMetricsTests
{
    private static readonly string[] s_names = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];

    // Sequence 0: gold B-PER I-PER O B-LOC,   predicted B-PER I-PER O B-PER.
    // Sequence 1: gold O I-LOC I-LOC O B-PER, predicted O B-LOC I-LOC O B-PER (the gold LOC begins with I-: conlleval starts an entity there).
    private static readonly int[][] s_gold = [[1, 2, 0, 3], [0, 4, 4, 0, 1]];
    private static readonly int[][] s_predicted = [[1, 2, 0, 1], [0, 3, 4, 0, 1]];

    private static void Near(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) < 1e-12, $"{what} is {actual:R}; expected {expected:R} (off by {actual - expected:E2}).");

    [Fact]
    public void TokenAndPerTagScores_MatchHandComputedValues()
    {
        var metrics = TaggingMetrics.Compute(s_gold, s_predicted, s_names);
        Assert.Equal(9, metrics.TokenCount);
        Assert.Equal(7, metrics.CorrectTokens);
        Near(7.0 / 9, metrics.TokenAccuracy, "token accuracy");
        // (tp, predicted, gold) per tag, counted by hand.
        (long, long, long)[] counts = [(3, 3, 3), (2, 3, 2), (1, 1, 1), (0, 1, 1), (1, 1, 2)];
        for (int c = 0; c < 5; c++)
            Assert.Equal(new PrecisionRecall(counts[c].Item1, counts[c].Item2, counts[c].Item3), metrics.PerTag[c].Counts);
        Near(2.0 / 3, metrics.PerTag[1].Precision, "B-PER precision");
        Near(1.0, metrics.PerTag[1].Recall, "B-PER recall");
        Near(0.8, metrics.PerTag[1].F1, "B-PER F1");
        Near(0.0, metrics.PerTag[3].F1, "B-LOC F1 (no true positive)");
        Near(2.0 / 3, metrics.PerTag[4].F1, "I-LOC F1");
        Near((1 + 2.0 / 3 + 1 + 0 + 1) / 5, metrics.Macro.Precision, "macro precision");
        Near((1 + 1 + 1 + 0 + 0.5) / 5, metrics.Macro.Recall, "macro recall");
        Near((1 + 0.8 + 1 + 0 + 2.0 / 3) / 5, metrics.Macro.F1, "macro F1 (mean of per-tag F1)");
        Near(7.0 / 9, metrics.Micro.F1, "micro F1 with every tag (equals token accuracy)");
    }

    [Fact]
    public void IgnoringO_ChangesOnlyTheAverages()
    {
        var metrics = TaggingMetrics.Compute(s_gold, s_predicted, s_names, ignoredTags: ["O"]);
        Near(4.0 / 6, metrics.Micro.Precision, "micro precision without O");
        Near(4.0 / 6, metrics.Micro.Recall, "micro recall without O");
        Near((2.0 / 3 + 1 + 0 + 1) / 4, metrics.Macro.Precision, "macro precision without O");
        Near((1 + 1 + 0 + 0.5) / 4, metrics.Macro.Recall, "macro recall without O");
        Near((0.8 + 1 + 0 + 2.0 / 3) / 4, metrics.Macro.F1, "macro F1 without O");
        Near(7.0 / 9, metrics.TokenAccuracy, "token accuracy (unaffected)");
    }

    [Fact]
    public void TagsThatNeverOccur_AreLeftOutOfTheMacroAverage()
    {
        var metrics = TaggingMetrics.Compute([[0, 1]], [[0, 0]], ["a", "b", "never"]);
        // a: tp 1, predicted 2, gold 1 → P 0.5, R 1; b: tp 0 → 0, 0; "never" neither occurs nor is predicted.
        Near((0.5 + 0) / 2, metrics.Macro.Precision, "macro precision over the two tags that occur");
        Near((1 + 0) / 2.0, metrics.Macro.Recall, "macro recall over the two tags that occur");
        Assert.Equal(3, metrics.PerTag.Count);
    }

    [Fact]
    public void Entities_ExactSpanAndType_WithConllevalRules()
    {
        var metrics = TaggingMetrics.Compute(s_gold, s_predicted, s_names);
        var entities = Assert.IsType<EntityMetrics>(metrics.Entities);
        // Gold: PER[0,2) LOC[3,4) | LOC[1,3) PER[4,5). Predicted: PER[0,2) PER[3,4) | LOC[1,3) PER[4,5). Correct: 3 of 4 each way.
        Assert.Equal(new PrecisionRecall(3, 4, 4), entities.Overall);
        Near(0.75, entities.F1, "entity F1");
        Assert.Equal(new PrecisionRecall(2, 3, 2), entities.PerType["PER"]);
        Assert.Equal(new PrecisionRecall(1, 1, 2), entities.PerType["LOC"]);
    }

    public static TheoryData<string, string, string> EdgeCases() => new()
    {
        // tags (space-separated) → entities as Type[start,end)
        { "I-PER I-PER", "PER[0,2)", "I- without B- starts an entity and I- of the same type continues it" },
        { "B-PER I-LOC", "PER[0,1) LOC[1,2)", "I- of another type ends the entity and starts one" },
        { "B-PER B-PER", "PER[0,1) PER[1,2)", "B- always starts a new entity" },
        { "I-PER O I-PER", "PER[0,1) PER[2,3)", "O ends an entity" },
        { "O B-LOC I-LOC", "LOC[1,3)", "an entity open at the end of the sequence ends there" },
        { "O O", "", "no entity" },
        { "B-PER I-PER I-PER B-LOC", "PER[0,3) LOC[3,4)", "a long entity then an adjacent one" },
    };

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void BioEntities_Extract_EdgeCases(string tags, string expected, string rule)
    {
        int[] indices = tags.Split(' ').Select(tag => Array.IndexOf(s_names, tag)).ToArray();
        string actual = string.Join(" ", BioEntities.Extract(indices, s_names).Select(e => $"{e.Type}[{e.Start},{e.End})"));
        Assert.True(expected == actual, $"'{tags}' gave '{actual}'; expected '{expected}' ({rule}).");
    }

    [Fact]
    public void Entities_DoNotCrossSequences_AndNeedTypeAndSpan()
    {
        // Gold: PER at the end of sequence 0 and PER at the start of sequence 1 are two entities, not one.
        var crossing = TaggingMetrics.Compute([[0, 1], [2, 0]], [[0, 1], [2, 0]], s_names).Entities!;
        Assert.Equal(new PrecisionRecall(2, 2, 2), crossing.Overall);
        var wrongType = TaggingMetrics.Compute([[1, 2]], [[3, 4]], s_names).Entities!;
        Assert.Equal(new PrecisionRecall(0, 1, 1), wrongType.Overall);
        var shortSpan = TaggingMetrics.Compute([[1, 2]], [[1, 0]], s_names).Entities!;
        Assert.Equal(new PrecisionRecall(0, 1, 1), shortSpan.Overall);
        var nothing = TaggingMetrics.Compute([[0, 0]], [[0, 0]], s_names).Entities!;
        Near(0, nothing.F1, "F1 with no entity at all");
    }

    [Fact]
    public void NonBioNames_GiveNoEntityScores()
    {
        Assert.Null(TaggingMetrics.Compute([[0, 1]], [[0, 1]], ["NN", "VB"]).Entities);
        Assert.False(BioEntities.IsBioTagSet(["O", "B-"]), "'B-' has no type and is not a BIO tag.");
        Assert.True(BioEntities.IsBioTagSet(["O", "B-MISC", "I-MISC"]));
    }

    [Fact]
    public void BadInput_NamesRowAndLengths()
    {
        var length = Assert.Throws<ArgumentException>(() => TaggingMetrics.Compute([[0, 1], [0, 1, 1]], [[0, 1], [0, 1]], s_names));
        Assert.Contains("Row 1: the prediction has 2 tags but the gold label has 3", length.Message);
        var range = Assert.Throws<ArgumentException>(() => TaggingMetrics.Compute([[0, 9]], [[0, 1]], s_names));
        Assert.Contains("Row 0, step 1: gold tag 9 is outside [0, 5)", range.Message);
        Assert.Throws<ArgumentException>(() => TaggingMetrics.Compute([[0]], [], s_names));
        Assert.Throws<ArgumentException>(() => TaggingMetrics.Compute([[0]], [[0]], s_names, ignoredTags: ["X"]));
    }
}
