using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// Dropout between stacked layers, as <c>torch.nn.LSTM(dropout=p)</c>: inverted dropout on every layer's output except
/// the last, in training only. The masks are read out exactly with a "mask readout" network: a 2-layer relu RNN whose
/// first layer outputs 1 everywhere and whose second layer is the identity, so its output is the mask itself.
/// </summary>
public sealed class DropoutTests
{
    private const int T = 5, B = 3, I = 3, H = 4;
    private static readonly int[] Lengths = [3, 5, 1];

    [Theory]
    [InlineData("LSTM", false)]
    [InlineData("GRU", true)]
    [InlineData("RNN_TANH", false)]
    public void Inference_IsDeterministicAndEqualsTheNetworkWithoutDropout(string mode, bool bidirectional)
    {
        var options = new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, Layers = 2, Bidirectional = bidirectional, Dropout = 0.5f, Seed = 3 };
        var withDropout = NetworkFactory.Create(mode, options);
        var without = NetworkFactory.Create(mode, options with { Dropout = 0f });
        withDropout.Initialize(new Random(8));
        without.Initialize(new Random(8));
        Assert.Equal(without.Parameters.Values.ToArray(), withDropout.Parameters.Values.ToArray());
        float[] x = NetworkFactory.RandomFloats(new Random(9), T * B * I);
        int outputLength = T * B * withDropout.OutputSize, stateLength = withDropout.StateCount * B * H;

        float[] Run(IRecurrentNetwork network, bool training)
        {
            var output = new float[outputLength];
            var finalHidden = new float[stateLength];
            network.Forward(x, B, Lengths, output, finalHidden, training: training);
            return [.. output, .. finalHidden];
        }

        float[] expected = Run(without, training: false);
        float[] first = Run(withDropout, training: false);
        Assert.Equal(expected, first);
        Assert.Equal(first, Run(withDropout, training: false));
        // A training pass in between (new masks, random state advanced) leaves inference unchanged.
        float[] training = Run(withDropout, training: true);
        Assert.NotEqual(first, training);
        Assert.Equal(expected, Run(withDropout, training: false));
        // Without dropout, training and inference compute the same thing.
        Assert.Equal(expected, Run(without, training: true));
    }

    [Theory]
    [InlineData(0.5f)]
    [InlineData(0.2f)]
    public void Training_ZeroesAboutPOfTheSecondLayersInputs_AndScalesTheRestByOneOverOneMinusP(float dropout)
    {
        const int steps = 20, batch = 8, hidden = 16;
        var readout = MaskReadout(new RecurrentNetworkOptions { InputSize = 2, HiddenSize = hidden, Layers = 2, Dropout = dropout, Seed = 11 });
        float[] x = NetworkFactory.RandomFloats(new Random(1), steps * batch * 2);
        var inference = new float[steps * batch * hidden];
        readout.Forward(x, batch, [], inference);
        Assert.All(inference, value => Assert.Equal(1f, value));

        var mask = new float[inference.Length];
        readout.Forward(x, batch, [], mask, training: true);
        float scale = 1f / (1f - dropout);
        int zeros = 0;
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i] == 0f) zeros++;
            else Assert.True(MathF.Abs(mask[i] - scale) <= 1e-6f * scale, $"mask[{i}] = {mask[i]}, expected 0 or 1/(1 − p) = {scale}");
        }
        // 2560 Bernoulli(p) draws: the standard deviation of the fraction is at most 0.01; allow five of them.
        double fraction = zeros / (double)mask.Length;
        Assert.True(Math.Abs(fraction - dropout) < 0.05, $"{zeros} of {mask.Length} inputs to layer 2 were zeroed ({fraction:F3}); expected about {dropout}.");

        // Each training pass draws a new mask.
        var next = new float[mask.Length];
        readout.Forward(x, batch, [], next, training: true);
        Assert.NotEqual(mask, next);
    }

    [Fact]
    public void Training_SameSeedGivesSameMasks_OtherSeedOthers()
    {
        var options = new RecurrentNetworkOptions { InputSize = 2, HiddenSize = 8, Layers = 2, Dropout = 0.5f, Seed = 4 };
        float[] x = NetworkFactory.RandomFloats(new Random(1), 6 * 2 * 2);
        float[] MaskOf(RecurrentNetworkOptions o)
        {
            var output = new float[6 * 2 * 8];
            MaskReadout(o).Forward(x, 2, [], output, training: true);
            return output;
        }
        Assert.Equal(MaskOf(options), MaskOf(options));
        Assert.NotEqual(MaskOf(options), MaskOf(options with { Seed = 5 }));
    }

    /// <summary>
    /// Backpropagation through time with dropout against central differences of the double reference with the same
    /// mask. A fresh network with the same <see cref="RecurrentNetworkOptions.Seed"/> draws the same first mask, so the
    /// mask readout network gives exactly the mask the checked network used.
    /// </summary>
    [Theory]
    [InlineData("LSTM")]
    [InlineData("GRU")]
    [InlineData("RNN_TANH")]
    public void Backward_WithDropout_MatchesCentralDifferencesWithTheSameMask(string mode)
    {
        var options = new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, Layers = 2, Dropout = 0.5f, Seed = 21 };
        var random = new Random(17);
        var network = NetworkFactory.Create(mode, options);
        NetworkFactory.Randomize(network.Parameters, random, 0.8);
        float[] x = NetworkFactory.RandomFloats(random, T * B * I, 1.5);
        int stateLength = network.StateCount * B * H;
        var probe = new ProbeLoss(random, T * B * H, stateLength);

        // The first training mask of a network with this seed and this batch, [T, B, H] (padded steps unused).
        var mask = new float[T * B * H];
        MaskReadout(options with { InputSize = 1 }).Forward(new float[T * B], B, Lengths, mask, training: true);
        Assert.Contains(0f, mask);

        network.Parameters.ZeroGradients();
        var output = new float[T * B * H];
        var finalHidden = new float[stateLength];
        var finalCell = new float[stateLength];
        network.Forward(x, B, Lengths, output, finalHidden, network.HasCellState ? finalCell : default, training: true);
        var inputGradient = new float[x.Length];
        network.Backward(probe.OutputWeights, probe.HiddenWeights, network.HasCellState ? probe.CellWeights : default, inputGradient);

        // The reference: layer 0, the mask, then layer 1.
        var reference = NetworkFactory.ReferenceOf(mode, network);
        reference.OutputMasks[0] = NetworkFactory.Widen(mask);
        double[] xd = NetworkFactory.Widen(x);
        double Loss() => probe.Of(reference.Forward(xd, T, B, Lengths), network.HasCellState);

        Tolerance.AssertClose(reference.Forward(xd, T, B, Lengths).Output, output, 1e-5, 1e-6, $"{mode} with dropout: output");
        CentralDifferences.AssertEveryParameter(network.Parameters, CentralDifferences.Accumulated(network.Parameters), reference.Parameters, Loss,
            $"{mode} with dropout");
        Tolerance.AssertClose(CentralDifferences.Of(xd, Loss), inputGradient, CentralDifferences.Relative, CentralDifferences.Absolute, $"{mode} with dropout: dinput");
    }

    /// <summary>
    /// A 2-layer relu RNN whose output is its dropout mask: layer 0 has zero weights and bias 1, so it outputs 1;
    /// layer 1 is the identity with zero recurrence, so it outputs relu(mask⊙1) = mask. Inference outputs 1.
    /// </summary>
    private static RecurrentNetwork<RnnCell> MaskReadout(RecurrentNetworkOptions options)
    {
        var network = new RecurrentNetwork<RnnCell>(options, new RnnCell(RnnActivation.Relu));
        var parameters = network.Parameters;
        parameters.Values.Clear();
        parameters.ValuesOf(parameters["bias_ih_l0"]).Fill(1f);
        Span<float> identity = parameters.ValuesOf(parameters["weight_ih_l1"]);
        for (int j = 0; j < options.HiddenSize; j++) identity[j * options.HiddenSize + j] = 1f;
        return network;
    }
}
