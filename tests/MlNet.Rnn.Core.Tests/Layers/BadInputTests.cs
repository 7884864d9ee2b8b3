using System.Globalization;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// Every rejection path of the public core: the exception type, the argument it names, and a message that names the
/// position and the value, so a caller can find the bad row. Shapes used throughout: T = 4, B = 3, I = 2, H = 5, L = 2.
/// </summary>
public sealed class BadInputTests
{
    private const int T = 4, B = 3, I = 2, H = 5, L = 2;

    private static RecurrentNetwork<LstmCell> Lstm()
    {
        var network = new RecurrentNetwork<LstmCell>(new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, Layers = L });
        network.Initialize(new Random(1));
        return network;
    }

    private static float[] Input() => Enumerable.Range(0, T * B * I).Select(i => MathF.Sin(i)).ToArray();

    private static float[] Output() => new float[T * B * H];

    private static float[] State() => new float[L * B * H];

    private static void AssertMessageContains(Exception exception, params string[] parts)
    {
        foreach (var part in parts)
            Assert.True(exception.Message.Contains(part, StringComparison.Ordinal),
                $"The message should contain \"{part}\" but is: {exception.Message}");
    }

    // ---- RecurrentNetwork.Forward: shapes ----

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void Forward_NonPositiveBatch_Throws(int batch)
    {
        var network = Lstm();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => network.Forward(Input(), batch, [], Output()));
        Assert.Equal("batch", error.ParamName);
        Assert.Equal(batch, error.ActualValue);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(T * B * I - 1)]
    [InlineData(T * B * I + 1)]
    [InlineData(B * I + I)]
    public void Forward_InputNotAMultipleOfBatchTimesInputSize_Throws(int length)
    {
        var network = Lstm();
        var error = Assert.Throws<ArgumentException>(() => network.Forward(new float[length], B, [], new float[T * B * H]));
        Assert.Equal("input", error.ParamName);
        AssertMessageContains(error, $"{length} floats", $"B = {B}", $"I = {I}");
    }

    [Theory]
    [InlineData(T * B * H - 1)]
    [InlineData(T * B * H + 1)]
    [InlineData(T * B * 2 * H)]
    public void Forward_OutputOfWrongSize_Throws(int length)
    {
        var network = Lstm();
        var error = Assert.Throws<ArgumentException>(() => network.Forward(Input(), B, [], new float[length]));
        Assert.Equal("output", error.ParamName);
        AssertMessageContains(error, $"{length} floats", $"{T * B * H}");
    }

    [Theory]
    [InlineData("finalHidden")]
    [InlineData("finalCell")]
    [InlineData("initialHidden")]
    [InlineData("initialCell")]
    public void Forward_StateOfWrongSize_Throws(string which)
    {
        var network = Lstm();
        float[] wrong = new float[B * H], right = State();
        var error = Assert.Throws<ArgumentException>(() => network.Forward(Input(), B, [], Output(),
            which == "finalHidden" ? wrong : right, which == "finalCell" ? wrong : right,
            which == "initialHidden" ? wrong : right, which == "initialCell" ? wrong : right));
        Assert.Equal(which, error.ParamName);
        AssertMessageContains(error, $"{B * H} floats", $"{L * B * H}");
    }

    [Fact]
    public void Forward_LstmGivenInitialHiddenWithoutInitialCell_Throws()
    {
        var network = Lstm();
        var error = Assert.Throws<ArgumentException>(() => network.Forward(Input(), B, [], Output(), default, default, State(), default));
        Assert.Equal("initialCell", error.ParamName);
    }

    [Fact]
    public void Forward_LstmGivenInitialCellWithoutInitialHidden_Throws()
    {
        // Otherwise the given c0 is silently ignored and zeros (or the learned state) are used instead.
        var network = Lstm();
        float[] c0 = Enumerable.Repeat(0.5f, L * B * H).ToArray();
        var error = Assert.Throws<ArgumentException>(() => network.Forward(Input(), B, [], Output(), default, default, default, c0));
        Assert.Equal("initialHidden", error.ParamName);
    }

    // ---- RecurrentNetwork.Forward: lengths ----

    [Theory]
    [InlineData(new[] { 4, 5, 1 }, 1, 5)]
    [InlineData(new[] { 4, 4, 100 }, 2, 100)]
    [InlineData(new[] { 4, 0, 1 }, 1, 0)]
    [InlineData(new[] { -1, 4, 4 }, 0, -1)]
    [InlineData(new[] { 3, 2, int.MinValue }, 2, int.MinValue)]
    public void Forward_LengthOutsideOneToT_Throws(int[] lengths, int badIndex, int badValue)
    {
        var network = Lstm();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => network.Forward(Input(), B, lengths, Output()));
        Assert.Equal("lengths", error.ParamName);
        AssertMessageContains(error, $"lengths[{badIndex}] = {badValue}", $"[1, {T}]");
    }

    [Theory]
    [InlineData(new[] { 4, 4 })]
    [InlineData(new[] { 4, 4, 4, 4 })]
    [InlineData(new[] { 1 })]
    public void Forward_LengthsCountNotBatch_Throws(int[] lengths)
    {
        var network = Lstm();
        var error = Assert.Throws<ArgumentException>(() => network.Forward(Input(), B, lengths, Output()));
        Assert.Equal("lengths", error.ParamName);
        AssertMessageContains(error, $"{lengths.Length} values", $"B = {B}");
    }

    // ---- RecurrentNetwork.Forward: non-finite values ----

    [Theory]
    [InlineData(float.NaN, 2, 1, 1)]
    [InlineData(float.PositiveInfinity, 0, 0, 0)]
    [InlineData(float.NegativeInfinity, 3, 2, 1)]
    [InlineData(float.NaN, 3, 2, 1)]
    [InlineData(float.PositiveInfinity, 1, 2, 0)]
    public void Forward_NonFiniteInput_ThrowsNamingStepSequenceFeatureAndValue(float value, int step, int sequence, int feature)
    {
        var network = Lstm();
        float[] input = Input();
        input[(step * B + sequence) * I + feature] = value;
        // A later bad value must not hide the first one.
        if (step * B + sequence < T * B - 1) input[^1] = float.NaN;
        var error = Assert.Throws<ArgumentException>(() => network.Forward(input, B, [], Output(), training: true));
        Assert.Equal("input", error.ParamName);
        AssertMessageContains(error, $"input[{step}, {sequence}, {feature}]", "(step, sequence, feature)", Format(value));
    }

    [Theory]
    [InlineData("initialHidden", float.NaN)]
    [InlineData("initialCell", float.PositiveInfinity)]
    [InlineData("initialHidden", float.NegativeInfinity)]
    public void Forward_NonFiniteInitialState_ThrowsNamingStateSequenceUnitAndValue(string which, float value)
    {
        var network = Lstm();
        float[] h0 = State(), c0 = State();
        const int state = 1, sequence = 2, unit = 3;
        (which == "initialHidden" ? h0 : c0)[(state * B + sequence) * H + unit] = value;
        var error = Assert.Throws<ArgumentException>(() => network.Forward(Input(), B, [], Output(), default, default, h0, c0));
        Assert.Equal(which, error.ParamName);
        AssertMessageContains(error, $"{which}[{state}, {sequence}, {unit}]", Format(value));
        // The first index of a state is the layer·direction, not a time step.
        Assert.DoesNotContain("step", error.Message, StringComparison.Ordinal);
    }

    // ---- RecurrentNetwork.Backward ----

    [Fact]
    public void Backward_WithoutAnyForward_Throws()
    {
        var network = Lstm();
        var error = Assert.Throws<InvalidOperationException>(() => network.Backward(Output()));
        AssertMessageContains(error, "training: true");
    }

    [Fact]
    public void Backward_AfterInferenceForward_Throws()
    {
        var network = Lstm();
        network.Forward(Input(), B, [], Output());
        var error = Assert.Throws<InvalidOperationException>(() => network.Backward(Output()));
        AssertMessageContains(error, "training: true");
    }

    [Fact]
    public void Backward_AfterTrainingForwardFollowedByInferenceForward_Throws()
    {
        // The inference forward overwrote what backward needs.
        var network = Lstm();
        network.Forward(Input(), B, [], Output(), training: true);
        network.Forward(Input(), B, [], Output());
        var error = Assert.Throws<InvalidOperationException>(() => network.Backward(Output()));
        AssertMessageContains(error, "training: true");
    }

    [Theory]
    [InlineData(T * B * H - 1)]
    [InlineData(T * B * H + 1)]
    public void Backward_OutputGradientOfWrongSize_Throws(int length)
    {
        var network = Lstm();
        network.Forward(Input(), B, [], Output(), training: true);
        var error = Assert.Throws<ArgumentException>(() => network.Backward(new float[length]));
        Assert.Equal("outputGradient", error.ParamName);
        AssertMessageContains(error, $"{length} floats", $"{T * B * H}");
    }

    [Theory]
    [InlineData("finalHiddenGradient")]
    [InlineData("finalCellGradient")]
    [InlineData("initialHiddenGradient")]
    [InlineData("initialCellGradient")]
    public void Backward_StateGradientOfWrongSize_Throws(string which)
    {
        var network = Lstm();
        network.Forward(Input(), B, [], Output(), training: true);
        float[] wrong = new float[L * B * H + 1], right = State();
        var error = Assert.Throws<ArgumentException>(() => network.Backward(Output(),
            which == "finalHiddenGradient" ? wrong : right, which == "finalCellGradient" ? wrong : right, default,
            which == "initialHiddenGradient" ? wrong : right, which == "initialCellGradient" ? wrong : right));
        Assert.Equal(which, error.ParamName);
        AssertMessageContains(error, $"{L * B * H + 1} floats", $"{L * B * H}");
    }

    [Fact]
    public void Backward_InputGradientOfWrongSize_ThrowsWithItsOwnShape()
    {
        var network = Lstm();
        network.Forward(Input(), B, [], Output(), training: true);
        var error = Assert.Throws<ArgumentException>(() => network.Backward(Output(), default, default, new float[T * B * I - 1]));
        Assert.Equal("inputGradient", error.ParamName);
        AssertMessageContains(error, $"{T * B * I - 1} floats", $"{T * B * I}");
        // inputGradient is [T, B, I], not a state.
        Assert.DoesNotContain("[L·D, B, H]", error.Message, StringComparison.Ordinal);
    }

    // ---- SequenceLayout.Update ----

    [Fact]
    public void SequenceLayoutUpdate_NoSequence_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new SequenceLayout().Update([], 4));
        Assert.Equal("lengths", error.ParamName);
    }

    [Theory]
    [InlineData(new[] { 2, 5 }, false, 1, 5, "[1, 4]")]
    [InlineData(new[] { 0, 2 }, false, 0, 0, "[1, 4]")]
    [InlineData(new[] { 3, -1 }, false, 1, -1, "[1, 4]")]
    [InlineData(new[] { 3, -1 }, true, 1, -1, "[0, 4]")]
    [InlineData(new[] { 0, 9 }, true, 1, 9, "[0, 4]")]
    public void SequenceLayoutUpdate_LengthOutOfRange_Throws(int[] lengths, bool allowEmpty, int badIndex, int badValue, string range)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceLayout().Update(lengths, 4, allowEmpty));
        Assert.Equal("lengths", error.ParamName);
        AssertMessageContains(error, $"lengths[{badIndex}] = {badValue}", range);
    }

    [Fact]
    public void SequenceLayoutUpdate_ZeroLengthWithAllowEmpty_IsAccepted()
    {
        var layout = new SequenceLayout();
        layout.Update([0, 3, 0], 4, allowEmpty: true);
        Assert.Equal(3, layout.TotalRows);
        Assert.Equal([3, 0, 0], layout.SortedLengths.ToArray());
    }

    // ---- Embedding ----

    [Theory]
    [InlineData(new[] { 1, 2, 6 }, 2, 6)]
    [InlineData(new[] { -1, 2, 3 }, 0, -1)]
    [InlineData(new[] { 0, 1000, 3 }, 1, 1000)]
    [InlineData(new[] { 0, 5, int.MinValue }, 2, int.MinValue)]
    public void EmbeddingForward_IdOutsideVocabulary_ThrowsNamingPositionAndValue(int[] ids, int badIndex, int badValue)
    {
        var embedding = new Embedding(new ParameterSet(), "embedding", 6, 4);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => embedding.Forward(ids, new float[ids.Length * 4]));
        Assert.Equal("ids", error.ParamName);
        AssertMessageContains(error, $"ids[{badIndex}] = {badValue}", "[0, 5]");
    }

    [Fact]
    public void EmbeddingForward_OutputTooSmall_Throws()
    {
        var embedding = new Embedding(new ParameterSet(), "embedding", 6, 4);
        var error = Assert.Throws<ArgumentException>(() => embedding.Forward([1, 2, 3], new float[11]));
        Assert.Equal("output", error.ParamName);
        AssertMessageContains(error, "11 floats", "3·4");
    }

    [Fact]
    public void EmbeddingBackward_IdOutsideVocabulary_ThrowsNamingPositionAndValue()
    {
        var embedding = new Embedding(new ParameterSet(), "embedding", 6, 4);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => embedding.Backward([1, 7, 3], new float[12]));
        Assert.Equal("ids", error.ParamName);
        AssertMessageContains(error, "ids[1] = 7", "[0, 5]");
    }

    [Theory]
    [InlineData(11)]
    [InlineData(0)]
    public void EmbeddingBackward_OutputGradientTooSmall_Throws(int length)
    {
        var embedding = new Embedding(new ParameterSet(), "embedding", 6, 4);
        var error = Assert.Throws<ArgumentException>(() => embedding.Backward([1, 2, 3], new float[length]));
        Assert.Equal("outputGradient", error.ParamName);
        AssertMessageContains(error, $"{length}", "3·4");
    }

    [Theory]
    [InlineData(0, 4, "vocabularySize")]
    [InlineData(-3, 4, "vocabularySize")]
    [InlineData(6, 0, "dimension")]
    public void Embedding_NonPositiveSize_Throws(int vocabularySize, int dimension, string parameter)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Embedding(new ParameterSet(), "embedding", vocabularySize, dimension));
        Assert.Equal(parameter, error.ParamName);
    }

    // ---- Dense ----

    [Theory]
    [InlineData(0, 3, "inputSize")]
    [InlineData(-1, 3, "inputSize")]
    [InlineData(4, 0, "outputSize")]
    public void Dense_NonPositiveSize_Throws(int inputSize, int outputSize, string parameter)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Dense(new ParameterSet(), "output", inputSize, outputSize, OutputActivation.Identity));
        Assert.Equal(parameter, error.ParamName);
    }

    [Fact]
    public void DenseForward_InputTooSmall_Throws()
    {
        var dense = new Dense(new ParameterSet(), "output", 4, 3, OutputActivation.Softmax);
        var error = Assert.Throws<ArgumentException>(() => dense.Forward(new float[7], 2, new float[6]));
        Assert.Equal("input", error.ParamName);
        AssertMessageContains(error, "7 floats", "2·4");
    }

    [Fact]
    public void DenseForward_OutputTooSmall_Throws()
    {
        var dense = new Dense(new ParameterSet(), "output", 4, 3, OutputActivation.Sigmoid);
        var error = Assert.Throws<ArgumentException>(() => dense.Forward(new float[8], 2, new float[5]));
        Assert.Equal("output", error.ParamName);
        AssertMessageContains(error, "5 floats", "2·3");
    }

    [Fact]
    public void DenseForward_NegativeRows_Throws()
    {
        var dense = new Dense(new ParameterSet(), "output", 4, 3, OutputActivation.Identity);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => dense.Forward(new float[8], -1, new float[6]));
        Assert.Equal("rows", error.ParamName);
    }

    [Theory]
    [InlineData("input")]
    [InlineData("output")]
    [InlineData("outputGradient")]
    [InlineData("inputGradient")]
    public void DenseBackward_SpanTooSmall_ThrowsNamingIt(string which)
    {
        const int rows = 2, A = 4, O = 3;
        var dense = new Dense(new ParameterSet(), "output", A, O, OutputActivation.Softmax);
        float[] input = new float[which == "input" ? rows * A - 1 : rows * A];
        float[] output = new float[which == "output" ? rows * O - 1 : rows * O];
        float[] outputGradient = new float[which == "outputGradient" ? rows * O - 1 : rows * O];
        float[] inputGradient = new float[which == "inputGradient" ? rows * A - 1 : rows * A];
        var error = Assert.ThrowsAny<ArgumentException>(() => dense.Backward(input, output, outputGradient, rows, inputGradient));
        Assert.Equal(which, error.ParamName);
        AssertMessageContains(error, $"{(which.StartsWith("input") ? rows * A - 1 : rows * O - 1)}");
    }

    // ---- RecurrentNetworkOptions.Validate ----

    public static TheoryData<string, object> BadOptions() => new()
    {
        { "InputSize", 0 }, { "InputSize", -4 }, { "HiddenSize", 0 }, { "Layers", 0 }, { "Layers", -1 },
        { "Dropout", -0.1f }, { "Dropout", 1f }, { "Dropout", 1.5f }, { "Dropout", float.NaN }, { "Dropout", float.PositiveInfinity },
        { "MaxDegreeOfParallelism", 0 }, { "MaxDegreeOfParallelism", -2 },
    };

    private static RecurrentNetworkOptions OptionsWith(string option, object value)
    {
        var options = new RecurrentNetworkOptions { InputSize = 3, HiddenSize = 4, Layers = 2 };
        return option switch
        {
            "InputSize" => options with { InputSize = (int)value },
            "HiddenSize" => options with { HiddenSize = (int)value },
            "Layers" => options with { Layers = (int)value },
            "Dropout" => options with { Dropout = (float)value },
            "MaxDegreeOfParallelism" => options with { MaxDegreeOfParallelism = (int)value },
            _ => throw new ArgumentException($"Unknown option {option}.", nameof(option)),
        };
    }

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void OptionsValidate_BadValue_ThrowsNamingOptionAndValue(string option, object value)
    {
        var options = OptionsWith(option, value);
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(option, error.ParamName);
        Assert.Equal(value, error.ActualValue);
        AssertMessageContains(error, option);
        // The network constructor validates too.
        var fromConstructor = Assert.Throws<ArgumentOutOfRangeException>(() => new RecurrentNetwork<GruCell>(options));
        Assert.Equal(option, fromConstructor.ParamName);
    }

    [Fact]
    public void OptionsValidate_GoodValues_DoNotThrow()
    {
        new RecurrentNetworkOptions { InputSize = 1, HiddenSize = 1, Dropout = 0f, MaxDegreeOfParallelism = 1 }.Validate();
        new RecurrentNetworkOptions { InputSize = 1, HiddenSize = 1, Layers = 3, Dropout = 0.999f }.Validate();
    }

    [Fact]
    public void NetworkConstructor_NullOptions_Throws()
    {
        var error = Assert.Throws<ArgumentNullException>(() => new RecurrentNetwork<LstmCell>(null!));
        Assert.Equal("options", error.ParamName);
    }

    // ---- ParameterSet.Add ----

    [Fact]
    public void ParameterSetAdd_DuplicateName_Throws()
    {
        var parameters = new ParameterSet();
        parameters.Add("weight_ih_l0", 4, 3);
        var error = Assert.Throws<ArgumentException>(() => parameters.Add("weight_ih_l0", 2));
        Assert.Equal("name", error.ParamName);
        AssertMessageContains(error, "'weight_ih_l0'");
        Assert.Equal(12, parameters.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void ParameterSetAdd_NonPositiveDimension_Throws(int dimension)
    {
        var parameters = new ParameterSet();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => parameters.Add("bias_ih_l0", 4, dimension));
        Assert.Equal("shape", error.ParamName);
        AssertMessageContains(error, "'bias_ih_l0'", $"dimension {dimension}");
        Assert.Equal(0, parameters.Count);
        Assert.False(parameters.Contains("bias_ih_l0"));
    }

    [Theory]
    [InlineData(65536, 65536)]
    [InlineData(50000, 50000)]
    public void ParameterSetAdd_ElementCountOverflowingInt_Throws(int rows, int columns)
    {
        // 65536·65536 wraps to 0 and 50000·50000 to a negative count in 32-bit arithmetic.
        var parameters = new ParameterSet();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => parameters.Add("huge", rows, columns));
        Assert.Equal("shape", error.ParamName);
        AssertMessageContains(error, "'huge'");
        Assert.Equal(0, parameters.Count);
    }

    // ---- Adam ----

    [Fact]
    public void Adam_NullParameters_Throws()
    {
        var error = Assert.Throws<ArgumentNullException>(() => new Adam(null!));
        Assert.Equal("parameters", error.ParamName);
    }

    public static TheoryData<string, float> BadAdamArguments() => new()
    {
        { "learningRate", 0f }, { "learningRate", -1e-3f }, { "learningRate", float.NaN },
        { "beta1", -0.1f }, { "beta1", 1f }, { "beta1", float.NaN },
        { "beta2", -0.5f }, { "beta2", 1f }, { "beta2", float.NaN },
        { "epsilon", -1e-8f }, { "epsilon", float.NaN },
    };

    [Theory]
    [MemberData(nameof(BadAdamArguments))]
    public void Adam_BadHyperparameter_ThrowsNamingItAndValue(string argument, float value)
    {
        var parameters = new ParameterSet();
        parameters.Add("w", 3);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _ = argument switch
        {
            "learningRate" => new Adam(parameters, learningRate: value),
            "beta1" => new Adam(parameters, beta1: value),
            "beta2" => new Adam(parameters, beta2: value),
            "epsilon" => new Adam(parameters, epsilon: value),
            _ => throw new ArgumentException($"Unknown argument {argument}.", nameof(argument)),
        });
        Assert.Equal(argument, error.ParamName);
        Assert.Equal(value, error.ActualValue);
    }

    /// <summary>How a float appears in a message (the messages interpolate with the current culture).</summary>
    private static string Format(float value) => value.ToString(CultureInfo.CurrentCulture);
}
