using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Tests.Persistence;

namespace MlNet.Rnn.Tests.Tagging;

/// <summary>A sentence and its BIO tags, one per word.</summary>
public sealed class TaggedSentence
{
    public string[] Words { get; set; } = [];
    public string[] Tags { get; set; } = [];
}

/// <summary>What the tagging pipeline predicts for a sentence, the tags back as text.</summary>
public sealed class TagPrediction
{
    public string[] PredictedTags { get; set; } = [];
    public float[] Score { get; set; } = [];
}

/// <summary>Numeric steps with one tag per step.</summary>
public sealed class TaggedSteps
{
    public float[] Features { get; set; } = [];
    public string[] Tags { get; set; } = [];
}

/// <summary>mlContext.SequenceTagging: Fit, Transform, Evaluate, PredictionEngine, Save/Load in a fresh process, bad input.</summary>
public sealed class SequenceTaggingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-tagging-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// Sentences of filler words with person names (a first name, B-PER, optionally followed by a surname, I-PER) and
    /// cities (B-LOC, after "in"). "paris" and "jordan" are first names and cities both: only the word before them tells which,
    /// so a per-word lookup table cannot tag them.
    /// </summary>
    public static TaggedSentence[] Sentences(int count, int seed)
    {
        string[] filler = ["the", "a", "saw", "met", "and", "went", "to", "with", "today"];
        string[] first = ["john", "paris", "jordan"];
        string[] last = ["smith", "jones"];
        string[] places = ["paris", "jordan", "oslo", "lima"];
        var random = new Random(seed);
        var sentences = new TaggedSentence[count];
        for (int s = 0; s < count; s++)
        {
            var words = new List<string>();
            var tags = new List<string>();
            int length = random.Next(3, 10);
            while (words.Count < length)
            {
                int pick = random.Next(10);
                if (pick < 5) { words.Add(filler[random.Next(filler.Length)]); tags.Add("O"); }
                else if (pick < 8)
                {
                    words.Add(first[random.Next(first.Length)]); tags.Add("B-PER");
                    if (random.Next(2) == 0) { words.Add(last[random.Next(last.Length)]); tags.Add("I-PER"); }
                }
                else { words.Add("in"); tags.Add("O"); words.Add(places[random.Next(places.Length)]); tags.Add("B-LOC"); }
            }
            sentences[s] = new TaggedSentence { Words = [.. words], Tags = [.. tags] };
        }
        return sentences;
    }

    private static IEstimator<ITransformer> Pipeline(MLContext mlContext, SequenceTaggingTrainer trainer) =>
        mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(TaggedSentence.Words))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TaggedSentence.Tags)))
            .Append(trainer)
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedTags", "PredictedLabel"));

    private static SequenceTaggingTrainer.Options SmallOptions() => new()
    {
        EmbeddingSize = 8, HiddenSize = 16, NumberOfEpochs = 12, LearningRate = 0.02f, BatchSize = 16, Seed = 1,
    };

    [Fact]
    public void TagsTokensAndEvaluatesEntitiesThenScoresTheSameInAFreshProcessAndThroughAPredictionEngine()
    {
        var mlContext = new MLContext(seed: 1);
        var trainRows = Sentences(300, seed: 1);
        var testRows = Sentences(60, seed: 2);
        var train = mlContext.Data.LoadFromEnumerable(trainRows);
        var test = mlContext.Data.LoadFromEnumerable(testRows);

        var model = Pipeline(mlContext, mlContext.SequenceTagging.Trainers.Lstm(SmallOptions())).Fit(train);
        var scored = model.Transform(test);
        var metrics = mlContext.SequenceTagging.Evaluate(scored);

        // The baseline: a per-word lookup table, scored by the same evaluator.
        var lookup = TagBaselines.PerWordLookup(trainRows.Select(s => (s.Words, s.Tags)), testRows.Select(s => s.Words));
        var lookupMetrics = TagBaselines.Evaluate(mlContext, testRows.Select(s => s.Tags), lookup, ["O", "B-PER", "I-PER", "B-LOC"]);
        Assert.True(metrics.TokenAccuracy > lookupMetrics.TokenAccuracy + 0.04, $"{metrics}; per-word lookup {lookupMetrics}");
        Assert.NotNull(metrics.Entities);
        Assert.True(metrics.Entities!.F1 > lookupMetrics.Entities!.F1 + 0.1, $"entity F1 {metrics.Entities.F1:F3}; per-word lookup {lookupMetrics.Entities.F1:F3}");
        Assert.Equal(["B-LOC", "B-PER", "I-PER", "O"], metrics.PerTag.Select(t => t.Name).Order(StringComparer.Ordinal));
        var predictedType = (VectorDataViewType)scored.Schema["PredictedLabel"].Type;
        Assert.Equal(((VectorDataViewType)scored.Schema["Label"].Type).ItemType, predictedType.ItemType);
        Assert.Equal(0, predictedType.Size);

        var predictedTags = scored.GetColumn<string[]>("PredictedTags").ToArray();
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        for (int r = 0; r < testRows.Length; r++)
        {
            Assert.Equal(testRows[r].Words.Length, predictedTags[r].Length);
            Assert.Equal(testRows[r].Words.Length * 4, scores[r].Length);
        }

        var engine = mlContext.Model.CreatePredictionEngine<TaggedSentence, TagPrediction>(model);
        for (int r = 0; r < testRows.Length; r++)
        {
            var prediction = engine.Predict(testRows[r]);
            Assert.Equal(predictedTags[r], prediction.PredictedTags);
            Assert.Equal(scores[r].Select(Fingerprint.Bits), prediction.Score.Select(Fingerprint.Bits));
        }

        string path = Path.Combine(_folder, "tagger.zip");
        mlContext.Model.Save(model, train.Schema, path);
        var loaded = SavedModelProbe.ScoreInFreshProcess(mlContext, path, test, _folder);
        Assert.Equal(Keys(scored, "PredictedLabel"), Keys(loaded, "PredictedLabel"));
        Assert.Equal(Fingerprint.Of(scored, "Score"), Fingerprint.Of(loaded, "Score"));
    }

    [Fact]
    public void NumericStepsAreTaggedAndSmallBatchesScoreTheSame()
    {
        var mlContext = new MLContext(seed: 1);
        TaggedSteps[] Rows(int count, int seed)
        {
            var random = new Random(seed);
            return [.. Enumerable.Range(0, count).Select(_ =>
            {
                int T = random.Next(1, 9);
                var features = new float[T * 2];
                var tags = new string[T];
                for (int t = 0; t < T; t++)
                {
                    features[2 * t] = (float)(random.NextDouble() * 2 - 1);
                    features[2 * t + 1] = (float)(random.NextDouble() * 2 - 1);
                    tags[t] = features[2 * t] > 0 ? "up" : "down";
                }
                return new TaggedSteps { Features = features, Tags = tags };
            })];
        }
        var testRows = Rows(80, 2);
        var train = mlContext.Data.LoadFromEnumerable(Rows(300, 1));
        var test = mlContext.Data.LoadFromEnumerable(testRows);
        var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TaggedSteps.Tags))
            .Append(mlContext.SequenceTagging.Trainers.Gru(featuresPerStep: 2, hiddenSize: 8, numberOfEpochs: 10, learningRate: 0.02f));

        var model = pipeline.Fit(train);
        var scored = model.Transform(test);

        // Each step's tag is the sign of its first feature: always answering the commoner tag scores about one half.
        var tags = testRows.SelectMany(row => row.Tags).ToArray();
        double majority = tags.GroupBy(tag => tag).Max(group => group.Count()) / (double)tags.Length;
        double accuracy = mlContext.SequenceTagging.Evaluate(scored).TokenAccuracy;
        Assert.True(accuracy > majority + 0.35, $"token accuracy {accuracy:F3}; the majority tag {majority:F3}");
        var tagger = ((IEnumerable<ITransformer>)model).Last() as RecurrentPredictionTransformer;
        Assert.NotNull(tagger);
        Assert.True(tagger!.Model.Bidirectional);
        Assert.Equal(Keys(scored, "PredictedLabel"), Keys(tagger.WithScoringBatchSize(3).Transform(((IEnumerable<ITransformer>)model).First().Transform(test)), "PredictedLabel"));
    }

    [Fact]
    public void ALabelOfAnotherLengthThanItsInputIsAnErrorNamingTheRowAndBothLengths()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = Sentences(20, seed: 3);
        rows[7] = new TaggedSentence { Words = ["john", "went", "home"], Tags = ["B-PER", "O"] };
        var data = mlContext.Data.LoadFromEnumerable(rows);
        var pipeline = Pipeline(mlContext, mlContext.SequenceTagging.Trainers.Rnn(hiddenSize: 4, numberOfEpochs: 1));

        var error = Assert.Throws<InvalidOperationException>(() => pipeline.Fit(data));

        Assert.Contains("Row 7", error.Message);
        Assert.Contains("2 tags", error.Message);
        Assert.Contains("3 steps", error.Message);
    }

    [Fact]
    public void ALabelThatIsNotAKeyVectorIsRejectedByName()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(Sentences(10, seed: 4));
        var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(TaggedSentence.Words))
            .Append(mlContext.SequenceTagging.Trainers.Lstm(labelColumnName: nameof(TaggedSentence.Tags)));

        var error = Assert.ThrowsAny<Exception>(() => pipeline.Fit(data));

        Assert.Contains("Tags", error.Message);
    }

    [Fact]
    public void EveryCatalogArgumentReachesTheOptions()
    {
        var mlContext = new MLContext();
        var trainer = mlContext.SequenceTagging.Trainers.Gru("L", "F", "W", featuresPerStep: 3, hiddenSize: 5, numberOfLayers: 2, bidirectional: false,
            numberOfEpochs: 7, batchSize: 9, learningRate: 0.5f);
        var o = trainer.TrainerOptions;
        Assert.Equal((RecurrentCellType.Gru, "L", "F", "W", 3, 5, 2, false, 7, 9, 0.5f),
            (trainer.Cell, o.LabelColumnName, o.FeatureColumnName, o.ExampleWeightColumnName, o.FeaturesPerStep, o.HiddenSize, o.NumberOfLayers,
                o.Bidirectional, o.NumberOfEpochs, o.BatchSize, o.LearningRate));
        Assert.True(new SequenceTaggingTrainer.Options().Bidirectional);
        Assert.Equal(RecurrentCellType.Rnn, mlContext.SequenceTagging.Trainers.Rnn().Cell);
        Assert.Equal(RecurrentCellType.Lstm, mlContext.SequenceTagging.Trainers.Lstm(new SequenceTaggingTrainer.Options()).Cell);
    }

    /// <summary>One string per row of a key-vector column.</summary>
    public static string[] Keys(IDataView data, string name) =>
        [.. data.GetColumn<VBuffer<uint>>(data.Schema[name]).Select(v => string.Join(',', v.DenseValues()))];
}
