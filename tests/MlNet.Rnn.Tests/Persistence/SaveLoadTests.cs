using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Tests.Persistence;

public sealed class SaveLoadTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(RecurrentCellType.Lstm, 1, 1, false)]
    [InlineData(RecurrentCellType.Gru, 2, 2, true)]
    [InlineData(RecurrentCellType.Rnn, 1, 1, false)]
    public void ASavedPipelineLoadsInAFreshProcessWithBitIdenticalScores(RecurrentCellType cell, int featuresPerStep, int layers, bool bidirectional)
    {
        var mlContext = new MLContext(seed: 1);
        var rows = SequenceRows.SignOfSum(300, 10, featuresPerStep, seed: 11);
        var data = SequenceRows.ToDataView(mlContext, rows);
        var options = new RecurrentBinaryTrainer.Options
        {
            FeaturesPerStep = featuresPerStep, HiddenSize = 8, NumberOfLayers = layers, Bidirectional = bidirectional, NumberOfEpochs = 2,
        };
        var trainer = cell switch
        {
            RecurrentCellType.Lstm => mlContext.BinaryClassification.Trainers.Lstm(options),
            RecurrentCellType.Gru => mlContext.BinaryClassification.Trainers.Gru(options),
            _ => mlContext.BinaryClassification.Trainers.Rnn(options),
        };
        // A whole pipeline, as a user saves it: an ML.NET transform before the recurrent trainer.
        var pipeline = mlContext.Transforms.CopyColumns("Features", "Features").Append(trainer);
        var model = pipeline.Fit(data);
        var scored = model.Transform(data);
        float[] scores = scored.GetColumn<float>("Score").ToArray();
        float[] probabilities = scored.GetColumn<float>("Probability").ToArray();
        string path = Path.Combine(_folder, "model.zip");
        mlContext.Model.Save(model, data.Schema, path);

        var loaded = SavedModelProbe.ScoreInFreshProcess(path, rows, _folder);

        Assert.Equal(rows.Length, loaded.Length);
        for (int r = 0; r < rows.Length; r++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(scores[r]), BitConverter.SingleToInt32Bits(loaded[r].Score));
            Assert.Equal(BitConverter.SingleToInt32Bits(probabilities[r]), BitConverter.SingleToInt32Bits(loaded[r].Probability));
        }
    }

    [Fact]
    public void ASavedModelLoadsInThisProcessAsTheSameTransformerType()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = SequenceRows.SignOfSum(100, 6, 1, seed: 12);
        var data = SequenceRows.ToDataView(mlContext, rows);
        var model = mlContext.BinaryClassification.Trainers.Lstm(hiddenSize: 4, numberOfEpochs: 1).Fit(data);
        string path = Path.Combine(_folder, "model.zip");
        mlContext.Model.Save(model, data.Schema, path);

        var loaded = new MLContext().Model.Load(path, out var schema);

        Assert.IsType(model.GetType(), loaded);
        Assert.Equal(model.Transform(data).GetColumn<float>("Score"), loaded.Transform(data).GetColumn<float>("Score"));
        Assert.Equal(data.Schema["Features"].Type, schema["Features"].Type);
    }
}
