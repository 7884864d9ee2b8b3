using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// The refusals <see cref="BadInputTests"/> leaves open or checks only by argument name: the message of each (the formula
/// or shape the caller must supply, the axes of a non-finite value, the fix), truncated BPTT's own checks, the bad
/// recurrent dropout, and the exact edges: a buffer of exactly the needed length is accepted, one float shorter refused.
/// Shapes: T = 4, B = 3, I = 2, H = 5, L = 2.
/// </summary>
public sealed class LayerArgumentTests
{
    private const int T = 4, B = 3, I = 2, H = 5, L = 2;

    private static RecurrentNetwork<LstmCell> Lstm(bool bidirectional = false)
    {
        var network = new RecurrentNetwork<LstmCell>(new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, Layers = L, Bidirectional = bidirectional });
        network.Initialize(new Random(1));
        return network;
    }

    private static float[] Input() => NetworkFactory.RandomFloats(new Random(2), T * B * I);

    private static float[] State() => new float[L * B * H];

    private static void Contains(Exception error, params string[] parts)
    {
        foreach (var part in parts)
            Assert.True(error.Message.Contains(part, StringComparison.Ordinal), $"The message should contain \"{part}\" but is: {error.Message}");
    }

    // ---- RecurrentNetwork.Forward ----

    [Fact]
    public void Forward_RefusalMessages_NameTheShapeAndTheFix()
    {
        var network = Lstm();
        var output = new float[T * B * H];
        Contains(Assert.Throws<ArgumentOutOfRangeException>(() => network.Forward(Input(), 0, [], output)), "The batch size must be at least 1.");
        Contains(Assert.Throws<ArgumentException>(() => network.Forward(Input(), B, [], new float[T * B * H - 1])),
            $"output holds {T * B * H - 1} floats but T·B·D·H = {T * B * H} are needed");
        Contains(Assert.Throws<ArgumentException>(() => network.Forward(Input(), B, [], output, default, default, State(), default)),
            "An LSTM given initialHidden also needs initialCell (both [L·D, B, H]).");
        Contains(Assert.Throws<ArgumentException>(() => network.Forward(Input(), B, [], output, default, default, default, State())),
            "initialCell was given without initialHidden; give both [L·D, B, H] or neither.");
        float[] h0 = State(), c0 = State();
        h0[(1 * B + 2) * H + 4] = float.NaN;
        Contains(Assert.Throws<ArgumentException>(() => network.Forward(Input(), B, [], output, default, default, h0, c0)),
            "initialHidden[1, 2, 4] (layer·direction, sequence, unit)");
        h0[(1 * B + 2) * H + 4] = 0;
        c0[2] = float.PositiveInfinity;
        Contains(Assert.Throws<ArgumentException>(() => network.Forward(Input(), B, [], output, default, default, h0, c0)),
            "initialCell[0, 0, 2] (layer·direction, sequence, unit)");
    }

    [Theory]
    [InlineData("GRU")]
    [InlineData("RNN_TANH")]
    public void Forward_InitialCellForACellWithoutOne_IsRefused(string mode)
    {
        var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, Layers = L });
        var error = Assert.Throws<ArgumentException>(() => network.Forward(Input(), B, [], new float[T * B * H], default, default, State(), State()));
        Assert.Equal("initialCell", error.ParamName);
        Contains(error, $"initialCell was given, but a {(mode == "GRU" ? nameof(GruCell) : nameof(RnnCell))} has no cell state; pass it empty.");
        // Without it the same call runs.
        network.Forward(Input(), B, [], new float[T * B * H], default, default, State(), default);
    }

    // ---- RecurrentNetwork.Backward ----

    [Fact]
    public void Backward_RefusalMessages_NameTheShapeAndTheAxes()
    {
        var network = Lstm();
        network.Forward(Input(), B, [], new float[T * B * H], training: true);
        var gradient = new float[T * B * H];
        Contains(Assert.Throws<ArgumentException>(() => network.Backward(new float[T * B * H + 1])),
            $"outputGradient holds {T * B * H + 1} floats but T·B·D·H = {T * B * H} are needed");
        Contains(Assert.Throws<ArgumentException>(() => network.Backward(gradient, default, default, new float[T * B * I + 1])),
            $"inputGradient holds {T * B * I + 1} floats but [T, B, I] = {T * B * I} are needed");
        gradient[(2 * B + 1) * H + 3] = float.NaN;
        var nonFinite = Assert.Throws<ArgumentException>(() => network.Backward(gradient));
        Assert.Equal("outputGradient", nonFinite.ParamName);
        Contains(nonFinite, "outputGradient[2, 1, 3] (step, sequence, unit)");
        gradient[(2 * B + 1) * H + 3] = 0;
        float[] cellGradient = State();
        cellGradient[(1 * B + 0) * H + 1] = float.NegativeInfinity;
        var cell = Assert.Throws<ArgumentException>(() => network.Backward(gradient, State(), cellGradient));
        Assert.Equal("finalCellGradient", cell.ParamName);
        Contains(cell, "finalCellGradient[1, 0, 1] (layer·direction, sequence, unit)");
        float[] hiddenGradient = State();
        hiddenGradient[(0 * B + 2) * H + 4] = float.NaN;
        var hidden = Assert.Throws<ArgumentException>(() => network.Backward(gradient, hiddenGradient));
        Assert.Equal("finalHiddenGradient", hidden.ParamName);
        Contains(hidden, "finalHiddenGradient[0, 2, 4] (layer·direction, sequence, unit)");
    }

    [Fact]
    public void Backward_OnlyTheInitialCellGradientRequested_EqualsItWhenBothAreRequested()
    {
        var network = Lstm();
        float[] h0 = NetworkFactory.RandomFloats(new Random(3), L * B * H), c0 = NetworkFactory.RandomFloats(new Random(4), L * B * H);
        float[] outputGradient = NetworkFactory.RandomFloats(new Random(5), T * B * H);
        int[] lengths = [4, 2, 3];
        network.Forward(Input(), B, lengths, new float[T * B * H], default, default, h0, c0, training: true);
        float[] bothHidden = State(), bothCell = State();
        network.Backward(outputGradient, default, default, default, bothHidden, bothCell);
        Assert.Contains(bothCell, v => v != 0f);

        network.Forward(Input(), B, lengths, new float[T * B * H], default, default, h0, c0, training: true);
        float[] onlyCell = State();
        network.Backward(outputGradient, default, default, default, default, onlyCell);
        Assert.Equal(bothCell, onlyCell);
    }

    // ---- Truncated BPTT ----

    [Fact]
    public void Truncated_Refusals_NameTheArgumentAndTheFix()
    {
        var network = Lstm();
        float[] x = Input();
        TruncatedChunkGradient none = (_, _, _, _) => { };
        Assert.Equal("chunkGradient", Assert.Throws<ArgumentNullException>(() => network.BackpropagateTruncated(x, B, [], 2, null!)).ParamName);
        Contains(Assert.Throws<InvalidOperationException>(() => Lstm(bidirectional: true).BackpropagateTruncated(x, B, [], 2, none)),
            "Truncated BPTT needs a unidirectional network");

        var chunk = Assert.Throws<ArgumentOutOfRangeException>(() => network.BackpropagateTruncated(x, B, [], 0, none));
        Assert.Equal("chunkSteps", chunk.ParamName);
        Contains(chunk, "chunkSteps must be at least 1.");
        var batch = Assert.Throws<ArgumentOutOfRangeException>(() => network.BackpropagateTruncated(x, 0, [], 2, none));
        Assert.Equal("batch", batch.ParamName);
        Contains(batch, "The batch size must be at least 1.");

        foreach (int length in new[] { 0, T * B * I - 1 })
        {
            var input = Assert.Throws<ArgumentException>(() => network.BackpropagateTruncated(new float[length], B, [], 2, none));
            Assert.Equal("input", input.ParamName);
            Contains(input, $"input holds {length} floats, which is not T·B·I for B = {B}, I = {I}.");
        }

        var count = Assert.Throws<ArgumentException>(() => network.BackpropagateTruncated(x, B, [4, 4], 2, none));
        Assert.Equal("lengths", count.ParamName);
        Contains(count, $"lengths holds 2 values but the batch has B = {B} sequences.");
        foreach (var (lengths, bad) in new[] { (new[] { 4, T + 1, 2 }, "lengths[1] = 5"), (new[] { 4, 3, 0 }, "lengths[2] = 0") })
        {
            var range = Assert.Throws<ArgumentOutOfRangeException>(() => network.BackpropagateTruncated(x, B, lengths, 2, none));
            Assert.Equal("lengths", range.ParamName);
            Contains(range, $"{bad}, but every length must be in [1, {T}].");
        }
    }

    // ---- Options, layout, embedding names ----

    [Theory]
    [InlineData("InputSize", "InputSize must be at least 1.")]
    [InlineData("HiddenSize", "HiddenSize must be at least 1.")]
    [InlineData("Layers", "Layers must be at least 1.")]
    [InlineData("Dropout", "Dropout must be in [0, 1).")]
    [InlineData("RecurrentDropout", "RecurrentDropout must be in [0, 1).")]
    [InlineData("MaxDegreeOfParallelism", "MaxDegreeOfParallelism must be at least 1.")]
    public void OptionsValidate_MessageGivesTheValidRange(string option, string message)
    {
        var good = new RecurrentNetworkOptions { InputSize = 3, HiddenSize = 4 };
        var bad = option switch
        {
            "InputSize" => good with { InputSize = 0 },
            "HiddenSize" => good with { HiddenSize = -1 },
            "Layers" => good with { Layers = 0 },
            "Dropout" => good with { Dropout = 1f },
            "RecurrentDropout" => good with { RecurrentDropout = 1f },
            _ => good with { MaxDegreeOfParallelism = 0 },
        };
        var error = Assert.Throws<ArgumentOutOfRangeException>(bad.Validate);
        Assert.Equal(option, error.ParamName);
        Contains(error, message);
    }

    [Theory]
    [InlineData(23_170, 10, false, true)]   // 4·H² = 2,147,395,600: fits one array
    [InlineData(23_171, 10, false, false)]  // 4·H² = 2,147,580,964: does not
    [InlineData(int.MaxValue, 10, false, false)] // 4·H overflows an int
    [InlineData(16_384, 10, true, false)]   // 4·H·(2H) with both directions feeding the next layer
    [InlineData(100, 6_000_000, false, false)] // 4·H·I
    public void OptionsValidate_SizesWhoseWeightsCannotFitAnArray_AreRefusedNamingTheSizes(int hidden, int input, bool bidirectional, bool fits)
    {
        var options = new RecurrentNetworkOptions { InputSize = input, HiddenSize = hidden, Bidirectional = bidirectional };
        if (fits)
        {
            options.Validate();
            return;
        }
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal("HiddenSize", error.ParamName);
        Assert.StartsWith($"HiddenSize = {hidden} with InputSize = {input} makes a weight matrix of ", error.Message);
        Contains(error, "more than an array holds (2,147,483,591); use a smaller network.");
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1f)]
    [InlineData(float.NaN)]
    public void OptionsValidate_RecurrentDropoutOutsideZeroToOne_IsRefused(float value)
    {
        var options = new RecurrentNetworkOptions { InputSize = 3, HiddenSize = 4, RecurrentDropout = value };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RecurrentNetwork<GruCell>(options));
        Assert.Equal("RecurrentDropout", error.ParamName);
        Assert.Equal(value, error.ActualValue);
        (options with { RecurrentDropout = 0.999f }).Validate();
    }

    [Fact]
    public void SequenceLayout_NoSequence_MessageSaysSo()
    {
        var error = Assert.Throws<ArgumentException>(() => new SequenceLayout().Update([], 3));
        Contains(error, "The batch holds no sequence; give at least one.");
    }

    [Fact]
    public void Embedding_RegistersItsTableUnderItsName()
    {
        var parameters = new ParameterSet();
        var embedding = new Embedding(parameters, "tokens", 7, 3);
        Assert.Equal("tokens.weight", embedding.Weight.Name);
        Assert.True(parameters.Contains("tokens.weight"));
        Assert.Equal([7, 3], embedding.Weight.Shape);
    }

    // ---- Dense ----

    [Theory]
    [InlineData("input", "rows·A")]
    [InlineData("output", "rows·O")]
    [InlineData("outputGradient", "rows·O")]
    [InlineData("inputGradient", "rows·A")]
    public void DenseBackward_OneFloatShort_IsRefusedWithItsFormula_ExactLengthIsAccepted(string which, string formula)
    {
        const int rows = 3, A = 4, O = 2;
        var dense = new Dense(new ParameterSet(), "output", A, O, OutputActivation.Sigmoid);
        float[] Of(string name, int length) => new float[which == name ? length - 1 : length];
        dense.Backward(new float[rows * A], new float[rows * O], new float[rows * O], rows, new float[rows * A]);
        var error = Assert.Throws<ArgumentException>(() =>
            dense.Backward(Of("input", rows * A), Of("output", rows * O), Of("outputGradient", rows * O), rows, Of("inputGradient", rows * A)));
        Assert.Equal(which, error.ParamName);
        int needed = formula == "rows·A" ? rows * A : rows * O;
        Contains(error, $"{which} holds {needed - 1} floats but {formula} = {needed} are needed.");
    }

    [Fact]
    public void DenseBackward_NegativeRows_IsRefused()
    {
        var dense = new Dense(new ParameterSet(), "output", 4, 2, OutputActivation.Identity);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => dense.Backward(new float[8], new float[4], new float[4], -1, default));
        Assert.Equal("rows", error.ParamName);
    }
}
