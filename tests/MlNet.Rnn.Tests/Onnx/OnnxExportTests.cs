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

/// <summary>A variable-length token sequence of keys of 7.</summary>
public sealed class TokenRow
{
    public bool Label { get; set; }

    [KeyType(7)]
    public uint[] Features { get; set; } = [];
}

/// <summary>Fixed-size token sequences whose keys are of the other raw types ML.NET has.</summary>
public sealed class ByteTokenRow
{
    public bool Label { get; set; }

    [KeyType(7)]
    [VectorType(5)]
    public byte[] Features { get; set; } = [];
}

/// <inheritdoc cref="ByteTokenRow"/>
public sealed class UInt16TokenRow
{
    public bool Label { get; set; }

    [KeyType(7)]
    [VectorType(5)]
    public ushort[] Features { get; set; } = [];
}

/// <inheritdoc cref="ByteTokenRow"/>
public sealed class UInt64TokenRow
{
    public bool Label { get; set; }

    [KeyType(7)]
    [VectorType(5)]
    public ulong[] Features { get; set; } = [];
}

/// <summary>Text whose words a pipeline turns into a variable-length key vector.</summary>
public sealed class SentenceRow
{
    public bool Label { get; set; }

    public string Text { get; set; } = "";
}

/// <summary>
/// <c>mlContext.Model.ConvertToOnnx</c> on a recurrent model writes a graph of standard ONNX <c>RNN</c>/<c>LSTM</c>/<c>GRU</c>,
/// <c>Gemm</c> and activation nodes whose outputs, run by ONNX Runtime, equal <c>Transform</c>'s columns of the same names on
/// every row (Score, Probability and hidden state within 1e-5 relative; PredictedLabel exactly): binary, multiclass and
/// regression heads and the tagger's per-step columns, every cell (RNN tanh, relu and sigmoid), stacked, bidirectional, learned
/// initial state, a changed threshold, float-vector and key-vector (embedding by <c>Gather</c>, every key raw type) inputs, fixed
/// and variable length (each row run at its own length), opsets 9 to 12; ML.NET's own <c>ApplyOnnxModel</c> runs the graphs
/// too, rows of different lengths included. What it cannot export (the other recurrent transformers, a feature column made by a
/// step that cannot be exported) throws <see cref="NotSupportedException"/> naming the transformer and what is unsupported.
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
    [InlineData(RecurrentCellType.Lstm, 3, false, SequenceReadout.LastStep)]
    [InlineData(RecurrentCellType.Gru, 3, false, SequenceReadout.MeanOverSteps)]
    [InlineData(RecurrentCellType.Rnn, 3, false, SequenceReadout.LastStep)]
    [InlineData(RecurrentCellType.Gru, 2, true, SequenceReadout.LastStep)]
    [InlineData(RecurrentCellType.Rnn, 2, true, SequenceReadout.MeanOverSteps)]
    public void StackedModels_WithLearnedInitialState_ExportTheScoresOfTransform(RecurrentCellType cell, int layers, bool bidirectional, SequenceReadout readout)
    {
        // Unidirectional, each layer's output [T, 1, N, H] feeds the next as [T, N, H]; bidirectional, [T, 2, N, H] feeds it as
        // [T, N, 2H]; each layer (and direction) starts from its own learned initial state.
        var (training, features) = SequenceData();
        var options = Binary(cell);
        options.NumberOfLayers = layers;
        options.Bidirectional = bidirectional;
        options.LearnedInitialState = true;
        options.Readout = readout; // the binary classifier's default is the mean over the steps
        var model = CellTrainers.Binary(s_mlContext, cell, options).Fit(training);
        Assert.Equal(bidirectional, model.Model.SequenceModel.Parameters.Tensors.Any(tensor => tensor.Name.EndsWith("_reverse", StringComparison.Ordinal)));

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
    [InlineData(RecurrentCellType.Lstm, SequenceReadout.MeanOverSteps)]
    [InlineData(RecurrentCellType.Gru, SequenceReadout.LastStep)]
    public void MulticlassModel_ExportsSoftmaxScoresAndKeyPredictedLabel(RecurrentCellType cell, SequenceReadout readout)
    {
        var (training, features) = SequenceData();
        var model = CellTrainers.Multiclass(s_mlContext, cell, new RecurrentMulticlassTrainer.Options
        {
            LabelColumnName = "ClassKey", FeaturesPerStep = FeaturesPerStep, HiddenSize = 3, NumberOfEpochs = 1, BatchSize = 8, Seed = 2,
            MaxDegreeOfParallelism = 1, Bidirectional = true, Readout = readout,
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

    [Theory]
    [InlineData(typeof(ByteTokenRow))]
    [InlineData(typeof(UInt16TokenRow))]
    [InlineData(typeof(UInt64TokenRow))]
    public void KeyVectorInput_OfEveryKeyRawType_Exports(Type rowType)
    {
        var random = new Random(9);
        var keys = Enumerable.Range(0, Rows).Select(_ => Enumerable.Range(0, 5).Select(_ => random.Next(0, 8)).ToArray()).ToArray();
        IDataView training = rowType == typeof(ByteTokenRow)
            ? s_mlContext.Data.LoadFromEnumerable(keys.Select(row => new ByteTokenRow { Features = [.. row.Select(key => (byte)key)], Label = row[0] > 3 }))
            : rowType == typeof(UInt16TokenRow)
                ? s_mlContext.Data.LoadFromEnumerable(keys.Select(row => new UInt16TokenRow { Features = [.. row.Select(key => (ushort)key)], Label = row[0] > 3 }))
                : s_mlContext.Data.LoadFromEnumerable(keys.Select(row => new UInt64TokenRow { Features = [.. row.Select(key => (ulong)key)], Label = row[0] > 3 }));
        var features = s_mlContext.Data.Cache(s_mlContext.Transforms.SelectColumns(nameof(ByteTokenRow.Features)).Fit(training).Transform(training));
        var model = s_mlContext.BinaryClassification.Trainers.Gru(new RecurrentBinaryTrainer.Options
        {
            HiddenSize = 3, EmbeddingSize = 2, NumberOfEpochs = 1, BatchSize = 8, Seed = 2, MaxDegreeOfParallelism = 1,
        }).Fit(training);

        var onnx = AssertOnnxMatchesTransform(model, features, "GRU", "Gather");
        Assert.True(onnx["Score"].Distinct().Count() > 1);
    }

    [Fact]
    public void VariableLengthFeatureColumn_ExportsAGraphThatReadsEachRowsLength()
    {
        var rows = Synthetic.Rows(Rows, steps: 6, featuresPerStep: 2, seed: 4, minSteps: 1);
        var data = Synthetic.ToDataView(s_mlContext, rows, variableSize: true);
        var features = s_mlContext.Data.Cache(s_mlContext.Transforms.SelectColumns("Features").Fit(data).Transform(data));
        var model = s_mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
        {
            FeaturesPerStep = 2, HiddenSize = 3, NumberOfLayers = 2, Bidirectional = true, LearnedInitialState = true, NumberOfEpochs = 1,
            BatchSize = 8, Seed = 1, MaxDegreeOfParallelism = 1, HiddenStateColumnName = "Hidden",
        }).Fit(data);
        Assert.True(rows.Select(row => row.Features.Length).Distinct().Count() > 3, "rows of several lengths");

        var onnx = AssertOnnxMatchesTransform(model, features, "LSTM");
        Assert.True(onnx["Score"].Distinct().Count() > 1);
        AssertApplyOnnxModelMatchesTransform(model, features, "Score", "Probability", "PredictedLabel", "Hidden");
    }

    /// <summary>Five floats per row: not a whole number of steps of 2 features.</summary>
    private sealed class FiveFloats
    {
        [VectorType(5)]
        public float[] Features { get; set; } = [];
    }

    [Fact]
    public void AFixedFeatureColumnThatIsNotWholeSteps_IsRefusedWithItsSize()
    {
        // A model of 2 features per step read from rows of any length scores a column of 5 floats; its graph could not.
        var data = Synthetic.ToDataView(s_mlContext, Synthetic.Rows(Rows, steps: 6, featuresPerStep: 2, seed: 4, minSteps: 1), variableSize: true);
        var model = s_mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
        {
            FeaturesPerStep = 2, HiddenSize = 3, NumberOfEpochs = 1, BatchSize = 8, Seed = 1, MaxDegreeOfParallelism = 1,
        }).Fit(data);
        var five = s_mlContext.Data.LoadFromEnumerable([new FiveFloats { Features = [1, 2, 3, 4, 5] }]);

        var error = Assert.Throws<NotSupportedException>(() => s_mlContext.Model.ConvertToOnnx(model, five, new MemoryStream()));
        Assert.Equal("ONNX export of RecurrentPredictionTransformer: the feature column 'Features' has 5 values, not a whole number of steps of 2.", error.Message);
    }

    [Fact]
    public void VariableLengthKeyInput_FromTokenizedText_ExportsThroughMlNetsTokenizerAndKeyMapping()
    {
        var words = new[] { "good", "bad", "fine", "poor", "great", "awful" };
        var random = new Random(3);
        var rows = Enumerable.Range(0, Rows).Select(_ =>
        {
            var sentence = Enumerable.Range(0, random.Next(1, 6)).Select(_ => words[random.Next(words.Length)]).ToArray();
            return new SentenceRow { Text = string.Join(' ', sentence), Label = Array.IndexOf(words, sentence[0]) % 2 == 0 };
        }).ToArray();
        var data = s_mlContext.Data.LoadFromEnumerable(rows);
        var text = s_mlContext.Data.Cache(s_mlContext.Transforms.SelectColumns(nameof(SentenceRow.Text)).Fit(data).Transform(data));
        var model = s_mlContext.Transforms.Text.TokenizeIntoWords("Tokens", nameof(SentenceRow.Text))
            .Append(s_mlContext.Transforms.Conversion.MapValueToKey("Features", "Tokens"))
            .Append(s_mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
            {
                HiddenSize = 3, EmbeddingSize = 2, NumberOfEpochs = 1, BatchSize = 8, Seed = 2, MaxDegreeOfParallelism = 1,
            }))
            .Fit(data);

        AssertApplyOnnxModelMatchesTransform(model, text, "Score", "Probability", "PredictedLabel");
    }

    [Fact]
    public void VariableLengthKeyVector_ExportsTheEmbeddingForEachRowsLength()
    {
        var random = new Random(9);
        var rows = Enumerable.Range(0, Rows).Select(_ =>
        {
            var keys = Enumerable.Range(0, random.Next(1, 7)).Select(_ => (uint)random.Next(0, 8)).ToArray();
            return new TokenRow { Features = keys, Label = keys[0] > 3 };
        }).ToArray();
        var training = s_mlContext.Data.LoadFromEnumerable(rows);
        var features = s_mlContext.Data.Cache(s_mlContext.Transforms.SelectColumns(nameof(TokenRow.Features)).Fit(training).Transform(training));
        var model = s_mlContext.BinaryClassification.Trainers.Rnn(new RecurrentBinaryTrainer.Options
        {
            HiddenSize = 3, EmbeddingSize = 2, NumberOfEpochs = 1, BatchSize = 8, Seed = 2, MaxDegreeOfParallelism = 1, Bidirectional = true,
        }).Fit(training);

        AssertOnnxMatchesTransform(model, features, "RNN", "Gather");
    }

    /// <summary>A tagger on variable-length rows whose tag is the sign of the step's feature.</summary>
    private static (ITransformer Tagger, IDataView Features) Tagger(RecurrentCellType cell, Action<SequenceTaggingTrainer.Options>? configure = null)
    {
        var random = new Random(7);
        var rows = Enumerable.Range(0, Rows).Select(_ =>
        {
            var values = Enumerable.Range(0, random.Next(1, 7)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            return new Tagging.TaggedSteps { Features = values, Tags = [.. values.Select(value => value > 0 ? "up" : "down")] };
        }).ToArray();
        var data = s_mlContext.Data.LoadFromEnumerable(rows);
        var keyed = s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(Tagging.TaggedSteps.Tags)).Fit(data).Transform(data);
        var options = new SequenceTaggingTrainer.Options
        {
            HiddenSize = 3, NumberOfEpochs = 5, BatchSize = 8, LearningRate = 0.05f, Seed = 1, MaxDegreeOfParallelism = 1,
        };
        configure?.Invoke(options);
        var tagger = CellTrainers.Tagger(s_mlContext, cell, options).Fit(keyed);
        var features = s_mlContext.Data.Cache(s_mlContext.Transforms.SelectColumns(nameof(Tagging.TaggedSteps.Features)).Fit(keyed).Transform(keyed));
        return (tagger, features);
    }

    [Theory]
    [InlineData(RecurrentCellType.Lstm)]
    [InlineData(RecurrentCellType.Gru)]
    [InlineData(RecurrentCellType.Rnn)]
    public void SequenceTagger_ExportsPerStepScoresAndTags(RecurrentCellType cell)
    {
        var (tagger, features) = Tagger(cell, options =>
        {
            options.Bidirectional = true;
            options.NumberOfLayers = 2;
            options.LearnedInitialState = true;
            options.HiddenStateColumnName = "Hidden";
        });

        var onnx = AssertOnnxMatchesTransform(tagger, features, OnnxOp(cell), "MatMul");
        Assert.Equal(2, onnx["PredictedLabel"].Distinct().Count()); // both tags predicted
        AssertApplyOnnxModelMatchesTransform(tagger, features, "Score", "PredictedLabel", "Hidden");
    }

    [Theory]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    public void EveryOpsetMlNetWrites_GivesTheColumnsOfTransform(int opset)
    {
        var (tagger, taggedSteps) = Tagger(RecurrentCellType.Gru);
        AssertOnnxMatchesTransform(tagger, taggedSteps, "GRU", opset);

        var (training, features) = SequenceData();
        var multiclass = s_mlContext.MulticlassClassification.Trainers.Lstm(new RecurrentMulticlassTrainer.Options
        {
            LabelColumnName = "ClassKey", FeaturesPerStep = FeaturesPerStep, HiddenSize = 3, NumberOfEpochs = 1, BatchSize = 8, Seed = 2,
            MaxDegreeOfParallelism = 1, LearnedInitialState = true,
        }).Fit(training);
        AssertOnnxMatchesTransform(multiclass, features, "LSTM", opset);
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

        Assert.Matches(@"^ONNX export of RecurrentPredictionTransformer: a step before it in the pipeline \(\w+\) cannot be exported to ONNX, so the graph " +
            "could not compute the feature column 'Steps' as Transform does; export a pipeline whose every step can be exported\\.$", error.Message);
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
        Assert.Equal(Refusal(nameof(SequenceToSequenceTransformer)), error.Message);

        var series = s_mlContext.Data.LoadFromEnumerable(Forecasting.ForecastingTests.Series(40));
        var forecaster = s_mlContext.Forecasting.ForecastByGru(new RecurrentForecastingEstimator.Options
        {
            InputColumnName = nameof(Forecasting.Observation.Value), WindowSize = 4, HiddenSize = 2, NumberOfEpochs = 1, Seed = 1,
        }).Fit(series);
        error = Assert.Throws<NotSupportedException>(() => s_mlContext.Model.ConvertToOnnx(forecaster, series, new MemoryStream()));
        Assert.Equal(Refusal(nameof(RecurrentForecastingTransformer)), error.Message);

        // A scored view is not a step of a saved model either.
        var scored = (ICanSaveModel)translator.Transform(pairs);
        Assert.Equal("A scored view is not saved; save the transformer that made it with mlContext.Model.Save.",
            Assert.Throws<NotSupportedException>(() => scored.Save(null!)).Message);
    }

    private static string Refusal(string transformer) =>
        $"ONNX export of {transformer} is not supported: its output comes from a generation, beam-search or forecasting loop around the network, " +
        "which this export does not write; of the recurrent transformers RecurrentPredictionTransformer (classification, regression, tagging) exports.";

    private static Dictionary<string, float[]> AssertOnnxMatchesTransform(ITransformer model, IDataView features, string recurrentOp,
        params string[] otherOps) => AssertOnnxMatchesTransform(model, features, recurrentOp, opset: null, otherOps);

    /// <summary>
    /// Exports <paramref name="model"/> on <paramref name="features"/> (at <paramref name="opset"/>, or ML.NET's default), runs the
    /// graph in ONNX Runtime on those rows (all in one run when the feature column has a fixed size, else each row in its own run at
    /// its own length) and checks each column the model adds against <c>Transform</c>, shaped <c>[rows, width]</c>; returns the ONNX values of each column,
    /// flattened, booleans and keys as floats. Checks too that the graph holds the recurrent node <paramref name="recurrentOp"/> (and
    /// any <paramref name="otherOps"/>).
    /// </summary>
    private static Dictionary<string, float[]> AssertOnnxMatchesTransform(ITransformer model, IDataView features, string recurrentOp,
        int? opset, params string[] otherOps)
    {
        using var stream = new MemoryStream();
        if (opset is int version) s_mlContext.Model.ConvertToOnnx(model, features, version, stream);
        else s_mlContext.Model.ConvertToOnnx(model, features, stream);
        byte[] bytes = stream.ToArray();

        using var session = new InferenceSession(bytes);
        var input = Assert.Single(session.InputMetadata);
        Assert.Equal(nameof(FixedSequenceRow.Features), input.Key);
        var scored = model.Transform(features);
        var added = Enumerable.Range(features.Schema.Count, scored.Schema.Count - features.Schema.Count).Select(c => scored.Schema[c]).ToArray();
        var outputs = added.ToDictionary(column => column.Name + ".output", _ => new List<float>());
        foreach (var batch in Batches(input.Key, features))
        {
            using var results = session.Run([batch]);
            int rows = Dimensions(batch.Value)[0];
            foreach (var result in results)
            {
                if (!outputs.TryGetValue(result.Name, out var values)) continue;
                // Each column is a vector per row, as ML.NET reads it: [rows, width].
                int[] shape = Dimensions(result.Value);
                Assert.True(shape.Length == 2 && shape[0] == rows, $"{result.Name} has the shape [{string.Join(", ", shape)}], not [{rows}, width].");
                values.AddRange(Flatten(result));
            }
        }

        var text = System.Text.Encoding.ASCII.GetString(bytes);
        foreach (string op in otherOps.Prepend(recurrentOp)) Assert.Contains(op, text);

        var columns = new Dictionary<string, float[]>();
        foreach (var column in added)
        {
            float[] actual = [.. outputs[column.Name + ".output"]];
            AssertColumnEqual(column.Name, Read(scored, column), actual);
            columns[column.Name] = actual;
        }
        Assert.Contains("Score", columns.Keys);
        return columns;
    }

    /// <summary>
    /// Saves <paramref name="model"/> as ONNX, scores <paramref name="features"/> through ML.NET's <c>ApplyOnnxModel</c> (which runs
    /// a row at a time, each at its own length) and checks <paramref name="columns"/> against <c>Transform</c>.
    /// </summary>
    private static void AssertApplyOnnxModelMatchesTransform(ITransformer model, IDataView features, params string[] columns)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            using (var file = File.Create(path)) s_mlContext.Model.ConvertToOnnx(model, features, file);
            string[] inputs = [.. features.Schema.Select(column => column.Name)];
            // ML.NET's exporter names the graph's outputs "<column>.output"; ApplyOnnxModel names the columns back without the suffix.
            var onnx = s_mlContext.Transforms.ApplyOnnxModel([.. columns.Select(name => name + ".output")], inputs, path).Fit(features).Transform(features);
            var scored = model.Transform(features);
            foreach (string name in columns)
            {
                var column = onnx.Schema[name];
                float[] actual = (column.Type is VectorDataViewType vector ? vector.ItemType : column.Type) switch
                {
                    BooleanDataViewType => [.. onnx.GetColumn<bool[]>(column).SelectMany(row => row).Select(value => value ? 1f : 0f)],
                    var item when item.RawType == typeof(uint) => [.. onnx.GetColumn<uint[]>(column).SelectMany(row => row).Select(value => (float)value)],
                    _ => [.. onnx.GetColumn<float[]>(column).SelectMany(row => row)],
                };
                AssertColumnEqual(name, Read(scored, scored.Schema[name]), actual);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Equal values, within 1e-5 relative (PredictedLabel exactly).</summary>
    private static void AssertColumnEqual(string name, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        bool exact = name == "PredictedLabel";
        for (int i = 0; i < expected.Length; i++)
        {
            float tolerance = exact ? 0f : 1e-5f * Math.Max(1f, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{name}[{i}]: Transform gives {expected[i]:R}, ONNX {actual[i]:R}.");
        }
    }

    /// <summary>
    /// The feature column as the graph's input tensors <c>[N, size]</c> of its raw type (floats, or keys): one batch of every row when
    /// the column has a fixed size, else one batch <c>[1, length]</c> per row.
    /// </summary>
    private static IEnumerable<NamedOnnxValue> Batches(string name, IDataView data)
    {
        var type = (VectorDataViewType)data.Schema[name].Type;
        var raw = type.ItemType.RawType;
        return raw == typeof(float) ? Batches(name, data.GetColumn<float[]>(name).ToArray(), type.Size)
            : raw == typeof(uint) ? Batches(name, data.GetColumn<uint[]>(name).ToArray(), type.Size)
            : raw == typeof(ushort) ? Batches(name, data.GetColumn<ushort[]>(name).ToArray(), type.Size)
            : raw == typeof(byte) ? Batches(name, data.GetColumn<byte[]>(name).ToArray(), type.Size)
            : raw == typeof(ulong) ? Batches(name, data.GetColumn<ulong[]>(name).ToArray(), type.Size)
            : throw new InvalidOperationException($"Unexpected feature type {type}.");
    }

    private static IEnumerable<NamedOnnxValue> Batches<T>(string name, T[][] rows, int size) => size > 0
        ? [NamedOnnxValue.CreateFromTensor(name, new DenseTensor<T>(rows.SelectMany(row => row).ToArray(), [rows.Length, size]))]
        : rows.Select(row => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<T>(row, [1, row.Length])));

    private static float[] Read(IDataView data, DataViewSchema.Column column) => column.Type switch
    {
        BooleanDataViewType => [.. data.GetColumn<bool>(column).Select(value => value ? 1f : 0f)],
        KeyDataViewType => [.. data.GetColumn<uint>(column).Select(value => (float)value)],
        VectorDataViewType { ItemType: KeyDataViewType } => [.. data.GetColumn<uint[]>(column).SelectMany(value => value).Select(value => (float)value)],
        VectorDataViewType => [.. data.GetColumn<float[]>(column).SelectMany(value => value)],
        _ => [.. data.GetColumn<float>(column)],
    };

    private static int[] Dimensions(object tensor) => tensor switch
    {
        Tensor<float> floats => floats.Dimensions.ToArray(),
        Tensor<bool> booleans => booleans.Dimensions.ToArray(),
        Tensor<uint> keys => keys.Dimensions.ToArray(),
        Tensor<byte> bytes => bytes.Dimensions.ToArray(),
        Tensor<ushort> shorts => shorts.Dimensions.ToArray(),
        Tensor<ulong> longs => longs.Dimensions.ToArray(),
        var other => throw new InvalidOperationException($"Unexpected tensor type {other?.GetType()}."),
    };

    private static float[] Flatten(DisposableNamedOnnxValue value) => value.Value switch
    {
        Tensor<float> floats => [.. floats],
        Tensor<bool> booleans => [.. booleans.Select(b => b ? 1f : 0f)],
        Tensor<uint> keys => [.. keys.Select(key => (float)key)],
        var other => throw new InvalidOperationException($"Unexpected output type {other?.GetType()}."),
    };
}
