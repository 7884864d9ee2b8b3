using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Tests.Persistence;

namespace MlNet.Rnn.Tests.Tasks;

/// <summary>Binary prediction columns.</summary>
public sealed class BinaryPrediction
{
    public float Score { get; set; }
    public float Probability { get; set; }
    public bool PredictedLabel { get; set; }
}

/// <summary>Multiclass prediction columns, the class back as text through MapKeyToValue.</summary>
public sealed class MulticlassPrediction
{
    public float[] Score { get; set; } = [];
    public string PredictedClass { get; set; } = "";
}

/// <summary>Regression prediction column.</summary>
public sealed class RegressionPrediction
{
    public float Score { get; set; }
}

/// <summary>
/// Every task with every cell, as a user runs it: Fit, Transform, Evaluate (well above chance), CrossValidate,
/// PredictionEngine (bit-identical to Transform), and Save → Load in a fresh process (bit-identical).
/// </summary>
public sealed class TaskCellTests : IDisposable
{
    private const int Steps = 8, Features = 3;
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<RecurrentCellType> Cells => [RecurrentCellType.Rnn, RecurrentCellType.Lstm, RecurrentCellType.Gru];

    private static T Configure<T>(T options) where T : RecurrentTrainerOptions
    {
        options.FeaturesPerStep = Features;
        options.HiddenSize = 16;
        options.NumberOfEpochs = 12;
        options.BatchSize = 32;
        options.LearningRate = 0.01f;
        return options;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void BinaryClassification(RecurrentCellType cell)
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test, testRows) = Data(mlContext);
        var pipeline = CellTrainers.Binary(mlContext, cell, Configure(new RecurrentBinaryTrainer.Options()));

        var model = pipeline.Fit(train);
        var scored = model.Transform(test);
        var metrics = mlContext.BinaryClassification.Evaluate(scored);
        double majority = Baselines.Majority(testRows.Select(row => row.Label));
        Assert.True(metrics.Accuracy > majority + 0.3 && metrics.AreaUnderRocCurve > 0.93,
            $"{cell}: accuracy {metrics.Accuracy:F3} (majority class {majority:F3}), AUC {metrics.AreaUnderRocCurve:F3} (chance 0.5)");

        var folds = mlContext.BinaryClassification.CrossValidate(train, pipeline, numberOfFolds: 2);
        Assert.Equal(2, folds.Count);
        Assert.All(folds, fold => Assert.True(fold.Metrics.Accuracy > majority + 0.15, $"{cell}: fold accuracy {fold.Metrics.Accuracy:F3} (majority {majority:F3})"));

        var engine = mlContext.Model.CreatePredictionEngine<TaskRow, BinaryPrediction>(model, inputSchema: test.Schema);
        string[] scores = Fingerprint.Of(scored, "Score");
        for (int r = 0; r < 16; r++)
        {
            var single = engine.Predict(testRows[r]);
            Assert.Equal(scores[r], Fingerprint.Bits(single.Score));
            Assert.Equal(Fingerprint.Bits(1 / (1 + MathF.Exp(-single.Score))), Fingerprint.Bits(single.Probability));
            Assert.Equal(single.Score > 0, single.PredictedLabel);
        }

        SavesAndLoadsInAFreshProcess(mlContext, model, test, scored);
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void MulticlassClassification(RecurrentCellType cell)
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test, testRows) = Data(mlContext);
        var options = Configure(new RecurrentMulticlassTrainer.Options());
        // ML.NET featurizers before and after, as with a built-in multiclass trainer.
        var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", "Class")
            .Append(CellTrainers.Multiclass(mlContext, cell, options))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));

        var model = pipeline.Fit(train);
        var scored = model.Transform(test);
        var metrics = mlContext.MulticlassClassification.Evaluate(scored);
        double majority = Baselines.Majority(testRows.Select(row => row.Class));
        Assert.True(metrics.MicroAccuracy > majority + 0.35, $"{cell}: micro-accuracy {metrics.MicroAccuracy:F3} (majority class {majority:F3})");
        // Log-loss reduction is measured against the class prior, the best constant prediction.
        Assert.True(metrics.LogLossReduction > 0.25, $"{cell}: log-loss {metrics.LogLoss:F3}, reduction over the prior {metrics.LogLossReduction:F3}");
        VBuffer<ReadOnlyMemory<char>> slotNames = default;
        scored.Schema["Score"].GetSlotNames(ref slotNames);
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        scored.Schema["Label"].GetKeyValues(ref keyValues);
        Assert.Equal(keyValues.DenseValues().Select(name => name.ToString()), slotNames.DenseValues().Select(name => name.ToString()));
        Assert.Equal(["a", "b", "c"], slotNames.DenseValues().Select(name => name.ToString()).Order());
        var classes = scored.GetColumn<string>("PredictedClass").ToArray();
        var truth = testRows.Select(row => row.Class).ToArray();
        Assert.True(classes.Zip(truth).Count(pair => pair.First == pair.Second) > (majority + 0.35) * truth.Length);

        var folds = mlContext.MulticlassClassification.CrossValidate(train, pipeline, numberOfFolds: 2);
        Assert.All(folds, fold => Assert.True(fold.Metrics.MicroAccuracy > majority + 0.2, $"{cell}: fold micro-accuracy {fold.Metrics.MicroAccuracy:F3} (majority {majority:F3})"));

        var engine = mlContext.Model.CreatePredictionEngine<TaskRow, MulticlassPrediction>(model, inputSchema: test.Schema);
        string[] scores = Fingerprint.Of(scored, "Score");
        for (int r = 0; r < 16; r++)
        {
            var single = engine.Predict(testRows[r]);
            Assert.Equal(scores[r], string.Join(',', single.Score.Select(Fingerprint.Bits)));
            Assert.Equal(classes[r], single.PredictedClass);
            Assert.Equal(1.0, single.Score.Sum(), 1e-5);
        }

        SavesAndLoadsInAFreshProcess(mlContext, model, test, scored);
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void Regression(RecurrentCellType cell)
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test, testRows) = Data(mlContext);
        var options = Configure(new RecurrentRegressionTrainer.Options { LabelColumnName = "Value" });
        var pipeline = CellTrainers.Regression(mlContext, cell, options);

        var model = pipeline.Fit(train);
        var scored = model.Transform(test);
        var metrics = mlContext.Regression.Evaluate(scored, labelColumnName: "Value");
        Assert.True(metrics.RSquared > 0.8, $"{cell}: R² {metrics.RSquared:F3} (predicting the mean scores 0)");

        var folds = mlContext.Regression.CrossValidate(train, pipeline, numberOfFolds: 2, labelColumnName: "Value");
        Assert.All(folds, fold => Assert.True(fold.Metrics.RSquared > 0.5, $"{cell}: fold R² {fold.Metrics.RSquared:F3}"));

        var engine = mlContext.Model.CreatePredictionEngine<TaskRow, RegressionPrediction>(model, inputSchema: test.Schema);
        string[] scores = Fingerprint.Of(scored, "Score");
        for (int r = 0; r < 16; r++) Assert.Equal(scores[r], Fingerprint.Bits(engine.Predict(testRows[r]).Score));

        SavesAndLoadsInAFreshProcess(mlContext, model, test, scored);
    }

    private static (IDataView Train, IDataView Test, TaskRow[] TestRows) Data(MLContext mlContext)
    {
        var testRows = Synthetic.Rows(300, Steps, Features, seed: 2);
        return (Synthetic.ToDataView(mlContext, Synthetic.Rows(600, Steps, Features, seed: 1)), Synthetic.ToDataView(mlContext, testRows), testRows);
    }

    private void SavesAndLoadsInAFreshProcess(MLContext mlContext, ITransformer model, IDataView test, IDataView scored)
    {
        string path = Path.Combine(_folder, "model.zip");
        mlContext.Model.Save(model, test.Schema, path);

        var loaded = SavedModelProbe.ScoreInFreshProcess(mlContext, path, test, _folder);

        int compared = 0;
        foreach (string name in SavedModelProbe.ScoredColumns.Where(name => scored.Schema.GetColumnOrNull(name) is not null))
        {
            Assert.Equal(Fingerprint.Of(scored, name), Fingerprint.Of(loaded, name));
            compared++;
        }
        Assert.True(compared > 0);
    }
}
