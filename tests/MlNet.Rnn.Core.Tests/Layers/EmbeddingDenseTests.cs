using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// <see cref="Embedding"/> and <see cref="Dense"/> against double-precision references; gradients against central
/// differences of the reference for every weight, bias and input element, with <c>L = Σ y⊙R</c> for random R.
/// </summary>
public sealed class EmbeddingDenseTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(17)]
    [InlineData(33)]
    public void Embedding_ForwardAndBackward_MatchReference(int dimension)
    {
        const int V = 6;
        var parameters = new ParameterSet();
        var embedding = new Embedding(parameters, "embedding", V, dimension);
        embedding.Initialize(new Random(dimension));
        // Id 0 (unknown) is a real row of its own, repeated ids share a row, and id V − 1 is the last row.
        int[] ids = [3, 0, 5, 3, 0, 3, 1];
        var output = new float[ids.Length * dimension];
        output.AsSpan().Fill(float.NaN);
        embedding.Forward(ids, output);

        double[] table = NetworkFactory.Widen(parameters.ValuesOf(embedding.Weight));
        double[] Reference()
        {
            var result = new double[ids.Length * dimension];
            for (int n = 0; n < ids.Length; n++)
                for (int e = 0; e < dimension; e++) result[n * dimension + e] = table[ids[n] * dimension + e];
            return result;
        }
        Tolerance.AssertClose(Reference(), output, 0, 0, $"embedding E={dimension}: forward");
        Assert.Contains(parameters.ValuesOf(embedding.Weight)[..dimension].ToArray(), value => value != 0f);

        var random = new Random(7);
        float[] outputGradient = NetworkFactory.RandomFloats(random, output.Length);
        float[] before = NetworkFactory.RandomFloats(random, parameters.Count);
        before.CopyTo(parameters.Gradients);
        embedding.Backward(ids, outputGradient);

        // Backward adds into the gradient buffer: expected = before + ∂L/∂table by central differences.
        double[] expected = CentralDifferences.Of(table, () => ProbeLoss.Dot(Reference(), outputGradient));
        for (int i = 0; i < table.Length; i++) expected[i] += before[i];
        Tolerance.AssertClose(expected, parameters.GradientsOf(embedding.Weight), 1e-6, 1e-6, $"embedding E={dimension}: gradient (scatter-add)");
        // Rows never looked up (2, 4) keep their previous gradient exactly.
        foreach (int id in new[] { 2, 4 })
            Assert.Equal(before.AsSpan(id * dimension, dimension).ToArray(), parameters.GradientsOf(embedding.Weight).Slice(id * dimension, dimension).ToArray());
    }

    public static TheoryData<OutputActivation, int, int, int> DenseCases()
    {
        var data = new TheoryData<OutputActivation, int, int, int>();
        foreach (var activation in new[] { OutputActivation.Identity, OutputActivation.Sigmoid, OutputActivation.Softmax })
            foreach (var (A, O) in new[] { (1, 1), (3, 2), (17, 5), (8, 9), (33, 3) })
                foreach (int rows in new[] { 1, 4 })
                    data.Add(activation, A, O, rows);
        return data;
    }

    [Theory]
    [MemberData(nameof(DenseCases))]
    public void Dense_ForwardAndBackward_MatchReference(OutputActivation activation, int inputSize, int outputSize, int rows)
    {
        int A = inputSize, O = outputSize;
        var random = new Random(31 * A + O + rows);
        var parameters = new ParameterSet();
        var dense = new Dense(parameters, "output", A, O, activation);
        NetworkFactory.Randomize(parameters, random, 1.5);
        float[] input = NetworkFactory.RandomFloats(random, rows * A);
        float[] outputWeights = NetworkFactory.RandomFloats(random, rows * O);
        string name = $"dense {activation} A={A} O={O} rows={rows}";

        var output = new float[rows * O];
        dense.Forward(input, rows, output);
        double[] weight = NetworkFactory.Widen(parameters.ValuesOf(parameters["output.weight"]));
        double[] bias = NetworkFactory.Widen(parameters.ValuesOf(parameters["output.bias"]));
        double[] a = NetworkFactory.Widen(input);
        double[] Reference()
        {
            var y = new double[rows * O];
            for (int r = 0; r < rows; r++)
            {
                for (int o = 0; o < O; o++)
                {
                    double z = bias[o];
                    for (int k = 0; k < A; k++) z += weight[o * A + k] * a[r * A + k];
                    y[r * O + o] = activation == OutputActivation.Sigmoid ? 1 / (1 + Math.Exp(-z)) : z;
                }
                if (activation == OutputActivation.Softmax) Softmax.Of(y.AsSpan(r * O, O)).CopyTo(y, r * O);
            }
            return y;
        }
        Tolerance.AssertClose(Reference(), output, 1e-5, 1e-6, $"{name}: forward");

        float[] before = NetworkFactory.RandomFloats(random, parameters.Count);
        before.CopyTo(parameters.Gradients);
        var inputGradient = new float[rows * A];
        inputGradient.AsSpan().Fill(float.NaN);
        dense.Backward(input, output, outputWeights, rows, inputGradient);

        double[] Numerical(double[] values, ReadOnlySpan<float> offset)
        {
            double[] gradient = CentralDifferences.Of(values, () => ProbeLoss.Dot(Reference(), outputWeights));
            for (int i = 0; i < offset.Length; i++) gradient[i] += offset[i];
            return gradient;
        }
        var weightTensor = parameters["output.weight"];
        var biasTensor = parameters["output.bias"];
        Tolerance.AssertClose(Numerical(weight, before.AsSpan(weightTensor.Offset, weightTensor.Length)), parameters.GradientsOf(weightTensor),
            2e-5, 2e-6, $"{name}: dweight (added to the previous gradient)");
        Tolerance.AssertClose(Numerical(bias, before.AsSpan(biasTensor.Offset, biasTensor.Length)), parameters.GradientsOf(biasTensor),
            2e-5, 2e-6, $"{name}: dbias (added to the previous gradient)");
        Tolerance.AssertClose(Numerical(a, default), inputGradient, 2e-5, 2e-6, $"{name}: dinput (overwritten)");

        // Without an input gradient the parameter gradients are exactly the same.
        float[] withInputGradient = parameters.Gradients.ToArray();
        before.CopyTo(parameters.Gradients);
        dense.Backward(input, output, outputWeights, rows, default);
        Assert.Equal(withInputGradient, parameters.Gradients.ToArray());
    }

    [Fact]
    public void Softmax_LargeLogits_DoNotOverflow()
    {
        var parameters = new ParameterSet();
        var dense = new Dense(parameters, "head", 1, 3, OutputActivation.Softmax);
        parameters.ValuesOf(parameters["head.weight"]).Clear();
        new float[] { 100f, 101f, 1000f }.CopyTo(parameters.ValuesOf(parameters["head.bias"]));
        var output = new float[3];
        dense.Forward([0f], 1, output);
        Assert.All(output, v => Assert.True(float.IsFinite(v), $"softmax gave {v}"));
        Assert.Equal(1f, output[2], 6);
    }
}
