using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Tests.Options;

namespace MlNet.Rnn.Tests.Tagging;

/// <summary>What a prediction engine gives back of the tagger's hidden-state column.</summary>
public sealed class TaggerHiddenStatePrediction
{
    public float[] Hidden { get; set; } = [];
}

/// <summary>
/// The tagger's hidden-state column (<see cref="RecurrentTrainerOptions.HiddenStateColumnName"/>) is the features its head reads
/// at every step: for each row, a variable-size vector of that row's own T·D·H values, step t's at [t·D·H, (t+1)·D·H), equal to
/// the top layer's output the core's recurrent stack computes for that row alone (rows of different lengths scored in one padded
/// batch, so a layout or padding slip fails), and each step's <c>Score</c> is the softmax of the head applied to it. The column
/// survives save and load, reaches a prediction engine, and is absent when the option is null.
/// </summary>
public sealed class TaggerHiddenStateTests
{
    private const int H = 3, D = 2, Layers = 2;

    /// <summary>Lengths of the scored rows, in one batch: the second is longer than every other, the third a single step.</summary>
    private static readonly int[] s_scoredLengths = [3, 9, 1, 5, 2, 4];

    private static readonly MLContext s_mlContext = new(seed: 1);

    /// <summary>Rows of two features per step, each step tagged by the sign of its first feature.</summary>
    private static TaggedSteps[] Rows(IEnumerable<int> lengths, int seed)
    {
        var random = new Random(seed);
        return [.. lengths.Select(T =>
        {
            var features = new float[2 * T];
            for (int i = 0; i < features.Length; i++) features[i] = (float)(random.NextDouble() * 2 - 1);
            return new TaggedSteps { Features = features, Tags = [.. Enumerable.Range(0, T).Select(t => features[2 * t] > 0 ? "up" : "down")] };
        })];
    }

    private static readonly TaggedSteps[] s_trainRows = Rows(Enumerable.Range(0, 16).Select(i => 1 + i % 6), seed: 1);
    private static readonly TaggedSteps[] s_scoredRows = Rows(s_scoredLengths, seed: 2);
    private static readonly IDataView s_train = s_mlContext.Data.LoadFromEnumerable(s_trainRows);
    private static readonly IDataView s_scored = s_mlContext.Data.LoadFromEnumerable(s_scoredRows);

    private static IEstimator<ITransformer> Pipeline(string? hiddenStateColumnName) =>
        s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TaggedSteps.Tags))
            .Append(s_mlContext.SequenceTagging.Trainers.Lstm(new SequenceTaggingTrainer.Options
            {
                FeaturesPerStep = 2, HiddenSize = H, NumberOfLayers = Layers, NumberOfEpochs = 2, BatchSize = 8, LearningRate = 0.05f, Seed = 1,
                MaxDegreeOfParallelism = 1, HiddenStateColumnName = hiddenStateColumnName,
            }));

    private static RecurrentPredictionTransformer Tagger(ITransformer model) =>
        Assert.IsType<RecurrentPredictionTransformer>(((IEnumerable<ITransformer>)model).Last());

    /// <summary>
    /// The top layer's output <c>[T, D·H]</c> for one row alone, straight from the fitted model's recurrent stack (a batch of one,
    /// so time-major is the row's own step order).
    /// </summary>
    private static float[] TopLayerOutput(RecurrentPredictionTransformer tagger, float[] features)
    {
        var network = tagger.Model.CreateWorkspace(maxDegreeOfParallelism: 1).Model.Network;
        int T = features.Length / 2;
        var output = new float[T * network.OutputSize];
        network.Forward(network.CreateWorkspace(), features, batch: 1, [T], output);
        return output;
    }

    [Fact]
    public void EachRowHoldsItsOwnStepsOfTheTopLayerOutputThatTheHeadTurnsIntoTheScores()
    {
        var model = Pipeline("Hidden").Fit(s_train);
        var tagger = Tagger(model);
        var scored = model.Transform(s_scored);

        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single), scored.Schema["Hidden"].Type);
        var hidden = scored.GetColumn<float[]>("Hidden").ToArray();
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        var tensors = OptionProbe.Tensors(tagger);
        float[] w = tensors["head.weight"].Data, bias = tensors["head.bias"].Data;
        int C = bias.Length, width = D * H;
        Assert.Equal(width * C, w.Length);
        for (int r = 0; r < s_scoredRows.Length; r++)
        {
            int T = s_scoredLengths[r];
            Assert.Equal(T * width, hidden[r].Length);
            var expected = TopLayerOutput(tagger, s_scoredRows[r].Features);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - hidden[r][i]) <= 1e-6, $"row {r} (T = {T}), step {i / width}, unit {i % width}: {hidden[r][i]}, the core gives {expected[i]}");
            // Score at step t = softmax(head.weight · h_t + head.bias): the column is what the head reads.
            for (int t = 0; t < T; t++)
            {
                var z = Enumerable.Range(0, C).Select(c => bias[c] + Enumerable.Range(0, width).Sum(j => (double)w[c * width + j] * hidden[r][t * width + j])).ToArray();
                double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max));
                for (int c = 0; c < C; c++) Assert.Equal(Math.Exp(z[c] - max) / sum, scores[r][t * C + c], 1e-5);
            }
        }

        var engine = s_mlContext.Model.CreatePredictionEngine<TaggedSteps, TaggerHiddenStatePrediction>(model);
        for (int r = 0; r < s_scoredRows.Length; r++)
            Assert.Equal(hidden[r].Select(Fingerprint.Bits), engine.Predict(s_scoredRows[r]).Hidden.Select(Fingerprint.Bits));
    }

    [Fact]
    public void TheColumnSurvivesSaveAndLoadWithTheSameValues()
    {
        var model = Pipeline("Hidden").Fit(s_train);
        using var stream = new MemoryStream();
        s_mlContext.Model.Save(model, s_train.Schema, stream);
        stream.Position = 0;
        var loaded = s_mlContext.Model.Load(stream, out _);

        Assert.Equal("Hidden", Tagger(loaded).HiddenStateColumnName);
        var before = model.Transform(s_scored).GetColumn<float[]>("Hidden").ToArray();
        var after = loaded.Transform(s_scored).GetColumn<float[]>("Hidden").ToArray();
        Assert.Equal(before.Select(row => row.Select(Fingerprint.Bits)), after.Select(row => row.Select(Fingerprint.Bits)));
        Assert.Equal(s_scoredLengths.Select(T => T * D * H), after.Select(row => row.Length));
    }

    [Fact]
    public void TheSchemaHasTheVariableColumnOnlyWhenTheOptionIsSet()
    {
        // SchemaShape.Create is internal; ML.NET's own tests call it the same way.
        var shape = (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .Invoke(null, [s_train.Schema])!;
        var column = Assert.Single(Pipeline("Hidden").GetOutputSchema(shape), c => c.Name == "Hidden");
        Assert.Equal((SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Single), (column.Kind, column.ItemType));

        var estimator = Pipeline(null);
        Assert.DoesNotContain(estimator.GetOutputSchema(shape), c => c.Name == "Hidden");
        var scored = estimator.Fit(s_train).Transform(s_scored).Schema;
        Assert.Null(scored.GetColumnOrNull("Hidden"));
        Assert.Equal(s_train.Schema.Count + 3, scored.Count); // Label, Score, PredictedLabel
    }
}
