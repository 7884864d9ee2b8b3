using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tests.Trainer;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.LanguageModeling;

/// <summary>
/// The language model learns a tiny deterministic text, generates it back (greedy, sampled, from an empty or a given prompt),
/// scores text with the exact likelihood, survives Save/Load, and rejects bad arguments.
/// </summary>
public sealed class LanguageModelTests
{
    private const string Document = "hello world";

    /// <summary>32 copies of one document: after the start token every next character is certain.</summary>
    private static LanguageModel TrainedModel()
    {
        var vocabulary = Vocabulary.FromCharacters(Document);
        var model = new LanguageModel(vocabulary, LanguageModel.DefaultOptions(vocabulary) with { EmbeddingSize = 16, HiddenSize = 32, Seed = 1 });
        model.Train(Enumerable.Repeat(Document, 32).ToArray(), [Document], new LanguageModelTrainingOptions
        { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 100, BatchSize = 4, LearningRate = 0.02f, Seed = 2 }, ChunkSteps = 8 });
        return model;
    }

    private static readonly Lazy<LanguageModel> s_trained = new(TrainedModel);

    private static LanguageModel Untrained(int seed = 5)
    {
        var vocabulary = Vocabulary.FromCharacters("abcdefgh ");
        return new LanguageModel(vocabulary, LanguageModel.DefaultOptions(vocabulary) with { EmbeddingSize = 8, HiddenSize = 16, Seed = seed });
    }

    [Fact]
    public void Training_LearnsTheText_BitsPerCharacterNearZero()
    {
        var metrics = s_trained.Value.Evaluate(Document, scoreEnd: true);
        Assert.Equal(Document.Length + 1, metrics.TokenCount);
        // A unigram model (each character by its frequency in the text, the end once per document) needs its entropy per character.
        var counts = Document.GroupBy(c => c).Select(g => (double)g.Count()).Append(1).ToArray();
        double unigramBits = -counts.Sum(n => n / counts.Sum() * Math.Log2(n / counts.Sum()));
        Assert.True(unigramBits > 2.5);
        Assert.True(metrics.BitsPerToken < 0.05 && metrics.BitsPerToken < unigramBits / 50, $"bits per character {metrics.BitsPerToken}, unigram {unigramBits:F3}");
        Assert.True(metrics.Perplexity < 1.05, $"perplexity {metrics.Perplexity}");
    }

    [Fact]
    public void Training_ReportsEveryEpochWithValidationBits()
    {
        var vocabulary = Vocabulary.FromCharacters(Document);
        var model = new LanguageModel(vocabulary, LanguageModel.DefaultOptions(vocabulary) with { EmbeddingSize = 8, HiddenSize = 16, Seed = 1 });
        var history = model.Train(Enumerable.Repeat(Document, 8).ToArray(), [Document], new LanguageModelTrainingOptions
        { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 3, BatchSize = 2, LearningRate = 0.01f }, ChunkSteps = 5 });
        Assert.Equal(3, history.Epochs.Count);
        Assert.All(history.Epochs, epoch => Assert.Equal("bits per token", epoch.MetricName));
        Assert.Equal(history.Epochs[^1].ValidationLoss!.Value / Math.Log(2), history.Epochs[^1].ValidationMetric!.Value, 1e-9);
        Assert.True(history.Epochs[^1].TrainingLoss < history.Epochs[0].TrainingLoss);
    }

    [Fact]
    public void Greedy_FromEmptyPrompt_ReproducesTheDocumentAndStopsAtTheEnd()
    {
        Assert.Equal(Document, s_trained.Value.Generate("", maxLength: 100, temperature: 0f));
    }

    [Fact]
    public void Greedy_ContinuesAPrompt_AndReturnsOnlyTheContinuation()
    {
        Assert.Equal("world", s_trained.Value.Generate("hello ", maxLength: 100, temperature: 0f));
    }

    [Fact]
    public void Generation_StopsAtMaxLength()
    {
        Assert.Equal("hel", s_trained.Value.Generate("", maxLength: 3, temperature: 0f));
        Assert.Equal("", s_trained.Value.Generate("", maxLength: 0));
    }

    [Fact]
    public void Sampling_WithASeed_IsDeterministic()
    {
        var model = Untrained();
        string first = model.Generate("abc", maxLength: 60, temperature: 1.5f, topK: 0, seed: 42);
        string second = model.Generate("abc", maxLength: 60, temperature: 1.5f, topK: 0, seed: 42);
        Assert.Equal(first, second);
        var others = Enumerable.Range(0, 5).Select(seed => model.Generate("abc", maxLength: 60, temperature: 1.5f, seed: seed)).ToList();
        Assert.Contains(others, text => text != first);
    }

    [Fact]
    public void TopKOfOne_EqualsGreedy()
    {
        var model = Untrained();
        string greedy = model.Generate("ab", maxLength: 40, temperature: 0f);
        Assert.Equal(greedy, model.Generate("ab", maxLength: 40, temperature: 2f, topK: 1, seed: 7));
        Assert.Equal(greedy, model.Generate("ab", maxLength: 40, temperature: 0f, topK: 3, seed: 8));
    }

    [Fact]
    public void Sampling_NeverLeavesTheTopK()
    {
        // With zero weights the logits are the head's bias, the same at every step: top-2 can only be 'a' or 'b'.
        var model = ContextFreeModel();
        string text = model.Generate("", maxLength: 200, temperature: 1f, topK: 2, seed: 3);
        Assert.NotEmpty(text);
        Assert.All(text, c => Assert.Contains(c, "ab"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Generation_NeverDrawsTheUnknownOrStartId_EvenWhenTheHeadFavoursThem(bool keys)
    {
        // Characters: unknown 0, start 1, end 2. Keys 1 … 4: unknown 0, start 5, end 6. The head makes unknown and start by far
        // the likeliest ids and end impossible, so only the rule keeps them out and every generation runs to its length.
        var vocabulary = keys ? Vocabulary.OfKeys(4) : Vocabulary.FromCharacters("abcd");
        var model = new LanguageModel(vocabulary, LanguageModel.DefaultOptions(vocabulary) with { EmbeddingSize = 4, HiddenSize = 6, Seed = 3 });
        var parameters = model.Model.Parameters;
        Span<float> bias = parameters.ValuesOf(parameters["head.bias"]);
        bias[Vocabulary.UnknownId] += 30;
        bias[vocabulary.StartId] += 30;
        bias[vocabulary.EndId] -= 30;
        foreach (var (temperature, topK) in new[] { (0f, 0), (1f, 0), (1f, 2), (2f, 3) })
        {
            int[] generated = model.Generate([], 40, temperature, topK, seed: 7);
            Assert.Equal(40, generated.Length);
            Assert.DoesNotContain(Vocabulary.UnknownId, generated);
            Assert.DoesNotContain(vocabulary.StartId, generated);
            Assert.All(generated, id => Assert.InRange(id, 1, vocabulary.Count - 1));
        }
    }

    [Fact]
    public void EmptyPrompt_GeneratesFromTheStartToken()
    {
        var model = Untrained();
        string text = model.Generate("", maxLength: 20, temperature: 1f, seed: 1);
        Assert.InRange(text.Length, 0, 20);
        Assert.Equal(model.Generate(maxLength: 20, seed: 1), text);
    }

    [Theory]
    [InlineData(-0.5f, 0)]
    [InlineData(float.NaN, 0)]
    [InlineData(float.PositiveInfinity, 0)]
    [InlineData(1f, -1)]
    public void Generate_RejectsNegativeTemperatureOrTopK(float temperature, int topK)
    {
        var model = Untrained();
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate("ab", 10, temperature, topK, seed: 1));
        Assert.Equal(topK < 0 ? "topK" : "temperature", exception.ParamName);
    }

    [Fact]
    public void Generate_RejectsNegativeMaxLengthAndIdsOutsideTheVocabulary()
    {
        var model = Untrained();
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate("ab", -1));
        var exception = Assert.Throws<ArgumentException>(() => model.Generate([3, 99], 5));
        Assert.Contains("99", exception.Message);
    }

    [Fact]
    public void Evaluate_MatchesAHandComputedCase()
    {
        // Zero weights: every gate is ½, g = 0, so c = h = 0 and z = b_y: p(a) = ½, p(b) = ¼, p(end) = ⅛, p(unk) = p(start) = 1/16.
        var model = ContextFreeModel();
        var metrics = model.Evaluate("aab");
        Assert.Equal(3, metrics.TokenCount);
        Assert.Equal(-4 * Math.Log(2), metrics.LogLikelihood, 1e-5);
        Assert.Equal(4.0 / 3, metrics.BitsPerToken, 1e-5);
        Assert.Equal(Math.Pow(2, 4.0 / 3), metrics.Perplexity, 1e-5);
        var document = model.Evaluate("aab", scoreEnd: true);
        Assert.Equal(4, document.TokenCount);
        Assert.Equal(7.0 / 4, document.BitsPerToken, 1e-5);
        Assert.Equal(document.LogLikelihood, model.Evaluate("aab", scoreEnd: true, streams: 3).LogLikelihood, 1e-5);
        Assert.Equal(-3 * Math.Log(2), model.Evaluate("", scoreEnd: true).LogLikelihood, 1e-5);
    }

    [Fact]
    public void Evaluate_ScoresCharactersOutsideTheVocabularyAsUnknown()
    {
        var model = ContextFreeModel();
        var vocabulary = model.Vocabulary;
        Assert.Equal([3, Vocabulary.UnknownId, 4], vocabulary.Encode("a€b"));
        Assert.Equal("a\uFFFDb", vocabulary.Decode(vocabulary.Encode("a€b")));
        // ½ · 1/16 · ¼: 1 + 4 + 2 = 7 bits over 3 characters.
        Assert.Equal(7.0 / 3, model.Evaluate("a€b").BitsPerToken, 1e-5);
        Assert.NotNull(model.Generate("x€y", 5, seed: 1));
    }

    [Fact]
    public void Evaluate_ManyStreams_ScoreEveryTokenOnce_AndTheFirstPieceExactly()
    {
        // Two streams over "start hello worldhello world": the first scores "hello world" exactly as one stream would;
        // the second restarts from the initial state reading 'd', so its score differs.
        var model = s_trained.Value;
        var exact = model.Evaluate(Document + Document);
        var parallel = model.Evaluate(Document + Document, streams: 2);
        Assert.Equal(exact.TokenCount, parallel.TokenCount);
        Assert.NotEqual(exact.LogLikelihood, parallel.LogLikelihood);
        Assert.True(double.IsFinite(parallel.LogLikelihood) && parallel.LogLikelihood < 0);
        Assert.Equal(exact.TokenCount, model.Evaluate(Document + Document, streams: 50).TokenCount);
    }

    [Fact]
    public void Evaluate_RejectsAnEmptyText()
    {
        var exception = Assert.Throws<ArgumentException>(() => Untrained().Evaluate(""));
        Assert.Contains("no token", exception.Message);
    }

    [Fact]
    public void SaveLoad_GivesIdenticalGenerationsAndScores()
    {
        var model = s_trained.Value;
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        var loaded = LanguageModel.Load(stream);
        Assert.Equal(model.Vocabulary.Tokens, loaded.Vocabulary.Tokens);
        Assert.Equal(model.Model.Parameters.Values.ToArray(), loaded.Model.Parameters.Values.ToArray());
        foreach (int seed in new[] { 1, 2, 3 })
            Assert.Equal(model.Generate("he", 30, temperature: 1.2f, topK: 4, seed: seed), loaded.Generate("he", 30, temperature: 1.2f, topK: 4, seed: seed));
        Assert.Equal(model.Evaluate("hello there").LogLikelihood, loaded.Evaluate("hello there").LogLikelihood);

        string path = Path.Combine(Path.GetTempPath(), $"lm-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            Assert.Equal(Document, LanguageModel.Load(path).Generate("", 50, temperature: 0f));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_RejectsAModelFileWithoutAVocabulary()
    {
        var vocabulary = Vocabulary.FromCharacters("ab");
        using var stream = new MemoryStream();
        SequenceModelFile.Save(new SequenceModel(LanguageModel.DefaultOptions(vocabulary) with { HiddenSize = 4, EmbeddingSize = 2 }), stream);
        stream.Position = 0;
        var exception = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(stream, "plain.safetensors"));
        Assert.Contains(LanguageModel.VocabularyKey, exception.Message);
    }

    [Fact]
    public void Constructor_RejectsAShapeThatCannotModelLanguage()
    {
        var vocabulary = Vocabulary.FromCharacters("ab");
        var options = LanguageModel.DefaultOptions(vocabulary) with { HiddenSize = 4, EmbeddingSize = 2 };
        Assert.Contains("Bidirectional", Assert.Throws<ArgumentException>(() => new LanguageModel(vocabulary, options with { Bidirectional = true })).Message);
        Assert.Contains("EveryStep", Assert.Throws<ArgumentException>(() => new LanguageModel(vocabulary, options with { Readout = SequenceReadout.LastStep })).Message);
        Assert.Contains("V = 5", Assert.Throws<ArgumentException>(() => new LanguageModel(vocabulary, options with { OutputSize = 9 })).Message);
    }

    [Fact]
    public void Train_RejectsBadInput()
    {
        var model = Untrained();
        var options = new LanguageModelTrainingOptions { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 1 } };
        Assert.Throws<ArgumentException>(() => model.Train("", null, options));
        Assert.Contains("Id 1 of the training document 0 is 77",
            Assert.Throws<ArgumentException>(() => model.Train([new[] { 3, 77 }], null, options)).Message);
        Assert.Equal("EarlyStoppingPatience", Assert.Throws<ArgumentException>(() => model.Train("abc", null, options with { Training = options.Training with { EarlyStoppingPatience = 2 } })).ParamName);
        Assert.Equal("ChunkSteps", Assert.Throws<ArgumentOutOfRangeException>(() => model.Train("abc", null, options with { ChunkSteps = 0 })).ParamName);
    }

    [Fact]
    public void Train_StopsInTheFirstChunkAfterTheTimeLimitOnTheGivenClock()
    {
        // The clock moves only when an epoch is logged, one second each: epochs 1-3 end at 1, 2, 3 s; the limit of 2.5 s is
        // then spent, so epoch 4 stops after its first chunk (the budget is checked after every chunk) and is the last.
        var clock = new ManualClock();
        var logger = SecondPerEpoch(clock);
        var model = Untrained();
        var history = model.Train(string.Concat(Enumerable.Repeat("abcdefgh ", 50)), "abc", new LanguageModelTrainingOptions
        { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 1000, BatchSize = 2, MaxTrainingTime = TimeSpan.FromSeconds(2.5), TimeProvider = clock, Logger = logger }, ChunkSteps = 4 });

        Assert.Equal(4, history.Epochs.Count);
        Assert.Equal(4, logger.Lines.Count(line => line.StartsWith("Epoch ", StringComparison.Ordinal)));
        Assert.Equal([0, 1, 2, 3], history.Epochs.Select(epoch => epoch.Elapsed.TotalSeconds));
        Assert.Equal(TimeSpan.Zero, history.Epochs[^1].Remaining);
        Assert.Contains(logger.Lines, message => message.StartsWith("Training stopped: the training time budget ran out", StringComparison.Ordinal));

        // Without a limit the same clock changes nothing: every epoch runs.
        var otherClock = new ManualClock();
        var unlimited = Untrained().Train("abcdefgh", null, new LanguageModelTrainingOptions
        { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 6, BatchSize = 2, TimeProvider = otherClock, Logger = SecondPerEpoch(otherClock) }, ChunkSteps = 4 });
        Assert.Equal(6, unlimited.Epochs.Count);
    }

    /// <summary>A clock that stands still until told to move.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    /// <summary>A logger that moves <paramref name="clock"/> by one second each time an epoch is logged.</summary>
    private static LineLogger SecondPerEpoch(ManualClock clock) =>
        new(line => { if (line.StartsWith("Epoch ", StringComparison.Ordinal)) clock.Advance(TimeSpan.FromSeconds(1)); });

    [Fact]
    public void EarlyStopping_RestoresTheBestEpoch_WhoseValidationLossEvaluateReproduces()
    {
        // Trained on "ab" repeated, validated on "bbbb": the better the model learns the alternation, the worse it scores the validation text.
        var vocabulary = Vocabulary.FromCharacters("ab");
        var model = new LanguageModel(vocabulary, LanguageModel.DefaultOptions(vocabulary) with { EmbeddingSize = 4, HiddenSize = 8, Seed = 3 });
        var history = model.Train(string.Concat(Enumerable.Repeat("ab", 100)), "bbbb", new LanguageModelTrainingOptions
        { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 30, BatchSize = 4, LearningRate = 0.02f, EarlyStoppingPatience = 2 }, ChunkSteps = 10 });
        Assert.True(history.StoppedEarly);
        Assert.True(history.BestEpoch < history.Epochs.Count);
        var best = history.Epochs[history.BestEpoch - 1];
        Assert.Equal(history.Epochs.Min(epoch => epoch.ValidationLoss!.Value), best.ValidationLoss!.Value);
        Assert.Equal(best.ValidationLoss.Value, model.Evaluate("bbbb", scoreEnd: true).CrossEntropy, 1e-6);
    }

    [Fact]
    public void CosineSchedule_DecaysTheRateTowardsTheMinimum()
    {
        var model = Untrained();
        var history = model.Train("abcdefgh abcdefgh abcdefgh", null, new LanguageModelTrainingOptions
        { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 4, BatchSize = 2, LearningRate = 0.01f, Schedule = ScheduleKind.Cosine, MinimumLearningRate = 0.001f }, ChunkSteps = 4 });
        var rates = history.Epochs.Select(epoch => epoch.LearningRate).ToArray();
        Assert.True(rates.Zip(rates.Skip(1)).All(pair => pair.Second < pair.First), string.Join(", ", rates));
        Assert.InRange(rates[^1], 0.001f, 0.003f);
        // Step decay, as for every task: the rate halves after each epoch.
        var decayed = Untrained().Train("abcdefgh abcdefgh abcdefgh", null, new LanguageModelTrainingOptions
        { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 3, BatchSize = 2, LearningRate = 0.01f, Schedule = ScheduleKind.StepDecay, StepDecayEpochs = 1, StepDecayGamma = 0.5f }, ChunkSteps = 4 });
        Assert.Equal([0.01f, 0.005f, 0.0025f], decayed.Epochs.Select(epoch => epoch.LearningRate));
    }

    [Fact]
    public void Training_IsDeterministicForTheSameSeeds()
    {
        static float[] Weights()
        {
            var model = Untrained(seed: 9);
            model.Train("abc abd abe", "abf", new LanguageModelTrainingOptions { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 3, BatchSize = 2, Seed = 4 }, ChunkSteps = 3 });
            return model.Model.Parameters.Values.ToArray();
        }
        Assert.Equal(Weights(), Weights());
    }

    /// <summary>V = 5 (unknown, start, end, 'a', 'b'), every weight 0, head bias = ln of (1/16, 1/16, ⅛, ½, ¼).</summary>
    private static LanguageModel ContextFreeModel()
    {
        var vocabulary = Vocabulary.FromCharacters("ab");
        var model = new LanguageModel(vocabulary, LanguageModel.DefaultOptions(vocabulary) with { EmbeddingSize = 3, HiddenSize = 4, ForgetGateBias = null });
        var parameters = model.Model.Parameters;
        parameters.Values.Clear();
        double[] probabilities = [1.0 / 16, 1.0 / 16, 1.0 / 8, 1.0 / 2, 1.0 / 4];
        Span<float> bias = parameters.ValuesOf(parameters["head.bias"]);
        for (int j = 0; j < probabilities.Length; j++) bias[j] = (float)Math.Log(probabilities[j]);
        return model;
    }
}
