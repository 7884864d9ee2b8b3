using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Tests.Tagging;
using Xunit.Abstractions;

namespace MlNet.Rnn.Tests.Trainers;

/// <summary>A string with a class, a yes/no answer and a tag per character.</summary>
public sealed class CharacterRow
{
    public string Text { get; set; } = "";
    public bool Label { get; set; }
    public string Class { get; set; } = "";
    public string[] Tags { get; set; } = [];
}

/// <summary>
/// The most natural character-level pipeline, <c>TokenizeIntoCharactersAsKeys → Lstm</c>: ML.NET's character tokenizer gives a
/// variable vector of <c>UInt16</c> keys (65 535 of them, one per UTF-16 code unit), which every labelled task reads as token
/// ids. Binary and multiclass classification and tagging each learn a rule that needs the order of the characters, above a
/// baseline computed in the test, and score the same after a save and load.
/// </summary>
public sealed class CharacterPipelineTests(ITestOutputHelper output)
{
    /// <summary>
    /// Strings of 4 to 9 characters from "abcd". Label: the string holds "ab" somewhere (about half do). Class: its last
    /// character. Tags: "R" where a character repeats the one before it, "N" elsewhere (the first is always "N").
    /// </summary>
    private static CharacterRow[] Rows(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var text = new string([.. Enumerable.Range(0, random.Next(4, 10)).Select(_ => "abcd"[random.Next(4)])]);
            return new CharacterRow
            {
                Text = text,
                Label = text.Contains("ab", StringComparison.Ordinal),
                Class = text[^1..],
                Tags = [.. text.Select((c, t) => t > 0 && text[t - 1] == c ? "R" : "N")],
            };
        })];
    }

    private static IEstimator<ITransformer> Characters(MLContext mlContext) =>
        mlContext.Transforms.Text.TokenizeIntoCharactersAsKeys("Features", nameof(CharacterRow.Text), useMarkerCharacters: false);

    private static (CharacterRow[] Rows, IDataView Data) Data(MLContext mlContext, int count, int seed)
    {
        var rows = Rows(count, seed);
        return (rows, mlContext.Data.LoadFromEnumerable(rows));
    }

    private static ITransformer SavedAndLoaded(MLContext mlContext, ITransformer model, DataViewSchema schema)
    {
        using var stream = new MemoryStream();
        mlContext.Model.Save(model, schema, stream);
        stream.Position = 0;
        return mlContext.Model.Load(stream, out _);
    }

    [Fact]
    public void TheCharactersTokenizerKeysAreUInt16()
    {
        var mlContext = new MLContext(seed: 1);
        var (_, data) = Data(mlContext, 4, seed: 1);
        var features = Characters(mlContext).Fit(data).Transform(data).Schema["Features"].Type;
        Assert.Equal(typeof(ushort), ((KeyDataViewType)((VectorDataViewType)features).ItemType).RawType);
    }

    [Fact]
    public void BinaryClassificationLearnsWhetherTheStringHoldsAPair()
    {
        var mlContext = new MLContext(seed: 1);
        var (_, train) = Data(mlContext, 400, seed: 1);
        var (testRows, test) = Data(mlContext, 200, seed: 2);
        var pipeline = Characters(mlContext).Append(mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
        {
            EmbeddingSize = 8, HiddenSize = 16, NumberOfEpochs = 12, LearningRate = 0.02f, BatchSize = 16, Seed = 1,
        }));

        var model = pipeline.Fit(train);
        var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(test));
        double majority = Baselines.Majority(testRows.Select(row => row.Label));

        output.WriteLine($"holds \"ab\": accuracy {metrics.Accuracy:F3}, majority {majority:F3}");
        Assert.True(metrics.Accuracy > majority + 0.25, $"accuracy {metrics.Accuracy:F3}, majority {majority:F3}");
        var reloaded = mlContext.BinaryClassification.Evaluate(SavedAndLoaded(mlContext, model, train.Schema).Transform(test));
        Assert.Equal(metrics.Accuracy, reloaded.Accuracy);
    }

    [Fact]
    public void MulticlassClassificationLearnsTheLastCharacter()
    {
        var mlContext = new MLContext(seed: 1);
        var (_, train) = Data(mlContext, 400, seed: 3);
        var (testRows, test) = Data(mlContext, 200, seed: 4);
        var pipeline = Characters(mlContext)
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(CharacterRow.Class)))
            .Append(mlContext.MulticlassClassification.Trainers.Lstm(new RecurrentMulticlassTrainer.Options
            {
                EmbeddingSize = 8, HiddenSize = 16, NumberOfEpochs = 8, LearningRate = 0.02f, BatchSize = 16, Seed = 1,
            }));

        var model = pipeline.Fit(train);
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
        double majority = Baselines.Majority(testRows.Select(row => row.Class));

        output.WriteLine($"last character: accuracy {metrics.MicroAccuracy:F3}, majority {majority:F3}");
        Assert.True(metrics.MicroAccuracy > majority + 0.5, $"accuracy {metrics.MicroAccuracy:F3}, majority {majority:F3}");
        var reloaded = mlContext.MulticlassClassification.Evaluate(SavedAndLoaded(mlContext, model, train.Schema).Transform(test));
        Assert.Equal(metrics.MicroAccuracy, reloaded.MicroAccuracy);
    }

    [Fact]
    public void TaggingLearnsWhichCharactersRepeatTheOneBefore()
    {
        var mlContext = new MLContext(seed: 1);
        var (trainRows, train) = Data(mlContext, 400, seed: 5);
        var (testRows, test) = Data(mlContext, 200, seed: 6);
        var pipeline = Characters(mlContext)
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(CharacterRow.Tags)))
            .Append(mlContext.SequenceTagging.Trainers.Lstm(new SequenceTaggingTrainer.Options
            {
                EmbeddingSize = 8, HiddenSize = 16, NumberOfEpochs = 8, LearningRate = 0.02f, BatchSize = 16, Seed = 1,
            }));

        var model = pipeline.Fit(train);
        var metrics = mlContext.SequenceTagging.Evaluate(model.Transform(test));
        static string[] CharactersOf(CharacterRow row) => [.. row.Text.Select(c => c.ToString())];
        var lookup = TagBaselines.PerWordLookup(trainRows.Select(row => (CharactersOf(row), row.Tags)), testRows.Select(CharactersOf));
        double lookupAccuracy = TagBaselines.Accuracy(testRows.Select(row => row.Tags), lookup);

        output.WriteLine($"repeats: token accuracy {metrics.TokenAccuracy:F3}, per-character lookup {lookupAccuracy:F3}");
        Assert.True(metrics.TokenAccuracy > lookupAccuracy + 0.15, $"token accuracy {metrics.TokenAccuracy:F3}, lookup {lookupAccuracy:F3}");
        Assert.True(metrics.TokenAccuracy > 0.97, metrics.ToString());
        var reloaded = mlContext.SequenceTagging.Evaluate(SavedAndLoaded(mlContext, model, train.Schema).Transform(test));
        Assert.Equal(metrics.TokenAccuracy, reloaded.TokenAccuracy);
    }
}
