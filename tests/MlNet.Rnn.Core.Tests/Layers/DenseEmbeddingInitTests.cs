using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// PyTorch's default initialisation, checked by the distribution of the values drawn: <c>nn.Linear</c> (<see cref="Dense"/>)
/// weight and bias ~ U(−1/√A, 1/√A) with A the input size; <c>nn.RNN/LSTM/GRU</c> every weight and bias ~ U(−1/√H, 1/√H)
/// with H the hidden size (not the input size), a learned initial state zero; <c>nn.Embedding</c> ~ N(0, 1). Each check
/// (range, reach of the bound, mean, variance, CDF) is far enough from what a wrong formula gives, and every tensor is
/// initialised; tensors of other layers sharing the parameter set are left alone.
/// </summary>
public sealed class DenseEmbeddingInitTests
{
    /// <summary>Asserts that <paramref name="values"/> look like U(−bound, bound): inside, reaching near both ends, mean 0, variance bound²/3.</summary>
    private static void AssertUniform(ReadOnlySpan<float> values, float bound, string what)
    {
        double sum = 0, squares = 0;
        float min = float.MaxValue, max = float.MinValue;
        foreach (float v in values)
        {
            sum += v;
            squares += (double)v * v;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        int n = values.Length;
        double mean = sum / n, variance = squares / n - mean * mean;
        Assert.True(min >= -bound && max <= bound, $"{what}: values in [{min}, {max}], outside ±{bound}.");
        Assert.True(min < -0.9f * bound && max > 0.9f * bound, $"{what}: values in [{min}, {max}] do not reach near ±{bound}.");
        // Standard error of the mean is bound/√(3n); of the variance about 0.9·bound²/(3√n).
        Assert.True(Math.Abs(mean) < 5 * bound / Math.Sqrt(3 * n), $"{what}: mean {mean} for U(±{bound}).");
        Assert.True(Math.Abs(variance - bound * bound / 3) < 0.1 * bound * bound / 3, $"{what}: variance {variance}, expected {bound * bound / 3}.");
    }

    [Theory]
    [InlineData(16, 300)]
    [InlineData(9, 500)]
    public void Dense_WeightAndBias_AreUniformWithinOneOverSqrtInputSize(int inputSize, int outputSize)
    {
        var parameters = new ParameterSet();
        var dense = new Dense(parameters, "head", inputSize, outputSize, OutputActivation.Identity);
        dense.Initialize(new Random(1));
        float bound = 1f / MathF.Sqrt(inputSize);
        AssertUniform(parameters.ValuesOf(parameters["head.weight"]), bound, "head.weight");
        AssertUniform(parameters.ValuesOf(parameters["head.bias"]), bound, "head.bias");
    }

    [Fact]
    public void Embedding_IsStandardNormal()
    {
        var parameters = new ParameterSet();
        var embedding = new Embedding(parameters, "tokens", 200, 100);
        embedding.Initialize(new Random(1));
        ReadOnlySpan<float> values = parameters.ValuesOf(embedding.Weight);
        int n = values.Length;
        double sum = 0, squares = 0;
        foreach (float v in values) { sum += v; squares += (double)v * v; }
        double mean = sum / n, variance = squares / n - mean * mean;
        Assert.True(Math.Abs(mean) < 0.03, $"mean {mean}, expected 0 (standard error {1 / Math.Sqrt(n):g2}).");
        Assert.True(Math.Abs(variance - 1) < 0.05, $"variance {variance}, expected 1.");
        // The empirical CDF against Φ at a few points (standard error ≤ 0.0035 at n = 20000).
        foreach (var (x, phi) in new[] { (-2.0, 0.02275), (-1.0, 0.15866), (-0.5, 0.30854), (0.0, 0.5), (0.5, 0.69146), (1.0, 0.84134), (2.0, 0.97725) })
        {
            double below = 0;
            foreach (float v in values) if (v <= x) below++;
            Assert.True(Math.Abs(below / n - phi) < 0.015, $"P(x ≤ {x}) = {below / n}, expected Φ({x}) = {phi}.");
        }
    }

    [Fact]
    public void RecurrentNetwork_WeightsUniformWithinOneOverSqrtHidden_LearnedStateZero_OtherTensorsUntouched()
    {
        const int I = 9, H = 16;
        var parameters = new ParameterSet();
        var foreign = parameters.Add("head.weight", 4, 4);
        parameters.ValuesOf(foreign).Fill(7f);
        var network = new RecurrentNetwork<LstmCell>(new RecurrentNetworkOptions
        {
            InputSize = I, HiddenSize = H, Layers = 2, Bidirectional = true, LearnedInitialState = true,
        }, default, parameters);
        // Learned states start nonzero here, so zero afterwards is Initialize's doing.
        foreach (var tensor in parameters.Tensors) parameters.ValuesOf(tensor).Fill(7f);
        network.Initialize(new Random(1));

        float bound = 1f / MathF.Sqrt(H);
        int initialStates = 0, weights = 0;
        foreach (var tensor in parameters.Tensors)
        {
            ReadOnlySpan<float> values = parameters.ValuesOf(tensor);
            if (tensor.Name.StartsWith("head.", StringComparison.Ordinal))
                Assert.All(values.ToArray(), v => Assert.Equal(7f, v));
            else if (tensor.Name.StartsWith("h0_", StringComparison.Ordinal) || tensor.Name.StartsWith("c0_", StringComparison.Ordinal))
            {
                Assert.All(values.ToArray(), v => Assert.Equal(0f, v));
                initialStates++;
            }
            else
            {
                // A bias has only 4H = 64 values: check its range and spread; the weights get the full check.
                if (tensor.Name.StartsWith("weight_", StringComparison.Ordinal)) AssertUniform(values, bound, tensor.Name);
                else Assert.True(values.ToArray().All(v => Math.Abs(v) <= bound) && values.ToArray().Distinct().Count() > values.Length / 2,
                    $"{tensor.Name}: not spread over ±{bound}.");
                weights++;
            }
        }
        Assert.Equal(2 * 2 * 2, initialStates);
        Assert.Equal(2 * 2 * 4, weights);
    }
}
