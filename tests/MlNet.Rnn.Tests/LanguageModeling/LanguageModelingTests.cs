using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Tests.Persistence;

namespace MlNet.Rnn.Tests.LanguageModeling;

/// <summary>A row of text.</summary>
public sealed class TextRow
{
    public string Text { get; set; } = "";
}

/// <summary>A row with a numeric column where text is expected.</summary>
public sealed class NumberRow
{
    public float Text { get; set; }
}

/// <summary>What a PredictionEngine reads back.</summary>
public sealed class TextScore
{
    public float LogLikelihood { get; set; }
    public float TokenCount { get; set; }
    public float BitsPerToken { get; set; }
    public float Perplexity { get; set; }
}

/// <summary>One model trained on a tiny repeated text for the tests that use it.</summary>
public sealed class RepeatedTextModel
{
    public const string Sentence = "the cat sat on the mat.";

    public RepeatedTextModel()
    {
        MLContext = new MLContext(seed: 1);
        MLContext.Log += (_, e) => { lock (Messages) Messages.Add(e.Message); };
        Rows = [.. Enumerable.Repeat(new TextRow { Text = Sentence }, 24)];
        Train = MLContext.Data.LoadFromEnumerable(Rows);
        Test = MLContext.Data.LoadFromEnumerable(new[]
        {
            new TextRow { Text = Sentence }, new TextRow { Text = "the mat sat on the cat." }, new TextRow { Text = "" }, new TextRow { Text = "xyz" },
        });
        var options = LanguageModelingTests.SmallOptions();
        options.Logger = Logger;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Model = MLContext.LanguageModeling.Trainers.Lstm(options).Fit(Train);
        TrainingTime = clock.Elapsed;
    }

    public MLContext MLContext { get; }
    public List<string> Messages { get; } = [];
    public RecordingLogger Logger { get; } = new();
    public TextRow[] Rows { get; }
    public IDataView Train { get; }
    public IDataView Test { get; }
    public LanguageModelTransformer Model { get; }
    public TimeSpan TrainingTime { get; }
}

/// <summary>mlContext.LanguageModeling: Fit, Generate, Transform, Evaluate, Save/Load in a fresh process, seeds, bad input, options.</summary>
public sealed class LanguageModelingTests(RepeatedTextModel fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<RepeatedTextModel>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-lm-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static LanguageModelTrainer.Options SmallOptions() => new()
    {
        EmbeddingSize = 16, HiddenSize = 48, NumberOfEpochs = 40, LearningRate = 0.01f, BatchSize = 4, ChunkSteps = 24, Seed = 3, MaxDegreeOfParallelism = 1,
    };

    private static float[] Column(IDataView data, string name) => [.. data.GetColumn<float>(data.Schema[name])];

    [Fact]
    public void GreedyGenerationFromAnEmptyPromptReproducesTheText()
    {
        output.WriteLine($"trained in {fixture.TrainingTime}");
        Assert.Equal(RepeatedTextModel.Sentence, fixture.Model.Generate("", maxLength: 100, temperature: 0));
        Assert.Equal(RepeatedTextModel.Sentence, fixture.Model.Generate(maxLength: 100, topK: 1, seed: 7));
        Assert.Equal("sat on the mat.", fixture.Model.Generate("the cat ", maxLength: 100, temperature: 0));
        Assert.Equal("the c", fixture.Model.Generate("", maxLength: 5, temperature: 0));
        Assert.Equal("", fixture.Model.Generate("", maxLength: 0));

        // Progress reached MLContext.Log and the ILogger; the trainer's summary names the seed.
        Assert.Contains(fixture.Messages, m => m.Contains("language model") && m.Contains("seed 3"));
        Assert.Contains(fixture.Messages, m => m.Contains("Epoch 40"));
        Assert.Contains(fixture.Logger.Messages, m => m.Contains("Epoch 40"));
    }

    [Fact]
    public void EvaluateBitsPerTokenDropBelowTheUntrainedModels()
    {
        var mlContext = fixture.MLContext;
        var trained = mlContext.LanguageModeling.Evaluate(fixture.Model.Transform(fixture.Train));
        var vocabulary = fixture.Model.Vocabulary;
        var untrainedModel = new LanguageModel(vocabulary, SmallOptions().ToLanguageModelOptions(RecurrentCellType.Lstm, vocabulary.Count, seed: 3));
        var untrained = mlContext.LanguageModeling.Evaluate(new LanguageModelTransformer(mlContext, untrainedModel, "Text", null).Transform(fixture.Train));
        output.WriteLine($"trained {trained.BitsPerToken:F4} bits per character, untrained {untrained.BitsPerToken:F4}");

        Assert.Equal(24L * (RepeatedTextModel.Sentence.Length + 1), trained.TokenCount);
        Assert.Equal(untrained.TokenCount, trained.TokenCount);
        Assert.True(untrained.BitsPerToken > 0.9 * Math.Log2(vocabulary.Count), untrained.ToString());
        Assert.True(trained.BitsPerToken < 0.2, trained.ToString());
        Assert.True(trained.BitsPerToken < untrained.BitsPerToken / 10, $"{trained} vs {untrained}");
        Assert.Equal(Math.Pow(2, trained.BitsPerToken), trained.Perplexity, 9);
    }

    [Fact]
    public void TransformAddsPerRowScoresThatAPredictionEngineAndScoreAgreeWith()
    {
        var scored = fixture.Model.Transform(fixture.Test);
        foreach (string name in new[] { "LogLikelihood", "TokenCount", "BitsPerToken", "Perplexity" })
            Assert.Equal(NumberDataViewType.Single, scored.Schema[name].Type);
        float[] logLikelihood = Column(scored, "LogLikelihood"), tokens = Column(scored, "TokenCount"),
            bits = Column(scored, "BitsPerToken"), perplexity = Column(scored, "Perplexity");
        string[] texts = [.. scored.GetColumn<string>("Text")];

        Assert.Equal([24f, 24f, 1f, 4f], tokens);
        for (int r = 0; r < texts.Length; r++)
        {
            var expected = fixture.Model.Score(texts[r]);
            Assert.Equal((float)expected.LogLikelihood, logLikelihood[r]);
            Assert.Equal((float)expected.BitsPerToken, bits[r]);
            Assert.Equal((float)expected.Perplexity, perplexity[r]);
            Assert.Equal(-logLikelihood[r] / tokens[r] / Math.Log(2), bits[r], 3);
        }
        // The training sentence is far more likely than its scrambled form; unknown characters are least likely per token.
        Assert.True(bits[0] < 0.2 && bits[1] > bits[0] && bits[3] > bits[1], string.Join(", ", bits));

        // The pooled metrics are the sum over rows.
        var metrics = fixture.MLContext.LanguageModeling.Evaluate(scored);
        Assert.Equal(logLikelihood.Sum(v => (double)v), metrics.LogLikelihood, 9);
        Assert.Equal(53L, metrics.TokenCount);

        var engine = fixture.MLContext.Model.CreatePredictionEngine<TextRow, TextScore>(fixture.Model);
        for (int r = 0; r < texts.Length; r++)
        {
            var prediction = engine.Predict(new TextRow { Text = texts[r] });
            Assert.Equal((logLikelihood[r], tokens[r], bits[r], perplexity[r]), (prediction.LogLikelihood, prediction.TokenCount, prediction.BitsPerToken, prediction.Perplexity));
        }

        // Cursor sets score the same rows the same way.
        var set = scored.GetRowCursorSet([scored.Schema["BitsPerToken"]], 2);
        var fromSet = new List<float>();
        foreach (var cursor in set)
            using (cursor)
            {
                var getter = cursor.GetGetter<float>(scored.Schema["BitsPerToken"]);
                float value = 0;
                while (cursor.MoveNext()) { getter(ref value); fromSet.Add(value); }
            }
        Assert.Equal(bits.Order(), fromSet.Order());
    }

    [Fact]
    public void ASavedModelScoresAndGeneratesTheSameInAFreshProcess()
    {
        var mlContext = fixture.MLContext;
        string path = Path.Combine(_folder, "lm.zip");
        mlContext.Model.Save(fixture.Model, fixture.Test.Schema, path);
        var expected = fixture.Model.Transform(fixture.Test);

        var loaded = SavedModelProbe.ScoreInFreshProcess(mlContext, path, fixture.Test, _folder);
        foreach (string name in new[] { "LogLikelihood", "TokenCount", "BitsPerToken", "Perplexity" })
            Assert.Equal(Column(expected, name), Column(loaded, name));

        var reloaded = Assert.IsType<LanguageModelTransformer>(mlContext.Model.Load(path, out var schema));
        Assert.Equal("Text", reloaded.InputColumnName);
        Assert.Equal(fixture.Model.Model.Model.Options, reloaded.Model.Model.Options);
        Assert.Equal(fixture.Model.Vocabulary.Tokens, reloaded.Vocabulary.Tokens);
        Assert.Null(reloaded.History);
        Assert.Equal(Column(expected, "BitsPerToken"), Column(reloaded.Transform(fixture.Test), "BitsPerToken"));
        foreach (int seed in new[] { 1, 2, 3 })
            Assert.Equal(fixture.Model.Generate("the ", 60, temperature: 1.5f, seed: seed), reloaded.Generate("the ", 60, temperature: 1.5f, seed: seed));
        Assert.Equal(fixture.Model.Generate(temperature: 0), reloaded.Generate(temperature: 0));
    }

    [Fact]
    public void TheSameSeedGivesTheSameModelAndTheSameSamples()
    {
        var rows = new MLContext().Data.LoadFromEnumerable(new[] { new TextRow { Text = "abcab cabc" }, new TextRow { Text = "bca abc" } });
        LanguageModelTransformer Fit(MLContext mlContext, int? seed)
        {
            var options = SmallOptions();
            options.NumberOfEpochs = 3;
            options.Seed = seed;
            return mlContext.LanguageModeling.Trainers.Gru(options).Fit(rows);
        }
        var first = Fit(new MLContext(seed: 1), 11);
        var second = Fit(new MLContext(seed: 2), 11);
        Assert.Equal(first.Model.Model.Parameters.Values.ToArray(), second.Model.Model.Parameters.Values.ToArray());
        Assert.Equal(first.Generate("a", 40, seed: 5), second.Generate("a", 40, seed: 5));
        Assert.Equal(first.Generate("", 40, seed: 5), first.Generate("", 40, seed: 5));
        Assert.Equal(first.Score("abc").LogLikelihood, second.Score("abc").LogLikelihood);

        // Without a seed in the options the MLContext's seed decides.
        var fromContext = Fit(new MLContext(seed: 9), null).Model.Model.Parameters.Values.ToArray();
        Assert.Equal(fromContext, Fit(new MLContext(seed: 9), null).Model.Model.Parameters.Values.ToArray());
        Assert.NotEqual(fromContext, Fit(new MLContext(seed: 10), null).Model.Model.Parameters.Values.ToArray());
    }

    [Fact]
    public void ATokenLevelModelWithValidationDataGeneratesWords()
    {
        var mlContext = new MLContext(seed: 1);
        var train = mlContext.Data.LoadFromEnumerable(Enumerable.Repeat(new TextRow { Text = "red green blue" }, 20));
        var validation = mlContext.Data.LoadFromEnumerable(new[] { new TextRow { Text = "red green blue" } });
        var options = SmallOptions();
        options.Level = VocabularyLevel.Tokens;
        options.NumberOfEpochs = 60;
        options.ChunkSteps = 8;
        options.EarlyStoppingPatience = 100;
        var model = mlContext.LanguageModeling.Trainers.Rnn(options).Fit(train, validation);
        Assert.Equal(VocabularyLevel.Tokens, model.Vocabulary.Level);
        Assert.Equal(6, model.Vocabulary.Count);
        Assert.NotNull(model.History);
        Assert.All(model.History!.Epochs, epoch => Assert.NotNull(epoch.ValidationLoss));
        Assert.Equal("red green blue", model.Generate(temperature: 0));
        Assert.Equal("blue", model.Generate("red green", temperature: 0));
        Assert.Equal(4f, Column(model.Transform(validation), "TokenCount").Single());
    }

    [Fact]
    public void BadInputGivesClearErrors()
    {
        var mlContext = new MLContext(seed: 1);
        var numbers = mlContext.Data.LoadFromEnumerable(new[] { new NumberRow { Text = 1 } });
        var error = Assert.ThrowsAny<Exception>(() => mlContext.LanguageModeling.Trainers.Lstm(numberOfEpochs: 1).Fit(numbers));
        output.WriteLine(error.Message);
        Assert.Contains("Text", error.Message);
        Assert.Contains("Single", error.Message);
        error = Assert.ThrowsAny<Exception>(() => fixture.Model.Transform(numbers));
        Assert.Contains("Text", error.Message);
        Assert.Contains("Single", error.Message);
        error = Assert.ThrowsAny<Exception>(() => mlContext.LanguageModeling.Trainers.Lstm("Missing", numberOfEpochs: 1).Fit(fixture.Train));
        Assert.Contains("Missing", error.Message);

        var empty = mlContext.Data.LoadFromEnumerable(Array.Empty<TextRow>());
        error = Assert.ThrowsAny<Exception>(() => mlContext.LanguageModeling.Trainers.Gru(numberOfEpochs: 1).Fit(empty));
        Assert.Contains("no row", error.Message);
        var blank = mlContext.Data.LoadFromEnumerable(new[] { new TextRow { Text = "" } });
        error = Assert.ThrowsAny<Exception>(() => mlContext.LanguageModeling.Trainers.Gru(numberOfEpochs: 1).Fit(blank));
        Assert.Contains("no character", error.Message);
        error = Assert.ThrowsAny<Exception>(() => mlContext.LanguageModeling.Evaluate(fixture.Train));
        Assert.Contains("LogLikelihood", error.Message);

        Assert.Contains("temperature", Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Model.Generate("the", temperature: -1)).Message);
        Assert.Contains("topK", Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Model.Generate("the", topK: -2)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Model.Generate("the", maxLength: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Model.Generate(temperature: float.NaN));

        Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.LanguageModeling.Trainers.Lstm(new LanguageModelTrainer.Options { ChunkSteps = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.LanguageModeling.Trainers.Rnn(new LanguageModelTrainer.Options { BatchSize = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.LanguageModeling.Trainers.Gru(hiddenSize: 0));
    }

    [Fact]
    public void EveryCatalogParameterReachesTheOptions()
    {
        var trainers = new MLContext(seed: 1).LanguageModeling.Trainers;
        var made = new (RecurrentCellType Cell, LanguageModelTrainer Trainer)[]
        {
            (RecurrentCellType.Rnn, trainers.Rnn("T", VocabularyLevel.Tokens, hiddenSize: 7, numberOfLayers: 2, numberOfEpochs: 3, learningRate: 0.25f)),
            (RecurrentCellType.Lstm, trainers.Lstm("T", VocabularyLevel.Tokens, hiddenSize: 7, numberOfLayers: 2, numberOfEpochs: 3, learningRate: 0.25f)),
            (RecurrentCellType.Gru, trainers.Gru("T", VocabularyLevel.Tokens, hiddenSize: 7, numberOfLayers: 2, numberOfEpochs: 3, learningRate: 0.25f)),
        };
        foreach (var (cell, trainer) in made)
        {
            var o = trainer.TrainerOptions;
            Assert.Equal(cell, trainer.Cell);
            Assert.Equal(("T", "T", VocabularyLevel.Tokens, 7, 2, 3, 0.25f),
                (o.InputColumnName, o.FeatureColumnName, o.Level, o.HiddenSize, o.NumberOfLayers, o.NumberOfEpochs, o.LearningRate));
        }
        var defaults = trainers.Lstm().TrainerOptions;
        Assert.Equal(("Text", VocabularyLevel.Characters, 128, 1, 10, 2e-3f),
            (defaults.InputColumnName, defaults.Level, defaults.HiddenSize, defaults.NumberOfLayers, defaults.NumberOfEpochs, defaults.LearningRate));

        var logger = new RecordingLogger();
        var options = new LanguageModelTrainer.Options
        {
            InputColumnName = "Doc", Level = VocabularyLevel.Tokens, MinimumTokenCount = 2, EmbeddingSize = 12, HiddenSize = 6, NumberOfLayers = 2,
            ChunkSteps = 9, BatchSize = 5, Dropout = 0.2f, GradientClipNorm = 2f, MaxTrainingTime = TimeSpan.FromSeconds(30), EarlyStoppingPatience = 2,
            Seed = 42, Logger = logger, NumberOfEpochs = 4, LearningRate = 0.5f, Optimizer = OptimizerKind.AdamW, WeightDecay = 0.01f, Momentum = 0.5f,
            Beta1 = 0.8f, Beta2 = 0.99f, Schedule = ScheduleKind.Cosine, MinimumLearningRate = 0.1f, ReduceOnPlateau = true, PlateauFactor = 0.3f,
            PlateauPatience = 1, Shuffle = false, ValidationStreams = 3, ForgetGateBias = 2f, RnnActivation = RnnActivation.Relu,
            LearnedInitialState = true, MaxDegreeOfParallelism = 1,
        };
        Assert.Same(options, trainers.Lstm(options).TrainerOptions);
        Assert.Same(options, trainers.Gru(options).TrainerOptions);
        Assert.Same(options, trainers.Rnn(options).TrainerOptions);
        Assert.Equal("Doc", options.FeatureColumnName);

        Assert.Equal(new SequenceModelOptions
        {
            Cell = RecurrentCellType.Lstm, RnnActivation = RnnActivation.Relu, VocabularySize = 20, EmbeddingSize = 12, HiddenSize = 6, Layers = 2,
            Dropout = 0.2f, LearnedInitialState = true, OutputSize = 20, Readout = SequenceReadout.EveryStep, ForgetGateBias = 2f, Seed = 42, MaxDegreeOfParallelism = 1,
        }, options.ToLanguageModelOptions(RecurrentCellType.Lstm, 20, 42));
        Assert.Null(options.ToLanguageModelOptions(RecurrentCellType.Gru, 20, 42).ForgetGateBias);

        Assert.Equal(new LanguageModelTrainingOptions
        { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 4, BatchSize = 5, LearningRate = 0.5f, Optimizer = OptimizerKind.AdamW, Momentum = 0.5f, Beta1 = 0.8f, Beta2 = 0.99f, WeightDecay = 0.01f, Schedule = ScheduleKind.Cosine, GradientClipNorm = 2f, ReduceOnPlateau = true, PlateauFactor = 0.3f, PlateauPatience = 1, MinimumLearningRate = 0.1f, EarlyStoppingPatience = 2, MaxTrainingTime = TimeSpan.FromSeconds(30), TimeProvider = TimeProvider.System, Shuffle = false, Seed = 42, Logger = logger }, ChunkSteps = 9, ValidationStreams = 3 }, options.ToLanguageModelTrainingOptions(Core.Models.RecurrentCellType.Lstm, 42, hasValidationData: true, logger));
        var withoutValidation = options.ToLanguageModelTrainingOptions(Core.Models.RecurrentCellType.Lstm, 42, hasValidationData: false, logger);
        Assert.Equal((0, false), (withoutValidation.Training.EarlyStoppingPatience, withoutValidation.Training.ReduceOnPlateau));
    }
}
