using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;

namespace MlNet.Rnn.Tests.Scoring;

/// <summary>A row of words with a binary label and a tag per word.</summary>
public sealed class WordRow
{
    /// <summary>Words "w0" … "w19999".</summary>
    public string[] Words { get; set; } = [];

    /// <summary>Binary label.</summary>
    public bool Label { get; set; }

    /// <summary>One tag per word.</summary>
    public string[] Tags { get; set; } = [];

    /// <summary>The words reversed (the sequence-to-sequence target).</summary>
    public string[] Reversed { get; set; } = [];
}

/// <summary>What a binary PredictionEngine reads back.</summary>
public sealed class ScoreOutput
{
    /// <summary>The logit.</summary>
    public float Score { get; set; }
}

/// <summary>What a tagging PredictionEngine reads back.</summary>
public sealed class TagScores
{
    /// <summary>Softmax per word, step-major.</summary>
    public float[] Score { get; set; } = [];
}

/// <summary>What a sequence-to-sequence PredictionEngine reads back.</summary>
public sealed class ReversedOutput
{
    /// <summary>The decoded words.</summary>
    public string[] PredictedReversed { get; set; } = [];
}

/// <summary>A document for the language model.</summary>
public sealed class Document
{
    /// <summary>Words.</summary>
    public string Text { get; set; } = "";
}

/// <summary>What a language-model PredictionEngine reads back.</summary>
public sealed class DocumentScore
{
    /// <summary>ln p of the document and its end token.</summary>
    public float LogLikelihood { get; set; }
}

/// <summary>One observation of a series.</summary>
public sealed class SeriesPoint
{
    /// <summary>The observation.</summary>
    public float Value { get; set; }
}

/// <summary>What a forecasting engine reads back.</summary>
public sealed class SeriesForecast
{
    /// <summary>The next values.</summary>
    public float[] Forecast { get; set; } = [];
}

/// <summary>
/// One small model per task, each with large weights (a 20,000-key embedding, 4,000-key vocabularies with 128-wide embeddings,
/// a 2,000-word vocabulary with 256-wide embeddings, H = 256 for the forecaster) and trained for one epoch: their size, not their
/// quality, is what the tests measure. Each model is trained on first use.
/// </summary>
public sealed class SharedModels
{
    private const int Vocabulary = 20_000;
    private readonly Lazy<ITransformer> _binary, _tagger, _translator;
    private readonly Lazy<LanguageModelTransformer> _languageModel;
    private readonly Lazy<RecurrentForecastingTransformer> _forecaster;

    public SharedModels()
    {
        var random = new Random(5);
        string[] words = [.. Enumerable.Range(0, Vocabulary).Select(i => $"w{i}")];
        Rows = [.. Enumerable.Range(0, 48).Select(_ =>
        {
            string[] picked = [.. Enumerable.Range(0, random.Next(3, 10)).Select(_ => words[random.Next(Vocabulary)])];
            return new WordRow
            {
                Words = picked, Label = picked.Any(w => w.Length < 5), Tags = [.. picked.Select(w => w.Length % 2 == 0 ? "E" : "O")],
                Reversed = [.. Enumerable.Reverse(picked)],
            };
        })];
        Keys = MLContext.Data.LoadFromEnumerable(words.Select(w => new Document { Text = w }));
        Data = MLContext.Data.LoadFromEnumerable(Rows);
        _binary = new(() => MLContext.Transforms.Conversion.MapValueToKey("Features", nameof(WordRow.Words), keyData: Keys)
            .Append(MLContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
            {
                EmbeddingSize = 32, HiddenSize = 8, NumberOfEpochs = 1, BatchSize = 48, Seed = 1, MaxDegreeOfParallelism = 1,
            })).Fit(Data));
        _tagger = new(() => MLContext.Transforms.Conversion.MapValueToKey("Features", nameof(WordRow.Words), keyData: Keys)
            .Append(MLContext.Transforms.Conversion.MapValueToKey("Label", nameof(WordRow.Tags)))
            .Append(MLContext.SequenceTagging.Trainers.Gru(new SequenceTaggingTrainer.Options
            {
                EmbeddingSize = 32, HiddenSize = 8, NumberOfEpochs = 1, BatchSize = 48, Seed = 1, MaxDegreeOfParallelism = 1,
            })).Fit(Data));
        _translator = new(() =>
        {
            var keys = MLContext.Data.LoadFromEnumerable(words.Take(4_000).Select(w => new Document { Text = w }));
            var small = MLContext.Data.LoadFromEnumerable(Rows.Select(r => new WordRow
            {
                Words = [.. r.Words.Select(w => words[int.Parse(w[1..]) % 4_000])], Reversed = [.. r.Reversed.Select(w => words[int.Parse(w[1..]) % 4_000])],
            }));
            return MLContext.Transforms.Conversion.MapValueToKey("Features", nameof(WordRow.Words), keyData: keys)
                .Append(MLContext.Transforms.Conversion.MapValueToKey("Label", nameof(WordRow.Reversed), keyData: keys))
                .Append(MLContext.SequenceToSequence.Trainers.Lstm(new SequenceToSequenceTrainer.Options
                {
                    EmbeddingSize = 128, HiddenSize = 8, NumberOfEpochs = 1, BatchSize = 48, Seed = 1, MaxDegreeOfParallelism = 1, MaximumOutputLength = 8,
                }))
                .Append(MLContext.Transforms.Conversion.MapKeyToValue("PredictedReversed", "PredictedLabel")).Fit(small);
        });
        _languageModel = new(() =>
        {
            var order = Enumerable.Range(0, 2_000).OrderBy(_ => random.Next()).ToArray();
            var documents = Enumerable.Range(0, 100).Select(d => new Document { Text = string.Join(' ', order.Skip(20 * d).Take(20).Select(i => words[i])) });
            return MLContext.LanguageModeling.Trainers.Lstm(new LanguageModelTrainer.Options
            {
                InputColumnName = nameof(Document.Text), Level = VocabularyLevel.Tokens, EmbeddingSize = 256, HiddenSize = 8, NumberOfEpochs = 1,
                BatchSize = 8, ChunkSteps = 16, Seed = 1, MaxDegreeOfParallelism = 1,
            }).Fit(MLContext.Data.LoadFromEnumerable(documents));
        });
        _forecaster = new(() => MLContext.Forecasting.ForecastByLstm(new RecurrentForecastingEstimator.Options
        {
            InputColumnName = nameof(SeriesPoint.Value), WindowSize = 4, Horizon = 2, HiddenSize = 256, NumberOfEpochs = 1, Seed = 1,
            MaxDegreeOfParallelism = 1, RefitOnFullSeries = false,
        }).Fit(MLContext.Data.LoadFromEnumerable(Series(80, 0))));
    }

    public MLContext MLContext { get; } = new(seed: 1);

    public WordRow[] Rows { get; }

    public IDataView Data { get; }

    /// <summary>The 20,000 words, as the key set of MapValueToKey.</summary>
    public IDataView Keys { get; }

    /// <summary>Binary classification of words: V = 20,001, E = 32, H = 8, LSTM.</summary>
    public ITransformer Binary => _binary.Value;

    /// <summary>Tagging of words: V = 20,001, E = 32, H = 8, GRU.</summary>
    public ITransformer Tagger => _tagger.Value;

    /// <summary>Reversing words: V = 4,001 source and target keys, E = 128, H = 8, LSTM, Luong attention.</summary>
    public ITransformer Translator => _translator.Value;

    /// <summary>A word-level language model: V ≈ 2,000 words, E = 256, H = 8, LSTM.</summary>
    public LanguageModelTransformer LanguageModel => _languageModel.Value;

    /// <summary>A forecaster: W = 4, HZ = 2, H = 256, LSTM.</summary>
    public RecurrentForecastingTransformer Forecaster => _forecaster.Value;

    public static SeriesPoint[] Series(int count, int start) =>
        [.. Enumerable.Range(start, count).Select(t => new SeriesPoint { Value = MathF.Sin(0.4f * t) + 0.05f * (t % 5) })];
}

/// <summary>
/// Proves that every task scores with the fitted model's weights shared, not copied: creating a PredictionEngine (or a forecasting
/// engine, or a Transform cursor) and scoring its first row allocates a small fraction of the weights' bytes, and many engines and
/// cursors on one model, on several threads at once, give exactly the single-threaded results.
/// </summary>
public sealed class SharedModelScoringTests(SharedModels models, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<SharedModels>
{
    private const int Threads = 4;

    /// <summary>Bytes the calling thread allocates in <paramref name="action"/> (run once before, so JIT and first-use costs are not counted).</summary>
    private static long AllocatedBy(Action action)
    {
        action();
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private void AssertFarBelow(long allocated, long weightBytes, string what)
    {
        output.WriteLine($"{what}: {allocated:N0} bytes allocated; weights {weightBytes:N0} bytes");
        Assert.True(allocated < weightBytes / 10,
            $"{what} allocated {allocated:N0} bytes; the weights hold {weightBytes:N0}: an engine or cursor must not copy them (bound: a tenth).");
    }

    /// <summary>Runs <paramref name="work"/> on <see cref="Threads"/> threads started together; each must give <paramref name="expected"/>.</summary>
    private static void AllThreadsGive(string[] expected, Func<int, string[]> work)
    {
        using var barrier = new Barrier(Threads);
        var results = new string[Threads][];
        var tasks = Enumerable.Range(0, Threads).Select(thread => Task.Factory.StartNew(() =>
        {
            barrier.SignalAndWait();
            results[thread] = work(thread);
        }, TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(tasks);
        for (int thread = 0; thread < Threads; thread++) Assert.Equal(expected, results[thread]);
    }

    /// <summary>Even threads read a cursor of their own over one scored view, odd threads predict every row with an engine of their own, twice over.</summary>
    private static string[] CursorOrEngine<TOut>(int thread, Func<string[]> transform, Func<PredictionEngine<WordRow, TOut>> create,
        WordRow[] rows, Func<TOut, string> read) where TOut : class, new()
    {
        string[] result = [];
        for (int round = 0; round < 2; round++)
        {
            if (thread % 2 == 0)
            {
                result = transform();
                continue;
            }
            using var engine = create();
            result = [.. rows.Select(row => read(engine.Predict(row)))];
        }
        return result;
    }

    private static long ModelFileBytes(RecurrentPredictionTransformer transformer)
    {
        using var stream = new MemoryStream();
        transformer.Model.SaveModelFile(stream);
        return stream.Length;
    }

    private static string Bits(IEnumerable<float> values) => string.Join(',', values.Select(Fingerprint.Bits));

    [Fact]
    public void BinaryClassification_APredictionEngineAndACursorCopyNoWeights()
    {
        var model = models.Binary;
        long weights = ModelFileBytes(((IEnumerable<ITransformer>)model).OfType<RecurrentPredictionTransformer>().Single());
        var row = models.Rows[0];
        AssertFarBelow(AllocatedBy(() =>
        {
            using var engine = models.MLContext.Model.CreatePredictionEngine<WordRow, ScoreOutput>(model);
            engine.Predict(row);
        }), weights, "CreatePredictionEngine and its first Predict");
        var oneRow = models.MLContext.Data.LoadFromEnumerable(new[] { row });
        AssertFarBelow(AllocatedBy(() => model.Transform(oneRow).GetColumn<float>("Score").Single()), weights, "A one-row Transform read through a cursor");
    }

    [Fact]
    public void BinaryClassification_EnginesAndCursorsOnThreadsGiveTheOneThreadScoresBitForBit()
    {
        var model = models.Binary;
        var scored = model.Transform(models.Data);
        string[] expected = Fingerprint.Of(scored, "Score");
        AllThreadsGive(expected, thread => CursorOrEngine(thread, () => Fingerprint.Of(scored, "Score"),
            () => models.MLContext.Model.CreatePredictionEngine<WordRow, ScoreOutput>(model), models.Rows, output => Fingerprint.Bits(output.Score)));
    }

    [Fact]
    public void Tagging_APredictionEngineCopiesNoWeightsAndEnginesOnThreadsGiveTheOneThreadScores()
    {
        var model = models.Tagger;
        long weights = ModelFileBytes(((IEnumerable<ITransformer>)model).OfType<RecurrentPredictionTransformer>().Single());
        AssertFarBelow(AllocatedBy(() =>
        {
            using var engine = models.MLContext.Model.CreatePredictionEngine<WordRow, TagScores>(model);
            engine.Predict(models.Rows[0]);
        }), weights, "CreatePredictionEngine and its first Predict");

        var scored = model.Transform(models.Data);
        string[] expected = Fingerprint.Of(scored, "Score");
        AllThreadsGive(expected, thread => CursorOrEngine(thread, () => Fingerprint.Of(scored, "Score"),
            () => models.MLContext.Model.CreatePredictionEngine<WordRow, TagScores>(model), models.Rows, output => Bits(output.Score)));
    }

    [Fact]
    public void SequenceToSequence_APredictionEngineCopiesNoWeightsAndEnginesOnThreadsDecodeAsOneThread()
    {
        var model = models.Translator;
        var translator = ((IEnumerable<ITransformer>)model).OfType<SequenceToSequenceTransformer>().Single();
        long weights = 4L * translator.Model.ParameterCount;
        var rows = models.Rows.Select(r => new WordRow { Words = [.. r.Words.Select(w => $"w{int.Parse(w[1..]) % 4_000}")] }).ToArray();
        AssertFarBelow(AllocatedBy(() =>
        {
            using var engine = models.MLContext.Model.CreatePredictionEngine<WordRow, ReversedOutput>(model);
            engine.Predict(rows[0]);
        }), weights, "CreatePredictionEngine and its first Predict");

        var data = models.MLContext.Data.LoadFromEnumerable(rows);
        string[] Decoded(IDataView scored) => [.. scored.GetColumn<string[]>("PredictedReversed").Select(words => string.Join(' ', words))];
        var scored = model.Transform(data);
        string[] expected = Decoded(scored);
        AllThreadsGive(expected, thread => CursorOrEngine(thread, () => Decoded(scored),
            () => models.MLContext.Model.CreatePredictionEngine<WordRow, ReversedOutput>(model), rows, output => string.Join(' ', output.PredictedReversed)));
    }

    [Fact]
    public void LanguageModel_APredictionEngineCopiesNoWeightsAndEnginesOnThreadsScoreAsOneThread()
    {
        var model = models.LanguageModel;
        long weights = 4L * model.Model.Model.Parameters.Count;
        var documents = models.Rows.Select(r => new Document { Text = string.Join(' ', r.Words.Select(w => $"w{int.Parse(w[1..]) % 2_000}")) }).ToArray();
        AssertFarBelow(AllocatedBy(() =>
        {
            using var engine = models.MLContext.Model.CreatePredictionEngine<Document, DocumentScore>(model);
            engine.Predict(new Document { Text = "w1 w2" });
        }), weights, "CreatePredictionEngine and its first Predict");

        var data = models.MLContext.Data.LoadFromEnumerable(documents);
        var scored = model.Transform(data);
        string[] expected = Fingerprint.Of(scored, "LogLikelihood");
        Assert.Equal(documents.Select(d => Fingerprint.Bits((float)model.Score(d.Text).LogLikelihood)), expected);
        AllThreadsGive(expected, thread =>
        {
            string[] result = [];
            for (int round = 0; round < 2; round++)
            {
                if (thread % 2 == 0)
                {
                    result = Fingerprint.Of(scored, "LogLikelihood");
                    continue;
                }
                using var engine = models.MLContext.Model.CreatePredictionEngine<Document, DocumentScore>(model);
                result = [.. documents.Select(document => Fingerprint.Bits(engine.Predict(document).LogLikelihood))];
            }
            return result;
        });
    }

    [Fact]
    public void Forecasting_AnEngineCopiesNoWeightsAndEnginesOnThreadsForecastAsOneThread()
    {
        var model = models.Forecaster;
        long weights = 4L * model.Forecaster.Model.Parameters.Count;
        var future = SharedModels.Series(40, 80);
        AssertFarBelow(AllocatedBy(() => model.Forecaster.CreateEngine().Predict(future[0].Value)), weights, "The core's CreateEngine and its first Predict");
        AssertFarBelow(AllocatedBy(() => model.CreateForecastingEngine<SeriesPoint, SeriesForecast>(models.MLContext).Predict(future[0])), weights,
            "CreateForecastingEngine and its first Predict");

        var data = models.MLContext.Data.LoadFromEnumerable(future);
        var scored = model.Transform(data);
        string[] expected = Fingerprint.Of(scored, "Forecast");
        AllThreadsGive(expected, thread =>
        {
            string[] result = [];
            for (int round = 0; round < 2; round++)
            {
                if (thread % 2 == 0)
                {
                    result = Fingerprint.Of(scored, "Forecast");
                    continue;
                }
                var engine = model.CreateForecastingEngine<SeriesPoint, SeriesForecast>(models.MLContext);
                result = [.. future.Select(point => Bits(engine.Predict(point).Forecast))];
            }
            return result;
        });
    }
}
