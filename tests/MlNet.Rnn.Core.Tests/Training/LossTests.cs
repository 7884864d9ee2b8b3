using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Training;

/// <summary>
/// Every loss against PyTorch (fixture values and gradients), hand-computed cases, and its plain double-precision
/// definition on random inputs: the value to 1e-12, the gradient against central differences of that definition; weights
/// of zero contribute nothing; bad inputs are rejected with messages naming the row, column and value.
/// </summary>
public sealed class LossTests
{
    private static readonly TrainingFixture Fixture = TrainingFixture.Load("training_losses");

    public static TheoryData<string> FixtureCases() => new(TrainingFixture.Load("training_losses").Cases);

    /// <summary>The loss a fixture case describes, built from its PyTorch settings.</summary>
    private static (ILoss Loss, int Width) FromConfig(string caseName, int predictionLength, int rows)
    {
        var config = Fixture.Config(caseName);
        ILoss loss = config.GetProperty("loss").GetString() switch
        {
            "mse" => new MeanSquaredError(),
            "huber" => new Huber(config.GetProperty("delta").GetSingle()),
            "bce" => config.TryGetProperty("pos_weights", out var columns) ? new BinaryCrossEntropyWithLogits(columns.EnumerateArray().Select(e => e.GetSingle()).ToArray())
                : config.TryGetProperty("pos_weight", out var q) ? new BinaryCrossEntropyWithLogits(q.GetSingle()) : new BinaryCrossEntropyWithLogits(),
            "ce" => new SoftmaxCrossEntropy(
                config.TryGetProperty("class_weights", out var c) ? c.EnumerateArray().Select(e => e.GetSingle()).ToArray() : null,
                config.TryGetProperty("label_smoothing", out var s) ? s.GetSingle() : 0f),
            var other => throw new InvalidOperationException($"Unknown loss {other}."),
        };
        return (loss, predictionLength / rows);
    }

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void MatchesPyTorch(string caseName)
    {
        float[] prediction = Fixture.Tensor($"{caseName}.prediction"), target = Fixture.Tensor($"{caseName}.target");
        float[] weights = Fixture.Has($"{caseName}.weights") ? Fixture.Tensor($"{caseName}.weights") : [];
        bool classes = Fixture.Config(caseName).GetProperty("loss").GetString() == "ce";
        int rows = classes ? target.Length : weights.Length > 0 ? weights.Length : 6;
        var (loss, width) = FromConfig(caseName, prediction.Length, rows);
        var gradient = new float[prediction.Length];
        double value = loss.Compute(prediction, target, rows, width, weights, gradient);
        Tolerance.AssertClose(Fixture.Tensor($"{caseName}.loss"), [(float)value], 1e-5, 0, $"{caseName}: loss");
        Tolerance.AssertClose(Fixture.Tensor($"{caseName}.gradient"), gradient, 1e-5, 1e-7, $"{caseName}: gradient");
    }

    // ---- hand-computed values ----

    [Fact]
    public void MeanSquaredError_HandComputed()
    {
        // rows (1, 2) vs (0, 0): l = 2.5; (3, 3) vs (1, 5): l = 4; weights 1, 3 → (2.5 + 12) / 4.
        var gradient = new float[4];
        double value = new MeanSquaredError().Compute([1, 2, 3, 3], [0, 0, 1, 5], 2, 2, [1, 3], gradient);
        Assert.Equal(14.5 / 4, value, 12);
        Assert.Equal([2 * 1 * 1f / 8, 2 * 1 * 2f / 8, 2 * 3 * 2f / 8, 2 * 3 * -2f / 8], gradient);
    }

    [Fact]
    public void Huber_HandComputed()
    {
        // δ = 1: d = 0.5 → 0.125, d = −3 → 2.5; gradient d/2 and δ·sign(d)/2.
        var gradient = new float[2];
        double value = new Huber().Compute([0.5f, -3f], [0, 0], 1, 2, [], gradient);
        Assert.Equal((0.125 + 2.5) / 2, value, 12);
        Assert.Equal([0.25f, -0.5f], gradient);
    }

    [Fact]
    public void BinaryCrossEntropy_HandComputed_AndStableForLargeLogits()
    {
        // x = 0, y = 1: log 2; gradient σ(0) − 1 = −0.5.
        var gradient = new float[1];
        Assert.Equal(Math.Log(2), new BinaryCrossEntropyWithLogits().Compute([0f], [1f], 1, 1, [], gradient), 12);
        Assert.Equal(-0.5f, gradient[0]);
        // x = ±100: no overflow; loss ≈ 100 for the wrong sign, ≈ 0 for the right one.
        var two = new float[2];
        double value = new BinaryCrossEntropyWithLogits().Compute([100f, -100f], [0f, 0f], 1, 2, [], two);
        Assert.Equal(50, value, 9);
        Assert.Equal([0.5f, 0f], two);
    }

    [Fact]
    public void BinaryCrossEntropy_LogitsBeyondTheRangeOfExp_GiveExactLossAndGradient()
    {
        // |x| = 1000 > 709 (e^x overflows a double): ℓ(−1000, 0) = 0, ℓ(−1000, 1) = 1000, ℓ(1000, 0) = 1000, ℓ(1000, 1) = 0;
        // ∂ℓ/∂x = σ(x) − y, each over the width 4.
        var gradient = new float[4];
        double value = new BinaryCrossEntropyWithLogits().Compute([-1000f, -1000f, 1000f, 1000f], [0f, 1f, 0f, 1f], 1, 4, [], gradient);
        Assert.Equal(500, value, 9);
        Assert.Equal([0f, -0.25f, 0.25f, 0f], gradient);
    }

    [Fact]
    public void BinaryCrossEntropy_ZeroPositiveWeight_IgnoresThePositives()
    {
        // q = 0: ℓ(x, 1) = 0 and ∂ℓ/∂x = 0; ℓ(−1, 0) = log(1 + e^(−1)), ∂ℓ/∂x = σ(−1); mean over the width 2.
        var gradient = new float[2];
        double value = new BinaryCrossEntropyWithLogits(0f).Compute([2f, -1f], [1f, 0f], 1, 2, [], gradient);
        Assert.Equal(Math.Log(1 + Math.Exp(-1)) / 2, value, 12);
        Assert.Equal([0f, (float)(0.5 / (1 + Math.E))], gradient);
    }

    [Fact]
    public void SoftmaxCrossEntropy_FullLabelSmoothing_IsTheMeanOfEveryClassLoss()
    {
        // ε = 1: l = (1/C)·Σ_k −log p_k, whatever the target; ∂l/∂z_k = p_k − 1/C.
        double[] z = [1, 2, 4];
        double logSum = Math.Log(z.Sum(Math.Exp));
        var gradient = new float[3];
        double value = new SoftmaxCrossEntropy(labelSmoothing: 1f).Compute([1f, 2f, 4f], [0f], 1, 3, [], gradient);
        Assert.Equal(z.Sum(zk => logSum - zk) / 3, value, 12);
        for (int k = 0; k < 3; k++) Assert.Equal(Math.Exp(z[k] - logSum) - 1.0 / 3, gradient[k], 1e-7);
    }

    [Fact]
    public void SoftmaxCrossEntropy_HandComputed()
    {
        // Equal logits over 4 classes: −log(1/4); gradient (1/4 − [k = y]).
        var gradient = new float[4];
        double value = new SoftmaxCrossEntropy().Compute([3, 3, 3, 3], [2], 1, 4, [], gradient);
        Assert.Equal(Math.Log(4), value, 12);
        Assert.Equal([0.25f, 0.25f, -0.75f, 0.25f], gradient);
        // Logits of 1000 do not overflow.
        Assert.Equal(0, new SoftmaxCrossEntropy().Compute([1000, 0], [0], 1, 2, [], new float[2]), 12);
    }

    // ---- double references and central differences on random inputs ----

    public static TheoryData<string> AllLosses() => new(["mse", "huber", "bce", "bce_pos", "ce", "ce_weighted_smoothed"]);

    private static (ILoss Loss, int Width, bool Classes) Make(string name) => name switch
    {
        "mse" => (new MeanSquaredError(), 3, false),
        "huber" => (new Huber(0.8f), 3, false),
        "bce" => (new BinaryCrossEntropyWithLogits(), 3, false),
        "bce_pos" => (new BinaryCrossEntropyWithLogits([0.5f, 2f, 4f]), 3, false),
        "ce" => (new SoftmaxCrossEntropy(), 5, true),
        "ce_weighted_smoothed" => (new SoftmaxCrossEntropy([1f, 0.5f, 2f, 0f, 1.5f], 0.15f), 5, true),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static (float[] Prediction, float[] Target, float[] Weights) Data(string name, int rows, int width, bool classes, int seed)
    {
        var random = new Random(seed);
        var prediction = new float[rows * width];
        for (int i = 0; i < prediction.Length; i++) prediction[i] = (float)(random.NextDouble() * 6 - 3);
        var target = new float[classes ? rows : rows * width];
        for (int i = 0; i < target.Length; i++)
            target[i] = classes ? random.Next(width) : name.StartsWith("bce", StringComparison.Ordinal) ? (float)random.NextDouble() : (float)(random.NextDouble() * 6 - 3);
        if (name == "huber")   // keep every |p − t| away from the kink at δ, where the central difference is not the derivative
            for (int i = 0; i < target.Length; i++)
                if (Math.Abs(Math.Abs(prediction[i] - target[i]) - 0.8) < 0.05) target[i] += 0.2f;
        float[] weights = [1f, 0f, 2.5f, 0.5f, 1f, 0f, 3f];
        return (prediction, target, weights);
    }

    /// <summary>The plain double-precision definition of each loss, row by row.</summary>
    private static double Reference(string name, double[] p, float[] t, float[] w, int rows, int width)
    {
        double numerator = 0, denominator = 0;
        for (int r = 0; r < rows; r++)
        {
            double rowLoss = 0, rowDenominator = w[r];
            if (name.StartsWith("ce", StringComparison.Ordinal))
            {
                double[] c = name == "ce" ? [1, 1, 1, 1, 1] : [1, 0.5, 2, 0, 1.5];
                double ε = name == "ce" ? 0 : 0.15f;
                int y = (int)t[r];
                double z = 0;
                for (int k = 0; k < width; k++) z += Math.Exp(p[r * width + k]);
                for (int k = 0; k < width; k++)
                {
                    double target = (k == y ? 1 - ε : 0) + ε / width;      // the smoothed target distribution
                    rowLoss += -c[k] * target * Math.Log(Math.Exp(p[r * width + k]) / z);
                }
                rowDenominator = w[r] * c[y];
            }
            else
            {
                for (int j = 0; j < width; j++)
                {
                    double x = p[r * width + j], y = t[r * width + j], d = x - y, q = name == "bce_pos" ? new[] { 0.5, 2, 4 }[j] : 1;
                    double σ = 1 / (1 + Math.Exp(-x));
                    rowLoss += name switch
                    {
                        "mse" => d * d,
                        "huber" => Math.Abs(d) < 0.8f ? d * d / 2 : 0.8f * (Math.Abs(d) - 0.8f / 2),
                        _ => -(q * y * Math.Log(σ) + (1 - y) * Math.Log(1 - σ)),
                    } / width;
                }
                rowLoss *= w[r];
            }
            numerator += name.StartsWith("ce", StringComparison.Ordinal) ? w[r] * rowLoss : rowLoss;
            denominator += rowDenominator;
        }
        return numerator / denominator;
    }

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void ValueMatchesDoubleReference_AndGradientMatchesCentralDifferences(string name)
    {
        var (loss, width, classes) = Make(name);
        const int rows = 7;
        var (prediction, target, weights) = Data(name, rows, width, classes, 11);
        var gradient = new float[prediction.Length];
        double value = loss.Compute(prediction, target, rows, width, weights, gradient);
        double[] p = NetworkFactory.Widen(prediction);
        double Loss() => Reference(name, p, target, weights, rows, width);
        Assert.Equal(Loss(), value, 1e-12);

        Tolerance.AssertClose(CentralDifferences.Of(p, Loss), gradient, 1e-4, 1e-6, $"{name}: gradient vs central differences of the reference");
        for (int r = 0; r < rows; r++)
            if (weights[r] == 0)
                for (int j = 0; j < width; j++) Assert.Equal(0f, gradient[r * width + j]);
    }

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void NoWeights_EqualsAllOnes_AndAllZeroWeights_GiveZero(string name)
    {
        var (loss, width, classes) = Make(name);
        var (prediction, target, _) = Data(name, 4, width, classes, 12);
        if (name == "ce_weighted_smoothed") target = [0, 1, 2, 4];   // no class of weight 0, so the denominator is positive
        var unweighted = new float[prediction.Length];
        var ones = new float[prediction.Length];
        Assert.Equal(loss.Compute(prediction, target, 4, width, [], unweighted), loss.Compute(prediction, target, 4, width, [1, 1, 1, 1], ones), 14);
        Assert.Equal(unweighted, ones);
        var gradient = Enumerable.Repeat(7f, prediction.Length).ToArray();
        Assert.Equal(0, loss.Compute(prediction, target, 4, width, [0, 0, 0, 0], gradient));
        Assert.All(gradient, g => Assert.Equal(0f, g));
        Assert.Equal(0, loss.Compute([], [], 0, width, [], []));
    }

    // ---- bad inputs ----

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void NonFinitePrediction_ThrowsNamingRowColumnValue(float bad)
    {
        float[] prediction = [0, 1, 2, 3, 4, bad];
        var error = Assert.Throws<ArgumentException>(() => new MeanSquaredError().Compute(prediction, new float[6], 2, 3, [], new float[6]));
        Assert.Equal("prediction", error.ParamName);
        Assert.Contains("row 1, column 2", error.Message);
        Assert.Contains(bad.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
    }

    [Fact]
    public void NonFiniteTarget_ThrowsNamingRowAndColumn()
    {
        var error = Assert.Throws<ArgumentException>(() => new Huber().Compute(new float[4], [0, 0, float.NaN, 0], 2, 2, [], new float[4]));
        Assert.Equal("target", error.ParamName);
        Assert.Contains("row 1, column 0", error.Message);
        Assert.Contains("NaN", error.Message);
    }

    [Theory]
    [InlineData(1.5f)]
    [InlineData(-1f)]
    [InlineData(3f)]
    [InlineData(float.NaN)]
    public void SoftmaxCrossEntropy_BadClassIndex_ThrowsNamingRowAndValue(float bad)
    {
        var error = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropy().Compute(new float[6], [0, bad], 2, 3, [], new float[6]));
        Assert.Equal("target", error.ParamName);
        Assert.Contains("row 1", error.Message);
        Assert.Contains(bad.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
    }

    [Fact]
    public void BinaryCrossEntropy_TargetOutsideUnitInterval_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new BinaryCrossEntropyWithLogits().Compute(new float[2], [1, 2], 1, 2, [], new float[2]));
        Assert.Contains("row 0, column 1", error.Message);
    }

    [Fact]
    public void BadShapesAndWeights_Throw()
    {
        var mse = new MeanSquaredError();
        Assert.Equal("prediction", Assert.Throws<ArgumentException>(() => mse.Compute(new float[5], new float[6], 2, 3, [], new float[6])).ParamName);
        Assert.Equal("target", Assert.Throws<ArgumentException>(() => mse.Compute(new float[6], new float[5], 2, 3, [], new float[6])).ParamName);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(() => mse.Compute(new float[6], new float[6], 2, 3, [], new float[5])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => mse.Compute(new float[6], new float[6], 2, 3, [1], new float[6])).ParamName);
        var negative = Assert.Throws<ArgumentException>(() => mse.Compute(new float[6], new float[6], 2, 3, [1, -1], new float[6]));
        Assert.Contains("row 1", negative.Message);
        Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropy([1, 2]).Compute(new float[6], [0, 1], 2, 3, [], new float[6]));
        Assert.Throws<ArgumentException>(() => new BinaryCrossEntropyWithLogits([1, 2]).Compute(new float[6], new float[6], 2, 3, [], new float[6]));
        Assert.Equal("delta", Assert.Throws<ArgumentOutOfRangeException>(() => new Huber(0)).ParamName);
        Assert.Equal("labelSmoothing", Assert.Throws<ArgumentOutOfRangeException>(() => new SoftmaxCrossEntropy(labelSmoothing: 1.5f)).ParamName);
        Assert.Equal("classWeights", Assert.Throws<ArgumentOutOfRangeException>(() => new SoftmaxCrossEntropy([1, -1])).ParamName);
        Assert.Equal("positiveWeight", Assert.Throws<ArgumentOutOfRangeException>(() => new BinaryCrossEntropyWithLogits(float.NaN)).ParamName);
    }
}
