using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Parameters;

/// <summary>
/// What the rest of the library relies on from <see cref="ParameterSet"/>: the version moves exactly when a writable span
/// is handed out (inference rebuilds its packed weights from it), gradients exist only after training asked for them and a
/// scope's gradients are the root's, and misuse is refused with the name that was wrong.
/// </summary>
public sealed class ParameterSetContractTests
{
    [Fact]
    public void TheVersion_MovesWithEveryWritableSpan_AndNotWithReading_InTheRootAndEveryScope()
    {
        var model = new ParameterSet();
        var scope = model.Scope("part.");
        int version = model.Version;
        var tensor = scope.Add("weight", 2, 2);
        version = AssertAdvanced(version, model.Version);        // registering changes the values' layout

        _ = model.ReadOnlyValues;
        _ = scope.ReadOnlyValues;
        _ = model.ReadOnlyValuesOf(tensor);
        _ = scope.ReadOnlyValuesOf(tensor);
        _ = model.Gradients;
        Assert.Equal(version, model.Version);

        // Each writable span moves the version forward, never back: a version that came back to an earlier value would
        // let a copy packed at that value pass for current after writes through two kinds of span.
        _ = model.Values;
        version = AssertAdvanced(version, model.Version);
        _ = scope.Values;
        version = AssertAdvanced(version, model.Version);
        Assert.Equal(model.Version, scope.Version);             // a scope reports its set's version
        _ = model.ValuesOf(tensor);
        version = AssertAdvanced(version, model.Version);
        _ = scope.ValuesOf(tensor);
        version = AssertAdvanced(version, model.Version);
        model.Add("bias", 2);
        AssertAdvanced(version, model.Version);
    }

    private static int AssertAdvanced(int before, int now)
    {
        Assert.True(now > before, $"The version went from {before} to {now}; it must only advance.");
        return now;
    }

    [Theory]
    [InlineData("LSTM")]
    [InlineData("GRU")]
    [InlineData("RNN_TANH")]
    public void WritingThroughValues_BetweenInferenceCalls_IsSeenByTheNextCall(string mode)
    {
        // Inference packs W_hh once per version; a write through the flat Values span must move the version or the next
        // call would still use the packed copy of the old weights.
        var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions { InputSize = 3, HiddenSize = 4 });
        network.Initialize(new Random(1));
        float[] x = NetworkFactory.RandomFloats(new Random(2), 3 * 2 * 3);
        var before = new float[3 * 2 * 4];
        var after = new float[before.Length];
        network.Forward(x, 2, [3, 3], before);

        var parameters = network.Parameters;
        var recurrent = parameters["weight_hh_l0"];
        Span<float> values = parameters.Values;
        values.Slice(recurrent.Offset, recurrent.Length).Clear();
        network.Forward(x, 2, [3, 3], after);

        // Without W_hh each step depends only on its own input: the last step equals the first step's transform of x₃.
        var alone = NetworkFactory.Create(mode, new RecurrentNetworkOptions { InputSize = 3, HiddenSize = 4 });
        parameters.ReadOnlyValues.CopyTo(alone.Parameters.Values);
        var expected = new float[before.Length];
        alone.Forward(x, 2, [3, 3], expected);
        Assert.Equal(expected, after);
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void Gradients_ExistOnlyAfterTrainingAsksForThem_AndAScopesGradientsAreTheRootsBuffer()
    {
        var model = new ParameterSet();
        Assert.False(model.HasGradients);                       // nothing registered, nothing allocated
        var scope = model.Scope("part.");
        model.Add("first", 3);
        var tensor = scope.Add("second", 2);
        _ = model.ReadOnlyValues;
        _ = model.Values;
        Assert.False(model.HasGradients);                       // reading and writing values never allocate gradients
        Assert.False(scope.HasGradients);

        scope.GradientsOf(tensor).Fill(5f);
        Assert.True(model.HasGradients);
        Assert.True(scope.HasGradients);
        Assert.Equal([0f, 0f, 0f, 5f, 5f], model.Gradients.ToArray());
        Assert.Equal([5f, 5f], scope.Gradients.ToArray());

        model.Add("third", 4);                                  // registering after the first pass: the buffer grows on use
        Assert.False(model.HasGradients);
        Assert.Equal(9, model.Gradients.Length);
        Assert.Equal([0f, 0f, 0f, 5f, 5f, 0f, 0f, 0f, 0f], model.Gradients.ToArray());
        Assert.True(model.HasGradients);
    }

    [Fact]
    public void Misuse_IsRefused_NamingWhatWasWrong()
    {
        var model = new ParameterSet();
        var scope = model.Scope("encoder.");
        scope.Add("weight", 2);
        model.Add("bias", 1);

        Assert.Throws<ArgumentNullException>(() => model.Scope(null!));
        Assert.Throws<ArgumentException>(() => model.Scope(""));
        Assert.Equal("name", Assert.Throws<ArgumentNullException>(() => model.Add(null!, 1)).ParamName);
        Assert.Throws<ArgumentNullException>(() => model.Add("other", null!));
        Assert.Throws<ArgumentNullException>(() => model.LocalName(null!));
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => model.Add("empty", 3, 0));
        Assert.Contains("'empty' has dimension 0", zero.Message);
        var huge = Assert.Throws<ArgumentOutOfRangeException>(() => model.Add("huge", 65536, 32768));
        Assert.Contains("'huge' has 2147483648 elements", huge.Message);
        var twice = Assert.Throws<ArgumentException>(() => model.Add("bias", 4));
        Assert.Equal("name", twice.ParamName);
        Assert.Contains("A parameter named 'bias' is already registered", twice.Message);
        Assert.Throws<ArgumentException>(() => scope.Add("weight", 4));
        Assert.Equal(3, model.Count);                            // a refused registration changes nothing
        Assert.Equal(3, model.ReadOnlyValues.Length);

        var missing = Assert.Throws<KeyNotFoundException>(() => scope["bias"]);
        Assert.Contains("'encoder.bias'", missing.Message);
        Assert.Contains("Known: encoder.weight, bias.", missing.Message);

        // A tensor from outside the scope keeps its full name: it is no part of the scope's.
        Assert.Equal("bias", scope.LocalName(model["bias"]));
        Assert.Equal("weight", scope.LocalName(model["encoder.weight"]));
        Assert.Equal("encoder.weight", model.Scope("decoder.").LocalName(model["encoder.weight"]));
    }
}
