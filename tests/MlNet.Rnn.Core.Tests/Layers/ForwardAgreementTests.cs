using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>The fast network (float, packed, GEMM, threads) against the double-precision reference.</summary>
public sealed class ForwardAgreementTests
{
    public static TheoryData<string, int, bool, bool, bool> Cases()
    {
        var data = new TheoryData<string, int, bool, bool, bool>();
        foreach (var mode in NetworkFactory.Modes)
            foreach (int layers in new[] { 1, 2 })
                foreach (bool bidirectional in new[] { false, true })
                    foreach (bool variable in new[] { false, true })
                        foreach (bool learned in new[] { false, true })
                            data.Add(mode, layers, bidirectional, variable, learned);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesReference(string mode, int layers, bool bidirectional, bool variableLengths, bool learnedInitialState)
    {
        const int T = 7, B = 5, I = 3, H = 17;
        var random = new Random(11);
        var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions
        {
            InputSize = I, HiddenSize = H, Layers = layers, Bidirectional = bidirectional, LearnedInitialState = learnedInitialState,
        });
        network.Initialize(random);
        if (learnedInitialState)
            foreach (var tensor in network.Parameters.Tensors)
                if (tensor.Name.StartsWith("h0_") || tensor.Name.StartsWith("c0_"))
                    NetworkFactory.RandomFloats(random, tensor.Length).CopyTo(network.Parameters.ValuesOf(tensor));
        var reference = NetworkFactory.ReferenceOf(mode, network);
        float[] x = NetworkFactory.RandomFloats(random, T * B * I, 2);
        int[]? lengths = variableLengths ? [4, 7, 1, 6, 4] : null;

        var output = new float[T * B * network.OutputSize];
        var finalHidden = new float[network.StateCount * B * H];
        var finalCell = new float[network.StateCount * B * H];
        network.Forward(x, B, lengths ?? [], output, finalHidden, network.HasCellState ? finalCell : default);
        var expected = reference.Forward(NetworkFactory.Widen(x), T, B, lengths);

        Tolerance.AssertClose(expected.Output, output, 1e-5, 1e-6, $"{mode} output");
        Tolerance.AssertClose(expected.FinalHidden, finalHidden, 1e-5, 1e-6, $"{mode} h_n");
        if (network.HasCellState) Tolerance.AssertClose(expected.FinalCell, finalCell, 1e-5, 1e-6, $"{mode} c_n");
    }

    [Theory]
    [InlineData("LSTM")]
    [InlineData("GRU")]
    [InlineData("RNN_TANH")]
    public void Forward_GivenInitialState_MatchesReference(string mode)
    {
        const int T = 6, B = 4, I = 5, H = 33;
        var random = new Random(5);
        var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, Layers = 2, Bidirectional = true });
        network.Initialize(random);
        var reference = NetworkFactory.ReferenceOf(mode, network);
        float[] x = NetworkFactory.RandomFloats(random, T * B * I);
        float[] h0 = NetworkFactory.RandomFloats(random, network.StateCount * B * H);
        float[] c0 = NetworkFactory.RandomFloats(random, network.StateCount * B * H);
        int[] lengths = [2, 6, 3, 6];
        var output = new float[T * B * network.OutputSize];
        var finalHidden = new float[h0.Length];
        network.Forward(x, B, lengths, output, finalHidden, default, h0, network.HasCellState ? c0 : default);
        var expected = reference.Forward(NetworkFactory.Widen(x), T, B, lengths, NetworkFactory.Widen(h0), NetworkFactory.Widen(c0));
        Tolerance.AssertClose(expected.Output, output, 1e-5, 1e-6, $"{mode} output");
        Tolerance.AssertClose(expected.FinalHidden, finalHidden, 1e-5, 1e-6, $"{mode} h_n");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Forward_IsIdenticalForAnyThreadCount(int threads)
    {
        const int T = 9, B = 13, I = 4, H = 20;
        var build = () =>
        {
            var network = NetworkFactory.Create("LSTM", new RecurrentNetworkOptions
            {
                InputSize = I, HiddenSize = H, Layers = 2, Bidirectional = true, MaxDegreeOfParallelism = threads,
            });
            network.Initialize(new Random(3));
            return network;
        };
        var single = NetworkFactory.Create("LSTM", new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, Layers = 2, Bidirectional = true, MaxDegreeOfParallelism = 1 });
        single.Initialize(new Random(3));
        var multi = build();
        float[] x = NetworkFactory.RandomFloats(new Random(4), T * B * I);
        int[] lengths = [9, 1, 3, 8, 9, 2, 5, 7, 9, 4, 6, 9, 1];
        var a = new float[T * B * single.OutputSize];
        var b = new float[a.Length];
        single.Forward(x, B, lengths, a);
        multi.Forward(x, B, lengths, b);
        Assert.Equal(a, b);
    }
}
