namespace MlNet.Rnn.Core.Layers;

/// <summary>
/// One caller's scratch for inference with a shared recurrent network (<see cref="IRecurrentNetwork.CreateWorkspace"/>):
/// the packing of its batch, each layer's input and output rows <c>[N, ·]</c>, the sorted states <c>[L·D, B, H]</c> and each
/// layer's buffers. Created empty (no weights are copied, nothing proportional to the model is allocated); buffers grow to
/// the largest batch run and are reused. Not thread-safe: one per thread, cursor or prediction engine, any number per network.
/// </summary>
public sealed class RecurrentNetworkWorkspace
{
    internal RecurrentNetworkWorkspace(IRecurrentNetwork network, int layerCount, RecurrentLayerWorkspace[]? layers, int maxDegreeOfParallelism,
        InferencePrecision precision = InferencePrecision.Float32)
    {
        Network = network;
        Precision = precision;
        Layers = layers;
        MaxDegreeOfParallelism = maxDegreeOfParallelism;
        LayerInputs = new float[layerCount][];
        LayerOutputs = new float[layerCount][];
        for (int l = 0; l < layerCount; l++)
        {
            LayerInputs[l] = [];
            LayerOutputs[l] = [];
        }
    }

    /// <summary>The network this workspace runs.</summary>
    public IRecurrentNetwork Network { get; }

    /// <summary>How a forward pass in this workspace computes the recurrent products.</summary>
    public InferencePrecision Precision { get; }

    /// <summary>Threads a forward pass in this workspace may split its batch across.</summary>
    public int MaxDegreeOfParallelism { get; }

    /// <summary>Each layer's buffers; null for the network's own training workspace, whose layers keep their own.</summary>
    internal RecurrentLayerWorkspace[]? Layers { get; }

    internal SequenceLayout Layout { get; } = new();

    internal float[][] LayerInputs { get; }

    internal float[][] LayerOutputs { get; }

    internal float[] SortedInitialHidden = [], SortedInitialCell = [], SortedFinalHidden = [], SortedFinalCell = [];
}
