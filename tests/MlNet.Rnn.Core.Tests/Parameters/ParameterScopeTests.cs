using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Parameters;

/// <summary>
/// Named scopes of one parameter buffer: a part registers and finds its own names under its prefix, sees only its own
/// tensors and values, shares the one buffer (so one optimizer and one gradient norm serve the whole model), and a network
/// in a scope initialises and computes exactly as one with a buffer of its own.
/// </summary>
public sealed class ParameterScopeTests
{
    [Fact]
    public void AScope_RegistersUnderItsPrefix_AndSeesOnlyItsOwnPart()
    {
        var model = new ParameterSet();
        var encoder = model.Scope("encoder.");
        var decoder = model.Scope("decoder.");
        var a = encoder.Add("weight", 2, 3);
        var b = encoder.Scope("inner.").Add("bias", 4);
        var c = decoder.Add("weight", 5);

        Assert.Equal(["encoder.weight", "encoder.inner.bias", "decoder.weight"], model.Tensors.Select(t => t.Name));
        Assert.Equal(15, model.Count);
        Assert.Equal(10, encoder.Count);
        Assert.Equal(5, decoder.Count);
        Assert.Same(a, encoder["weight"]);
        Assert.Same(c, decoder["weight"]);
        Assert.True(encoder.Contains("inner.bias"));
        Assert.False(decoder.Contains("inner.bias"));
        Assert.Equal("inner.bias", encoder.LocalName(b));
        Assert.Equal("encoder.inner.bias", model.LocalName(b));
        Assert.Throws<KeyNotFoundException>(() => decoder["inner.bias"]);

        // Views of the one buffer: writing through a scope is seen by the whole set and by the tensor's own view.
        encoder.Values.Fill(1);
        decoder.Gradients.Fill(2);
        Assert.Equal(Enumerable.Repeat(1f, 10).Concat(Enumerable.Repeat(0f, 5)), model.Values.ToArray());
        Assert.Equal(Enumerable.Repeat(0f, 10).Concat(Enumerable.Repeat(2f, 5)), model.Gradients.ToArray());
        decoder.ZeroGradients();
        Assert.All(model.Gradients.ToArray(), g => Assert.Equal(0f, g));
        Assert.Throws<ArgumentException>(() => encoder.Add("weight", 1));
    }

    [Fact]
    public void AScopeWhosePartsInterleave_SaysSoInsteadOfReturningAnotherPartsValues()
    {
        var model = new ParameterSet();
        var first = model.Scope("first.");
        first.Add("a", 2);
        model.Scope("second.").Add("b", 2);
        first.Add("c", 2);
        var error = Assert.Throws<InvalidOperationException>(() => first.Values.Length);
        Assert.Contains("first.", error.Message);
    }

    [Theory]
    [InlineData("LSTM")]
    [InlineData("GRU")]
    public void ANetworkInAScope_InitialisesAndRunsAsOneWithItsOwnBuffer(string mode)
    {
        var options = new RecurrentNetworkOptions { InputSize = 3, HiddenSize = 5, Layers = 2, Bidirectional = true, LearnedInitialState = true };
        var alone = NetworkFactory.Create(mode, options);
        alone.Initialize(new Random(4));

        var shared = new ParameterSet();
        shared.Scope("embedding.").Add("weight", 7, 3);
        var scoped = mode == "LSTM"
            ? (IRecurrentNetwork)new RecurrentNetwork<Core.Cells.LstmCell>(options, default, shared.Scope("encoder."))
            : new RecurrentNetwork<Core.Cells.GruCell>(options, default, shared.Scope("encoder."));
        scoped.Initialize(new Random(4));

        Assert.Equal(alone.Parameters.Tensors.Select(t => "encoder." + t.Name), scoped.Parameters.Tensors.Select(t => t.Name));
        Assert.Equal(alone.Parameters.Values.ToArray(), scoped.Parameters.Values.ToArray());
        Assert.All(shared.ValuesOf(shared["embedding.weight"]).ToArray(), value => Assert.Equal(0f, value));

        float[] x = NetworkFactory.RandomFloats(new Random(5), 4 * 2 * 3);
        var expected = new float[4 * 2 * 10];
        var actual = new float[4 * 2 * 10];
        alone.Forward(x, 2, [4, 2], expected);
        scoped.Forward(x, 2, [4, 2], actual);
        Assert.Equal(expected, actual);
    }
}
