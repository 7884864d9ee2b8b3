using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// Recurrent (variational) dropout: one mask per sequence on h' entering W_hh, the same at every step. Gradients are
/// checked by central differences of the float network with the masks replayed (same seed before every forward).
/// </summary>
public sealed class RecurrentDropoutTests
{
    [Theory]
    [InlineData("LSTM", false)]
    [InlineData("GRU", true)]
    [InlineData("RNN_TANH", false)]
    public void Gradients_MatchCentralDifferencesWithTheSameMasks(string mode, bool bidirectional)
    {
        const int T = 6, B = 4, I = 3, H = 9;
        var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions
        {
            InputSize = I, HiddenSize = H, Layers = 2, Bidirectional = bidirectional, RecurrentDropout = 0.4f, MaxDegreeOfParallelism = 2,
        });
        network.Initialize(new Random(1));
        float[] x = NetworkFactory.RandomFloats(new Random(2), T * B * I);
        float[] weights = NetworkFactory.RandomFloats(new Random(3), T * B * network.OutputSize);
        int[] lengths = [6, 2, 5, 3];
        var output = new float[weights.Length];
        double Loss()
        {
            network.ReseedDropout(7);
            network.Forward(x, B, lengths, output, training: true);
            double sum = 0;
            for (int i = 0; i < output.Length; i++) sum += (double)output[i] * weights[i];
            return sum;
        }
        double withMasks = Loss();
        network.Forward(x, B, lengths, output);
        double withoutMasks = 0;
        for (int i = 0; i < output.Length; i++) withoutMasks += (double)output[i] * weights[i];
        Assert.NotEqual(withoutMasks, withMasks, 3);

        network.Parameters.ZeroGradients();
        Loss();
        var inputGradient = new float[x.Length];
        network.Backward(weights, inputGradient: inputGradient);
        float[] analytic = network.Parameters.Gradients.ToArray();
        Span<float> values = network.Parameters.Values;
        var numeric = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float saved = values[i];
            values[i] = saved + 1e-2f; double plus = Loss();
            values[i] = saved - 1e-2f; double minus = Loss();
            values[i] = saved;
            numeric[i] = (plus - minus) / 2e-2;
        }
        Tolerance.AssertClose(numeric, analytic, 1e-2, 2e-3, $"{mode} recurrent dropout: dθ");
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

        // Recover the mask from the first step: h1 = tanh(W_hh (h0⊙m)); try every 0/scale pattern and keep the one that fits.
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
