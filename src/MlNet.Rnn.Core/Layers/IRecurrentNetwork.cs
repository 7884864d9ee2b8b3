using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Layers;

/// <summary>
/// A <see cref="RecurrentNetwork{TCell}"/> seen without its cell type, for code that picks the cell at run time
/// (an options object, a model file). Shapes as in <see cref="RecurrentNetwork{TCell}.Forward(ReadOnlySpan{float}, int, ReadOnlySpan{int}, Span{float}, Span{float}, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, bool)"/>.
/// </summary>
public interface IRecurrentNetwork
{
    /// <summary>The options the network was built with.</summary>
    RecurrentNetworkOptions Options { get; }

    /// <summary>Parameters and gradients, under PyTorch's names.</summary>
    ParameterSet Parameters { get; }

    /// <summary>D·H.</summary>
    int OutputSize { get; }

    /// <summary>L·D.</summary>
    int StateCount { get; }

    /// <summary>See <see cref="RecurrentNetwork{TCell}.TrainingFloatsPerStep"/>.</summary>
    long TrainingFloatsPerStep { get; }

    /// <summary>Whether the cell has a cell state (LSTM), so final and initial cell states exist.</summary>
    bool HasCellState { get; }

    /// <summary>Restarts the dropout masks' random sequence from <paramref name="seed"/> (for reproducible, resumable training).</summary>
    void ReseedDropout(int seed);

    /// <summary>PyTorch's default initialisation.</summary>
    void Initialize(Random random);

    /// <summary>See <see cref="RecurrentNetwork{TCell}.Forward(ReadOnlySpan{float}, int, ReadOnlySpan{int}, Span{float}, Span{float}, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, bool)"/>.</summary>
    void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<int> lengths, Span<float> output,
        Span<float> finalHidden = default, Span<float> finalCell = default,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default, bool training = false);

    /// <summary>
    /// A new, empty workspace for inference with this network (nothing is copied or initialised; buffers grow on first use),
    /// whose passes may split a batch across <paramref name="maxDegreeOfParallelism"/> threads and compute the recurrent products
    /// in <paramref name="precision"/> (<see cref="InferencePrecision.Int8"/>: quantized once per version of the weights, shared by
    /// every int8 workspace).
    /// </summary>
    RecurrentNetworkWorkspace CreateWorkspace(int maxDegreeOfParallelism = 1, InferencePrecision precision = InferencePrecision.Float32);

    /// <summary>See <see cref="RecurrentNetwork{TCell}.Forward(RecurrentNetworkWorkspace, ReadOnlySpan{float}, int, ReadOnlySpan{int}, Span{float}, Span{float}, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/>.</summary>
    void Forward(RecurrentNetworkWorkspace workspace, ReadOnlySpan<float> input, int batch, ReadOnlySpan<int> lengths, Span<float> output,
        Span<float> finalHidden = default, Span<float> finalCell = default,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default);

    /// <summary>See <see cref="RecurrentNetwork{TCell}.Backward"/>.</summary>
    void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> finalHiddenGradient = default,
        ReadOnlySpan<float> finalCellGradient = default, Span<float> inputGradient = default,
        Span<float> initialHiddenGradient = default, Span<float> initialCellGradient = default);

    /// <summary>See <see cref="RecurrentNetwork{TCell}.BackpropagateTruncated"/>.</summary>
    void BackpropagateTruncated(ReadOnlySpan<float> input, int batch, ReadOnlySpan<int> lengths, int chunkSteps,
        TruncatedChunkGradient chunkGradient, Action<int>? afterChunk = null,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default, Span<float> inputGradient = default);
}
