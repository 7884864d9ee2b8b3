using System.Numerics;
using System.Runtime.Intrinsics;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// Backpropagation through time at a hidden size wide enough to run every width of the fused cell kernels, against
/// central differences of the double-precision reference (<see cref="GradientCheckTests"/> uses H = 4, which only
/// reaches their scalar tails). With H = 27 = 16 + 8 + 3, a row of the LSTM and GRU forward runs one 512-bit step
/// (units 0–15, where <see cref="Vector512"/> is accelerated), one <see cref="Vector{T}"/> step (units 16–23: 256-bit
/// on x64) and the scalar tail (units 24–26); the backward runs the <see cref="Vector{T}"/> body over units 0–23 and
/// the scalar tail over 24–26. Every gate row (each gate of each unit, the tail included) of every weight matrix is
/// checked; a 1-layer network in every parameter element, the 2-layer bidirectional one in at least 200 sampled
/// elements per tensor (every row, columns drawn with a fixed seed). Outputs and final states are compared with the
/// reference as well. Loss: <c>L = Σ output⊙R_y + Σ h_n⊙R_h + Σ c_n⊙R_c</c> with random R; variable lengths.
/// </summary>
public sealed class WideGradientCheckTests
{
    /// <summary>One 512-bit vector (16 floats), one 256-bit vector (8 floats) and a 3-unit scalar tail.</summary>
    private const int H = 16 + 8 + 3;

    private const int T = 3, B = 2, I = 2;
    private const int SampledElementsPerTensor = 200;

    /// <summary>Unsorted, so sorting by length is exercised; the last step runs one row, the others two.</summary>
    private static readonly int[] Lengths = [2, 3];

    public static TheoryData<string, int, bool> Cases() => new()
    {
        { "LSTM", 1, false }, { "LSTM", 2, true },
        { "GRU", 1, false }, { "GRU", 2, true },
        { "RNN_TANH", 1, false }, { "RNN_TANH", 2, true },
        { "RNN_RELU", 1, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_AtEveryKernelWidth_MatchesCentralDifferences(string mode, int layers, bool bidirectional)
    {
        var random = new Random(2027);
        var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions
        {
            InputSize = I, HiddenSize = H, Layers = layers, Bidirectional = bidirectional,
        });
        NetworkFactory.Randomize(network.Parameters, random, 0.5);
        bool lstm = network.HasCellState;
        int stateLength = network.StateCount * B * H;
        float[] x = NetworkFactory.RandomFloats(random, T * B * I, 1.5);
        float[] h0 = NetworkFactory.RandomFloats(random, stateLength);
        float[] c0 = NetworkFactory.RandomFloats(random, stateLength);
        var probe = new ProbeLoss(random, T * B * network.OutputSize, stateLength);

        network.Parameters.ZeroGradients();
        var output = new float[T * B * network.OutputSize];
        var finalHidden = new float[stateLength];
        var finalCell = new float[stateLength];
        network.Forward(x, B, Lengths, output, finalHidden, lstm ? finalCell : default, h0, lstm ? c0 : default, training: true);
        var inputGradient = new float[x.Length];
        var h0Gradient = new float[stateLength];
        var c0Gradient = new float[stateLength];
        network.Backward(probe.OutputWeights, probe.HiddenWeights, lstm ? probe.CellWeights : default, inputGradient, h0Gradient, lstm ? c0Gradient : default);

        string name = $"{mode} L={layers} D={(bidirectional ? 2 : 1)} H={H}";
        var reference = NetworkFactory.ReferenceOf(mode, network);
        double[] xd = NetworkFactory.Widen(x), h0d = NetworkFactory.Widen(h0), c0d = lstm ? NetworkFactory.Widen(c0) : new double[stateLength];
        var expected = reference.Forward(xd, T, B, Lengths, h0d, c0d);
        Tolerance.AssertClose(expected.Output, output, 1e-5, 1e-6, $"{name}: output");
        Tolerance.AssertClose(expected.FinalHidden, finalHidden, 1e-5, 1e-6, $"{name}: h_n");
        if (lstm) Tolerance.AssertClose(expected.FinalCell, finalCell, 1e-5, 1e-6, $"{name}: c_n");

        double Loss() => probe.Of(reference.Forward(xd, T, B, Lengths, h0d, c0d), lstm);
        void AssertElements(double[] values, ReadOnlySpan<float> analytic, int columns, IEnumerable<int> indices, string what)
        {
            foreach (int index in indices)
                Tolerance.AssertClose([CentralDifferences.At(ref values[index], Loss)], analytic.Slice(index, 1), CentralDifferences.Relative, CentralDifferences.Absolute,
                    $"{name}: {what}[{index / columns}, {index % columns}]");
        }

        var sampler = new Random(7);
        foreach (var tensor in network.Parameters.Tensors)
        {
            int columns = tensor.Shape.Length > 1 ? tensor.Shape[1] : 1;
            var indices = layers == 1 ? Enumerable.Range(0, tensor.Length) : EveryRowSampled(sampler, tensor.Length / columns, columns);
            AssertElements(reference.Parameters[tensor.Name], network.Parameters.GradientsOf(tensor), columns, indices, $"d{tensor.Name}");
        }
        AssertElements(xd, inputGradient, I, Enumerable.Range(0, xd.Length), "dinput (step·sequence, feature)");
        AssertElements(h0d, h0Gradient, H, Enumerable.Range(0, h0d.Length), "dh0 (layer·direction·sequence, unit)");
        if (lstm) AssertElements(c0d, c0Gradient, H, Enumerable.Range(0, c0d.Length), "dc0 (layer·direction·sequence, unit)");
    }

    /// <summary>
    /// Flat indices of a [rows, columns] tensor: every row (each gate of each unit, so every kernel lane), with the same
    /// number of distinct random columns per row, enough for <see cref="SampledElementsPerTensor"/> elements in all
    /// (every element when the tensor is smaller).
    /// </summary>
    private static IEnumerable<int> EveryRowSampled(Random random, int rows, int columns)
    {
        int perRow = Math.Min(columns, (SampledElementsPerTensor + rows - 1) / rows);
        var indices = new List<int>(rows * perRow);
        for (int row = 0; row < rows; row++)
            foreach (int column in Enumerable.Range(0, columns).OrderBy(_ => random.Next()).Take(perRow))
                indices.Add(row * columns + column);
        return indices;
    }
}
