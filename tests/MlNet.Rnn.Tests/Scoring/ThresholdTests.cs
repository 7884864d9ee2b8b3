using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Tests.Options;

namespace MlNet.Rnn.Tests.Scoring;

/// <summary>
/// A recurrent binary model's decision threshold changes as ML.NET's own do, with
/// <c>mlContext.BinaryClassification.ChangeModelThreshold</c>: <c>PredictedLabel</c> becomes <c>Score &gt; threshold</c> for every
/// row (Score and Probability unchanged), the threshold survives save and load, and a model without a threshold is refused
/// by name. (ML.NET's binary evaluators threshold the score themselves, as for ML.NET's own models.)
/// </summary>
public sealed class ThresholdTests
{
    private static readonly MLContext s_mlContext = new(seed: 1);
    private static readonly IDataView s_data = OptionProbe.ToDataView(s_mlContext, OptionProbe.Rows(96, seed: 3));

    private static RecurrentPredictionTransformer Fit() => s_mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
    {
        LabelColumnName = "Label", FeaturesPerStep = 2, HiddenSize = 4, NumberOfEpochs = 3, LearningRate = 0.02f, Seed = 1,
    }).Fit(s_data);

    private static (float[] Score, float[] Probability, bool[] Predicted) Scored(ITransformer model)
    {
        var scored = model.Transform(s_data);
        return (scored.GetColumn<float>("Score").ToArray(), scored.GetColumn<float>("Probability").ToArray(), scored.GetColumn<bool>("PredictedLabel").ToArray());
    }

    [Fact]
    public void ChangeModelThreshold_DecidesPredictedLabelOnTheScore()
    {
        var model = Fit();
        var before = Scored(model);
        Assert.Equal(0f, model.Threshold);
        Assert.Equal(before.Score.Select(s => s > 0), before.Predicted);
        float median = before.Score.Order().ElementAt(before.Score.Length / 2);
        Assert.NotEqual(0f, median);

        var changed = s_mlContext.BinaryClassification.ChangeModelThreshold(model, median);
        var after = Scored(changed);

        Assert.Equal(median, changed.Threshold);
        Assert.Equal(before.Score, after.Score);
        Assert.Equal(before.Probability, after.Probability);
        Assert.Equal(after.Score.Select(s => s > median), after.Predicted);
        Assert.InRange(after.Predicted.Count(p => p), before.Score.Length / 2 - 2, before.Score.Length / 2); // above the median: about half
        Assert.Equal(before.Predicted, Scored(model).Predicted); // the model it came from is unchanged
        Assert.Same(model, s_mlContext.BinaryClassification.ChangeModelThreshold(model, 0f));

    }

    [Fact]
    public void TheThreshold_IsSavedWithTheModel()
    {
        var changed = s_mlContext.BinaryClassification.ChangeModelThreshold(Fit(), 0.3f);
        using var stream = new MemoryStream();
        s_mlContext.Model.Save(changed, s_data.Schema, stream);
        stream.Position = 0;
        var loaded = (RecurrentPredictionTransformer)s_mlContext.Model.Load(stream, out _);
        Assert.Equal(0.3f, loaded.Threshold);
        Assert.Equal(Scored(changed).Predicted, Scored(loaded).Predicted);
    }

    [Fact]
    public void AModelWithoutADecisionThreshold_OrANaNThreshold_IsRefused()
    {
        var rows = OptionProbe.Rows(48, seed: 3);
        var raw = OptionProbe.ToDataView(s_mlContext, rows);
        var data = s_mlContext.Transforms.Conversion.MapValueToKey("Label", "Class").Fit(raw).Transform(raw);
        var multiclass = s_mlContext.MulticlassClassification.Trainers.Lstm(new RecurrentMulticlassTrainer.Options
        {
            FeaturesPerStep = 2, HiddenSize = 3, NumberOfEpochs = 1, Seed = 1,
        }).Fit(data);
        var error = Assert.Throws<ArgumentException>(() => s_mlContext.BinaryClassification.ChangeModelThreshold(multiclass, 0.5f));
        Assert.StartsWith("The model is a MulticlassClassification model; only a binary classifier has a decision threshold.", error.Message);
        Assert.Equal("threshold", Assert.Throws<ArgumentOutOfRangeException>(() => s_mlContext.BinaryClassification.ChangeModelThreshold(Fit(), float.NaN)).ParamName);
    }
}
