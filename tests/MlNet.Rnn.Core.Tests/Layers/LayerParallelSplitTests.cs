using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// The batch split of a recurrent layer across threads (each worker runs the whole time loop for a contiguous range of
/// sorted sequences) on passes large enough to be split (at least <see cref="RecurrentLayer{TCell}.ParallelThresholdFlops"/>
/// of recurrent products): with 2, 3, 4 or 8 threads, variable lengths (so later chunks run out of rows before the first),
/// uni- and bidirectional, LSTM, GRU and RNN, with and without recurrent dropout and given or learned initial states, the
/// outputs, final states and every gradient (parameters, input, initial states) are bit-identical to one thread, the
/// outputs and final states agree with the double-precision <see cref="ReferenceNetwork"/>, and the gradient agrees
/// with a central difference of the reference along one random direction of every parameter, input and initial state.
/// The chunk bounds themselves (internal) split the sorted rows by accumulated length, one chunk for a small pass.
/// </summary>
public sealed class LayerParallelSplitTests
{
    private const long Threshold = RecurrentLayer<LstmCell>.ParallelThresholdFlops;

    /// <summary>Recurrent-product flops of one pass, as the layer counts them.</summary>
    private static long Flops(string mode, int hiddenSize, bool bidirectional, int rows) =>
        (long)rows * 2 * ReferenceNetwork.GatesOf(mode) * hiddenSize * hiddenSize * (bidirectional ? 2 : 1);

    public static TheoryData<string, bool, int, float, string> Cases() => new()
    {
        // One sequence longer than a quarter of all rows: the first chunk bound falls after the first sequence.
        { "LSTM", false, 64, 0f, "given" },
        { "LSTM", false, 64, 0.3f, "learned" },
        { "GRU", true, 64, 0f, "given" },
        { "RNN_TANH", true, 96, 0.25f, "zeros" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SplitBatch_IsBitIdenticalToOneThread_AndMatchesTheReference(string mode, bool bidirectional, int H, float recurrentDropout, string initialState)
    {
        const int I = 3, B = 16;
        var random = new Random(mode.Length * 7 + H);
        int[] lengths = Lengths(mode, H, bidirectional, B, random, out int T);
        Assert.True(Flops(mode, H, bidirectional, lengths.Sum()) >= Threshold, "The pass must be large enough to be split across threads.");
        float[] x = NetworkFactory.RandomFloats(random, T * B * I, 1.5);
        float[] parameterValues = [];
        Run Build(int threads)
        {
            var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions
            {
                InputSize = I, HiddenSize = H, Bidirectional = bidirectional, RecurrentDropout = recurrentDropout,
                LearnedInitialState = initialState == "learned", Seed = 5, MaxDegreeOfParallelism = threads,
            });
            if (parameterValues.Length == 0)
            {
                network.Initialize(new Random(2));
                foreach (var tensor in network.Parameters.Tensors)
                    if (tensor.Name.StartsWith("h0_", StringComparison.Ordinal) || tensor.Name.StartsWith("c0_", StringComparison.Ordinal))
                        NetworkFactory.RandomFloats(new Random(3), tensor.Length, 0.5).CopyTo(network.Parameters.ValuesOf(tensor));
                parameterValues = network.Parameters.Values.ToArray();
            }
            parameterValues.CopyTo(network.Parameters.Values);
            return new Run(network);
        }

        int stateLength = (bidirectional ? 2 : 1) * B * H;
        var probe = new ProbeLoss(new Random(9), T * B * (bidirectional ? 2 : 1) * H, stateLength);
        float[]? h0 = initialState == "given" ? NetworkFactory.RandomFloats(new Random(10), stateLength) : null;
        float[]? c0 = initialState == "given" && mode == "LSTM" ? NetworkFactory.RandomFloats(new Random(11), stateLength) : null;

        var single = Build(1);
        single.TrainingPass(x, B, lengths, h0, c0, probe);
        int[] threadCounts = bidirectional ? [4, 8] : [2, 3, 4];
        Run last = single;
        foreach (int threads in threadCounts)
        {
            last = Build(threads);
            last.TrainingPass(x, B, lengths, h0, c0, probe);
            string what = $"{mode} D={(bidirectional ? 2 : 1)} {threads} threads";
            Assert.Equal(single.Output, last.Output);
            Assert.Equal(single.FinalHidden, last.FinalHidden);
            Assert.Equal(single.FinalCell, last.FinalCell);
            Assert.Equal(single.InputGradient, last.InputGradient);
            Assert.Equal(single.InitialHiddenGradient, last.InitialHiddenGradient);
            Assert.Equal(single.InitialCellGradient, last.InitialCellGradient);
            foreach (var tensor in single.Network.Parameters.Tensors)
                Assert.True(single.Network.Parameters.GradientsOf(tensor).SequenceEqual(last.Network.Parameters.GradientsOf(tensor)),
                    $"{what}: d{tensor.Name} differs from one thread's.");
        }

        // The split run against the reference, which replays its recurrent-dropout masks.
        var reference = NetworkFactory.ReferenceOf(mode, last.Network);
        DropoutMasks.Replay(last.Network, reference, T, B);
        double[] xd = NetworkFactory.Widen(x);
        double[]? h0d = h0 is null ? null : NetworkFactory.Widen(h0), c0d = c0 is null ? null : NetworkFactory.Widen(c0);
        var expected = reference.Forward(xd, T, B, lengths, h0d, c0d);
        Tolerance.AssertClose(expected.Output, last.Output, 1e-4, 1e-5, $"{mode}: output");
        Tolerance.AssertClose(expected.FinalHidden, last.FinalHidden, 1e-4, 1e-5, $"{mode}: h_n");
        if (mode == "LSTM") Tolerance.AssertClose(expected.FinalCell, last.FinalCell, 1e-4, 1e-5, $"{mode}: c_n");

        // dL along a random ±1 direction u of every parameter, input and given initial state: Σ gradient·u against
        // (L(θ + εu) − L(θ − εu)) / 2ε on the reference.
        var directionRandom = new Random(12);
        double[] Direction(int length) => Enumerable.Range(0, length).Select(_ => directionRandom.Next(2) * 2.0 - 1).ToArray();
        var parameterDirections = last.Network.Parameters.Tensors.ToDictionary(t => t.Name, t => Direction(t.Length));
        double[] xDirection = Direction(xd.Length);
        double[]? h0Direction = h0d is null ? null : Direction(h0d.Length), c0Direction = c0d is null ? null : Direction(c0d.Length);
        double analytic = 0, magnitude = 0;
        void Add(ReadOnlySpan<float> gradient, double[] direction)
        {
            for (int i = 0; i < gradient.Length; i++)
            {
                analytic += gradient[i] * direction[i];
                magnitude += Math.Abs(gradient[i]);
            }
        }
        foreach (var tensor in last.Network.Parameters.Tensors) Add(last.Network.Parameters.GradientsOf(tensor), parameterDirections[tensor.Name]);
        Add(last.InputGradient, xDirection);
        if (h0Direction is not null) Add(last.InitialHiddenGradient, h0Direction);
        if (c0Direction is not null) Add(last.InitialCellGradient, c0Direction);

        const double step = 1e-5;
        double LossAt(double epsilon)
        {
            var shifted = NetworkFactory.ReferenceOf(mode, last.Network);
            for (int l = 0; l < reference.Layers; l++) shifted.RecurrentMasks[l] = reference.RecurrentMasks[l];
            foreach (var (name, values) in shifted.Parameters)
                for (int i = 0; i < values.Length; i++) values[i] += epsilon * parameterDirections[name][i];
            static double[]? Shift(double[]? values, double[]? direction, double epsilon) =>
                values is null ? null : values.Select((v, i) => v + epsilon * direction![i]).ToArray();
            return probe.Of(shifted.Forward(Shift(xd, xDirection, epsilon)!, T, B, lengths, Shift(h0d, h0Direction, epsilon), Shift(c0d, c0Direction, epsilon)),
                mode == "LSTM");
        }
        double numerical = (LossAt(step) - LossAt(-step)) / (2 * step);
        Assert.True(Math.Abs(numerical - analytic) <= 1e-5 * magnitude + 1e-3,
            $"{mode}: the gradient along a random direction is {analytic}, central differences of the reference give {numerical} (Σ|g| = {magnitude}).");
    }

    /// <summary>
    /// B lengths between T/8 and T, with enough rows to pass the threshold; for the unidirectional LSTM the first sequence
    /// is longer than a quarter of all rows, so with four chunks the first bound falls right after it.
    /// </summary>
    private static int[] Lengths(string mode, int H, bool bidirectional, int B, Random random, out int T)
    {
        long perRow = Flops(mode, H, bidirectional, 1);
        int rows = (int)((Threshold + perRow - 1) / perRow);
        int average = rows / B + 8;
        T = 2 * average;
        int steps = T;
        var lengths = Enumerable.Range(0, B).Select(_ => steps / 8 + random.Next(steps - steps / 8 + 1)).ToArray();
        lengths[random.Next(B)] = T;
        if (mode == "LSTM" && !bidirectional)
        {
            T = rows / 2;
            lengths[0] = T;
        }
        while (lengths.Sum() < rows) lengths[Array.IndexOf(lengths, lengths.Min())] = T;
        return lengths;
    }

    /// <summary>One training forward and backward of a network with the probe loss, everything it returned kept.</summary>
    private sealed class Run(IRecurrentNetwork network)
    {
        public IRecurrentNetwork Network { get; } = network;
        public float[] Output = [], FinalHidden = [], FinalCell = [], InputGradient = [], InitialHiddenGradient = [], InitialCellGradient = [];

        public void TrainingPass(float[] x, int batch, int[] lengths, float[]? h0, float[]? c0, ProbeLoss probe)
        {
            int stateLength = Network.StateCount * batch * Network.Options.HiddenSize;
            bool hasCell = Network.HasCellState;
            Output = new float[x.Length / (batch * Network.Options.InputSize) * batch * Network.OutputSize];
            FinalHidden = new float[stateLength];
            FinalCell = new float[hasCell ? stateLength : 0];
            Network.Parameters.ZeroGradients();
            Network.Forward(x, batch, lengths, Output, FinalHidden, FinalCell, h0, c0, training: true);
            InputGradient = new float[x.Length];
            InitialHiddenGradient = new float[h0 is null ? 0 : stateLength];
            InitialCellGradient = new float[c0 is null ? 0 : stateLength];
            Network.Backward(probe.OutputWeights, probe.HiddenWeights, hasCell ? probe.CellWeights : default, InputGradient,
                InitialHiddenGradient, InitialCellGradient);
        }
    }

    // ---- The chunk bounds (internal): by accumulated real steps, one chunk below the threshold ----

    /// <summary>
    /// LSTM, H = 64: a row costs 2·4H·H = 2¹⁵ flops, so 128 rows (64 when bidirectional) are exactly the 4 MFLOP threshold.
    /// Expected bounds: chunk k ends after the first sorted sequence whose accumulated length reaches k/chunks of all rows.
    /// </summary>
    [Theory]
    [InlineData(false, 4, 16, 8, 0, new[] { 0, 4, 8, 12, 16 })]       // exactly the threshold: split, bounds at exact quarters
    [InlineData(false, 4, 16, 8, 1, new[] { 0, 16 })]                 // one row less: small, one chunk
    [InlineData(false, 3, 16, 8, 0, new[] { 0, 6, 11, 16 })]          // 16·8·k/3 rows reached after 6 and 11 sequences
    [InlineData(false, 4, 4, 32, 0, new[] { 0, 4 })]                  // at most B/4 chunks: 4 sequences make one chunk
    [InlineData(false, 2, 16, 8, 0, new[] { 0, 8, 16 })]
    [InlineData(true, 4, 16, 4, 0, new[] { 0, 8, 16 })]               // two directions share four threads: two chunks
    [InlineData(true, 4, 16, 4, 1, new[] { 0, 16 })]
    [InlineData(true, 1, 16, 4, 0, new[] { 0, 16 })]                  // one thread: one chunk
    public void ChunkBounds_SplitSortedRowsByAccumulatedLength(bool bidirectional, int threads, int B, int T, int shortenLast, int[] expected)
    {
        const int I = 2, H = 64;
        var network = new RecurrentNetwork<LstmCell>(new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, Bidirectional = bidirectional });
        network.Initialize(new Random(1));
        int[] lengths = Enumerable.Repeat(T, B).ToArray();
        lengths[^1] -= shortenLast;
        Assert.Equal(shortenLast == 0, Flops("LSTM", H, bidirectional, lengths.Sum()) >= Threshold);
        var workspace = network.CreateWorkspace(threads);
        float[] x = NetworkFactory.RandomFloats(new Random(2), T * B * I);
        var output = new float[T * B * network.OutputSize];
        network.Forward(workspace, x, B, lengths, output);
        Assert.Equal(expected, workspace.Layers![0].ChunkBounds.AsSpan(0, expected.Length).ToArray());

        // The same rows through one thread give the same output.
        var one = new float[output.Length];
        network.Forward(network.CreateWorkspace(1), x, B, lengths, one);
        Assert.Equal(one, output);
    }

    [Fact]
    public void ChunkBounds_VariableLengths_FollowTheSortedAccumulatedLengths()
    {
        // Sorted lengths 900, 400, 300, 200, 100 ×12 (total 3000): a third is 1000 rows, reached after 2 sequences
        // (1300), two thirds 2000 after 4 + 2 = 6 sequences (1800 + 200); the last bound is B.
        const int I = 2, H = 64, B = 16;
        int[] lengths = [100, 400, 100, 900, 100, 100, 300, 100, 100, 200, 100, 100, 100, 100, 100, 100];
        var network = new RecurrentNetwork<LstmCell>(new RecurrentNetworkOptions { InputSize = I, HiddenSize = H });
        network.Initialize(new Random(1));
        var workspace = network.CreateWorkspace(3);
        float[] x = NetworkFactory.RandomFloats(new Random(2), 900 * B * I);
        var output = new float[900 * B * H];
        network.Forward(workspace, x, B, lengths, output);
        Assert.Equal([0, 2, 6, 16], workspace.Layers![0].ChunkBounds.AsSpan(0, 4).ToArray());
        var one = new float[output.Length];
        network.Forward(network.CreateWorkspace(1), x, B, lengths, one);
        Assert.Equal(one, output);
    }
}
