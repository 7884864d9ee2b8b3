using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Tests.Trainers;

public sealed class RecurrentBinaryTrainerTests
{
    private const int Steps = 12;

    private static RecurrentBinaryTrainer Trainer(MLContext mlContext, RecurrentCellType cell, int featuresPerStep = 1) => cell switch
    {
        RecurrentCellType.Lstm => mlContext.BinaryClassification.Trainers.Lstm(featuresPerStep: featuresPerStep, hiddenSize: 16, numberOfEpochs: 12, batchSize: 32, learningRate: 0.01f),
        RecurrentCellType.Gru => mlContext.BinaryClassification.Trainers.Gru(featuresPerStep: featuresPerStep, hiddenSize: 16, numberOfEpochs: 12, batchSize: 32, learningRate: 0.01f),
        _ => mlContext.BinaryClassification.Trainers.Rnn(featuresPerStep: featuresPerStep, hiddenSize: 16, numberOfEpochs: 12, batchSize: 32, learningRate: 0.01f),
    };

    [Theory]
    [InlineData(RecurrentCellType.Lstm)]
    [InlineData(RecurrentCellType.Gru)]
    [InlineData(RecurrentCellType.Rnn)]
    public void LearnsTheSignOfASumWellAboveChance(RecurrentCellType cell)
    {
        var mlContext = new MLContext(seed: 1);
        var train = SequenceRows.ToDataView(mlContext, SequenceRows.SignOfSum(1000, Steps, 1, seed: 1));
        var test = SequenceRows.ToDataView(mlContext, SequenceRows.SignOfSum(400, Steps, 1, seed: 2));

        var model = Trainer(mlContext, cell).Fit(train);
        var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(test));

        Assert.True(metrics.Accuracy > 0.9, $"{cell}: accuracy {metrics.Accuracy:F3} (chance is about 0.5)");
        Assert.True(metrics.AreaUnderRocCurve > 0.97, $"{cell}: AUC {metrics.AreaUnderRocCurve:F3}");
        Assert.True(metrics.LogLoss < 0.4, $"{cell}: log-loss {metrics.LogLoss:F3}");
    }

    [Fact]
    public void ScoresAreLogitsWithSigmoidProbabilityAndThresholdedLabel()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = SequenceRows.SignOfSum(300, Steps, 1, seed: 3);
        var data = SequenceRows.ToDataView(mlContext, rows);
        var trainer = mlContext.BinaryClassification.Trainers.Lstm(hiddenSize: 8, numberOfEpochs: 2);

        var model = trainer.Fit(data);
        var schema = model.GetOutputSchema(data.Schema);
        Assert.Equal(NumberDataViewType.Single, schema["Score"].Type);
        Assert.Equal(NumberDataViewType.Single, schema["Probability"].Type);
        Assert.Equal(BooleanDataViewType.Instance, schema["PredictedLabel"].Type);
        Assert.Equal(-1, model.Model.Calibrator.Slope);
        Assert.Equal(0, model.Model.Calibrator.Offset);
        Assert.Equal(RecurrentCellType.Lstm, model.Model.SubModel.Cell);
        var predictions = mlContext.Data.CreateEnumerable<BinaryPrediction>(model.Transform(data), reuseRowObject: false).ToArray();
        Assert.Equal(rows.Length, predictions.Length);
        foreach (var prediction in predictions)
        {
            Assert.Equal(1 / (1 + Math.Exp(-prediction.Score)), prediction.Probability, 1e-6);
            Assert.Equal(prediction.Score > 0, prediction.PredictedLabel);
        }
    }

    [Fact]
    public void PredictionEngineScoresAsTransformDoes()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = SequenceRows.SignOfSum(200, Steps, 2, seed: 4);
        var data = SequenceRows.ToDataView(mlContext, rows);
        var model = mlContext.BinaryClassification.Trainers.Gru(featuresPerStep: 2, hiddenSize: 8, numberOfLayers: 2, bidirectional: true, numberOfEpochs: 2)
            .Fit(data);

        var batch = mlContext.Data.CreateEnumerable<BinaryPrediction>(model.Transform(data), reuseRowObject: false).ToArray();
        var schema = data.Schema;
        var engine = mlContext.Model.CreatePredictionEngine<SequenceRow, BinaryPrediction>(model, inputSchema: schema);
        for (int r = 0; r < 20; r++)
        {
            var single = engine.Predict(rows[r]);
            Assert.Equal(BitConverter.SingleToInt32Bits(batch[r].Score), BitConverter.SingleToInt32Bits(single.Score));
            Assert.Equal(batch[r].PredictedLabel, single.PredictedLabel);
        }
    }

    [Fact]
    public void MLContextSeedMakesTrainingRepeatable()
    {
        float[] Scores(int seed)
        {
            var mlContext = new MLContext(seed: seed);
            var data = SequenceRows.ToDataView(mlContext, SequenceRows.SignOfSum(200, Steps, 1, seed: 5));
            var model = mlContext.BinaryClassification.Trainers.Rnn(hiddenSize: 8, numberOfEpochs: 2).Fit(data);
            return model.Transform(data).GetColumn<float>("Score").ToArray();
        }

        Assert.Equal(Scores(7), Scores(7));
        Assert.NotEqual(Scores(7), Scores(8));
    }

    [Fact]
    public void OptionsSeedOverridesTheContextSeed()
    {
        float[] Scores(int contextSeed)
        {
            var mlContext = new MLContext(seed: contextSeed);
            var data = SequenceRows.ToDataView(mlContext, SequenceRows.SignOfSum(200, Steps, 1, seed: 5));
            var options = new RecurrentBinaryTrainer.Options { HiddenSize = 8, NumberOfEpochs = 2, Seed = 42 };
            return mlContext.BinaryClassification.Trainers.Lstm(options).Fit(data).Transform(data).GetColumn<float>("Score").ToArray();
        }

        Assert.Equal(Scores(1), Scores(2));
    }

    [Fact]
    public void ReportsEveryEpochToTheContextLog()
    {
        var mlContext = new MLContext(seed: 1);
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var data = SequenceRows.ToDataView(mlContext, SequenceRows.SignOfSum(100, Steps, 1, seed: 6));

        mlContext.BinaryClassification.Trainers.Gru(hiddenSize: 4, numberOfEpochs: 3).Fit(data);

        for (int epoch = 1; epoch <= 3; epoch++)
            Assert.Contains(messages, m => m.Contains($"epoch {epoch}/3: training loss", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryCatalogParameterReachesTheOptions()
    {
        var trainers = new MLContext().BinaryClassification.Trainers;
        foreach (var (cell, trainer) in new[]
        {
            (RecurrentCellType.Lstm, trainers.Lstm("y", "x", "w", 3, 5, 2, true, 7, 11, 0.25f)),
            (RecurrentCellType.Gru, trainers.Gru("y", "x", "w", 3, 5, 2, true, 7, 11, 0.25f)),
            (RecurrentCellType.Rnn, trainers.Rnn("y", "x", "w", 3, 5, 2, true, 7, 11, 0.25f)),
        })
        {
            var options = trainer.TrainerOptions;
            Assert.Equal(cell, trainer.Cell);
            Assert.Equal(("y", "x", "w"), (options.LabelColumnName, options.FeatureColumnName, options.ExampleWeightColumnName));
            Assert.Equal((3, 5, 2, true), (options.FeaturesPerStep, options.HiddenSize, options.NumberOfLayers, options.Bidirectional));
            Assert.Equal((7, 11, 0.25f), (options.NumberOfEpochs, options.BatchSize, options.LearningRate));
            Assert.Equal(("y", "x", "w"), (trainer.LabelColumn.Name, trainer.FeatureColumn.Name, trainer.WeightColumn.Name));
        }
    }

    [Fact]
    public void AFeatureVectorThatIsNotWholeStepsIsAnErrorNamingTheRow()
    {
        var mlContext = new MLContext(seed: 1);
        var data = SequenceRows.ToDataView(mlContext, SequenceRows.SignOfSum(10, 5, 1, seed: 7)); // 5 values per row
        var trainer = mlContext.BinaryClassification.Trainers.Lstm(featuresPerStep: 2, hiddenSize: 4, numberOfEpochs: 1);

        var error = Assert.ThrowsAny<Exception>(() => trainer.Fit(data));
        Assert.Contains("Row 0", error.Message);
        Assert.Contains("featuresPerStep = 2", error.Message);
    }

    [Fact]
    public void AnInvalidOptionIsRejectedWithItsNameAndValue()
    {
        var trainers = new MLContext().BinaryClassification.Trainers;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => trainers.Lstm(hiddenSize: 0));
        Assert.Contains("HiddenSize = 0", error.Message);
    }
}
