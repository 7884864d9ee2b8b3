using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests.Tagging;

/// <summary>
/// <c>mlContext.SequenceTagging.Evaluate</c> on data it must refuse (no data, a missing column, key types of other
/// counts, rows of other lengths) and on data with a missing gold tag; and a training row with a missing tag, which is
/// left out of training as if it were not there.
/// </summary>
public sealed class TaggingEvaluationContractTests
{
    private sealed class Pair
    {
        public string[] Gold { get; set; } = [];
        public string[] Predicted { get; set; } = [];
    }

    /// <summary>Gold and predicted tags as keys, each column's key values given (so their counts can differ).</summary>
    private static IDataView Keyed(MLContext mlContext, Pair[] rows, string[] goldNames, string[] predictedNames)
    {
        var data = mlContext.Data.LoadFromEnumerable(rows);
        return mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(Pair.Gold),
                keyData: mlContext.Data.LoadFromEnumerable(goldNames.Select(tag => new { Gold = tag })))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("PredictedLabel", nameof(Pair.Predicted),
                keyData: mlContext.Data.LoadFromEnumerable(predictedNames.Select(tag => new { Predicted = tag }))))
            .Fit(data).Transform(data);
    }

    [Fact]
    public void NoDataIsAnArgumentError()
    {
        var error = Assert.Throws<ArgumentNullException>(() => new MLContext(1).SequenceTagging.Evaluate(null!));

        Assert.Equal("data", error.ParamName);
    }

    [Fact]
    public void AMissingColumnIsNamedWithItsRole()
    {
        var mlContext = new MLContext(1);
        var data = Keyed(mlContext, [new Pair { Gold = ["A"], Predicted = ["A"] }], ["A", "B"], ["A", "B"]);

        var noGold = Assert.ThrowsAny<ArgumentException>(() => mlContext.SequenceTagging.Evaluate(data, labelColumnName: "Tags"));
        var noPredicted = Assert.ThrowsAny<ArgumentException>(() => mlContext.SequenceTagging.Evaluate(data, predictedLabelColumnName: "Guess"));

        Assert.Contains("label column 'Tags'", noGold.Message);
        Assert.Contains("predicted label column 'Guess'", noPredicted.Message);
    }

    [Fact]
    public void PredictedKeysOfAnotherCountAreASchemaMismatchNamingBothTypes()
    {
        var mlContext = new MLContext(1);
        var data = Keyed(mlContext, [new Pair { Gold = ["A", "B"], Predicted = ["A", "C"] }], ["A", "B"], ["A", "B", "C"]);

        var error = Assert.ThrowsAny<ArgumentException>(() => mlContext.SequenceTagging.Evaluate(data));

        Assert.Contains("predicted label column 'PredictedLabel'", error.Message);
        Assert.Contains("Key<UInt32, 0-1>", error.Message);
        Assert.Contains("Key<UInt32, 0-2>", error.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void APredictedRowOfAnotherLengthIsAnErrorNamingTheRow(int predictedLength)
    {
        var mlContext = new MLContext(1);
        var data = Keyed(mlContext,
            [new Pair { Gold = ["A", "B"], Predicted = ["A", "B"] }, new Pair { Gold = ["A", "B"], Predicted = [.. Enumerable.Repeat("A", predictedLength)] }],
            ["A", "B"], ["A", "B"]);

        var error = Assert.Throws<InvalidOperationException>(() => mlContext.SequenceTagging.Evaluate(data));

        Assert.Contains("Row 1", error.Message);
        Assert.Contains($"has 2 tags but column 'PredictedLabel' has {predictedLength} steps", error.Message);
    }

    [Fact]
    public void AStepWhoseGoldTagIsMissingIsNotScored()
    {
        var mlContext = new MLContext(1);
        // "X" is no key of the gold column: its step has no gold tag, and the prediction there counts neither way.
        var data = Keyed(mlContext, [new Pair { Gold = ["A", "X", "B"], Predicted = ["A", "A", "B"] }], ["A", "B"], ["A", "B"]);

        var metrics = mlContext.SequenceTagging.Evaluate(data);

        Assert.Equal(2, metrics.TokenCount);
        Assert.Equal(1.0, metrics.TokenAccuracy);
        Assert.Equal(1, metrics.PerTag[0].Counts.Predicted);
    }

    [Fact]
    public void EachTagIsNamedByItsKeyValue()
    {
        var mlContext = new MLContext(1);
        var data = Keyed(mlContext, [new Pair { Gold = ["O", "B-PER", "I-PER"], Predicted = ["O", "B-PER", "O"] }],
            ["O", "B-PER", "I-PER"], ["O", "B-PER", "I-PER"]);

        var metrics = mlContext.SequenceTagging.Evaluate(data);

        Assert.Equal(["O", "B-PER", "I-PER"], metrics.PerTag.Select(tag => tag.Name));
    }

    private sealed class Words
    {
        public string[] Text { get; set; } = [];
        public string[] Tags { get; set; } = [];
    }

    /// <summary>
    /// A training row with a missing tag is skipped: the model trained with it is the model trained without it, weight for
    /// weight. (Training on it would fit a target of −1, or stop at it.)
    /// </summary>
    [Fact]
    public void ATrainingRowWithAMissingTagIsLeftOutAsIfItWereNotThere()
    {
        var sentences = SequenceTaggingTests.Sentences(40, seed: 5)
            .Select(s => new Words { Text = s.Words, Tags = s.Tags }).ToArray();
        // The same words as the first sentence (so the vocabulary is the same), one tag unknown to the label's keys.
        var withMissing = sentences.Append(new Words { Text = sentences[0].Text, Tags = [.. sentences[0].Tags.Select((t, i) => i == 0 ? "?" : t)] }).ToArray();
        string[] tagNames = ["O", "B-PER", "I-PER", "B-LOC"];

        float[] Scores(Words[] rows)
        {
            var mlContext = new MLContext(1);
            var data = mlContext.Data.LoadFromEnumerable(rows);
            var model = mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(Words.Text))
                .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(Words.Tags),
                    keyData: mlContext.Data.LoadFromEnumerable(tagNames.Select(tag => new { Tags = tag }))))
                .Append(mlContext.SequenceTagging.Trainers.Gru(new SequenceTaggingTrainer.Options
                {
                    EmbeddingSize = 4, HiddenSize = 6, NumberOfEpochs = 2, BatchSize = 8, Seed = 3,
                }))
                .Fit(data);
            return [.. model.Transform(data).GetColumn<VBuffer<float>>("Score").Take(sentences.Length).SelectMany(score => score.DenseValues())];
        }

        Assert.Equal(Scores(sentences), Scores(withMissing));
    }
}
