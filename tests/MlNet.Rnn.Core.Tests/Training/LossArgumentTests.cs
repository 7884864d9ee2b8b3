using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Training;

/// <summary>
/// Proves the argument checks every loss shares and each loss's own: bad shapes, weights and hyperparameters are refused
/// with the exception type, the parameter name and a message that states the numbers involved, by every loss.
/// </summary>
public sealed class LossArgumentTests
{
    private static void Compute(ILoss loss, int predictionLength, int targetLength, int rows, int width, int weightsLength = 0, int? gradientLength = null) =>
        loss.Compute(new float[predictionLength], new float[targetLength], rows, width, new float[weightsLength], new float[gradientLength ?? predictionLength]);

    [Fact]
    public void NegativeRowsOrZeroWidth_AreRefusedByName()
    {
        var rows = Assert.Throws<ArgumentOutOfRangeException>(() => Compute(new MeanSquaredError(), 0, 0, -1, 2));
        Assert.Equal("rows", rows.ParamName);
        Assert.Contains("rows must be ≥ 0", rows.Message);
        var width = Assert.Throws<ArgumentOutOfRangeException>(() => Compute(new MeanSquaredError(), 0, 0, 0, 0));
        Assert.Equal("width", width.ParamName);
        Assert.Contains("width must be ≥ 1", width.Message);
    }

    [Fact]
    public void LengthMismatches_NameTheNumbers()
    {
        var prediction = Assert.Throws<ArgumentException>(() => Compute(new MeanSquaredError(), 3, 4, 2, 2, gradientLength: 4));
        Assert.Equal("prediction", prediction.ParamName);
        Assert.Contains("prediction holds 3 values but [rows, width] = [2, 2] needs 4", prediction.Message);
        var gradient = Assert.Throws<ArgumentException>(() => Compute(new MeanSquaredError(), 4, 4, 2, 2, gradientLength: 5));
        Assert.Equal("gradient", gradient.ParamName);
        Assert.Contains("gradient holds 5 values but [rows, width] = [2, 2] needs 4", gradient.Message);
        var target = Assert.Throws<ArgumentException>(() => Compute(new MeanSquaredError(), 4, 3, 2, 2));
        Assert.Equal("target", target.ParamName);
        Assert.Contains("target holds 3 values but needs 4: 2 per row for 2 rows", target.Message);
        var weights = Assert.Throws<ArgumentException>(() => Compute(new MeanSquaredError(), 4, 4, 2, 2, weightsLength: 3));
        Assert.Equal("weights", weights.ParamName);
        Assert.Contains("weights holds 3 values but there are 2 rows", weights.Message);
    }

    [Fact]
    public void BinaryCrossEntropy_PositiveWeights_AreChecked()
    {
        Assert.Equal("positiveWeights", Assert.Throws<ArgumentNullException>(() => new BinaryCrossEntropyWithLogits((float[])null!)).ParamName);
        var empty = Assert.Throws<ArgumentException>(() => new BinaryCrossEntropyWithLogits(Array.Empty<float>()));
        Assert.Equal("positiveWeights", empty.ParamName);
        Assert.Contains("positiveWeights is empty", empty.Message);
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => new BinaryCrossEntropyWithLogits([1f, -1f]));
        Assert.Equal("positiveWeights", negative.ParamName);
        Assert.Equal(-1f, negative.ActualValue);
        Assert.Contains("A positive weight must be finite and ≥ 0", negative.Message);
        var width = Assert.Throws<ArgumentException>(() => Compute(new BinaryCrossEntropyWithLogits([1f, 2f, 3f]), 4, 4, 2, 2));
        Assert.Equal("width", width.ParamName);
        Assert.Contains("This loss has 3 positive weights but the rows have width 2", width.Message);
    }

    [Fact]
    public void Huber_BadDelta_IsRefusedWithItsRule()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Huber(0f));
        Assert.Equal("delta", error.ParamName);
        Assert.Contains("delta must be a finite number > 0", error.Message);
    }

    [Fact]
    public void SoftmaxCrossEntropy_ClassWeightsAndSmoothing_AreChecked()
    {
        var empty = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropy([]));
        Assert.Equal("classWeights", empty.ParamName);
        Assert.Contains("classWeights is empty", empty.Message);
        var smoothing = Assert.Throws<ArgumentOutOfRangeException>(() => new SoftmaxCrossEntropy(labelSmoothing: 1.5f));
        Assert.Equal("labelSmoothing", smoothing.ParamName);
        Assert.Contains("labelSmoothing must be in [0, 1]", smoothing.Message);
        var classes = Assert.Throws<ArgumentException>(() => Compute(new SoftmaxCrossEntropy([1f, 1f, 1f]), 4, 2, 2, 2));
        Assert.Equal("width", classes.ParamName);
        Assert.Contains("This loss has 3 class weights but the logits have C = 2 classes", classes.Message);
    }

    public static TheoryData<string> EveryLoss() => new(["mse", "huber", "bce", "ce"]);

    [Theory]
    [MemberData(nameof(EveryLoss))]
    public void EveryLoss_NonFinitePredictionOrShortGradient_IsRefusedByName(string name)
    {
        ILoss loss = name switch
        {
            "mse" => new MeanSquaredError(),
            "huber" => new Huber(),
            "bce" => new BinaryCrossEntropyWithLogits(),
            _ => new SoftmaxCrossEntropy(),
        };
        float[] target = name == "ce" ? [0, 2] : new float[6];
        var prediction = Assert.Throws<ArgumentException>(() => loss.Compute([0, 1, 2, 3, 4, float.NaN], target, 2, 3, [], new float[6]));
        Assert.Equal("prediction", prediction.ParamName);
        Assert.Contains("prediction[row 1, column 2] is NaN", prediction.Message);
        var gradient = Assert.Throws<ArgumentException>(() => loss.Compute(new float[6], target, 2, 3, [], new float[5]));
        Assert.Equal("gradient", gradient.ParamName);
        Assert.Contains("gradient holds 5 values but [rows, width] = [2, 3] needs 6", gradient.Message);
    }
}
