using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// Inference in an <see cref="InferencePrecision.Int8"/> workspace: a deep bidirectional network of every cell, with variable
/// lengths and given initial states, equals the double-precision reference whose products use int8-quantized operands
/// (<see cref="ReferenceNetwork.Int8"/>) to float rounding plus the rare quantization tie, far closer than it is to the float
/// reference (so the quantization really runs, and runs as documented); two threads give the one-thread bits; a float workspace
/// of the same network still gives the float results; a write to the weights is quantized again.
/// </summary>
public sealed class Int8InferenceTests
{
    private const int T = 7, B = 9, I = 5, H = 40;
    private static readonly int[] Lengths = [7, 3, 0, 7, 1, 5, 6, 2, 7];

    [Theory]
    [InlineData("LSTM")]
    [InlineData("GRU")]
    [InlineData("RNN_TANH")]
    public void Int8Workspace_EqualsTheQuantizedReference_AndNotTheFloatOne(string mode)
    {
        var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions
        {
            InputSize = I, HiddenSize = H, Layers = 2, Bidirectional = true, MaxDegreeOfParallelism = 1, Seed = 4,
        });
        NetworkFactory.Randomize(network.Parameters, new Random(1), 0.3);
        var random = new Random(2);
        float[] x = NetworkFactory.RandomFloats(random, T * B * I, 2);
        int stateLength = network.StateCount * B * H;
        float[] h0 = NetworkFactory.RandomFloats(random, stateLength, 0.5);
        float[]? c0 = network.HasCellState ? NetworkFactory.RandomFloats(random, stateLength, 0.5) : null;

        var output = Run(network, network.CreateWorkspace(1, InferencePrecision.Int8), x, h0, c0);
        var reference = NetworkFactory.ReferenceOf(mode, network);
        var floatExpected = reference.Forward(NetworkFactory.Widen(x), T, B, Lengths, NetworkFactory.Widen(h0), c0 is null ? null : NetworkFactory.Widen(c0));
        reference.Int8 = true;
        var int8Expected = reference.Forward(NetworkFactory.Widen(x), T, B, Lengths, NetworkFactory.Widen(h0), c0 is null ? null : NetworkFactory.Widen(c0));

        double toQuantized = MaxDifference(int8Expected.Output, output), toFloat = MaxDifference(floatExpected.Output, output);
        Assert.True(toQuantized < 2e-4, $"{mode}: int8 inference is {toQuantized:E2} from the quantized reference.");
        Assert.True(toFloat > 10 * toQuantized && toFloat > 1e-3,
            $"{mode}: int8 inference is {toFloat:E2} from the float reference and {toQuantized:E2} from the quantized one: it did not quantize as documented.");

        Assert.Equal(output, Run(network, network.CreateWorkspace(2, InferencePrecision.Int8), x, h0, c0));
        var floatOutput = Run(network, network.CreateWorkspace(1), x, h0, c0);
        Assert.True(MaxDifference(floatExpected.Output, floatOutput) < 1e-5, $"{mode}: a float workspace beside an int8 one must stay float.");
    }

    [Fact]
    public void AfterAWeightWrite_TheInt8WorkspaceQuantizesTheNewWeights()
    {
        var network = NetworkFactory.Create("GRU", new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, Layers = 1, MaxDegreeOfParallelism = 1 });
        NetworkFactory.Randomize(network.Parameters, new Random(1), 0.3);
        float[] x = NetworkFactory.RandomFloats(new Random(2), T * B * I, 2);
        var workspace = network.CreateWorkspace(1, InferencePrecision.Int8);
        Assert.Equal(InferencePrecision.Int8, workspace.Precision);
        float[] before = Run(network, workspace, x, null, null);
        NetworkFactory.Randomize(network.Parameters, new Random(9), 0.3);
        float[] after = Run(network, workspace, x, null, null);
        var reference = NetworkFactory.ReferenceOf("GRU", network);
        reference.Int8 = true;
        var expected = reference.Forward(NetworkFactory.Widen(x), T, B, Lengths);
        Assert.True(MaxDifference(expected.Output, after) < 2e-4, "The int8 weights must follow a write to the parameters.");
        Assert.NotEqual(before, after);
    }

    private static float[] Run(IRecurrentNetwork network, RecurrentNetworkWorkspace workspace, float[] x, float[]? h0, float[]? c0)
    {
        var output = new float[T * B * network.OutputSize];
        network.Forward(workspace, x, B, Lengths, output, default, default, h0, c0);
        return output;
    }

    private static double MaxDifference(double[] expected, float[] actual)
    {
        double max = 0;
        for (int i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs(expected[i] - actual[i]));
        return max;
    }
}
