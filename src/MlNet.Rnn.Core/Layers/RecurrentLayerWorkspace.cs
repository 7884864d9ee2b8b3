using MlNet.Rnn.Core.Kernels;

namespace MlNet.Rnn.Core.Layers;

/// <summary>
/// What one pass of a <see cref="RecurrentLayer{TCell}"/> writes, for one caller: the packing of its batch and, per
/// direction, the input projections <c>[N, G·H]</c>, the step products <c>[B, G·H]</c> and states <c>[B, H]</c>; in training
/// also the caches, previous states and gate gradients backward needs. Buffers grow to the largest batch and are reused.
/// </summary>
internal sealed class RecurrentLayerWorkspace
{
    public RecurrentLayerWorkspace(int directions, int maxDegreeOfParallelism, InferencePrecision precision = InferencePrecision.Float32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDegreeOfParallelism);
        if (!Enum.IsDefined(precision)) throw new ArgumentOutOfRangeException(nameof(precision), precision, "Use InferencePrecision.Float32 or Int8.");
        Precision = precision;
        Directions = new DirectionBuffers[directions];
        for (int d = 0; d < directions; d++) Directions[d] = new DirectionBuffers();
        MaxDegreeOfParallelism = maxDegreeOfParallelism;
    }

    /// <summary>Per direction, forward first.</summary>
    public DirectionBuffers[] Directions { get; }

    /// <summary>Threads a pass may split the batch across.</summary>
    public int MaxDegreeOfParallelism { get; set; }

    /// <summary>How the products of an inference pass in this workspace are computed (the layer's own workspace: always float).</summary>
    public InferencePrecision Precision { get; }

    /// <summary>With <see cref="InferencePrecision.Int8"/>: the layer's input rows quantized <c>[N, I rounded up to even]</c> and their scales <c>[N]</c>.</summary>
    public short[] QuantizedInput = [];

    /// <summary>The scales of <see cref="QuantizedInput"/>'s rows.</summary>
    public float[] InputScales = [];

    /// <summary>Whether the last pass projected each step's input rows just before the step (inference), not all rows at once.</summary>
    public bool FusedInputProjection { get; set; }

    /// <summary>The packing of the last pass.</summary>
    public SequenceLayout? Layout { get; set; }

    /// <summary>Whether the last pass applied recurrent dropout (training only).</summary>
    public bool Masked { get; set; }

    /// <summary>B of the recurrent-dropout masks last sampled, −1 before any.</summary>
    public int MasksBatch { get; set; } = -1;

    /// <summary>Sorted-row bounds of the chunks threads run.</summary>
    public int[] ChunkBounds = [];

    /// <summary>The layer's own workspace packs its weights here every pass; other workspaces read the layer's shared copy.</summary>
    public PackedRecurrentWeights? Packed { get; set; }
}

/// <summary>One direction's buffers (sized once, grown only when a batch is larger).</summary>
internal sealed class DirectionBuffers
{
    public PackedMatrix? PackedRecurrentBackward;
    /// <summary>int8: each worker's rows of h' (or of the step's input) quantized, <c>[B, max(H, I) rounded up to even]</c>, and their scales.</summary>
    public short[] QuantizedHidden = [];
    public float[] HiddenScales = [];
    public float[] RecurrentMask = [], MaskedHidden = [], RecurrentGradientScratch = [];
    public float[] InputProjection = [], RecurrentProjection = [], Hidden = [], Cell = [],
        Cache = [], PreviousHidden = [], InputGateGradient = [], RecurrentGateGradient = [], HiddenGradient = [], CellGradient = [];
    public bool Training, GivenInitialHidden, GivenInitialCell;

    /// <summary>Grows the buffers of a pass over N packed rows of B sequences (the training ones only with <paramref name="training"/>);
    /// <see cref="InputProjection"/> gets <paramref name="projectionRows"/> rows: N, or B when each step's rows are projected in turn.</summary>
    public void Reserve(int projectionRows, int N, int B, int H, int GH, int CW, bool training, bool separateRecurrentGradient)
    {
        SequenceLayout.EnsureCapacity(ref InputProjection, projectionRows * GH);
        SequenceLayout.EnsureCapacity(ref RecurrentProjection, B * GH);
        SequenceLayout.EnsureCapacity(ref Hidden, B * H);
        SequenceLayout.EnsureCapacity(ref Cell, B * H);
        if (!training) return;
        SequenceLayout.EnsureCapacity(ref Cache, N * CW);
        SequenceLayout.EnsureCapacity(ref PreviousHidden, N * H);
        SequenceLayout.EnsureCapacity(ref InputGateGradient, N * GH);
        if (separateRecurrentGradient) SequenceLayout.EnsureCapacity(ref RecurrentGateGradient, N * GH);
        SequenceLayout.EnsureCapacity(ref HiddenGradient, B * H);
        SequenceLayout.EnsureCapacity(ref CellGradient, B * H);
        SequenceLayout.EnsureCapacity(ref RecurrentGradientScratch, B * H);
    }
}

/// <summary>
/// A layer's weights as the time loop reads them: <c>W_hhᵀ</c> of each direction packed for the step GEMM and the biases
/// summed into the input projection <c>[G·H]</c>, made at one <see cref="Parameters.ParameterSet.Version"/>.
/// </summary>
internal sealed class PackedRecurrentWeights
{
    public PackedRecurrentWeights(int directions, InferencePrecision precision = InferencePrecision.Float32)
    {
        Precision = precision;
        Recurrent = new PackedMatrix[directions];
        Input = new PackedMatrix[directions];
        QuantizedInput = new QuantizedMatrix[directions];
        QuantizedRecurrent = new QuantizedMatrix[directions];
        CombinedBias = new float[directions][];
        for (int d = 0; d < directions; d++)
        {
            Recurrent[d] = new PackedMatrix();
            Input[d] = new PackedMatrix();
            QuantizedInput[d] = new QuantizedMatrix();
            QuantizedRecurrent[d] = new QuantizedMatrix();
            CombinedBias[d] = [];
        }
    }

    /// <summary>Float: <see cref="Recurrent"/> is packed. Int8: <see cref="QuantizedInput"/> and <see cref="QuantizedRecurrent"/> are made instead.</summary>
    public InferencePrecision Precision { get; }

    /// <summary><c>W_hhᵀ</c> packed for the float step product.</summary>
    public PackedMatrix[] Recurrent { get; }

    /// <summary><c>W_ihᵀ</c> packed for a float inference pass that projects each step's input in turn.</summary>
    public PackedMatrix[] Input { get; }

    /// <summary><c>W_ih</c> quantized per gate unit (int8 only).</summary>
    public QuantizedMatrix[] QuantizedInput { get; }

    /// <summary><c>W_hh</c> quantized per gate unit (int8 only).</summary>
    public QuantizedMatrix[] QuantizedRecurrent { get; }

    public float[][] CombinedBias { get; }

    public int Version { get; init; }
}
