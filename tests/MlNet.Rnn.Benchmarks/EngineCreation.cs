using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;

namespace MlNet.Rnn.Benchmarks;

/// <summary>
/// What a caller pays to start scoring a fitted model, per task: <c>CreatePredictionEngine</c> (or, for forecasting,
/// <c>CreateForecastingEngine</c>), its first and later <c>Predict</c>, and a one-row <c>Transform</c> read through a cursor;
/// beside ML.NET's own cost of an engine over the same pipeline without the recurrent model. Time is the median of
/// <see cref="Repetitions"/> calls; bytes are managed bytes allocated by the call on every thread (the median call).
/// Models are trained for one epoch only: their weights' size, not their quality, matters here.
/// Run: <c>dotnet run -c Release --project tests/MlNet.Rnn.Benchmarks -- --engine</c> (add <c>--repetitions 50</c> for more calls).
/// </summary>
internal static class EngineCreation
{
    /// <summary>Calls measured per row of the table.</summary>
    public static int Repetitions { get; set; } = 21;

    private const int Vocabulary = 20_000;

    public sealed class WordRow
    {
        public string[] Words { get; set; } = [];
        public bool Label { get; set; }
    }

    public sealed class BinaryOutput
    {
        public float Score { get; set; }
    }

    public sealed class LabelOnly
    {
        public bool Label { get; set; }
    }

    public sealed class TaggedRow
    {
        public string[] Words { get; set; } = [];
        public string[] Tags { get; set; } = [];
    }

    public sealed class TagOutput
    {
        public string[] PredictedTags { get; set; } = [];
    }

    public sealed class WordsOnly
    {
        public string[] Words { get; set; } = [];
    }

    public sealed class PairRow
    {
        public string[] Words { get; set; } = [];
        public string[] Target { get; set; } = [];
    }

    public sealed class PairOutput
    {
        public string[] PredictedTarget { get; set; } = [];
    }

    public sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    public sealed class TextOutput
    {
        public float LogLikelihood { get; set; }
    }

    public sealed class Observation
    {
        public float Value { get; set; }
    }

    public sealed class ForecastOutput
    {
        public float[] Forecast { get; set; } = [];
    }

    private sealed record Measurement(string Task, string What, double Ms, long Bytes);

    /// <summary>Measures every task, finishes <paramref name="check"/>, then prints the table.</summary>
    public static int Run(IReadOnlyList<string> args, MachineCheck check)
    {
        for (int i = 0; i < args.Count; i++)
            if (args[i] == "--repetitions" && i + 1 < args.Count) Repetitions = int.Parse(args[++i], CultureInfo.InvariantCulture);
        Console.WriteLine($"// engine creation: median of {Repetitions} calls; load average {Results.LoadAverage()} at the start; {Results.EnvironmentDescription()}");
        var results = new List<Measurement>();
        results.AddRange(Binary());
        results.AddRange(Tagging());
        results.AddRange(SequenceToSequence());
        results.AddRange(LanguageModel());
        results.AddRange(Forecasting());
        check.Finish();
        Console.WriteLine();
        Console.WriteLine($"| task | what | median ms | median bytes allocated |");
        Console.WriteLine($"|---|---|---|---|");
        foreach (var m in results)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {m.Task} | {m.What} | {m.Ms:F3} | {m.Bytes:N0} |"));
        Console.WriteLine($"// load average {Results.LoadAverage()} at the end");
        return 0;
    }

    private static string[] Words(int count) => [.. Enumerable.Range(0, count).Select(i => $"w{i}")];

    private static IDataView KeyData(MLContext mlContext, string[] words) =>
        mlContext.Data.LoadFromEnumerable(words.Select(w => new TextRow { Text = w }));

    private static string[] RandomWords(Random random, string[] vocabulary, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => vocabulary[random.Next(vocabulary.Length)])];

    /// <summary>Binary classification of word sequences: V = 20,000 keys, E = 64, H = 128, LSTM.</summary>
    private static IEnumerable<Measurement> Binary()
    {
        var mlContext = new MLContext(seed: 1);
        string[] vocabulary = Words(Vocabulary);
        var random = new Random(1);
        var rows = Enumerable.Range(0, 256).Select(_ =>
        {
            var words = RandomWords(random, vocabulary, 12);
            return new WordRow { Words = words, Label = words.Any(w => w.Length < 4) };
        }).ToArray();
        var data = mlContext.Data.LoadFromEnumerable(rows);
        var featurizer = mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(WordRow.Words), keyData: KeyData(mlContext, vocabulary));
        var model = featurizer.Append(mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
        {
            EmbeddingSize = 64, HiddenSize = 128, NumberOfEpochs = 1, BatchSize = 64, Seed = 1, MaxDegreeOfParallelism = 1,
            Bidirectional = false, Readout = MlNet.Rnn.Core.Models.SequenceReadout.LastStep, // the shape BENCHMARKS.md's numbers were measured with
        })).Fit(data);
        var featurizerOnly = featurizer.Fit(data);
        var oneRow = mlContext.Data.LoadFromEnumerable(rows.Take(1));
        const string task = "binary, token (V 20,000, E 64, H 128, LSTM)";
        return Engine(task, mlContext, featurizerOnly, model, (PredictionEngine<WordRow, LabelOnly> e) => e.Predict(rows[0]).Label,
                (PredictionEngine<WordRow, BinaryOutput> e) => e.Predict(rows[0]).Score)
            .Append(Transform<float>(task, model, oneRow, "Score"));
    }

    /// <summary>Tagging of word sequences: V = 20,000 keys, E = 64, H = 128, bidirectional LSTM (the tagger's default).</summary>
    private static IEnumerable<Measurement> Tagging()
    {
        var mlContext = new MLContext(seed: 1);
        string[] vocabulary = Words(Vocabulary), tags = ["O", "B", "I"];
        var random = new Random(2);
        var rows = Enumerable.Range(0, 256).Select(_ =>
        {
            var words = RandomWords(random, vocabulary, 12);
            return new TaggedRow { Words = words, Tags = [.. words.Select(w => tags[w.Length % 3])] };
        }).ToArray();
        var data = mlContext.Data.LoadFromEnumerable(rows);
        var featurizer = mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(TaggedRow.Words), keyData: KeyData(mlContext, vocabulary))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TaggedRow.Tags)));
        var model = featurizer.Append(mlContext.SequenceTagging.Trainers.Lstm(new SequenceTaggingTrainer.Options
            {
                EmbeddingSize = 64, HiddenSize = 128, NumberOfEpochs = 1, BatchSize = 64, Seed = 1, MaxDegreeOfParallelism = 1,
            }))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedTags", "PredictedLabel")).Fit(data);
        var featurizerOnly = mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(TaggedRow.Words), keyData: KeyData(mlContext, vocabulary)).Fit(data);
        var input = new TaggedRow { Words = rows[0].Words };
        var oneRow = mlContext.Data.LoadFromEnumerable(new[] { rows[0] });
        const string task = "tagging, token (V 20,000, E 64, H 128, BiLSTM)";
        return Engine(task, mlContext, featurizerOnly, model, (PredictionEngine<TaggedRow, WordsOnly> e) => e.Predict(input).Words.Length,
                (PredictionEngine<TaggedRow, TagOutput> e) => e.Predict(input).PredictedTags.Length)
            .Append(Transform<VBuffer<ReadOnlyMemory<char>>>(task, model, oneRow, "PredictedTags"));
    }

    /// <summary>Sequence to sequence: V = 5,000 source and target keys, E = 64, H = 128, LSTM, Luong attention, greedy decoding of up to 20 tokens.</summary>
    private static IEnumerable<Measurement> SequenceToSequence()
    {
        var mlContext = new MLContext(seed: 1);
        string[] vocabulary = Words(5_000);
        var random = new Random(3);
        var rows = Enumerable.Range(0, 128).Select(_ =>
        {
            var words = RandomWords(random, vocabulary, 8);
            return new PairRow { Words = words, Target = [.. Enumerable.Reverse(words)] };
        }).ToArray();
        var data = mlContext.Data.LoadFromEnumerable(rows);
        var keys = KeyData(mlContext, vocabulary);
        var featurizer = mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(PairRow.Words), keyData: keys)
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(PairRow.Target), keyData: keys));
        var model = featurizer.Append(mlContext.SequenceToSequence.Trainers.Lstm(new SequenceToSequenceTrainer.Options
            {
                EmbeddingSize = 64, HiddenSize = 128, NumberOfEpochs = 1, BatchSize = 32, Seed = 1, MaxDegreeOfParallelism = 1, MaximumOutputLength = 20,
            }))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedTarget", "PredictedLabel")).Fit(data);
        var featurizerOnly = mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(PairRow.Words), keyData: keys).Fit(data);
        var input = new PairRow { Words = rows[0].Words };
        var oneRow = mlContext.Data.LoadFromEnumerable(new[] { rows[0] });
        const string task = "seq2seq (V 5,000 + 5,000, E 64, H 128, LSTM, Luong)";
        return Engine(task, mlContext, featurizerOnly, model, (PredictionEngine<PairRow, WordsOnly> e) => e.Predict(input).Words.Length,
                (PredictionEngine<PairRow, PairOutput> e) => e.Predict(input).PredictedTarget.Length)
            .Append(Transform<VBuffer<ReadOnlyMemory<char>>>(task, model, oneRow, "PredictedTarget"));
    }

    /// <summary>A word-level language model: V ≈ 2,000 words, E = 64, H = 256, LSTM.</summary>
    private static IEnumerable<Measurement> LanguageModel()
    {
        var mlContext = new MLContext(seed: 1);
        string[] vocabulary = Words(2_000);
        var random = new Random(4);
        var rows = Enumerable.Range(0, 200).Select(_ => new TextRow { Text = string.Join(' ', RandomWords(random, vocabulary, 20)) }).ToArray();
        var data = mlContext.Data.LoadFromEnumerable(rows);
        var model = mlContext.LanguageModeling.Trainers.Lstm(new LanguageModelTrainer.Options
        {
            InputColumnName = nameof(TextRow.Text), Level = VocabularyLevel.Tokens, EmbeddingSize = 64, HiddenSize = 256, NumberOfEpochs = 1,
            BatchSize = 8, ChunkSteps = 32, Seed = 1, MaxDegreeOfParallelism = 1,
        }).Fit(data);
        var featurizerOnly = mlContext.Transforms.CopyColumns("Copy", nameof(TextRow.Text)).Fit(data);
        var input = rows[0];
        var oneRow = mlContext.Data.LoadFromEnumerable(new[] { rows[0] });
        string task = $"language model, words (V {model.Vocabulary.Count:N0}, E 64, H 256, LSTM)";
        return Engine(task, mlContext, featurizerOnly, model, (PredictionEngine<TextRow, TextRow> e) => e.Predict(input).Text.Length,
                (PredictionEngine<TextRow, TextOutput> e) => e.Predict(input).LogLikelihood)
            .Append(Transform<float>(task, model, oneRow, "LogLikelihood"));
    }

    /// <summary>Forecasting: window 32, horizon 8, H = 128, LSTM; the forecasting engine stands in for PredictionEngine.</summary>
    private static IEnumerable<Measurement> Forecasting()
    {
        var mlContext = new MLContext(seed: 1);
        var series = Enumerable.Range(0, 400).Select(t => new Observation { Value = MathF.Sin(t * 0.3f) + 0.1f * (t % 7) }).ToArray();
        var data = mlContext.Data.LoadFromEnumerable(series);
        var model = mlContext.Forecasting.ForecastByLstm(new RecurrentForecastingEstimator.Options
        {
            WindowSize = 32, Horizon = 8, HiddenSize = 128, NumberOfEpochs = 1, Seed = 1, MaxDegreeOfParallelism = 1,
        }).Fit(data);
        var oneRow = mlContext.Data.LoadFromEnumerable(series.Take(1));
        const string task = "forecasting (W 32, HZ 8, H 128, LSTM)";
        var results = new List<Measurement>
        {
            Measure(task, "CreateForecastingEngine", () => model.CreateForecastingEngine<Observation, ForecastOutput>(mlContext)),
        };
        results.Add(Measure(task, "first Predict", setup: () => model.CreateForecastingEngine<Observation, ForecastOutput>(mlContext),
            run: engine => engine.Predict(series[0]).Forecast.Length));
        var warm = model.CreateForecastingEngine<Observation, ForecastOutput>(mlContext);
        warm.Predict(series[0]);
        results.Add(Measure(task, "later Predict", () => warm.Predict(series[0]).Forecast.Length));
        results.Add(Transform<VBuffer<float>>(task, model, oneRow, "Forecast"));
        return results;
    }

    private static IEnumerable<Measurement> Engine<TIn, TBase, TOut>(string task, MLContext mlContext, ITransformer featurizerOnly, ITransformer model,
        Func<PredictionEngine<TIn, TBase>, object> predictBase, Func<PredictionEngine<TIn, TOut>, object> predict)
        where TIn : class where TBase : class, new() where TOut : class, new()
    {
        var results = new List<Measurement>
        {
            Measure(task, "ML.NET alone: CreatePredictionEngine without the recurrent model", () => Dispose(mlContext.Model.CreatePredictionEngine<TIn, TBase>(featurizerOnly))),
            Measure(task, "ML.NET alone: first Predict", setup: () => mlContext.Model.CreatePredictionEngine<TIn, TBase>(featurizerOnly),
                run: engine => { var result = predictBase(engine); engine.Dispose(); return result; }),
            Measure(task, "CreatePredictionEngine", () => Dispose(mlContext.Model.CreatePredictionEngine<TIn, TOut>(model))),
            Measure(task, "first Predict", setup: () => mlContext.Model.CreatePredictionEngine<TIn, TOut>(model),
                run: engine => { var result = predict(engine); engine.Dispose(); return result; }),
        };
        var warm = mlContext.Model.CreatePredictionEngine<TIn, TOut>(model);
        predict(warm);
        results.Add(Measure(task, "later Predict", () => predict(warm)));
        return results;
    }

    private static object Dispose(IDisposable disposable)
    {
        disposable.Dispose();
        return disposable;
    }

    /// <summary><c>Transform</c> of one row and reading <paramref name="column"/> (of type <typeparamref name="T"/>) through a cursor.</summary>
    private static Measurement Transform<T>(string task, ITransformer model, IDataView oneRow, string column) =>
        Measure(task, "one-row Transform + cursor read", () =>
        {
            var scored = model.Transform(oneRow);
            var schemaColumn = scored.Schema[column];
            using var cursor = scored.GetRowCursor([schemaColumn]);
            var getter = cursor.GetGetter<T>(schemaColumn);
            T value = default!;
            int rows = 0;
            while (cursor.MoveNext())
            {
                getter(ref value);
                rows++;
            }
            return rows;
        });

    private static Measurement Measure(string task, string what, Func<object> run) =>
        Measure<object?>(task, what, () => null, _ => run());

    /// <summary>Median time and bytes of <see cref="Repetitions"/> calls of <paramref name="run"/>, each after an untimed <paramref name="setup"/>.</summary>
    private static Measurement Measure<TState>(string task, string what, Func<TState> setup, Func<TState, object> run)
    {
        var times = new double[Repetitions];
        var bytes = new long[Repetitions];
        run(setup()); // warm-up: JIT and first-use costs are not what a caller pays per engine
        for (int i = 0; i < Repetitions; i++)
        {
            var state = setup();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long before = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            GC.KeepAlive(run(state));
            times[i] = clock.Elapsed.TotalMilliseconds;
            bytes[i] = GC.GetTotalAllocatedBytes(precise: true) - before;
        }
        Array.Sort(times);
        Array.Sort(bytes);
        var result = new Measurement(task, what, times[Repetitions / 2], bytes[Repetitions / 2]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// {task}: {what}: {result.Ms:F3} ms, {result.Bytes:N0} bytes"));
        return result;
    }
}
