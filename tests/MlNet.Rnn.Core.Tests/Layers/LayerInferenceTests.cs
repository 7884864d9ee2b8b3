using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// Inference outside the network's own buffers: <see cref="RecurrentNetwork{TCell}.Forward(RecurrentNetworkWorkspace, ReadOnlySpan{float}, int, ReadOnlySpan{int}, Span{float}, Span{float}, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/>
/// in a workspace of <see cref="RecurrentNetwork{TCell}.CreateWorkspace"/> reads the layers' shared packed weights and
/// equals the double-precision reference (dropout of either kind never applies, a length may be 0); after any write
/// through <see cref="ParameterSet.ValuesOf"/> or <see cref="ParameterSet.Values"/> the next call computes with the new
/// weights; a workspace of another network, or none, is refused. A <see cref="RecurrentLayer{TCell}"/> used on its own
/// computes the reference's layer with or without the final-state spans.
/// </summary>
public sealed class LayerInferenceTests
{
    private const int T = 6, B = 5, I = 3, H = 7;
    private static readonly int[] Lengths = [4, 6, 0, 2, 6];

    private static IRecurrentNetwork Network(string mode, float dropout = 0.5f, float recurrentDropout = 0.3f) =>
        NetworkFactory.Create(mode, new RecurrentNetworkOptions
        {
            InputSize = I, HiddenSize = H, Layers = 2, Bidirectional = true, Dropout = dropout, RecurrentDropout = recurrentDropout,
            MaxDegreeOfParallelism = 1, Seed = 4,
        });

    [Theory]
    [InlineData("LSTM")]
    [InlineData("GRU")]
    [InlineData("RNN_TANH")]
    public void WorkspaceInference_EqualsTheReferenceWithoutDropout_AndAcceptsAnEmptySequence(string mode)
    {
        var network = Network(mode);
        NetworkFactory.Randomize(network.Parameters, new Random(1), 0.6);
        var random = new Random(2);
        float[] x = NetworkFactory.RandomFloats(random, T * B * I);
        int stateLength = network.StateCount * B * H;
        float[] h0 = NetworkFactory.RandomFloats(random, stateLength);
        float[]? c0 = network.HasCellState ? NetworkFactory.RandomFloats(random, stateLength) : null;
        // A training pass first: its masks and dropout draws must not leak into inference.
        network.Forward(x, B, [4, 6, 1, 2, 6], new float[T * B * network.OutputSize], default, default, h0, c0, training: true);

        var workspace = network.CreateWorkspace(2);
        var output = new float[T * B * network.OutputSize];
        var finalHidden = new float[stateLength];
        var finalCell = new float[network.HasCellState ? stateLength : 0];
        network.Forward(workspace, x, B, Lengths, output, finalHidden, finalCell, h0, c0);

        var expected = NetworkFactory.ReferenceOf(mode, network).Forward(NetworkFactory.Widen(x), T, B, Lengths,
            NetworkFactory.Widen(h0), c0 is null ? null : NetworkFactory.Widen(c0));
        Tolerance.AssertClose(expected.Output, output, 1e-5, 1e-6, $"{mode}: output");
        Tolerance.AssertClose(expected.FinalHidden, finalHidden, 1e-5, 1e-6, $"{mode}: h_n");
        if (network.HasCellState) Tolerance.AssertClose(expected.FinalCell, finalCell, 1e-5, 1e-6, $"{mode}: c_n");
        // The empty sequence (index 2): zero output at every step, final state = initial state in every layer and direction.
        for (int t = 0; t < T; t++) Assert.All(output.AsSpan((t * B + 2) * network.OutputSize, network.OutputSize).ToArray(), v => Assert.Equal(0f, v));
        for (int s = 0; s < network.StateCount; s++)
            Assert.Equal(h0.AsSpan((s * B + 2) * H, H).ToArray(), finalHidden.AsSpan((s * B + 2) * H, H).ToArray());

        // The network's own inference pass gives the same numbers (lengths ≥ 1 there).
        int[] positive = [4, 6, 1, 2, 6];
        var own = new float[output.Length];
        network.Forward(x, B, positive, own, default, default, h0, c0);
        var inWorkspace = new float[output.Length];
        network.Forward(workspace, x, B, positive, inWorkspace, default, default, h0, c0);
        Assert.Equal(own, inWorkspace);

        // Inference keeps no training buffers in its workspace.
        foreach (var layer in workspace.Layers!)
            foreach (var direction in layer.Directions)
                Assert.True(direction.Cache.Length == 0 && direction.PreviousHidden.Length == 0 && direction.InputGateGradient.Length == 0,
                    "An inference workspace should not allocate what only backward needs.");
    }

    [Theory]
    [InlineData("values of one tensor")]
    [InlineData("all values")]
    public void WorkspaceInference_AfterAWeightWrite_UsesTheNewWeights(string how)
    {
        const string mode = "GRU";
        var network = Network(mode, 0f, 0f);
        NetworkFactory.Randomize(network.Parameters, new Random(1), 0.6);
        float[] x = NetworkFactory.RandomFloats(new Random(2), T * B * I);
        var workspace = network.CreateWorkspace();
        var other = network.CreateWorkspace();
        var output = new float[T * B * network.OutputSize];
        network.Forward(workspace, x, B, Lengths, output);
        network.Forward(other, x, B, Lengths, output);

        // Change W_hh and the recurrent bias of every layer (the packed parts), through the API under test.
        var random = new Random(3);
        foreach (var tensor in network.Parameters.Tensors.Where(t => t.Name.StartsWith("weight_hh") || t.Name.StartsWith("bias_hh")))
        {
            float[] values = NetworkFactory.RandomFloats(random, tensor.Length, 0.6);
            if (how == "all values") values.CopyTo(network.Parameters.Values.Slice(tensor.Offset, tensor.Length));
            else values.CopyTo(network.Parameters.ValuesOf(tensor));
        }
        var expected = NetworkFactory.ReferenceOf(mode, network).Forward(NetworkFactory.Widen(x), T, B, Lengths);
        network.Forward(workspace, x, B, Lengths, output);
        Tolerance.AssertClose(expected.Output, output, 1e-5, 1e-6, $"{how}: output after the write");
        // A second workspace, and a second call, read the same repacked weights.
        var again = new float[output.Length];
        network.Forward(other, x, B, Lengths, again);
        Assert.Equal(output, again);
        network.Forward(workspace, x, B, Lengths, again);
        Assert.Equal(output, again);
    }

    [Fact]
    public void WorkspaceOfAnotherNetwork_IsRefused()
    {
        var network = Network("LSTM");
        var twin = Network("LSTM");
        var error = Assert.Throws<ArgumentException>(() =>
            network.Forward(twin.CreateWorkspace(), new float[T * B * I], B, [], new float[T * B * network.OutputSize]));
        Assert.Equal("workspace", error.ParamName);
        Assert.Contains("another network", error.Message, StringComparison.Ordinal);
        Assert.Contains("CreateWorkspace", error.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<ArgumentNullException>(() =>
            network.Forward(null!, new float[T * B * I], B, [], new float[T * B * network.OutputSize]));
        Assert.Equal("workspace", missing.ParamName);
    }

    [Fact]
    public void CreateWorkspace_NonPositiveThreads_IsRefused()
    {
        var network = new RecurrentNetwork<GruCell>(new RecurrentNetworkOptions { InputSize = I, HiddenSize = H });
        Assert.Equal("maxDegreeOfParallelism", Assert.Throws<ArgumentOutOfRangeException>(() => network.CreateWorkspace(0)).ParamName);
        Assert.Equal("maxDegreeOfParallelism", Assert.Throws<ArgumentOutOfRangeException>(() => network.Layers[0].CreateWorkspace(-1)).ParamName);
    }

    // ---- A layer on its own ----

    /// <summary>A one-layer network's parameters in a layer of its own, the input packed by a <see cref="SequenceLayout"/>.</summary>
    private static (RecurrentLayer<LstmCell> Layer, SequenceLayout Layout, float[] Packed, double[] X, ReferenceNetwork Reference) LstmLayer(bool bidirectional)
    {
        var parameters = new ParameterSet();
        var layer = new RecurrentLayer<LstmCell>(parameters, default, 0, I, H, bidirectional, learnedInitialState: false) { MaxDegreeOfParallelism = 1 };
        NetworkFactory.Randomize(parameters, new Random(5), 0.6);
        var reference = new ReferenceNetwork("LSTM", I, H, 1, bidirectional);
        foreach (var tensor in parameters.Tensors) reference.Parameters[tensor.Name] = NetworkFactory.Widen(parameters.ValuesOf(tensor));
        float[] x = NetworkFactory.RandomFloats(new Random(6), T * B * I);
        var layout = new SequenceLayout();
        int[] lengths = [4, 6, 1, 2, 6];
        layout.Update(lengths, T);
        var packed = new float[layout.TotalRows * I];
        layout.Pack(x, I, packed);
        return (layer, layout, packed, NetworkFactory.Widen(x), reference);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LayerForward_WithoutFinalStateSpans_EqualsTheReference(bool training)
    {
        var (layer, layout, packed, x, reference) = LstmLayer(bidirectional: true);
        int[] lengths = [4, 6, 1, 2, 6];
        var output = new float[layout.TotalRows * layer.OutputSize];
        var finalHidden = new float[2 * B * H];
        layer.Forward(layout, packed, default, default, output, finalHidden, default, training);
        var expected = reference.Forward(x, T, B, lengths);
        var padded = new float[T * B * layer.OutputSize];
        layout.Unpack(output, layer.OutputSize, padded, T);
        Tolerance.AssertClose(expected.Output, padded, 1e-5, 1e-6, "output");
        var callerOrder = new float[finalHidden.Length];
        for (int d = 0; d < 2; d++) layout.Unsort(finalHidden.AsSpan(d * B * H, B * H), H, callerOrder.AsSpan(d * B * H, B * H));
        Tolerance.AssertClose(expected.FinalHidden, callerOrder, 1e-5, 1e-6, "h_n");

        layer.Forward(layout, packed, default, default, output, default, default, training);
        layout.Unpack(output, layer.OutputSize, padded, T);
        Tolerance.AssertClose(expected.Output, padded, 1e-5, 1e-6, "output without any final-state span");
    }

    [Fact]
    public void LayerForward_OutputExactlyLongEnough_IsAccepted_OneShorter_IsRefused()
    {
        var (layer, layout, packed, _, _) = LstmLayer(bidirectional: true);
        int needed = layout.TotalRows * layer.OutputSize;
        layer.Forward(layout, packed, default, default, new float[needed], default, default, training: false);
        var error = Assert.Throws<ArgumentException>(() => layer.Forward(layout, packed, default, default, new float[needed - 1], default, default, training: false));
        Assert.Equal("output", error.ParamName);
        Assert.Contains($"output holds {needed - 1} floats", error.Message, StringComparison.Ordinal);
        Assert.Contains($"N·D·H = {layout.TotalRows}·{layer.OutputSize} = {needed}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LayerForward_InitialStateExactlyLongEnough_IsAccepted_OneShorter_IsRefused()
    {
        var (layer, layout, packed, x, reference) = LstmLayer(bidirectional: true);
        int needed = 2 * B * H;
        float[] h0 = NetworkFactory.RandomFloats(new Random(7), needed), c0 = NetworkFactory.RandomFloats(new Random(8), needed);
        var output = new float[layout.TotalRows * layer.OutputSize];
        layer.Forward(layout, packed, h0, c0, output, default, default, training: false);
        foreach (string which in new[] { "initialHidden", "initialCell" })
        {
            float[] shorter = new float[needed - 1];
            var error = Assert.Throws<ArgumentException>(() => layer.Forward(layout, packed, which == "initialHidden" ? shorter : h0,
                which == "initialCell" ? shorter : c0, output, default, default, training: false));
            Assert.Contains($"An initial state holds {needed - 1} floats but D·B·H = 2·{B}·{H} = {needed} are needed", error.Message, StringComparison.Ordinal);
        }
        _ = x;
        _ = reference;
    }

    [Fact]
    public void LayerBackward_WithoutATrainingForward_IsRefused()
    {
        var (layer, layout, packed, _, _) = LstmLayer(bidirectional: false);
        int rows = layout.TotalRows;
        var before = Assert.Throws<InvalidOperationException>(() => layer.Backward(packed, new float[rows * H], default, default, default, default, default));
        Assert.Contains("Backward needs a Forward with training: true first.", before.Message, StringComparison.Ordinal);
        layer.Forward(layout, packed, default, default, new float[rows * H], default, default, training: false);
        var afterInference = Assert.Throws<InvalidOperationException>(() => layer.Backward(packed, new float[rows * H], default, default, default, default, default));
        Assert.Contains("Backward needs a Forward with training: true first.", afterInference.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LayerBackward_OutputGradientExactlyLongEnough_IsAccepted_OneShorter_IsRefused()
    {
        var (layer, layout, packed, _, _) = LstmLayer(bidirectional: true);
        int needed = layout.TotalRows * layer.OutputSize;
        layer.Forward(layout, packed, default, default, new float[needed], default, default, training: true);
        layer.Backward(packed, new float[needed], default, default, default, default, default);
        var error = Assert.Throws<ArgumentException>(() => layer.Backward(packed, new float[needed - 1], default, default, default, default, default));
        Assert.Equal("outputGradient", error.ParamName);
        Assert.Contains($"outputGradient holds {needed - 1} floats but N·D·H = {needed} are needed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LayerTrainingForward_WithRecurrentDropoutButNoMasksForThisBatch_IsRefused()
    {
        var (layer, layout, packed, _, _) = LstmLayer(bidirectional: false);
        layer.RecurrentDropout = 0.25f;
        var output = new float[layout.TotalRows * H];
        var error = Assert.Throws<InvalidOperationException>(() => layer.Forward(layout, packed, default, default, output, default, default, training: true));
        Assert.Contains("RecurrentDropout is 0.25: call SampleRecurrentMasks for this batch of 5", error.Message, StringComparison.Ordinal);
        layer.SampleRecurrentMasks(new Random(1), B + 1);
        Assert.Throws<InvalidOperationException>(() => layer.Forward(layout, packed, default, default, output, default, default, training: true));
        layer.SampleRecurrentMasks(new Random(1), B);
        layer.Forward(layout, packed, default, default, output, default, default, training: true);
        // Inference never needs masks.
        layer.Forward(layout, packed, default, default, output, default, default, training: false);
    }

    [Fact]
    public void LayerTrainingForward_OfOneSequence_WithRecurrentDropoutButNoMasksEverSampled_IsRefused()
    {
        var layer = new RecurrentLayer<GruCell>(new ParameterSet(), default, 0, I, H, false, false) { RecurrentDropout = 0.5f };
        var layout = new SequenceLayout();
        layout.Update([3], 3);
        var error = Assert.Throws<InvalidOperationException>(() =>
            layer.Forward(layout, new float[3 * I], default, default, new float[3 * H], default, default, training: true));
        Assert.Contains("call SampleRecurrentMasks for this batch of 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LayerConstructorAndMasks_BadArguments_AreRefused()
    {
        var parameters = new ParameterSet();
        Assert.Equal("inputSize", Assert.Throws<ArgumentOutOfRangeException>(() => new RecurrentLayer<GruCell>(parameters, default, 0, 0, 4, false, false)).ParamName);
        Assert.Equal("hiddenSize", Assert.Throws<ArgumentOutOfRangeException>(() => new RecurrentLayer<GruCell>(parameters, default, 0, 3, 0, false, false)).ParamName);
        Assert.Equal(0, parameters.Count);
        var layer = new RecurrentLayer<GruCell>(parameters, default, 0, 3, 4, false, false) { RecurrentDropout = 0.5f };
        Assert.Equal("random", Assert.Throws<ArgumentNullException>(() => layer.SampleRecurrentMasks(null!, 2)).ParamName);
    }

    [Theory]
    [InlineData("LSTM")]
    [InlineData("GRU")]
    public void SharedWeightInference_AtItsSteadyState_PacksNothingAgain_AndAllocatesNothing(string mode)
    {
        // The packed W_hh is built once per parameter version and kept: repacking on every call would allocate the packed
        // copy (here 2 layers × 2 directions × G·H·H floats) each time.
        const int T = 5, B = 3, I = 4, H = 16;
        var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, Layers = 2, Bidirectional = true });
        network.Initialize(new Random(1));
        float[] x = NetworkFactory.RandomFloats(new Random(2), T * B * I);
        var output = new float[T * B * network.OutputSize];
        var workspace = network.CreateWorkspace();
        network.Forward(workspace, x, B, [5, 3, 1], output);
        long fewest = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            network.Forward(workspace, x, B, [5, 3, 1], output);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.True(fewest < 1024, $"{mode}: an inference call at its steady state allocated {fewest} bytes");
    }
}
