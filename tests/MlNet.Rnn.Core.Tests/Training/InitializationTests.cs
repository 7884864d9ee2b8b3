using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Training;

/// <summary>
/// Proves what each initialisation writes: PyTorch's default equals the network's own draws and bounds, Xavier uses the
/// Glorot range of the whole input matrix and nothing else, Orthogonal blocks are gain·Q of the QR factorisation (with a
/// positive R diagonal) of the documented Gaussian draws, and the forget-gate bias sets exactly the f block.
/// </summary>
public sealed class InitializationTests
{
    private const int I = 5, H = 6;

    private static RecurrentNetwork<LstmCell> Lstm(bool learnedInitialState = false) =>
        new(new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, Layers = 2, Bidirectional = true, LearnedInitialState = learnedInitialState });

    [Fact]
    public void PyTorchDefault_EqualsNetworkInitialize_AndStaysInRange()
    {
        var network = Lstm(learnedInitialState: true);
        network.Initialize(new Random(3));
        float[] expected = network.Parameters.Values.ToArray();
        network.Parameters.Values.Fill(0);
        Initialization.PyTorchDefault(network.Parameters, new Random(3), H);
        Assert.Equal(expected, network.Parameters.Values.ToArray());
        float bound = 1 / MathF.Sqrt(H);
        Assert.All(network.Parameters.Values.ToArray(), v => Assert.InRange(v, -bound, bound));
    }

    [Fact]
    public void Xavier_IsGlorotUniformOverTheWholeInputMatrix_AndTouchesNothingElse()
    {
        var network = Lstm();
        network.Parameters.Values.Fill(42);
        Initialization.Xavier(network.Parameters, new Random(1), gain: 2f);
        foreach (var tensor in network.Parameters.Tensors)
        {
            float[] values = network.Parameters.ValuesOf(tensor).ToArray();
            if (!tensor.Name.StartsWith("weight_ih", StringComparison.Ordinal))
            {
                Assert.All(values, v => Assert.Equal(42f, v));
                continue;
            }
            float bound = 2f * MathF.Sqrt(6f / (tensor.Shape[1] + tensor.Shape[0]));
            Assert.All(values, v => Assert.InRange(v, -bound, bound));
            Assert.True(values.Max(MathF.Abs) > 0.8f * bound, $"{tensor.Name} does not use its range");
        }
    }

    [Fact]
    public void Orthogonal_EveryGateBlockIsOrthogonal()
    {
        var network = Lstm();
        Initialization.Orthogonal(network.Parameters, new Random(7), H, gain: 1.5f);
        int blocks = 0;
        foreach (var tensor in network.Parameters.Tensors.Where(t => t.Name.StartsWith("weight_hh", StringComparison.Ordinal)))
        {
            Span<float> values = network.Parameters.ValuesOf(tensor);
            for (int gate = 0; gate < 4; gate++, blocks++)
            {
                Span<float> block = values.Slice(gate * H * H, H * H);
                for (int a = 0; a < H; a++)
                    for (int b = 0; b < H; b++)
                    {
                        double dot = 0;   // (WᵀW)_ab over the block's rows
                        for (int r = 0; r < H; r++) dot += (double)block[r * H + a] * block[r * H + b];
                        Assert.Equal(a == b ? 1.5 * 1.5 : 0, dot, 1e-5);
                    }
            }
        }
        Assert.Equal(2 * 2 * 4, blocks);
    }

    [Fact]
    public void Orthogonal_IsTheQFactorOfTheDocumentedGaussianDraws_WithPositiveRDiagonal()
    {
        // Reference: the Gaussian matrix A of each block drawn as documented (row-major, Box–Muller from u1 = 1 − u, u2 = u
        // of consecutive NextDouble calls, blocks in tensor and gate order). The block must be gain·Q with A = QR, R upper
        // triangular with a positive diagonal: QᵀA (over the stored floats) has ~0 below the diagonal and > 0 on it.
        const float gain = 0.5f;
        var parameters = new ParameterSet();
        parameters.Add("weight_hh_l0", 3 * H, H);
        parameters.Add("weight_hh_l1", 3 * H, H);
        Initialization.Orthogonal(parameters, new Random(11), H, gain);
        var random = new Random(11);
        int blocks = 0;
        foreach (string name in new[] { "weight_hh_l0", "weight_hh_l1" })
        {
            Span<float> values = parameters.ValuesOf(parameters[name]);
            for (int gate = 0; gate < 3; gate++, blocks++)
            {
                var a = new double[H * H];
                for (int i = 0; i < a.Length; i++)
                {
                    double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
                    a[i] = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                }
                Span<float> q = values.Slice(gate * H * H, H * H);
                for (int row = 0; row < H; row++)
                    for (int column = 0; column < H; column++)
                    {
                        double r = 0;   // R_row,column = Σ_k Q_k,row · A_k,column
                        for (int k = 0; k < H; k++) r += q[k * H + row] / (double)gain * a[k * H + column];
                        if (row > column) Assert.True(Math.Abs(r) < 1e-5, $"{name} gate {gate}: R[{row}, {column}] = {r}, not 0");
                        if (row == column) Assert.True(r > 1e-3, $"{name} gate {gate}: R[{row}, {row}] = {r}, not > 0");
                    }
            }
        }
        Assert.Equal(6, blocks);
    }

    [Fact]
    public void Orthogonal_IsDeterministic_AndBlocksDiffer()
    {
        var first = Lstm();
        var second = Lstm();
        Initialization.Orthogonal(first.Parameters, new Random(9), H);
        Initialization.Orthogonal(second.Parameters, new Random(9), H);
        Assert.Equal(first.Parameters.Values.ToArray(), second.Parameters.Values.ToArray());
        var weights = first.Parameters.ValuesOf(first.Parameters["weight_hh_l0"]);
        Assert.NotEqual(weights[..(H * H)].ToArray(), weights.Slice(H * H, H * H).ToArray());
        Initialization.Orthogonal(second.Parameters, new Random(10), H);
        Assert.NotEqual(first.Parameters.Values.ToArray(), second.Parameters.Values.ToArray());
    }

    [Fact]
    public void ForgetGateBias_SetsTheFBlockOfTheInputBias_AndZeroesTheRecurrentOne()
    {
        var network = Lstm();
        network.Initialize(new Random(2));
        float[] before = network.Parameters.Values.ToArray();
        Initialization.ForgetGateBias(network.Parameters, H, 1.25f);
        foreach (var tensor in network.Parameters.Tensors)
        {
            float[] values = network.Parameters.ValuesOf(tensor).ToArray(), old = before.AsSpan(tensor.Offset, tensor.Length).ToArray();
            bool inputBias = tensor.Name.StartsWith("bias_ih", StringComparison.Ordinal), recurrentBias = tensor.Name.StartsWith("bias_hh", StringComparison.Ordinal);
            for (int i = 0; i < values.Length; i++)
            {
                bool forget = (inputBias || recurrentBias) && i >= H && i < 2 * H;
                Assert.Equal(forget ? (inputBias ? 1.25f : 0f) : old[i], values[i]);
            }
        }
    }

    [Fact]
    public void ForgetGateBias_OnAGru_ThrowsNamingTheTensor()
    {
        var gru = new RecurrentNetwork<GruCell>(new RecurrentNetworkOptions { InputSize = I, HiddenSize = H });
        var error = Assert.Throws<ArgumentException>(() => Initialization.ForgetGateBias(gru.Parameters, H));
        Assert.Contains("bias_ih_l0", error.Message);
        Assert.Contains("LSTM", error.Message);
    }

    [Fact]
    public void BadArguments_Throw()
    {
        var network = Lstm();
        Assert.Equal("hiddenSize", Assert.Throws<ArgumentException>(() => Initialization.Orthogonal(network.Parameters, new Random(1), H + 1)).ParamName);
        Assert.Equal("hiddenSize", Assert.Throws<ArgumentOutOfRangeException>(() => Initialization.PyTorchDefault(network.Parameters, new Random(1), 0)).ParamName);
        Assert.Equal("gain", Assert.Throws<ArgumentOutOfRangeException>(() => Initialization.Xavier(network.Parameters, new Random(1), 0)).ParamName);
        var empty = new ParameterSet();
        empty.Add("head.weight", 2, 2);
        Assert.Contains("head.weight", Assert.Throws<ArgumentException>(() => Initialization.PyTorchDefault(empty, new Random(1), H)).Message);
    }
}
