using MlNet.Rnn.Core.Tagging;

namespace MlNet.Rnn.Core.Tests.Tagging;

/// <summary>
/// <see cref="TaggingMetrics.ToString"/> writes its report line for line (accuracy, averages, entities for BIO names, the
/// per-tag table listing a tag that has support or predictions and leaving out one with neither), and the empty cases give
/// 0, not NaN: no token, every tag ignored, no gold answer.
/// </summary>
public sealed class TaggingReportTests
{
    private static string[] Lines(TaggingMetrics metrics) => metrics.ToString().Split(Environment.NewLine);

    [Fact]
    public void Report_ListsTagsWithSupportOrPredictions_AndLeavesOutTagsWithNeither()
    {
        // a: tp 1, predicted 2, gold 2; b: 1, 1, 1; c: predicted once, never gold; d: gold once, never predicted; "never": neither.
        var metrics = TaggingMetrics.Compute([[0, 0, 1, 3]], [[0, 2, 1, 0]], ["a", "b", "c", "d", "never"]);
        Assert.Equal(
        [
            "token accuracy 0.5000 (2 of 4)",
            "macro P 0.3750 R 0.3750 F1 0.3750; micro P 0.5000 R 0.5000 F1 0.5000",
            "tag          precision    recall        F1   support",
            "a               0.5000    0.5000    0.5000         2",
            "b               1.0000    1.0000    1.0000         1",
            "c               0.0000    0.0000    0.0000         0",
            "d               0.0000    0.0000    0.0000         1",
            "",
        ], Lines(metrics));
    }

    [Fact]
    public void Report_OfBioTags_HasTheEntityLine()
    {
        // Gold PER[0,2) LOC[3,4); predicted PER[0,2) PER[3,4): 1 correct of 2 predicted, 2 gold.
        var metrics = TaggingMetrics.Compute([[1, 2, 0, 3]], [[1, 2, 0, 1]], ["O", "B-PER", "I-PER", "B-LOC"]);
        Assert.Equal("entities: P 0.5000 R 0.5000 F1 0.5000 (1 correct, 2 predicted, 2 gold)", Lines(metrics)[2]);
        Assert.Equal("tag          precision    recall        F1   support", Lines(metrics)[3]);
    }

    [Fact]
    public void NoToken_GivesZeroScores_NotNaN()
    {
        foreach (var metrics in new[] { TaggingMetrics.Compute([], [], ["a"]), TaggingMetrics.Compute([[]], [[]], ["a", "b"]) })
        {
            Assert.Equal(0, metrics.TokenCount);
            Assert.Equal(0.0, metrics.TokenAccuracy);
            Assert.Equal(default, metrics.Macro);
            Assert.Equal(default, metrics.Micro);
            Assert.Equal(
            [
                "token accuracy 0.0000 (0 of 0)",
                "macro P 0.0000 R 0.0000 F1 0.0000; micro P 0.0000 R 0.0000 F1 0.0000",
                "tag          precision    recall        F1   support",
                "",
            ], Lines(metrics));
        }
    }

    [Fact]
    public void EveryTagIgnored_GivesZeroAverages_NotNaN()
    {
        var metrics = TaggingMetrics.Compute([[0, 1]], [[0, 0]], ["a", "b"], ignoredTags: ["a", "b"]);
        Assert.Equal(default, metrics.Macro);
        Assert.Equal(default, metrics.Micro);
        Assert.Equal(0.5, metrics.TokenAccuracy);
    }

    [Fact]
    public void ATagOnlyGold_CountsInBothAverages()
    {
        // a: tp 1, predicted 2, gold 1; b: gold 1, never predicted: P 0, R 0.
        var metrics = TaggingMetrics.Compute([[0, 1]], [[0, 0]], ["a", "b"]);
        Assert.Equal(new AveragedMetrics(0.25, 0.5, (2.0 / 3 + 0) / 2), metrics.Macro);
        Assert.Equal(0.5, metrics.Micro.Recall);
        Assert.Equal(0.5, metrics.Micro.Precision);
    }

    [Fact]
    public void NoGoldOrNoPrediction_GivesRecallOrPrecisionZero_NotNaN()
    {
        var noGold = new PrecisionRecall(TruePositives: 0, Predicted: 3, Gold: 0);
        Assert.Equal((0.0, 0.0, 0.0), (noGold.Precision, noGold.Recall, noGold.F1));
        var noPrediction = new PrecisionRecall(TruePositives: 0, Predicted: 0, Gold: 2);
        Assert.Equal((0.0, 0.0, 0.0), (noPrediction.Precision, noPrediction.Recall, noPrediction.F1));
        var nothing = new PrecisionRecall(0, 0, 0);
        Assert.Equal((0.0, 0.0, 0.0), (nothing.Precision, nothing.Recall, nothing.F1));
        Assert.Equal(0.5, new PrecisionRecall(1, 4, 2).Recall);
    }
}
