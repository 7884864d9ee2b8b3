using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// Backpropagation through time against central differences of the double-precision reference, for every parameter,
/// every input element and the initial states (<see cref="NetworkGradientCheck"/>). Loss: <c>L = Σ output⊙R_y + Σ h_n⊙R_h
/// + Σ c_n⊙R_c</c> with random R.
/// </summary>
public sealed class GradientCheckTests
{
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
        NetworkFactory.Randomize(network.Parameters, random, 0.8);
        float[] x = NetworkFactory.RandomFloats(random, T * B * I, 1.5);
        int[]? lengths = variableLengths ? [3, 5, 1] : null;
        NetworkGradientCheck.AssertBackward(network, mode, x, T, B, lengths, random,
            $"{mode} L={layers} D={(bidirectional ? 2 : 1)} {(variableLengths ? "variable" : "equal")} {(learnedInitialState ? "learned" : "given")} initial state");
    }
}
