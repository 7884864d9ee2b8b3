using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Training;

/// <summary>
/// Proves the argument checks of <see cref="Initialization"/>: null and out-of-range arguments are refused by name with a
/// message saying what is wrong, a parameter set without the tensors an initialisation targets is refused naming the
/// pattern it looked for, and the smallest valid hidden size (1) is accepted by every initialisation that takes one.
/// </summary>
public sealed class InitializationArgumentTests
{
    private static ParameterSet Set(params (string Name, int[] Shape)[] tensors)
    {
        var parameters = new ParameterSet();
        foreach (var (name, shape) in tensors) parameters.Add(name, shape);
        return parameters;
    }

    private static ParameterSet DenseOnly() => Set(("dense.weight", [2, 3]), ("dense.bias", [2]));

    [Fact]
    public void Xavier_NullArguments_AreRefusedByName()
    {
        var parameters = Set(("weight_ih_l0", [4, 3]));
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => Initialization.Xavier(null!, new Random(1))).ParamName);
        Assert.Equal("random", Assert.Throws<ArgumentNullException>(() => Initialization.Xavier(parameters, null!)).ParamName);
    }

    [Fact]
    public void ForgetGateBias_NullParameters_IsRefusedByName() =>
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => Initialization.ForgetGateBias(null!, 2)).ParamName);

    [Fact]
    public void ForgetGateBias_BadHiddenSizeOrValue_IsRefusedByNameWithItsRule()
    {
        var parameters = Set(("bias_ih_l0", [8]), ("bias_hh_l0", [8]));
        var hidden = Assert.Throws<ArgumentOutOfRangeException>(() => Initialization.ForgetGateBias(parameters, 0));
        Assert.Equal("hiddenSize", hidden.ParamName);
        Assert.Contains("hiddenSize must be ≥ 1", hidden.Message);
        var value = Assert.Throws<ArgumentOutOfRangeException>(() => Initialization.ForgetGateBias(parameters, 2, float.NaN));
        Assert.Equal("value", value.ParamName);
        Assert.Contains("must be finite", value.Message);
    }

    [Fact]
    public void ForgetGateBias_HiddenSizeOne_SetsTheSecondEntryOfEachBias()
    {
        var parameters = Set(("bias_ih_l0", [4]), ("bias_hh_l0", [4]));
        parameters.Values.Fill(5);
        Initialization.ForgetGateBias(parameters, 1, 2.5f);
        Assert.Equal([5f, 2.5f, 5f, 5f, 5f, 0f, 5f, 5f], parameters.Values.ToArray());
    }

    [Fact]
    public void ForgetGateBias_BiasOfAnotherLength_NamesFourTimesH()
    {
        var parameters = Set(("bias_ih_l0", [6]));
        var error = Assert.Throws<ArgumentException>(() => Initialization.ForgetGateBias(parameters, 2));
        Assert.Equal("parameters", error.ParamName);
        Assert.Contains("holds 6 values, not 4·H = 8", error.Message);
    }

    [Fact]
    public void Orthogonal_BlockOfAnotherShape_NamesTheShape()
    {
        var parameters = Set(("weight_hh_l0", [6, 2]));
        var error = Assert.Throws<ArgumentException>(() => Initialization.Orthogonal(parameters, new Random(1), 3));
        Assert.Equal("hiddenSize", error.ParamName);
        Assert.Contains("has shape [6, 2], not [G·H, H] for H = 3", error.Message);
    }

    [Fact]
    public void HiddenSizeAndGain_AreRefusedWithTheirRule()
    {
        var parameters = Set(("weight_hh_l0", [4, 2]));
        var hidden = Assert.Throws<ArgumentOutOfRangeException>(() => Initialization.PyTorchDefault(parameters, new Random(1), 0));
        Assert.Equal("hiddenSize", hidden.ParamName);
        Assert.Contains("hiddenSize must be ≥ 1", hidden.Message);
        var gain = Assert.Throws<ArgumentOutOfRangeException>(() => Initialization.Orthogonal(parameters, new Random(1), 2, gain: 0f));
        Assert.Equal("gain", gain.ParamName);
        Assert.Contains("gain must be a finite number > 0", gain.Message);
    }

    [Fact]
    public void EveryInitialization_OfASetWithoutItsTensors_IsRefusedNamingThePattern()
    {
        void Refused(Action initialise, string pattern)
        {
            var error = Assert.Throws<ArgumentException>(initialise);
            Assert.Equal("parameters", error.ParamName);
            Assert.Contains($"has no tensor named {pattern}", error.Message);
            Assert.Contains("dense.weight, dense.bias", error.Message);
        }
        Refused(() => Initialization.PyTorchDefault(DenseOnly(), new Random(1), 2), "weight_ih_l*, weight_hh_l*, bias_ih_l* or bias_hh_l*");
        Refused(() => Initialization.Xavier(DenseOnly(), new Random(1)), "weight_ih_l*");
        Refused(() => Initialization.Orthogonal(DenseOnly(), new Random(1), 2), "weight_hh_l*");
        Refused(() => Initialization.ForgetGateBias(DenseOnly(), 2), "bias_ih_l* or bias_hh_l*");
    }

    [Fact]
    public void EveryInitialization_OfASetWithItsTensors_WritesThem()
    {
        var parameters = Set(("weight_ih_l0", [4, 3]), ("weight_hh_l0", [4, 2]), ("bias_ih_l0", [8]), ("bias_hh_l0", [8]));
        parameters.Values.Fill(7);
        Initialization.Xavier(parameters, new Random(1));
        Assert.All(parameters.ValuesOf(parameters["weight_ih_l0"]).ToArray(), v => Assert.InRange(v, -1.1f, 1.1f));
        Initialization.Orthogonal(parameters, new Random(1), 2);
        Assert.All(parameters.ValuesOf(parameters["weight_hh_l0"]).ToArray(), v => Assert.InRange(v, -1f, 1f));
        Initialization.ForgetGateBias(parameters, 2, 3f);
        Assert.Equal([7f, 7f, 3f, 3f, 7f, 7f, 7f, 7f], parameters.ValuesOf(parameters["bias_ih_l0"]).ToArray());
        Initialization.PyTorchDefault(parameters, new Random(1), 2);
        Assert.All(parameters.Values.ToArray(), v => Assert.InRange(v, -1 / MathF.Sqrt(2), 1 / MathF.Sqrt(2)));
    }

    [Fact]
    public void PyTorchDefaultAndOrthogonal_NullArgumentsOrZeroHiddenSize_AreRefusedByName()
    {
        var parameters = Set(("weight_ih_l0", [4, 3]), ("weight_hh_l0", [4, 2]));
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => Initialization.PyTorchDefault(null!, new Random(1), 2)).ParamName);
        Assert.Equal("random", Assert.Throws<ArgumentNullException>(() => Initialization.PyTorchDefault(parameters, null!, 2)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => Initialization.Orthogonal(null!, new Random(1), 2)).ParamName);
        Assert.Equal("random", Assert.Throws<ArgumentNullException>(() => Initialization.Orthogonal(parameters, null!, 2)).ParamName);
        var hidden = Assert.Throws<ArgumentOutOfRangeException>(() => Initialization.Orthogonal(parameters, new Random(1), 0));
        Assert.Equal("hiddenSize", hidden.ParamName);
        Assert.Contains("hiddenSize must be ≥ 1", hidden.Message);
    }

    [Fact]
    public void PyTorchDefaultAndOrthogonal_HiddenSizeOne_AreAccepted()
    {
        // H = 1: PyTorch's bound 1/√1 = 1, so the values are the draws 2u − 1 themselves; each 1×1 orthogonal block is ±1.
        var parameters = Set(("weight_ih_l0", [3, 2]), ("weight_hh_l0", [3, 1]));
        Initialization.PyTorchDefault(parameters, new Random(4), 1);
        var random = new Random(4);
        Assert.Equal(Enumerable.Range(0, 9).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), parameters.Values.ToArray());
        Initialization.Orthogonal(parameters, new Random(4), 1, gain: 2f);
        Assert.All(parameters.ValuesOf(parameters["weight_hh_l0"]).ToArray(), v => Assert.Equal(2f, MathF.Abs(v)));
    }
}
