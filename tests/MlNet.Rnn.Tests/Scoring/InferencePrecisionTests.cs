using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Tests.Options;

namespace MlNet.Rnn.Tests.Scoring;

/// <summary>
/// <c>mlContext.Model.WithInferencePrecision</c>: an int8 copy of a fitted recurrent model scores close to the float scores, not
/// equal to them, with the same decisions on all but a few rows, while the float model it came from is unchanged; a prediction
/// engine gives each row the batch's int8 score bit for bit (quantization is per row, so a row's result does not depend on its batch); the precision survives save and load; a fitted pipeline keeps its other transformers and their scopes,
/// also as <c>Model.Load</c> returns it; a model that is not recurrent is refused by name.
/// </summary>
public sealed class InferencePrecisionTests
{
    private static readonly MLContext s_mlContext = new(seed: 1);
    private static readonly IDataView s_data = OptionProbe.ToDataView(s_mlContext, OptionProbe.Rows(96, seed: 3));

    private static RecurrentBinaryTrainer Trainer() => s_mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
    {
        LabelColumnName = "Label", FeaturesPerStep = 2, HiddenSize = 24, NumberOfEpochs = 4, LearningRate = 0.02f, Seed = 1,
    });

    private static (float[] Score, bool[] Predicted) Scored(ITransformer model)
    {
        var scored = model.Transform(s_data);
        return (scored.GetColumn<float>("Score").ToArray(), scored.GetColumn<bool>("PredictedLabel").ToArray());
    }

    [Fact]
    public void AnInt8Copy_ScoresCloseToTheFloatModel_AsTheCoresInt8Workspace_LeavingTheFloatModelUnchanged()
    {
        var model = Trainer().Fit(s_data);
        var before = Scored(model);
        Assert.Equal(InferencePrecision.Float32, model.Precision);

        var int8 = s_mlContext.Model.WithInferencePrecision(model, InferencePrecision.Int8);
        var quantized = Scored(int8);

        Assert.Equal(InferencePrecision.Int8, int8.Precision);
        Assert.Same(model.Model, int8.Model);
        Assert.NotEqual(before.Score, quantized.Score);
        double largest = before.Score.Max(Math.Abs);
        for (int i = 0; i < before.Score.Length; i++)
            Assert.True(Math.Abs(before.Score[i] - quantized.Score[i]) <= 0.02 * Math.Max(1, largest), $"row {i}: float {before.Score[i]}, int8 {quantized.Score[i]}");
        Assert.True(before.Predicted.Zip(quantized.Predicted).Count(p => p.First != p.Second) <= 2, "int8 changed the decision of more than 2 of 96 rows");
        Assert.Equal(before.Score, Scored(model).Score);
        Assert.Same(int8, s_mlContext.Model.WithInferencePrecision(int8, InferencePrecision.Int8));

        // One row at a time, the batch's numbers.
        var engine = s_mlContext.Model.CreatePredictionEngine<MlNet.Rnn.Tests.Options.ProbeRow, ScoreOnly>(int8);
        var rows = s_mlContext.Data.CreateEnumerable<MlNet.Rnn.Tests.Options.ProbeRow>(s_data, reuseRowObject: false).ToArray();
        for (int i = 0; i < rows.Length; i += 17) Assert.Equal(quantized.Score[i], engine.Predict(rows[i]).Score);
    }

    [Fact]
    public void ThePrecision_IsSavedWithTheModel_AndAPipelineKeepsItsOtherTransformersAndScopes()
    {
        var pipeline = s_mlContext.Transforms.CopyColumns("Copy", "Features").Append(Trainer(), TransformerScope.Scoring)
            .Fit(s_data);
        var int8 = s_mlContext.Model.WithInferencePrecision(pipeline, InferencePrecision.Int8);
        Assert.Equal(InferencePrecision.Int8, int8.LastTransformer.Precision);
        Assert.Same(pipeline.First(), int8.First());
        Assert.Single(int8.GetModelFor(TransformerScope.Training)); // the trainer's scope (Scoring only) is kept
        Assert.Equal(2, int8.GetModelFor(TransformerScope.Scoring).Count());
        var expected = Scored(int8).Score;

        using var stream = new MemoryStream();
        s_mlContext.Model.Save(int8, s_data.Schema, stream);
        stream.Position = 0;
        var loaded = s_mlContext.Model.Load(stream, out _);
        Assert.Equal(expected, Scored(loaded).Score);
        Assert.Equal(InferencePrecision.Int8, ((TransformerChain<ITransformer>)loaded).OfType<RecurrentPredictionTransformer>().Single().Precision);

        // The loaded pipeline, typed ITransformer as Load returns it, back to float: the float model's scores.
        var back = s_mlContext.Model.WithInferencePrecision(loaded, InferencePrecision.Float32);
        Assert.Equal(Scored(pipeline).Score, Scored(back).Score);
    }

    [Fact]
    public void AModelThatIsNotRecurrent_IsRefusedByName()
    {
        var copy = s_mlContext.Transforms.CopyColumns("Copy", "Features").Fit(s_data);
        var error = Assert.Throws<ArgumentException>(() => s_mlContext.Model.WithInferencePrecision(copy, InferencePrecision.Int8));
        Assert.Equal("model", error.ParamName);
        Assert.Contains("ColumnCopyingTransformer", error.Message);
        var chain = s_mlContext.Transforms.CopyColumns("Copy", "Features").Append(s_mlContext.Transforms.CopyColumns("Copy2", "Features")).Fit(s_data);
        error = Assert.Throws<ArgumentException>(() => s_mlContext.Model.WithInferencePrecision(chain, InferencePrecision.Int8));
        Assert.StartsWith("The pipeline holds no recurrent model", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => s_mlContext.Model.WithInferencePrecision(Trainer().Fit(s_data), (InferencePrecision)7));
    }

    private sealed class ScoreOnly
    {
        public float Score { get; set; }
    }
}
