using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;

namespace MlNet.Rnn.Core.Tests.Reference;

/// <summary>Builds the fast network and its double-precision twin for a PyTorch mode name.</summary>
internal static class NetworkFactory
{
    public static readonly string[] Modes = ["RNN_TANH", "RNN_RELU", "RNN_SIGMOID", "LSTM", "GRU"];

    public static IRecurrentNetwork Create(string mode, RecurrentNetworkOptions options) => mode switch
    {
        "LSTM" => new RecurrentNetwork<LstmCell>(options),
        "GRU" => new RecurrentNetwork<GruCell>(options),
        "RNN_TANH" => new RecurrentNetwork<RnnCell>(options, new RnnCell(RnnActivation.Tanh)),
        "RNN_RELU" => new RecurrentNetwork<RnnCell>(options, new RnnCell(RnnActivation.Relu)),
        "RNN_SIGMOID" => new RecurrentNetwork<RnnCell>(options, new RnnCell(RnnActivation.Sigmoid)),
        _ => throw new ArgumentException($"Unknown mode {mode}."),
    };

    /// <summary>A reference network holding exactly the fast network's parameters.</summary>
    public static ReferenceNetwork ReferenceOf(string mode, IRecurrentNetwork network)
    {
        var options = network.Options;
        var reference = new ReferenceNetwork(mode, options.InputSize, options.HiddenSize, options.Layers, options.Bidirectional, options.LearnedInitialState);
        foreach (var tensor in network.Parameters.Tensors)
            reference.Parameters[tensor.Name] = Widen(network.Parameters.ValuesOf(tensor));
        return reference;
    }

    public static double[] Widen(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    public static float[] RandomFloats(Random random, int count, double scale = 1)
    {
        var result = new float[count];
        for (int i = 0; i < count; i++) result[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        return result;
    }
}
