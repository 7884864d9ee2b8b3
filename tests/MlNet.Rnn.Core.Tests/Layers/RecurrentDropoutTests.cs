using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// Recurrent (variational) dropout, one mask per sequence and direction on h' entering W_hh and the same at every step,
/// with dropout between layers: the network's training forward agrees with the double-precision
/// <see cref="ReferenceNetwork"/> given the masks the network drew, and its gradients of every parameter, of the
/// input and of the given initial states match central differences of that reference (step 1e-6) for
/// <c>L = Σ output⊙R_y + Σ h_n⊙R_h + Σ c_n⊙R_c</c> (<see cref="NetworkGradientCheck"/>).
/// </summary>
public sealed class RecurrentDropoutTests
{
    [Theory]
    [InlineData("LSTM", 2, true, 0.3f, false)]
    [InlineData("GRU", 2, false, 0.3f, true)]
    [InlineData("RNN_TANH", 1, true, 0f, false)]
    public void TrainingForwardAndGradients_MatchTheReferenceWithTheSameMasks(string mode, int layers, bool bidirectional, float dropout, bool learnedInitialState)
    {
        const int T = 5, B = 4, I = 3, H = 4;
        var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions
        {
            InputSize = I, HiddenSize = H, Layers = layers, Bidirectional = bidirectional, Dropout = dropout, RecurrentDropout = 0.4f,
            LearnedInitialState = learnedInitialState, Seed = 3, MaxDegreeOfParallelism = 2,
        });
        var random = new Random(1);
        NetworkFactory.Randomize(network.Parameters, random, 0.7);
        float[] x = NetworkFactory.RandomFloats(random, T * B * I, 1.5);
        NetworkGradientCheck.AssertBackward(network, mode, x, T, B, [3, 5, 1, 4], random,
            $"{mode} L={layers} D={(bidirectional ? 2 : 1)} dropout {dropout} recurrent dropout 0.4");
    }

    [Fact]
    public void MaskIsConstantOverTime_ZeroedUnitsNeverReachTheRecurrentProduct()
    {
        // With W_ih = 0 and biases 0, an RNN's state is tanh(W_hh (h'⊙m)) from a nonzero h0. Units whose mask is zero
        // contribute nothing at any step, so the outputs equal those of a network whose W_hh columns for those units are zero.
        const int T = 5, B = 1, I = 1, H = 6;
        var network = NetworkFactory.Create("RNN_TANH", new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, RecurrentDropout = 0.5f });
        network.Initialize(new Random(4));
        foreach (var tensor in network.Parameters.Tensors)
            if (!tensor.Name.StartsWith("weight_hh")) network.Parameters.ValuesOf(tensor).Clear();
        float[] h0 = NetworkFactory.RandomFloats(new Random(5), H);
        var output = new float[T * B * H];
        network.ReseedDropout(11);
        network.Forward(new float[T * B * I], B, [], output, initialHidden: h0, training: true);

        // Recover the mask from the outputs: try every 0/scale pattern and keep the one that fits every step.
        var whh = network.Parameters.ValuesOf(network.Parameters["weight_hh_l0"]).ToArray();
        for (int pattern = 0; pattern < 1 << H; pattern++)
        {
            var mask = Enumerable.Range(0, H).Select(j => (pattern >> j & 1) == 1 ? 2f : 0f).ToArray();
            var h = h0.ToArray();
            bool fits = true;
            for (int t = 0; t < T && fits; t++)
            {
                var next = new float[H];
                for (int r = 0; r < H; r++)
                {
                    double sum = 0;
                    for (int j = 0; j < H; j++) sum += whh[r * H + j] * h[j] * mask[j];
                    next[r] = (float)Math.Tanh(sum);
                    fits &= Math.Abs(next[r] - output[t * H + r]) < 1e-5;
                }
                h = next;
            }
            if (fits) return;
        }
        Assert.Fail("No single mask, kept for every step, reproduces the outputs.");
    }
}
