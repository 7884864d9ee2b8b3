using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Tests.Forecasting;
using MlNet.Rnn.Tests.Tagging;
using MlNet.Rnn.Tests.Tasks;

namespace MlNet.Rnn.Tests.OneToOne;

/// <summary>One-to-one is a plain dense model over one step: a sequence of length 1 trains, scores and predicts in every task.</summary>
public sealed class LengthOneTests
{
    private static readonly MLContext s_mlContext = new(seed: 1);

    private static (IDataView Train, IDataView Test, TaskRow[] TestRows) Data()
    {
        var testRows = Synthetic.Rows(60, steps: 1, featuresPerStep: 3, seed: 2);
        return (Synthetic.ToDataView(s_mlContext, Synthetic.Rows(300, steps: 1, featuresPerStep: 3, seed: 1)), Synthetic.ToDataView(s_mlContext, testRows), testRows);
    }

    [Fact]
    public void Binary()
    {
        var (train, test, rows) = Data();
        var model = s_mlContext.BinaryClassification.Trainers.Lstm(featuresPerStep: 3, hiddenSize: 8, numberOfEpochs: 10, learningRate: 0.02f).Fit(train);
        double accuracy = s_mlContext.BinaryClassification.Evaluate(model.Transform(test)).Accuracy, majority = Baselines.Majority(rows.Select(row => row.Label));
        Assert.True(accuracy > majority + 0.3, $"accuracy {accuracy:F3}, majority class {majority:F3}");
        var engine = s_mlContext.Model.CreatePredictionEngine<TaskRow, BinaryPrediction>(model, inputSchema: test.Schema);
        Assert.Equal(Fingerprint.Of(model.Transform(test), "Score")[0], Fingerprint.Bits(engine.Predict(rows[0]).Score));
    }

    [Fact]
    public void Multiclass()
    {
        var (train, test, rows) = Data();
        var model = s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TaskRow.Class))
            .Append(s_mlContext.MulticlassClassification.Trainers.Gru(featuresPerStep: 3, hiddenSize: 8, numberOfEpochs: 10, learningRate: 0.02f))
            .Append(s_mlContext.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel")).Fit(train);
        // Any constant answer has a macro-accuracy of 1/3 over three classes.
        double macro = s_mlContext.MulticlassClassification.Evaluate(model.Transform(test)).MacroAccuracy;
        Assert.True(macro > 1.0 / 3 + 0.35, $"macro-accuracy {macro:F3}");
        var engine = s_mlContext.Model.CreatePredictionEngine<TaskRow, MulticlassPrediction>(model, inputSchema: test.Schema);
        Assert.Contains(engine.Predict(rows[0]).PredictedClass, new[] { "a", "b", "c" });
    }

    [Fact]
    public void Regression()
    {
        var (train, test, rows) = Data();
        var model = s_mlContext.Regression.Trainers.Rnn(labelColumnName: nameof(TaskRow.Value), featuresPerStep: 3, hiddenSize: 8, numberOfEpochs: 10, learningRate: 0.02f).Fit(train);
        // R² is 1 − MSE / MSE of predicting the mean: 0 for that baseline.
        Assert.True(s_mlContext.Regression.Evaluate(model.Transform(test), labelColumnName: nameof(TaskRow.Value)).RSquared > 0.8);
        var engine = s_mlContext.Model.CreatePredictionEngine<TaskRow, RegressionPrediction>(model, inputSchema: test.Schema);
        Assert.Equal(Fingerprint.Of(model.Transform(test), "Score")[0], Fingerprint.Bits(engine.Predict(rows[0]).Score));
    }

    [Fact]
    public void Tagging()
    {
        var words = new[] { "john", "paris", "the", "mary", "rome" };
        var tags = new[] { "B-PER", "B-LOC", "O", "B-PER", "B-LOC" };
        var random = new Random(1);
        var rows = Enumerable.Range(0, 200).Select(_ => random.Next(words.Length)).Select(i => new TaggedSentence { Words = [words[i]], Tags = [tags[i]] }).ToArray();
        var data = s_mlContext.Data.LoadFromEnumerable(rows);
        var model = s_mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(TaggedSentence.Words))
            .Append(s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TaggedSentence.Tags)))
            .Append(s_mlContext.SequenceTagging.Trainers.Lstm(hiddenSize: 8, numberOfEpochs: 10, learningRate: 0.05f))
            .Append(s_mlContext.Transforms.Conversion.MapKeyToValue("PredictedTags", "PredictedLabel")).Fit(data);
        Assert.Equal(1.0, s_mlContext.SequenceTagging.Evaluate(model.Transform(data)).TokenAccuracy);
        var engine = s_mlContext.Model.CreatePredictionEngine<TaggedSentence, TagPrediction>(model);
        Assert.Equal(["B-LOC"], engine.Predict(new TaggedSentence { Words = ["rome"], Tags = ["O"] }).PredictedTags);
    }

    [Fact]
    public void Forecasting()
    {
        var history = s_mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(60));
        var model = s_mlContext.Forecasting.ForecastByLstm("Forecast", nameof(Observation.Value), windowSize: 1, horizon: 1, hiddenSize: 8, numberOfEpochs: 5)
            .Fit(history);
        Assert.Single(model.Transform(s_mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(5, start: 60))).GetColumn<float[]>("Forecast").First());
        var engine = model.CreateForecastingEngine<Observation, ForecastOutput>(s_mlContext);
        Assert.Single(engine.Predict(new Observation { Value = 0.3f }).Forecast);
    }
}
