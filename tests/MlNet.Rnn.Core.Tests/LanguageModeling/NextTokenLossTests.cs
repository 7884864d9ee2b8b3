using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.LanguageModeling;

/// <summary>
/// <see cref="NextTokenLoss"/> against the double softmax (<see cref="Softmax"/>): a row of weight 0 (padding, or a target that
/// is the start id) is skipped whatever its logits, with a zero gradient row; and logits hundreds apart, past float's
/// <c>exp</c>, give the finite loss and gradient the shifted softmax gives.
/// </summary>
public sealed class NextTokenLossTests
{
    private const int V = 3;

    /// <summary>Σ w·(−ln softmax(z)_y), Σ w and ∂L/∂z = w/Σw·(softmax(z) − [j = y]) in double.</summary>
    private static (double Loss, double Weight, double[] Gradient) Reference(float[] logits, int[] targets, float[] weights)
    {
        double weightSum = weights.Sum(w => (double)w), loss = 0;
        var gradient = new double[logits.Length];
        for (int r = 0; r < targets.Length; r++)
        {
            if (weights[r] == 0) continue;
            double[] z = NetworkFactory.Widen(logits.AsSpan(r * V, V));
            loss -= weights[r] * Softmax.Log(z)[targets[r]];
            double[] p = Softmax.Of(z);
            for (int j = 0; j < V; j++) gradient[r * V + j] = weights[r] / weightSum * (p[j] - (j == targets[r] ? 1 : 0));
        }
        return (loss, weightSum, gradient);
    }

    private static void AssertLikeTheReference(float[] logits, int[] targets, float[] weights, string what)
    {
        var (loss, weight, gradient) = Reference(logits, targets, weights);
        var computed = new float[logits.Length];
        var (negativeLogLikelihood, weightSum) = NextTokenLoss.Compute(logits, targets, weights, V, computed, default);
        Assert.Equal(weight, weightSum);
        Tolerance.AssertClose([loss], [(float)negativeLogLikelihood], 1e-6, 1e-6, $"{what}: loss");
        Tolerance.AssertClose(gradient, computed, 1e-5, 1e-7, $"{what}: gradient");
        // Without a gradient (scoring) the scratch takes each row's softmax and the loss is the same.
        var (scored, scoredWeight) = NextTokenLoss.Compute(logits, targets, weights, V, default, new float[V]);
        Assert.Equal(negativeLogLikelihood, scored);
        Assert.Equal(weightSum, scoredWeight);
    }

    [Fact]
    public void ARowOfWeightZero_IsSkippedWhateverItsLogits()
    {
        // Row 1 weighs nothing and holds logits no softmax survives: it adds nothing to the loss and gets a zero gradient row.
        float[] logits = [1f, 2f, 0.5f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -1f, 3f];
        AssertLikeTheReference(logits, [1, 0, 2], [1f, 0f, 2f], "a NaN row of weight 0");
        var gradient = Enumerable.Repeat(7f, logits.Length).ToArray();
        NextTokenLoss.Compute(logits, [1, 0, 2], [1f, 0f, 2f], V, gradient, default);
        Assert.Equal([0f, 0f, 0f], gradient[3..6]);
    }

    [Fact]
    public void LogitsHundredsApart_GiveTheFiniteLossOfTheShiftedSoftmax()
    {
        // e^200 overflows a float; the loss ln(1 + e^200 + e^100) − 0 ≈ 200 does not.
        AssertLikeTheReference([0f, 200f, 100f, -150f, 20f, 60f], [0, 1], [1f, 1f], "logits 200 apart");
    }
}
