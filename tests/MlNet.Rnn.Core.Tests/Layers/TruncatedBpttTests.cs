using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// Truncated BPTT: the state is carried across chunks of k steps as a constant. The expected gradient is
/// <c>Σ_chunks ∂L_c(θ; s_c)/∂θ</c> with the chunk's starting state s_c held fixed, taken by central differences of the
/// double-precision reference over each chunk alone.
/// </summary>
public sealed class TruncatedBpttTests
{
    [Theory]
    [InlineData("LSTM", 1, 3, false)]
    [InlineData("LSTM", 2, 2, true)]
    [InlineData("GRU", 2, 3, true)]
    [InlineData("RNN_TANH", 1, 4, false)]
    [InlineData("GRU", 1, 7, true)]
    public void Gradients_EqualSumOfChunkGradientsWithCarriedState(string mode, int layers, int chunkSteps, bool learnedInitialState)
    {
        const int T = 7, B = 3, I = 2, H = 3;
        var random = new Random(23);
        var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions
        {
            InputSize = I, HiddenSize = H, Layers = layers, LearnedInitialState = learnedInitialState,
        });
        NetworkFactory.Randomize(network.Parameters, random, 0.8);
        float[] x = NetworkFactory.RandomFloats(random, T * B * I);
        int[] lengths = [7, 2, 5];
        float[] outputWeights = NetworkFactory.RandomFloats(random, T * B * H);
        var seenOutput = new float[T * B * H];

        network.Parameters.ZeroGradients();
        TruncatedChunkGradient gradient = (first, steps, output, outputGradient) =>
        {
            output.CopyTo(seenOutput.AsSpan(first * B * H));
            outputWeights.AsSpan(first * B * H, steps * B * H).CopyTo(outputGradient);
        };
        network.BackpropagateTruncated(x, B, lengths, chunkSteps, gradient);

        // Forward outputs equal the untruncated forward: the state is carried exactly.
        var fullOutput = new float[T * B * H];
        network.Forward(x, B, lengths, fullOutput);
        Assert.Equal(fullOutput, seenOutput);

        var reference = NetworkFactory.ReferenceOf(mode, network);
        var expected = network.Parameters.Tensors.ToDictionary(t => t.Name, t => new double[t.Length]);
        double[]? hidden = null, cell = null;
        for (int first = 0; first < T; first += chunkSteps)
        {
            int count = Math.Min(chunkSteps, T - first);
            var chunkX = NetworkFactory.Widen(x.AsSpan(first * B * I, count * B * I));
            int[] chunkLengths = lengths.Select(l => Math.Clamp(l - first, 0, count)).ToArray();
            double[]? startHidden = hidden, startCell = cell;
            double Loss() => ProbeLoss.Dot(reference.Forward(chunkX, count, B, chunkLengths, startHidden, startCell).Output,
                outputWeights.AsSpan(first * B * H));
            foreach (var tensor in network.Parameters.Tensors)
            {
                double[] numerical = CentralDifferences.Of(reference.Parameters[tensor.Name], Loss);
                for (int i = 0; i < numerical.Length; i++) expected[tensor.Name][i] += numerical[i];
            }
            var (_, h, c) = reference.Forward(chunkX, count, B, chunkLengths, startHidden, startCell);
            hidden = h;
            cell = c;
        }
        foreach (var tensor in network.Parameters.Tensors)
            Tolerance.AssertClose(expected[tensor.Name], network.Parameters.GradientsOf(tensor), CentralDifferences.Relative, CentralDifferences.Absolute,
                $"{mode} k={chunkSteps}: d{tensor.Name}");
    }

    [Fact]
    public void ChunkAsLongAsTheSequence_EqualsFullBackpropagation()
    {
        const int T = 6, B = 4, I = 3, H = 5;
        var network = NetworkFactory.Create("LSTM", new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, Layers = 2 });
        network.Initialize(new Random(1));
        float[] x = NetworkFactory.RandomFloats(new Random(2), T * B * I);
        float[] weights = NetworkFactory.RandomFloats(new Random(3), T * B * H);
        int[] lengths = [6, 3, 1, 5];
        network.Parameters.ZeroGradients();
        network.Forward(x, B, lengths, new float[T * B * H], training: true);
        network.Backward(weights);
        float[] full = network.Parameters.Gradients.ToArray();
        network.Parameters.ZeroGradients();
        network.BackpropagateTruncated(x, B, lengths, T, (first, steps, output, gradient) => weights.AsSpan().CopyTo(gradient));
        Assert.Equal(full, network.Parameters.Gradients.ToArray());
    }
}
