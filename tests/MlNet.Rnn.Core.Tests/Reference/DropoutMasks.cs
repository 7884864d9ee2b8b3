using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Core.Tests.Reference;

/// <summary>
/// Reads the dropout masks of the last training forward out of the production code (its internal accessors, which exist
/// for this) and hands them to a reference, so both compute with the same masks.
/// </summary>
internal static class DropoutMasks
{
    /// <summary>Layer <paramref name="layer"/>'s recurrent mask <c>[D, B, H]</c> and output mask <c>[T, B, D·H]</c> (empty at the top).</summary>
    public static (double[] Recurrent, double[] Output) Of(IRecurrentNetwork network, int layer, int steps, int batch)
    {
        var options = network.Options;
        int D = options.Bidirectional ? 2 : 1;
        var recurrent = new float[D * batch * options.HiddenSize];
        var output = new float[layer + 1 < options.Layers ? steps * batch * network.OutputSize : 0];
        switch (network)
        {
            case RecurrentNetwork<LstmCell> lstm: lstm.CopyDropoutMasks(layer, recurrent, output); break;
            case RecurrentNetwork<GruCell> gru: gru.CopyDropoutMasks(layer, recurrent, output); break;
            case RecurrentNetwork<RnnCell> rnn: rnn.CopyDropoutMasks(layer, recurrent, output); break;
            default: throw new ArgumentException($"Unknown network type {network.GetType()}.", nameof(network));
        }
        return (NetworkFactory.Widen(recurrent), NetworkFactory.Widen(output));
    }

    /// <summary>Gives <paramref name="reference"/> every mask the network applied in its last training forward (none where p = 0).</summary>
    public static void Replay(IRecurrentNetwork network, ReferenceNetwork reference, int steps, int batch)
    {
        var options = network.Options;
        for (int l = 0; l < options.Layers; l++)
        {
            var (recurrent, output) = Of(network, l, steps, batch);
            reference.RecurrentMasks[l] = options.RecurrentDropout > 0f ? AssertDrops(recurrent, $"recurrent mask of layer {l}") : null;
            reference.OutputMasks[l] = options.Dropout > 0f && l + 1 < options.Layers ? output : null;
        }
    }

    /// <summary>As <see cref="Replay(IRecurrentNetwork, ReferenceNetwork, int, int)"/>, plus the head's mask of a model.</summary>
    public static void Replay(SequenceModel model, ReferenceSequenceModel reference, int steps, int batch)
    {
        Replay(model.Network, reference.Network, steps, batch);
        reference.HeadMask = model.Options.Dropout > 0f ? AssertDrops(NetworkFactory.Widen(model.HeadDropoutMask), "head mask") : null;
    }

    /// <summary>A mask that keeps everything would make a dropout test vacuous: require both dropped and kept entries.</summary>
    public static double[] AssertDrops(double[] mask, string what)
    {
        Assert.True(mask.Length > 0 && mask.Contains(0.0) && mask.Any(m => m > 1), $"The {what} should drop some units and scale the rest up; it holds [{string.Join(", ", mask)}].");
        return mask;
    }
}
