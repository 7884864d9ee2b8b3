using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Tests.Onnx;

/// <summary>A fixed-size numeric sequence: 4 steps of 3 features, with the labels of the three tasks.</summary>
public sealed class FixedSequenceRow
{
    public bool Label { get; set; }

    public float Value { get; set; }

    public uint Class { get; set; }

    [VectorType(12)]
    public float[] Features { get; set; } = [];
}

/// <summary>The output of a custom mapping (which ONNX export cannot write): the features under another name.</summary>
public sealed class MappedSteps
{
    [VectorType(12)]
    public float[] Steps { get; set; } = [];
}

/// <summary>The input of that mapping.</summary>
public sealed class FeaturesOnly
{
    [VectorType(12)]
    public float[] Features { get; set; } = [];
}

/// <summary>A fixed-size token sequence: 5 keys of 7.</summary>
public sealed class FixedTokenRow
{
    public bool Label { get; set; }

    [KeyType(7)]
    [VectorType(5)]
    public uint[] Features { get; set; } = [];
}

/// <summary>
/// <c>mlContext.Model.ConvertToOnnx</c> on a recurrent model writes a graph of standard ONNX <c>RNN</c>/<c>LSTM</c>/<c>GRU</c>,
/// <c>Gemm</c> and activation nodes whose outputs, run by ONNX Runtime, equal <c>Transform</c>'s columns of the same names on
/// every row (Score, Probability and hidden state within 1e-5 relative; PredictedLabel exactly): binary, multiclass and
/// regression heads, every cell (RNN tanh and relu), stacked, bidirectional, learned initial state, a changed threshold,
/// float-vector and key-vector (embedding by <c>Gather</c>) inputs; ML.NET's own <c>ApplyOnnxModel</c> runs the graph too. What
/// it cannot export yet (variable-length columns, the tagger, the other recurrent transformers, a feature column made by a step
/// that cannot be exported) throws <see cref="NotSupportedException"/> naming the transformer and what is unsupported.
/// </summary>
public sealed class OnnxExportTests
{
    private const int Steps = 4, FeaturesPerStep = 3, Rows = 24;
    private static readonly MLContext s_mlContext = new(seed: 1);

    private static FixedSequenceRow[] SequenceRows(int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, Rows).Select(_ =>
        {
            var features = Enumerable.Range(0, Steps * FeaturesPerStep).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
            return new FixedSequenceRow { Features = features, Label = features[0] > 0, Value = features[1], Class = (uint)random.Next(1, 4) };
        })];
    }

    /// <summary>Training data; the features alone are what the model is exported and scored on (the ONNX graph's only input).</summary>
    private static (IDataView Training, IDataView Features) SequenceData(int seed = 5)
    {
        var rows = SequenceRows(seed);
        var training = s_mlContext.Data.LoadFromEnumerable(rows);
        training = s_mlContext.Transforms.Conversion.MapValueToKey("ClassKey", nameof(FixedSequenceRow.Class)).Fit(training).Transform(training);
        var features = s_mlContext.Transforms.SelectColumns(nameof(FixedSequenceRow.Features)).Fit(training).Transform(training);
        return (training, s_mlContext.Data.Cache(features));
    }

    private static RecurrentBinaryTrainer.Options Binary(RecurrentCellType cell) => new()
    {
        FeaturesPerStep = FeaturesPerStep, HiddenSize = 3, NumberOfEpochs = 1, BatchSize = 8, LearningRate = 0.05f, Seed = 2, MaxDegreeOfParallelism = 1,
    };

    private static string OnnxOp(RecurrentCellType cell) => cell switch
    {
        RecurrentCellType.Lstm => "LSTM",
        RecurrentCellType.Gru => "GRU",
        _ => "RNN",
    };

    public static TheoryData<RecurrentCellType, RnnActivation> Cells => new()
    {
        { RecurrentCellType.Lstm, RnnActivation.Tanh },
        { RecurrentCellType.Gru, RnnActivation.Tanh },
        { RecurrentCellType.Rnn, RnnActivation.Tanh },
        { RecurrentCellType.Rnn, RnnActivation.Relu },
        { RecurrentCellType.Rnn, RnnActivation.Sigmoid },
    };

    [Theory]
    [MemberData(nameof(Cells))]
    public void BinaryModel_OfEveryCell_ExportsTheScoresOfTransform(RecurrentCellType cell, RnnActivation activation)
    {
        var (training, features) = SequenceData();
        var options = Binary(cell);
        options.RnnActivation = activation;
        var model = CellTrainers.Binary(s_mlContext, cell, options).Fit(training);

        AssertOnnxMatchesTransform(model, features, OnnxOp(cell));
    }

    [Fact]
    public void ExportedBinaryLstm_RunByMlNetsApplyOnnxModel_GivesTheColumnsOfTransform()
    {
        var (training, features) = SequenceData();
        var model = s_mlContext.BinaryClassification.Trainers.Lstm(Binary(RecurrentCellType.Lstm)).Fit(training);
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            using (var file = File.Create(path)) s_mlContext.Model.ConvertToOnnx(model, features, file);
            // ML.NET's exporter names the graph's outputs "<column>.output"; ApplyOnnxModel names the columns back without the suffix.
            string[] outputs = ["Score.output", "Probability.output", "PredictedLabel.output"];
            var onnx = s_mlContext.Transforms.ApplyOnnxModel(outputs, [nameof(FixedSequenceRow.Features)], path).Fit(features).Transform(features);
            var scored = model.Transform(features);

            var expectedScore = scored.GetColumn<float>("Score").ToArray();
            var expectedProbability = scored.GetColumn<float>("Probability").ToArray();
            var actualScore = onnx.GetColumn<float[]>("Score").Select(value => Assert.Single(value)).ToArray();
            var actualProbability = onnx.GetColumn<float[]>("Probability").Select(value => Assert.Single(value)).ToArray();
            for (int i = 0; i < Rows; i++)
            {
                Assert.True(Math.Abs(expectedScore[i] - actualScore[i]) <= 1e-5f * Math.Max(1f, Math.Abs(expectedScore[i])), $"Score[{i}]");
                Assert.True(Math.Abs(expectedProbability[i] - actualProbability[i]) <= 1e-5f, $"Probability[{i}]");
            }
            Assert.Equal(scored.GetColumn<bool>("PredictedLabel"), onnx.GetColumn<bool[]>("PredictedLabel").Select(value => Assert.Single(value)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void PipelineOfNormalizerAndLstm_ExportsAsOneGraph()
    {
        var (training, features) = SequenceData();
        var model = s_mlContext.Transforms.NormalizeMinMax(nameof(FixedSequenceRow.Features))
            .Append(s_mlContext.BinaryClassification.Trainers.Lstm(Binary(RecurrentCellType.Lstm)))
            .Fit(training);

        var onnx = AssertOnnxMatchesTransform(model, features, "LSTM", "Scaler");
        Assert.Equal(Rows * Steps * FeaturesPerStep, onnx["Features"].Length); // the normalized features are an output too
    }

    [Fact]
    public void StackedBidirectionalLstm_WithLearnedInitialStateAndHiddenState_ExportsTheScoresOfTransform()
    {
        var (training, features) = SequenceData();
        var options = Binary(RecurrentCellType.Lstm);
        options.NumberOfLayers = 2;
        options.Bidirectional = true;
        options.LearnedInitialState = true;
        options.HiddenStateColumnName = "Hidden";
        var model = s_mlContext.BinaryClassification.Trainers.Lstm(options).Fit(training);
        Assert.Contains(model.Model.SequenceModel.Parameters.Tensors, tensor => tensor.Name == "c0_l1_reverse" && tensor.Length == 3);

        AssertOnnxMatchesTransform(model, features, "LSTM");
    }

    [Theory]
    [InlineData(RecurrentCellType.Gru)]
    [InlineData(RecurrentCellType.Rnn)]
    public void StackedBidirectionalGruAndRnn_WithLearnedInitialState_ExportTheScoresOfTransform(RecurrentCellType cell)
    {
        var (training, features) = SequenceData();
        var options = Binary(cell);
        options.NumberOfLayers = 2;
        options.Bidirectional = true;
        options.LearnedInitialState = true;
        var model = CellTrainers.Binary(s_mlContext, cell, options).Fit(training);

        AssertOnnxMatchesTransform(model, features, OnnxOp(cell));
    }

    [Fact]
    public void ChangedThreshold_DecidesTheExportedPredictedLabel()
    {
        var (training, features) = SequenceData();
        var model = s_mlContext.BinaryClassification.Trainers.Gru(Binary(RecurrentCellType.Gru)).Fit(training);
        var scores = model.Transform(features).GetColumn<float>("Score").Order().ToArray();
        const int below = Rows / 4;
        float threshold = (scores[below - 1] + scores[below]) / 2; // between two scores, so no row sits on it
        Assert.NotEqual(Rows - below, scores.Count(score => score > 0)); // a threshold of 0 would decide otherwise
        var changed = s_mlContext.BinaryClassification.ChangeModelThreshold(model, threshold);

        var predicted = AssertOnnxMatchesTransform(changed, features, "GRU")["PredictedLabel"];
        Assert.Equal(Rows - below, predicted.Count(value => value == 1f));
    }

    [Theory]
    [InlineData(RecurrentCellType.Lstm)]
    [InlineData(RecurrentCellType.Gru)]
    public void MulticlassModel_ExportsSoftmaxScoresAndKeyPredictedLabel(RecurrentCellType cell)
    {
        var (training, features) = SequenceData();
        var model = CellTrainers.Multiclass(s_mlContext, cell, new RecurrentMulticlassTrainer.Options
        {
            LabelColumnName = "ClassKey", FeaturesPerStep = FeaturesPerStep, HiddenSize = 3, NumberOfEpochs = 1, BatchSize = 8, Seed = 2,
            MaxDegreeOfParallelism = 1, Bidirectional = true,
        }).Fit(training);

        var onnx = AssertOnnxMatchesTransform(model, features, OnnxOp(cell));
        Assert.True(onnx["PredictedLabel"].Distinct().Count() > 1, "the classes predicted should differ between rows");
    }

    [Theory]
    [InlineData(RecurrentCellType.Lstm)]
    [InlineData(RecurrentCellType.Rnn)]
    public void RegressionModel_ExportsTheScoreOfTransform(RecurrentCellType cell)
    {
        var (training, features) = SequenceData();
        var model = CellTrainers.Regression(s_mlContext, cell, new RecurrentRegressionTrainer.Options
        {
            LabelColumnName = nameof(FixedSequenceRow.Value), FeaturesPerStep = FeaturesPerStep, HiddenSize = 3, NumberOfLayers = 2, NumberOfEpochs = 1,
            BatchSize = 8, Seed = 2, MaxDegreeOfParallelism = 1,
        }).Fit(training);

        AssertOnnxMatchesTransform(model, features, OnnxOp(cell));
    }

    [Fact]
    public void KeyVectorInput_ExportsTheEmbeddingAsGather()
    {
        var random = new Random(9);
        var rows = Enumerable.Range(0, Rows).Select(_ =>
        {
            var keys = Enumerable.Range(0, 5).Select(_ => (uint)random.Next(0, 8)).ToArray(); // 0 is the missing key
            return new FixedTokenRow { Features = keys, Label = keys[0] > 3 };
        }).ToArray();
        var training = s_mlContext.Data.LoadFromEnumerable(rows);
        var features = s_mlContext.Data.Cache(s_mlContext.Transforms.SelectColumns(nameof(FixedTokenRow.Features)).Fit(training).Transform(training));
        var model = s_mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
        {
            HiddenSize = 3, EmbeddingSize = 2, NumberOfEpochs = 1, BatchSize = 8, Seed = 2, MaxDegreeOfParallelism = 1, LearnedInitialState = true,
        }).Fit(training);
        Assert.True(model.Model.VocabularySize > 7);

        var onnx = AssertOnnxMatchesTransform(model, features, "LSTM", "Gather");
        Assert.True(onnx["Score"].Distinct().Count() > 1);
    }

    [Fact]
    public void VariableLengthFeatureColumn_IsRefusedNamingTheTransformerAndWhy()
    {
        var rows = Synthetic.Rows(8, steps: 3, featuresPerStep: 1, seed: 4, minSteps: 1);
        var data = Synthetic.ToDataView(s_mlContext, rows, variableSize: true);
        var model = s_mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options { HiddenSize = 2, NumberOfEpochs = 1, Seed = 1 }).Fit(data);

        var error = Assert.Throws<NotSupportedException>(() => s_mlContext.Model.ConvertToOnnx(model, data, new MemoryStream()));

        Assert.Contains(nameof(RecurrentPredictionTransformer), error.Message);
        Assert.Contains("variable-length", error.Message);
    }

    [Fact]
    public void SequenceTagger_IsRefusedNamingTheTransformerAndWhy()
    {
        var data = s_mlContext.Data.LoadFromEnumerable(new[]
        {
            new Tagging.TaggedSteps { Features = [1f, -1f, 2f], Tags = ["up", "down", "up"] },
            new Tagging.TaggedSteps { Features = [-1f, 1f, -2f], Tags = ["down", "up", "down"] },
        });
        var model = s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(Tagging.TaggedSteps.Tags))
            .Append(s_mlContext.SequenceTagging.Trainers.Lstm(new SequenceTaggingTrainer.Options { HiddenSize = 2, NumberOfEpochs = 1, Seed = 1 }))
            .Fit(data);

        var error = Assert.Throws<NotSupportedException>(() => s_mlContext.Model.ConvertToOnnx(model, data, new MemoryStream()));

        Assert.Contains(nameof(RecurrentPredictionTransformer), error.Message);
        Assert.Contains("sequence tagger", error.Message);
    }

    [Fact]
    public void FeatureColumnMadeByAStepThatCannotExport_IsRefusedNamingTheTransformerAndWhy()
    {
        var (training, features) = SequenceData();
        var options = Binary(RecurrentCellType.Lstm);
        options.FeatureColumnName = nameof(MappedSteps.Steps);
        var model = s_mlContext.Transforms.CustomMapping<FeaturesOnly, MappedSteps>((input, output) => output.Steps = input.Features, contractName: null)
            .Append(s_mlContext.BinaryClassification.Trainers.Lstm(options))
            .Fit(training);

        var error = Assert.Throws<NotSupportedException>(() => s_mlContext.Model.ConvertToOnnx(model, features, new MemoryStream()));

        Assert.Contains(nameof(RecurrentPredictionTransformer), error.Message);
        Assert.Contains("cannot be exported to ONNX", error.Message);
        Assert.Contains("'Steps'", error.Message);
    }

    [Fact]
    public void LanguageModel_IsRefusedNamingItsTransformer()
    {
        var data = s_mlContext.Data.LoadFromEnumerable(new[] { new TextRow { Text = "abab" }, new TextRow { Text = "ba" } });
        var model = s_mlContext.LanguageModeling.Trainers.Gru(LanguageModeling.LanguageModelRefusalTests.TinyOptions()).Fit(data);

        var error = Assert.Throws<NotSupportedException>(() => s_mlContext.Model.ConvertToOnnx(model, data, new MemoryStream()));

        Assert.Contains(nameof(LanguageModelTransformer), error.Message);
        Assert.Contains("not supported", error.Message);
    }

    [Fact]
    public void SequenceToSequenceAndForecasting_AreRefusedNamingTheirTransformers()
    {
        var rows = new[] { new Options.ProbePairRow { Source = ["a", "b"], Reversed = ["b", "a"] }, new Options.ProbePairRow { Source = ["b"], Reversed = ["b"] } };
        var keys = s_mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(Options.ProbePairRow.Source))
            .Append(s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(Options.ProbePairRow.Reversed)));
        var pairs = keys.Fit(s_mlContext.Data.LoadFromEnumerable(rows)).Transform(s_mlContext.Data.LoadFromEnumerable(rows));
        var translator = s_mlContext.SequenceToSequence.Trainers.Gru(new SequenceToSequenceTrainer.Options { HiddenSize = 2, EmbeddingSize = 2, NumberOfEpochs = 1, Seed = 1 })
            .Fit(pairs);
        var error = Assert.Throws<NotSupportedException>(() => s_mlContext.Model.ConvertToOnnx(translator, pairs, new MemoryStream()));
        Assert.Contains(nameof(SequenceToSequenceTransformer), error.Message);
        Assert.Contains("not supported", error.Message);

        var series = s_mlContext.Data.LoadFromEnumerable(Forecasting.ForecastingTests.Series(40));
        var forecaster = s_mlContext.Forecasting.ForecastByGru(new RecurrentForecastingEstimator.Options
        {
            InputColumnName = nameof(Forecasting.Observation.Value), WindowSize = 4, HiddenSize = 2, NumberOfEpochs = 1, Seed = 1,
        }).Fit(series);
        error = Assert.Throws<NotSupportedException>(() => s_mlContext.Model.ConvertToOnnx(forecaster, series, new MemoryStream()));
        Assert.Contains(nameof(RecurrentForecastingTransformer), error.Message);
        Assert.Contains("not supported", error.Message);
    }

    /// <summary>
    /// Exports <paramref name="model"/> on <paramref name="features"/>, runs the graph in ONNX Runtime on those rows and checks each
    /// column the model adds against <c>Transform</c>; returns the ONNX values of each column, flattened, booleans and keys as floats.
    /// Checks too that the graph holds the recurrent node <paramref name="recurrentOp"/> (and any <paramref name="otherOps"/>).
    /// </summary>
    private static Dictionary<string, float[]> AssertOnnxMatchesTransform(ITransformer model, IDataView features, string recurrentOp,
        params string[] otherOps)
    {
        using var stream = new MemoryStream();
        s_mlContext.Model.ConvertToOnnx(model, features, stream);
        byte[] bytes = stream.ToArray();

        using var session = new InferenceSession(bytes);
        var input = Assert.Single(session.InputMetadata);
        Assert.Equal(nameof(FixedSequenceRow.Features), input.Key);
        var scored = model.Transform(features);
        var inputs = new List<NamedOnnxValue> { Feed(input.Key, features) };
        using var results = session.Run(inputs);
        var outputs = results.ToDictionary(result => result.Name, result => result);

        var text = System.Text.Encoding.ASCII.GetString(bytes);
        foreach (string op in otherOps.Prepend(recurrentOp)) Assert.Contains(op, text);

        var values = new Dictionary<string, float[]>();
        for (int c = features.Schema.Count; c < scored.Schema.Count; c++)
        {
            var column = scored.Schema[c];
            float[] expected = Read(scored, column);
            float[] actual = Flatten(outputs[column.Name + ".output"]);
            Assert.Equal(expected.Length, actual.Length);
            bool exact = column.Name == "PredictedLabel";
            for (int i = 0; i < expected.Length; i++)
            {
                float tolerance = exact ? 0f : 1e-5f * Math.Max(1f, Math.Abs(expected[i]));
                Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                    $"{column.Name}[{i}]: Transform gives {expected[i]:R}, ONNX Runtime {actual[i]:R}.");
            }
            values[column.Name] = actual;
        }
        Assert.Contains("Score", values.Keys);
        return values;
    }

    /// <summary>The feature column as the graph's input tensor <c>[N, size]</c>: floats, or keys as uint32.</summary>
    private static NamedOnnxValue Feed(string name, IDataView data)
    {
        var column = data.Schema[name];
        var type = (VectorDataViewType)column.Type;
        int size = type.Size;
        if (type.ItemType is KeyDataViewType)
        {
            var rows = data.GetColumn<uint[]>(name).ToArray();
            return NamedOnnxValue.CreateFromTensor(name, new DenseTensor<uint>(rows.SelectMany(row => row).ToArray(), [rows.Length, size]));
        }
        var values = data.GetColumn<float[]>(name).ToArray();
        return NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(values.SelectMany(row => row).ToArray(), [values.Length, size]));
    }

    private static float[] Read(IDataView data, DataViewSchema.Column column) => column.Type switch
    {
        BooleanDataViewType => [.. data.GetColumn<bool>(column).Select(value => value ? 1f : 0f)],
        KeyDataViewType => [.. data.GetColumn<uint>(column).Select(value => (float)value)],
        VectorDataViewType => [.. data.GetColumn<float[]>(column).SelectMany(value => value)],
        _ => [.. data.GetColumn<float>(column)],
    };

    private static float[] Flatten(DisposableNamedOnnxValue value) => value.Value switch
    {
        Tensor<float> floats => [.. floats],
        Tensor<bool> booleans => [.. booleans.Select(b => b ? 1f : 0f)],
        Tensor<uint> keys => [.. keys.Select(key => (float)key)],
        var other => throw new InvalidOperationException($"Unexpected output type {other?.GetType()}."),
    };
}
