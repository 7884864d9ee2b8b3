using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Tests.Persistence;
using MlNet.Rnn.Tests.Forecasting;
using MlNet.Rnn.Tests.SequenceToSequence;
using MlNet.Rnn.Tests.Tagging;

namespace MlNet.Rnn.Tests.Persistence;

/// <summary>A sentence and whether it has more "good" than "bad" (binary, token input).</summary>
public sealed class LegacySentenceRow
{
    public bool Label { get; set; }
    public string Text { get; set; } = "";
}

/// <summary>A fixed-size sequence of 6 steps × 3 features and its class (multiclass).</summary>
public sealed class LegacyClassRow
{
    public string Class { get; set; } = "";
    public float[] Features { get; set; } = [];
}

/// <summary>A variable-size sequence of single floats and its value (regression).</summary>
public sealed class LegacyValueRow
{
    public float Value { get; set; }
    public float[] Features { get; set; } = [];
}

/// <summary>Words and their BIO tags (tagging).</summary>
public sealed class LegacyTaggedRow
{
    public string[] Words { get; set; } = [];
    public string[] Tags { get; set; } = [];
}

/// <summary>Digits and their reversal, one token a digit (sequence to sequence).</summary>
public sealed class LegacyPairRow
{
    public string[] Source { get; set; } = [];
    public string[] Target { get; set; } = [];
}

/// <summary>A text (language modeling).</summary>
public sealed class LegacyTextRow
{
    public string Text { get; set; } = "";
}

/// <summary>One observation of a series with an exogenous feature (forecasting).</summary>
public sealed class LegacyObservationRow
{
    public float Value { get; set; }
    public float Temperature { get; set; }
}

/// <summary>Rows to score; with <see cref="Prompts"/>, texts a language model continues greedily.</summary>
public sealed record LegacyRows<TRow>(TRow[] Rows, string[]? Prompts = null);

/// <summary>A saved ML.NET model: the transformer and the schema of the data it reads.</summary>
public sealed record SavedPipeline(ITransformer Model, DataViewSchema InputSchema);

/// <summary>
/// The ML.NET edge's legacy model zips (<c>mlContext.Model.Save</c>): one per task catalog, tiny, trained for a few epochs with
/// fixed seeds, each with the rows it is scored on through <c>mlContext.Model.Load</c> and <c>Transform</c>.
/// </summary>
public static class LegacyModelCases
{
    /// <summary>Every case, in a fixed order.</summary>
    public static readonly IReadOnlyList<LegacyCase> All = [Binary(), Multiclass(), Regression(), Tagging(), SequenceToSequence(), LanguageModel(), Forecasting()];

    /// <summary>The case of a file name.</summary>
    public static LegacyCase Named(string fileName) => All.Single(c => c.FileName == fileName);

    private static LegacyCase Binary() => Case(
        "binary_tokens_lstm.zip",
        "TokenizeIntoWords -> MapValueToKey -> BinaryClassification.Trainers.Lstm (E = 4, H = 4, learned initial state, hidden-state column), 8 epochs on 300 sentences.",
        mlContext =>
        {
            var rows = Synthetic.Sentences(300, seed: 71).Select(r => new LegacySentenceRow { Label = r.Label, Text = r.Text }).ToArray();
            var data = mlContext.Data.LoadFromEnumerable(rows);
            var pipeline = mlContext.Transforms.Text.TokenizeIntoWords("Tokens", nameof(LegacySentenceRow.Text))
                .Append(mlContext.Transforms.Conversion.MapValueToKey("Tokens"))
                .Append(mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
                {
                    FeatureColumnName = "Tokens", EmbeddingSize = 4, HiddenSize = 4, NumberOfEpochs = 8, LearningRate = 0.02f, Seed = 72,
                    HiddenStateColumnName = "Hidden", LearnedInitialState = true, MaxDegreeOfParallelism = 1,
                }));
            return new SavedPipeline(pipeline.Fit(data), data.Schema);
        },
        // "excellent" was never seen: it maps to the unknown key.
        () => new LegacyRows<LegacySentenceRow>([
            new() { Text = "the phone is good and very good" }, new() { Text = "bad battery and bad screen" },
            new() { Text = "good" }, new() { Text = "it was excellent but bad" },
        ]),
        (mlContext, rows) => mlContext.Data.LoadFromEnumerable(rows),
        ["Score", "Probability", "PredictedLabel", "Hidden"]);

    private static LegacyCase Multiclass() => Case(
        "multiclass_floats_gru.zip",
        "MapValueToKey(Label) -> MulticlassClassification.Trainers.Gru (6 steps x 3 features, H = 6) -> MapKeyToValue, 10 epochs on 300 rows.",
        mlContext =>
        {
            var rows = Synthetic.Rows(300, steps: 6, featuresPerStep: 3, seed: 81).Select(r => new LegacyClassRow { Class = r.Class, Features = r.Features }).ToArray();
            var data = FixedSize(mlContext, rows, 18);
            var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(LegacyClassRow.Class))
                .Append(mlContext.MulticlassClassification.Trainers.Gru(new RecurrentMulticlassTrainer.Options
                {
                    FeaturesPerStep = 3, HiddenSize = 6, NumberOfEpochs = 10, LearningRate = 0.02f, Seed = 82, MaxDegreeOfParallelism = 1,
                }))
                .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));
            return new SavedPipeline(pipeline.Fit(data), data.Schema);
        },
        () => new LegacyRows<LegacyClassRow>([.. Synthetic.Rows(5, steps: 6, featuresPerStep: 3, seed: 83).Select(r => new LegacyClassRow { Class = r.Class, Features = r.Features })]),
        (mlContext, rows) => FixedSize(mlContext, rows, 18),
        ["Score", "PredictedLabel", "PredictedClass"]);

    private static LegacyCase Regression() => Case(
        "regression_variable_length_rnn.zip",
        "Regression.Trainers.Rnn over a variable-size Features vector (1 float a step, 3-8 steps), H = 5, bidirectional, 10 epochs on 300 rows.",
        mlContext =>
        {
            var rows = Synthetic.Rows(300, steps: 8, featuresPerStep: 1, seed: 91, minSteps: 3).Select(r => new LegacyValueRow { Value = r.Value, Features = r.Features }).ToArray();
            var data = mlContext.Data.LoadFromEnumerable(rows);
            var trainer = mlContext.Regression.Trainers.Rnn(new RecurrentRegressionTrainer.Options
            {
                LabelColumnName = nameof(LegacyValueRow.Value), HiddenSize = 5, Bidirectional = true, NumberOfEpochs = 10, LearningRate = 0.02f, Seed = 92,
                MaxDegreeOfParallelism = 1,
            });
            return new SavedPipeline(trainer.Fit(data), data.Schema);
        },
        () => new LegacyRows<LegacyValueRow>([.. Synthetic.Rows(5, steps: 8, featuresPerStep: 1, seed: 93, minSteps: 1).Select(r => new LegacyValueRow { Value = r.Value, Features = r.Features })]),
        (mlContext, rows) => mlContext.Data.LoadFromEnumerable(rows),
        ["Score"]);

    private static LegacyCase Tagging() => Case(
        "tagging_tokens_lstm.zip",
        "MapValueToKey(Words) and (Tags) -> SequenceTagging.Trainers.Lstm (bidirectional, E = 4, H = 6) -> MapKeyToValue, 4 epochs on 200 sentences (scores not yet saturated).",
        mlContext =>
        {
            var rows = SequenceTaggingTests.Sentences(200, seed: 101).Select(r => new LegacyTaggedRow { Words = r.Words, Tags = r.Tags }).ToArray();
            var data = mlContext.Data.LoadFromEnumerable(rows);
            var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(LegacyTaggedRow.Words))
                .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(LegacyTaggedRow.Tags)))
                .Append(mlContext.SequenceTagging.Trainers.Lstm(new SequenceTaggingTrainer.Options
                {
                    EmbeddingSize = 4, HiddenSize = 6, NumberOfEpochs = 4, LearningRate = 0.02f, BatchSize = 16, Seed = 102, MaxDegreeOfParallelism = 1,
                }))
                .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedTags", "PredictedLabel"));
            return new SavedPipeline(pipeline.Fit(data), data.Schema);
        },
        () => new LegacyRows<LegacyTaggedRow>([.. SequenceTaggingTests.Sentences(4, seed: 103).Select(r => new LegacyTaggedRow { Words = r.Words, Tags = r.Tags })]),
        (mlContext, rows) => mlContext.Data.LoadFromEnumerable(rows),
        ["Score", "PredictedLabel", "PredictedTags"]);

    private static LegacyCase SequenceToSequence() => Case(
        "seq2seq_digits_lstm_bahdanau.zip",
        "MapValueToKey(Source) and (Target) -> SequenceToSequence.Trainers.Lstm (bidirectional encoder, Bahdanau attention, " +
        "E = 4, H = 8, beam width 2) -> MapKeyToValue, 25 epochs on 300 digit reversals.",
        mlContext =>
        {
            var rows = Pairs(300, seed: 111);
            var data = mlContext.Data.LoadFromEnumerable(rows);
            var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(LegacyPairRow.Source))
                .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(LegacyPairRow.Target)))
                .Append(mlContext.SequenceToSequence.Trainers.Lstm(new SequenceToSequenceTrainer.Options
                {
                    EmbeddingSize = 4, HiddenSize = 8, Bidirectional = true, Attention = AttentionKind.Bahdanau, BeamWidth = 2, MaximumOutputLength = 8,
                    NumberOfEpochs = 25, LearningRate = 0.02f, BatchSize = 16, Seed = 112, MaxDegreeOfParallelism = 1,
                }))
                .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedTarget", "PredictedLabel"));
            return new SavedPipeline(pipeline.Fit(data), data.Schema);
        },
        () => new LegacyRows<LegacyPairRow>(Pairs(5, seed: 113)),
        (mlContext, rows) => mlContext.Data.LoadFromEnumerable(rows),
        ["PredictedLabel", "PredictedTarget"],
        // The decoded keys alone would hide small changes of the weights: also log P(label | source) from the loaded model, whose
        // ids are the keys (the trainer's documented mapping).
        (model, scored, _) =>
        {
            var seq2seq = ((IEnumerable<ITransformer>)model).OfType<SequenceToSequenceTransformer>().Single();
            var sources = scored.GetColumn<VBuffer<uint>>(scored.Schema["Features"]).Select(Ids).ToArray();
            var targets = scored.GetColumn<VBuffer<uint>>(scored.Schema["Label"]).Select(Ids).ToArray();
            return LegacyOutput.Doubles("Model.Score(Features, Label)", sources.Select((source, i) => new[] { seq2seq.Model.Score(source, targets[i]) }));
        });

    private static LegacyCase LanguageModel() => Case(
        "language_model_characters_lstm.zip",
        "LanguageModeling.Trainers.Lstm at character level (E = 4, H = 10), 40 epochs on 12 sentences, 2 streams of 12-step chunks.",
        mlContext =>
        {
            string[] sentences = ["the cat sat on the mat.", "the dog sat on the log.", "a cat and a dog."];
            var rows = Enumerable.Range(0, 12).Select(i => new LegacyTextRow { Text = sentences[i % 3] }).ToArray();
            var data = mlContext.Data.LoadFromEnumerable(rows);
            var trainer = mlContext.LanguageModeling.Trainers.Lstm(new LanguageModelTrainer.Options
            {
                EmbeddingSize = 4, HiddenSize = 10, NumberOfEpochs = 40, LearningRate = 0.02f, BatchSize = 2, ChunkSteps = 12, Seed = 122, MaxDegreeOfParallelism = 1,
            });
            return new SavedPipeline(trainer.Fit(data), data.Schema);
        },
        // "" scores the end token alone; "xyz" is outside the vocabulary.
        () => new LegacyRows<LegacyTextRow>([new() { Text = "the cat sat on the mat." }, new() { Text = "a dog and a log." }, new() { Text = "" }, new() { Text = "xyz" }],
            Prompts: ["", "the d", "a c"]),
        (mlContext, rows) => mlContext.Data.LoadFromEnumerable(rows),
        ["LogLikelihood", "TokenCount", "BitsPerToken", "Perplexity"],
        (model, _, prompts) =>
        {
            var languageModel = model as LanguageModelTransformer
                ?? throw new InvalidOperationException($"The loaded model is a {model.GetType().Name}, not a LanguageModelTransformer.");
            return LegacyOutput.Strings("Generate(temperature: 0)", prompts.Select(prompt => new[] { languageModel.Generate(prompt, maxLength: 24, temperature: 0f) }));
        });

    private static LegacyCase Forecasting() => Case(
        "forecasting_lstm_exogenous.zip",
        "Forecasting.ForecastByLstm (window 8, horizon 2, exogenous Temperature, 90% bounds, H = 4), 20 epochs on 96 observations of a sine.",
        mlContext =>
        {
            var rows = ForecastingTests.Series(96, seed: 131).Select(o => new LegacyObservationRow { Value = o.Value, Temperature = o.Temperature }).ToArray();
            var data = mlContext.Data.LoadFromEnumerable(rows);
            var estimator = mlContext.Forecasting.ForecastByLstm(new RecurrentForecastingEstimator.Options
            {
                OutputColumnName = "Forecast", InputColumnName = nameof(LegacyObservationRow.Value), WindowSize = 8, Horizon = 2, ConfidenceLevel = 0.9f,
                ConfidenceLowerBoundColumn = "ForecastLower", ConfidenceUpperBoundColumn = "ForecastUpper",
                ExogenousColumnNames = [nameof(LegacyObservationRow.Temperature)], HiddenSize = 4, NumberOfEpochs = 20, LearningRate = 0.02f, Seed = 132,
                MaxDegreeOfParallelism = 1,
            });
            return new SavedPipeline(estimator.Fit(data), data.Schema);
        },
        () => new LegacyRows<LegacyObservationRow>([.. ForecastingTests.Series(5, start: 96, seed: 133).Select(o => new LegacyObservationRow { Value = o.Value, Temperature = o.Temperature })]),
        (mlContext, rows) => mlContext.Data.LoadFromEnumerable(rows),
        ["Forecast", "ForecastLower", "ForecastUpper"]);

    private static LegacyCase Case<TRow>(string fileName, string description, Func<MLContext, SavedPipeline> train, Func<LegacyRows<TRow>> inputs,
        Func<MLContext, TRow[], IDataView> dataView, string[] columns, Func<ITransformer, IDataView, string[], LegacyOutput>? extra = null) where TRow : class =>
        new LegacyCase<SavedPipeline, LegacyRows<TRow>>(fileName, description,
            () => train(new MLContext(seed: 1)),
            (saved, path) => new MLContext(seed: 1).Model.Save(saved.Model, saved.InputSchema, path),
            path =>
            {
                var model = new MLContext(seed: 1).Model.Load(path, out var schema);
                return new SavedPipeline(model, schema);
            },
            inputs,
            (saved, input) =>
            {
                var mlContext = new MLContext(seed: 1);
                var scored = saved.Model.Transform(dataView(mlContext, input.Rows));
                var outputs = columns.Select(name => Column(scored, name)).ToList();
                if (extra is not null) outputs.Add(extra(saved.Model, scored, input.Prompts ?? []));
                return [.. outputs];
            });

    private static int[] Ids(VBuffer<uint> keys) => [.. keys.DenseValues().Select(key => (int)key)];

    private static LegacyPairRow[] Pairs(int count, int seed) =>
        [.. SequenceToSequenceTests.Pairs(count, seed).Select(r => new LegacyPairRow { Source = [.. r.Source.Select(c => c.ToString())], Target = r.Target })];

    private static IDataView FixedSize(MLContext mlContext, LegacyClassRow[] rows, int size)
    {
        var schema = SchemaDefinition.Create(typeof(LegacyClassRow));
        schema[nameof(LegacyClassRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        return mlContext.Data.LoadFromEnumerable(rows, schema);
    }

    /// <summary>A scored column as rows of floats, integers (keys, booleans as 0/1) or texts.</summary>
    private static LegacyOutput Column(IDataView data, string name)
    {
        var column = data.Schema[name];
        var type = column.Type;
        if (type is VectorDataViewType vector)
        {
            var item = vector.ItemType;
            if (item == NumberDataViewType.Single) return LegacyOutput.Floats(name, data.GetColumn<float[]>(column));
            if (item is TextDataViewType) return LegacyOutput.Strings(name, data.GetColumn<string[]>(column));
            if (item is KeyDataViewType && item.RawType == typeof(uint))
                return LegacyOutput.Ints(name, data.GetColumn<VBuffer<uint>>(column).Select(keys => keys.DenseValues().Select(key => (long)key).ToArray()));
        }
        else
        {
            if (type == NumberDataViewType.Single) return LegacyOutput.Floats(name, data.GetColumn<float>(column).Select(value => new[] { value }));
            if (type is BooleanDataViewType) return LegacyOutput.Ints(name, data.GetColumn<bool>(column).Select(value => new[] { value ? 1L : 0L }));
            if (type is TextDataViewType) return LegacyOutput.Strings(name, data.GetColumn<string>(column).Select(value => new[] { value }));
            if (type is KeyDataViewType && type.RawType == typeof(uint)) return LegacyOutput.Ints(name, data.GetColumn<uint>(column).Select(key => new[] { (long)key }));
        }
        throw new NotSupportedException($"Column {name} is of type {type}; the legacy fixtures read Single, Boolean, text and UInt32 keys, scalar or vector.");
    }
}
