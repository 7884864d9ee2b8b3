using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// Inference of a batch of 8 or more sequences projects each step's input just before the step (per worker), instead of all
/// rows at once: every sequence's output equals, bit for bit, the same sequence scored alone (a batch of one keeps the one large
/// product), for every cell, two layers, both directions, variable lengths, an input wider than one k-block of the product
/// (I = 300), and one or two threads; and it equals the double-precision reference.
/// </summary>
public sealed class FusedInputProjectionTests
{
    private const int B = 9, T = 5, I = 300, H = 24;
    private static readonly int[] Lengths = [5, 2, 5, 1, 4, 3, 5, 2, 4];

    [Theory]
    [InlineData("LSTM", 1)]
    [InlineData("GRU", 2)]
    [InlineData("RNN_TANH", 2)]
    public void ABatchProjectedStepByStep_GivesEachSequenceItsOwnBitsAlone_AndTheReference(string mode, int threads)
    {
        var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, Layers = 2, Bidirectional = true, Seed = 2 });
        NetworkFactory.Randomize(network.Parameters, new Random(3), 0.2);
        float[] x = NetworkFactory.RandomFloats(new Random(4), T * B * I);
        int D = network.OutputSize;
        var batch = new float[T * B * D];
        network.Forward(network.CreateWorkspace(threads), x, B, Lengths, batch);

        var alone = network.CreateWorkspace(1);
        for (int b = 0; b < B; b++)
        {
            var one = new float[T * I];
            for (int t = 0; t < T; t++) x.AsSpan((t * B + b) * I, I).CopyTo(one.AsSpan(t * I, I));
            var output = new float[T * D];
            network.Forward(alone, one, 1, [Lengths[b]], output);
            for (int t = 0; t < T; t++)
                Assert.True(output.AsSpan(t * D, D).SequenceEqual(batch.AsSpan((t * B + b) * D, D)), $"{mode}: sequence {b}, step {t} differs from the sequence alone.");
        }

        var expected = NetworkFactory.ReferenceOf(mode, network).Forward(NetworkFactory.Widen(x), T, B, Lengths);
        Tolerance.AssertClose(expected.Output, batch, 1e-5, 1e-6, $"{mode}: output");
    }
}
