using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Tests.Reference;

/// <summary>
/// Builds the fast network and its double-precision twin for a PyTorch mode name, and the random values and widened
/// copies every reference test starts from.
/// </summary>
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

    /// <summary>The PyTorch mode name of a cell type (and, for the plain RNN, its activation).</summary>
    public static string ModeOf(RecurrentCellType cell, RnnActivation activation) => cell switch
    {
        RecurrentCellType.Lstm => "LSTM",
        RecurrentCellType.Gru => "GRU",
        _ => "RNN_" + activation.ToString().ToUpperInvariant(),
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

    /// <summary><paramref name="count"/> values drawn from U(−scale, scale).</summary>
    public static float[] RandomFloats(Random random, int count, double scale = 1)
    {
        var result = new float[count];
        for (int i = 0; i < count; i++) result[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        return result;
    }

    /// <summary>
    /// Sets every parameter to U(−scale, scale), in buffer order (the same draws as <see cref="RandomFloats"/> tensor by
    /// tensor), so learned initial states and biases are not zero.
    /// </summary>
    public static void Randomize(ParameterSet parameters, Random random, double scale) =>
        RandomFloats(random, parameters.Count, scale).CopyTo(parameters.Values);
}
