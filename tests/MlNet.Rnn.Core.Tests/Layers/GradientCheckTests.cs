using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// Backpropagation through time against central differences of the double-precision reference, for every parameter,
/// every input element and the initial states. Loss: <c>L = Σ output⊙R_y + Σ h_n⊙R_h + Σ c_n⊙R_c</c> with random R.
/// </summary>
public sealed class GradientCheckTests
{
    private const double Step = 1e-6;

    public static TheoryData<string, int, bool, bool, bool> Cases() => ForwardAgreementTests.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_MatchesCentralDifferences(string mode, int layers, bool bidirectional, bool variableLengths, bool learnedInitialState)
    {
        const int T = 5, B = 3, I = 3, H = 4;
        var random = new Random(17);
        var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions
        {
            InputSize = I, HiddenSize = H, Layers = layers, Bidirectional = bidirectional, LearnedInitialState = learnedInitialState,
        });
        network.Initialize(random);
        foreach (var tensor in network.Parameters.Tensors)
            NetworkFactory.RandomFloats(random, tensor.Length, 0.8).CopyTo(network.Parameters.ValuesOf(tensor));
        float[] x = NetworkFactory.RandomFloats(random, T * B * I, 1.5);
        int[]? lengths = variableLengths ? [3, 5, 1] : null;
        int stateLength = network.StateCount * B * H;
        float[] outputWeights = NetworkFactory.RandomFloats(random, T * B * network.OutputSize);
        float[] hiddenWeights = NetworkFactory.RandomFloats(random, stateLength);
        float[] cellWeights = NetworkFactory.RandomFloats(random, stateLength);
        // With a learned initial state the state comes from parameters; otherwise the caller gives it and gets its gradient.
        float[]? h0 = learnedInitialState ? null : NetworkFactory.RandomFloats(random, stateLength);
        float[]? c0 = learnedInitialState || !network.HasCellState ? null : NetworkFactory.RandomFloats(random, stateLength);

        network.Parameters.ZeroGradients();
        var output = new float[T * B * network.OutputSize];
        var finalHidden = new float[stateLength];
        var finalCell = new float[stateLength];
        network.Forward(x, B, lengths ?? [], output, finalHidden, network.HasCellState ? finalCell : default, h0, c0, training: true);
        var inputGradient = new float[x.Length];
        var h0Gradient = new float[stateLength];
        var c0Gradient = new float[stateLength];
        network.Backward(outputWeights, hiddenWeights, network.HasCellState ? cellWeights : default, inputGradient,
            h0 is null ? default : h0Gradient, c0 is null ? default : c0Gradient);

        var reference = NetworkFactory.ReferenceOf(mode, network);
        double[] xd = NetworkFactory.Widen(x);
        double[]? h0d = h0 is null ? null : NetworkFactory.Widen(h0), c0d = c0 is null ? null : NetworkFactory.Widen(c0);
        double Loss()
        {
            var (o, h, c) = reference.Forward(xd, T, B, lengths, h0d, h0d is null ? null : c0d ?? new double[stateLength]);
            double sum = 0;
            for (int i = 0; i < o.Length; i++) sum += o[i] * outputWeights[i];
            for (int i = 0; i < h.Length; i++) sum += h[i] * hiddenWeights[i];
            if (network.HasCellState) for (int i = 0; i < c.Length; i++) sum += c[i] * cellWeights[i];
            return sum;
        }
        double[] Numerical(double[] values)
        {
            var gradient = new double[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                double saved = values[i];
                values[i] = saved + Step;
                double plus = Loss();
                values[i] = saved - Step;
                double minus = Loss();
                values[i] = saved;
                gradient[i] = (plus - minus) / (2 * Step);
            }
            return gradient;
        }

        string name = $"{mode} L={layers} D={(bidirectional ? 2 : 1)} {(variableLengths ? "variable" : "equal")} {(learnedInitialState ? "learned" : "given")} initial state";
        foreach (var tensor in network.Parameters.Tensors)
            Tolerance.AssertClose(Numerical(reference.Parameters[tensor.Name]), network.Parameters.GradientsOf(tensor), 2e-4, 2e-5, $"{name}: d{tensor.Name}");
        Tolerance.AssertClose(Numerical(xd), inputGradient, 2e-4, 2e-5, $"{name}: dinput");
        if (h0d is not null) Tolerance.AssertClose(Numerical(h0d), h0Gradient, 2e-4, 2e-5, $"{name}: dh0");
        if (c0d is not null) Tolerance.AssertClose(Numerical(c0d), c0Gradient, 2e-4, 2e-5, $"{name}: dc0");
    }
}
