using System.Numerics.Tensors;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Kernels;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Layers;

/// <summary>
/// One recurrent layer, one or two directions, over a packed batch (<see cref="SequenceLayout"/>): the time loop,
/// directions, variable lengths and backpropagation through time, written once for every cell type.
/// Legend: B batch, T steps, N packed rows (real steps), I input size, H hidden size, G gates, D directions.
/// </summary>
/// <remarks>
/// Forward per direction: one GEMM <c>xProj[N, G·H] = X[N, I]·W_ihᵀ + b</c> for all steps (training; inference of a batch
/// of 8 or more projects each step's rows just before the step instead, so the projection stays in cache and is split with
/// the batch); then per step one recurrent GEMM <c>hProj = h'·W_hhᵀ</c> over the rows still alive and one fused cell kernel. Backward keeps the
/// pre-activation gradients of every step, so <c>dW_ih</c>, <c>dW_hh</c> and <c>dX</c> are three GEMMs after the loop;
/// only <c>dh'</c> needs a GEMM per step. The batch (and the directions) are split across threads; each worker runs
/// the whole time loop for its rows, so no barrier is needed per step.
/// Parameters, under PyTorch's names (suffix <c>_reverse</c> for the second direction): <c>weight_ih_l{k}</c> [G·H, I],
/// <c>weight_hh_l{k}</c> [G·H, H], <c>bias_ih_l{k}</c> and <c>bias_hh_l{k}</c> [G·H]; with a learned initial state also
/// <c>h0_l{k}</c> (and <c>c0_l{k}</c>) [H], shared by every sequence.
/// <para>A forward pass reads the weights and never writes them; everything it writes lives in a workspace. The layer's
/// own workspace serves training (and the layer's own inference calls) and packs <c>W_hh</c> again every pass, since the
/// weights change between passes. Inference in another workspace (<see cref="RecurrentNetworkWorkspace"/>) reads one
/// packed copy of <c>W_hh</c> shared by every workspace and rebuilt only when <see cref="ParameterSet.Version"/> moves, so
/// any number of workspaces may run inference on one layer at once.</para>
/// </remarks>
/// <typeparam name="TCell">The cell; a struct, so the JIT specialises the loop for it.</typeparam>
public sealed unsafe class RecurrentLayer<TCell> where TCell : struct, IRecurrentCell
{
    private readonly TCell _cell;
    private readonly ParameterSet _parameters;
    private readonly Direction[] _directions;
    private readonly int _gateWidth;
    private readonly int _cacheWidth;
    private readonly RecurrentLayerWorkspace _own;
    private readonly object _packing = new();
    private PackedRecurrentWeights? _shared, _sharedInt8;

    /// <summary>Creates the layer and registers its parameters in <paramref name="parameters"/>.</summary>
    public RecurrentLayer(ParameterSet parameters, TCell cell, int layerIndex, int inputSize, int hiddenSize, bool bidirectional,
        bool learnedInitialState)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        _cell = cell;
        _parameters = parameters;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        _gateWidth = TCell.GateCount * hiddenSize;
        _cacheWidth = TCell.CacheWidth(hiddenSize);
        LearnedInitialState = learnedInitialState;
        _directions = new Direction[bidirectional ? 2 : 1];
        for (int d = 0; d < _directions.Length; d++)
        {
            string suffix = $"l{layerIndex}{(d == 1 ? "_reverse" : "")}";
            _directions[d] = new Direction
            {
                InputWeights = parameters.Add($"weight_ih_{suffix}", _gateWidth, inputSize),
                RecurrentWeights = parameters.Add($"weight_hh_{suffix}", _gateWidth, hiddenSize),
                InputBias = parameters.Add($"bias_ih_{suffix}", _gateWidth),
                RecurrentBias = parameters.Add($"bias_hh_{suffix}", _gateWidth),
                InitialHidden = learnedInitialState ? parameters.Add($"h0_{suffix}", hiddenSize) : null,
                InitialCell = learnedInitialState && TCell.HasCellState ? parameters.Add($"c0_{suffix}", hiddenSize) : null,
            };
        }
        _own = new RecurrentLayerWorkspace(_directions.Length, maxDegreeOfParallelism: 1);
    }

    /// <summary>I.</summary>
    public int InputSize { get; }

    /// <summary>H.</summary>
    public int HiddenSize { get; }

    /// <summary>D: 1, or 2 when bidirectional.</summary>
    public int Directions => _directions.Length;

    /// <summary>D·H: width of each output row (both directions concatenated, forward first).</summary>
    public int OutputSize => Directions * HiddenSize;

    /// <summary>Whether the initial state is a trained parameter (used when the caller gives none).</summary>
    public bool LearnedInitialState { get; }

    /// <summary>Threads the layer's own passes may split the batch across; 1 runs on the calling thread. An inference workspace carries its own.</summary>
    public int MaxDegreeOfParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// Recurrent (variational) dropout p, Gal and Ghahramani: in training, <c>h'</c> entering <c>W_hh</c> is multiplied by a
    /// mask drawn once per sequence and direction and kept for every step (zero with probability p, else 1/(1−p)).
    /// GRU's direct path <c>z⊙h'</c> and the carried state itself are not masked.
    /// </summary>
    public float RecurrentDropout { get; set; }

    /// <summary>Draws the recurrent-dropout masks of the next training forward, <c>[D, B, H]</c> (call before <see cref="Forward(SequenceLayout, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, bool)"/>).</summary>
    public void SampleRecurrentMasks(Random random, int batch)
    {
        ArgumentNullException.ThrowIfNull(random);
        float keep = 1f - RecurrentDropout, scale = 1f / keep;
        foreach (var direction in _own.Directions)
        {
            SequenceLayout.EnsureCapacity(ref direction.RecurrentMask, batch * HiddenSize);
            for (int i = 0; i < batch * HiddenSize; i++) direction.RecurrentMask[i] = random.NextSingle() < keep ? scale : 0f;
        }
        _own.MasksBatch = batch;
    }

    /// <summary>The recurrent-dropout mask <c>[B, H]</c> of one direction, in sorted order, as last sampled (for tests that replay it).</summary>
    internal ReadOnlySpan<float> RecurrentMaskOf(int direction) => _own.Directions[direction].RecurrentMask.AsSpan(0, Math.Max(_own.MasksBatch, 0) * HiddenSize);

    /// <summary>
    /// Runs the layer over packed rows. <paramref name="input"/> is <c>[N, I]</c>; <paramref name="output"/> receives
    /// <c>[N, D·H]</c>. Initial states <c>[D, B, H]</c> are in sorted order; empty means learned (if the layer has one)
    /// or zeros. Final states <c>[D, B, H]</c> are written when the spans are not empty. With <paramref name="training"/>
    /// the layer keeps what <see cref="Backward"/> needs; the caller must then keep <paramref name="input"/> unchanged.
    /// </summary>
    public void Forward(SequenceLayout layout, ReadOnlySpan<float> input, ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell,
        Span<float> output, Span<float> finalHidden, Span<float> finalCell, bool training)
    {
        // The weights may have changed since the last pass (an optimizer step): pack them again.
        _own.MaxDegreeOfParallelism = MaxDegreeOfParallelism;
        _own.Packed ??= new PackedRecurrentWeights(Directions);
        Pack(_own.Packed, inputWeights: !training && FusesInputProjection(layout));
        Run(_own, _own.Packed, layout, input, initialHidden, initialCell, output, finalHidden, finalCell, training);
    }

    /// <summary>
    /// Inference in <paramref name="workspace"/> (not the layer's own): as <see cref="Forward(SequenceLayout, ReadOnlySpan{float},
    /// ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, bool)"/> without training, reading the
    /// shared packed weights; writes nothing but <paramref name="workspace"/> and the output spans.
    /// </summary>
    internal void Forward(RecurrentLayerWorkspace workspace, SequenceLayout layout, ReadOnlySpan<float> input, ReadOnlySpan<float> initialHidden,
        ReadOnlySpan<float> initialCell, Span<float> output, Span<float> finalHidden, Span<float> finalCell) =>
        Run(workspace, SharedPackedWeights(workspace.Precision), layout, input, initialHidden, initialCell, output, finalHidden, finalCell, training: false);

    /// <summary>A workspace for inference through <see cref="Forward(RecurrentLayerWorkspace, SequenceLayout, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float})"/>.</summary>
    internal RecurrentLayerWorkspace CreateWorkspace(int maxDegreeOfParallelism, InferencePrecision precision = InferencePrecision.Float32) =>
        new(Directions, maxDegreeOfParallelism, precision);

    /// <summary>
    /// The weights of the current <see cref="ParameterSet.Version"/> as inference in <paramref name="precision"/> reads them (packed
    /// <c>W_hh</c>, or both weights quantized) and the combined biases, made once per version and precision.
    /// </summary>
    private PackedRecurrentWeights SharedPackedWeights(InferencePrecision precision)
    {
        ref PackedRecurrentWeights? shared = ref precision == InferencePrecision.Int8 ? ref _sharedInt8 : ref _shared;
        var packed = Volatile.Read(ref shared);
        if (packed is not null && packed.Version == _parameters.Version) return packed;
        lock (_packing)
        {
            packed = shared;
            int version = _parameters.Version;
            if (packed is not null && packed.Version == version) return packed;
            // A new object, never a repack in place: a workspace still reading the old copy keeps a consistent one.
            packed = new PackedRecurrentWeights(Directions, precision) { Version = version };
            Pack(packed, inputWeights: true);
            Volatile.Write(ref shared, packed);
            return packed;
        }
    }

    /// <summary>
    /// Sums the biases the cell lets into the input projection and, per precision, packs <c>W_hhᵀ</c> of every direction (and
    /// <c>W_ihᵀ</c> with <paramref name="inputWeights"/>, for an inference pass that projects its input step by step) for the
    /// float step GEMMs, or quantizes <c>W_ih</c> and <c>W_hh</c> per gate unit.
    /// </summary>
    private void Pack(PackedRecurrentWeights packed, bool inputWeights)
    {
        int H = HiddenSize, GH = _gateWidth;
        for (int d = 0; d < Directions; d++)
        {
            var direction = _directions[d];
            SequenceLayout.EnsureCapacity(ref packed.CombinedBias[d], GH);
            TCell.CombineBiases(_parameters.ReadOnlyValuesOf(direction.InputBias), _parameters.ReadOnlyValuesOf(direction.RecurrentBias),
                packed.CombinedBias[d].AsSpan(0, GH));
            if (packed.Precision == InferencePrecision.Int8)
            {
                packed.QuantizedInput[d].Quantize(_parameters.ReadOnlyValuesOf(direction.InputWeights), GH, InputSize);
                packed.QuantizedRecurrent[d].Quantize(_parameters.ReadOnlyValuesOf(direction.RecurrentWeights), GH, H);
            }
            else
            {
                packed.Recurrent[d].Pack(_parameters.ReadOnlyValuesOf(direction.RecurrentWeights), H, transposeB: true, H, GH);
                if (inputWeights) packed.Input[d].Pack(_parameters.ReadOnlyValuesOf(direction.InputWeights), InputSize, transposeB: true, InputSize, GH);
            }
        }
    }

    private void Run(RecurrentLayerWorkspace workspace, PackedRecurrentWeights packed, SequenceLayout layout, ReadOnlySpan<float> input,
        ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell, Span<float> output, Span<float> finalHidden, Span<float> finalCell, bool training)
    {
        int N = layout.TotalRows, B = layout.BatchSize, H = HiddenSize, GH = _gateWidth;
        workspace.Layout = layout;
        workspace.Masked = training && RecurrentDropout > 0f;
        if (workspace.Masked && workspace.MasksBatch != B)
            throw new InvalidOperationException($"RecurrentDropout is {RecurrentDropout}: call SampleRecurrentMasks for this batch of {B} before a training Forward.");
        bool int8 = packed.Precision == InferencePrecision.Int8;
        // Inference projects each step's input rows just before the step (see FusesInputProjection); training, or a small batch,
        // projects all N rows at once.
        bool fused = !training && FusesInputProjection(layout);
        workspace.FusedInputProjection = fused;
        if (int8 && !fused)
        {
            // The input rows are quantized once for every direction.
            SequenceLayout.EnsureCapacity(ref workspace.QuantizedInput, N * QuantizedGemm.RowLength(InputSize));
            SequenceLayout.EnsureCapacity(ref workspace.InputScales, N);
            QuantizedGemm.QuantizeRows(input, N, InputSize, InputSize, workspace.QuantizedInput, workspace.InputScales);
        }
        for (int d = 0; d < Directions; d++)
        {
            var direction = _directions[d];
            var buffers = workspace.Directions[d];
            buffers.Reserve(fused ? B : N, N, B, H, GH, _cacheWidth, training, TCell.HasSeparateRecurrentGradient);
            if (workspace.Masked) SequenceLayout.EnsureCapacity(ref buffers.MaskedHidden, Math.Max(B, N) * H);
            if (int8)
            {
                SequenceLayout.EnsureCapacity(ref buffers.QuantizedHidden, B * QuantizedGemm.RowLength(Math.Max(H, InputSize)));
                SequenceLayout.EnsureCapacity(ref buffers.HiddenScales, B);
            }
            buffers.Training = training;
            if (!fused)
            {
                // xProj = X·W_ihᵀ + the biases the cell lets in before the recurrent product, for all N rows.
                ReadOnlySpan<float> bias = packed.CombinedBias[d].AsSpan(0, GH);
                Span<float> xProj = buffers.InputProjection.AsSpan(0, N * GH);
                for (int row = 0; row < N; row++) bias.CopyTo(xProj.Slice(row * GH, GH));
                if (int8)
                    QuantizedGemm.MultiplyParallel(N, workspace.QuantizedInput, workspace.InputScales, packed.QuantizedInput[d], xProj, GH, accumulate: true,
                        GemmThreads(workspace));
                else
                    Gemm.MultiplyParallel(N, GH, InputSize, input, InputSize, false, _parameters.ReadOnlyValuesOf(direction.InputWeights), InputSize, true,
                        xProj, GH, accumulate: true, GemmThreads(workspace));
            }
            LoadInitialState(buffers.Hidden.AsSpan(0, B * H), initialHidden, direction.InitialHidden, B, d);
            if (TCell.HasCellState) LoadInitialState(buffers.Cell.AsSpan(0, B * H), initialCell, direction.InitialCell, B, d);
            buffers.GivenInitialHidden = !initialHidden.IsEmpty;
            buffers.GivenInitialCell = !initialCell.IsEmpty;
        }

        int outputLength = N * OutputSize;
        if (output.Length < outputLength)
            throw new ArgumentException($"output holds {output.Length} floats but N·D·H = {N}·{OutputSize} = {outputLength} are needed.", nameof(output));
        int inputLength = N * InputSize;
        fixed (float* outputAddress = output)
        fixed (float* inputAddress = input)
        {
            // A span cannot cross into the thread pool; the pinned address can.
            nint address = (nint)outputAddress, inputRows = (nint)inputAddress;
            RunParallel(workspace, B, layout, (d, first, end) => ForwardRows(workspace, packed, d, first, end,
                new ReadOnlySpan<float>((void*)inputRows, inputLength), new Span<float>((void*)address, outputLength)));
        }

        for (int d = 0; d < Directions; d++)
        {
            var buffers = workspace.Directions[d];
            if (!finalHidden.IsEmpty) buffers.Hidden.AsSpan(0, B * H).CopyTo(finalHidden.Slice(d * B * H, B * H));
            if (TCell.HasCellState && !finalCell.IsEmpty) buffers.Cell.AsSpan(0, B * H).CopyTo(finalCell.Slice(d * B * H, B * H));
        }
    }

    private void LoadInitialState(Span<float> state, ReadOnlySpan<float> given, ParameterTensor? learned, int B, int d)
    {
        int H = HiddenSize;
        if (!given.IsEmpty)
        {
            if (given.Length < Directions * B * H)
                throw new ArgumentException($"An initial state holds {given.Length} floats but D·B·H = {Directions}·{B}·{H} = {Directions * B * H} are needed.");
            given.Slice(d * B * H, B * H).CopyTo(state);
        }
        else if (learned is not null)
        {
            ReadOnlySpan<float> values = _parameters.ReadOnlyValuesOf(learned);
            for (int b = 0; b < B; b++) values.CopyTo(state.Slice(b * H, H));
        }
        else
        {
            state.Clear();
        }
    }

    /// <summary>
    /// Whether an inference pass over <paramref name="layout"/> projects each step's input rows just before the step, into a
    /// <c>[B, G·H]</c> scratch that stays in cache, instead of all N rows at once into <c>[N, G·H]</c> (16 MB for workload M,
    /// written to memory and read back). A batch under 8 rows (a single-row prediction) keeps the one large product, whose
    /// row tiles it fills.
    /// </summary>
    private static bool FusesInputProjection(SequenceLayout layout) => layout.BatchSize >= 8;

    private void ForwardRows(RecurrentLayerWorkspace workspace, PackedRecurrentWeights packed, int d, int first, int end, ReadOnlySpan<float> input,
        Span<float> packedOutput)
    {
        var direction = workspace.Directions[d];
        var layout = workspace.Layout!;
        var recurrentWeights = packed.Recurrent[d];
        var quantizedWeights = packed.Precision == InferencePrecision.Int8 ? packed.QuantizedRecurrent[d] : null;
        // Quantized rows of h' and, when fused, of the step's input share one scratch, each worker in its own rows of it.
        int I = InputSize, quantizedRow = QuantizedGemm.RowLength(HiddenSize), quantizedInputRow = QuantizedGemm.RowLength(I),
            scratchRow = QuantizedGemm.RowLength(Math.Max(HiddenSize, I));
        bool masked = workspace.Masked, fused = workspace.FusedInputProjection;
        ReadOnlySpan<float> bias = packed.CombinedBias[d].AsSpan(0, _gateWidth);
        int T = layout.Steps, H = HiddenSize, GH = _gateWidth, CW = _cacheWidth, DH = OutputSize;
        ReadOnlySpan<int> batchSizes = layout.BatchSizes, offsets = layout.Offsets;
        Span<float> xProj = direction.InputProjection;
        ReadOnlySpan<float> recurrentBias = _parameters.ReadOnlyValuesOf(_directions[d].RecurrentBias);
        Span<float> hProj = direction.RecurrentProjection;
        Span<float> hidden = direction.Hidden, cell = direction.Cell;
        Span<float> cache = direction.Cache, previous = direction.PreviousHidden; // written in training only
        for (int k = 0; k < T; k++)
        {
            int t = d == 0 ? k : T - 1 - k;
            int rows = Math.Min(batchSizes[t], end) - first;
            if (rows <= 0)
            {
                if (d == 0) break;
                continue;
            }
            int row0 = offsets[t] + first;
            Span<float> h = hidden.Slice(first * H, rows * H);
            Span<float> c = TCell.HasCellState ? cell.Slice(first * H, rows * H) : default;
            Span<float> gates = hProj.Slice(first * GH, rows * GH);
            Span<float> projection = fused ? xProj.Slice(first * GH, rows * GH) : xProj.Slice(row0 * GH, rows * GH);
            if (fused)
            {
                // This step's xProj = X·W_ihᵀ + the biases, for this worker's rows only.
                for (int r = 0; r < rows; r++) bias.CopyTo(projection.Slice(r * GH, GH));
                ReadOnlySpan<float> x = input.Slice(row0 * I, rows * I);
                if (quantizedWeights is not null)
                {
                    Span<short> quantizedInput = direction.QuantizedHidden.AsSpan(first * scratchRow, rows * quantizedInputRow);
                    Span<float> inputScales = direction.HiddenScales.AsSpan(first, rows);
                    QuantizedGemm.QuantizeRows(x, rows, I, I, quantizedInput, inputScales);
                    QuantizedGemm.Multiply(rows, quantizedInput, inputScales, packed.QuantizedInput[d], projection, GH, accumulate: true);
                }
                else
                {
                    Gemm.Multiply(rows, x, I, false, packed.Input[d], projection, GH, accumulate: true);
                }
            }
            if (direction.Training) h.CopyTo(previous.Slice(row0 * H, rows * H));
            if (masked)
            {
                // Variational dropout: W_hh reads h'⊙mask; the state itself stays unmasked.
                Span<float> maskedHidden = direction.MaskedHidden.AsSpan(first * H, rows * H);
                TensorPrimitives.Multiply(h, direction.RecurrentMask.AsSpan(first * H, rows * H), maskedHidden);
                Gemm.Multiply(rows, maskedHidden, H, false, recurrentWeights, gates, GH, accumulate: false);
            }
            else if (quantizedWeights is not null)
            {
                // int8: this worker's rows of h' quantized per row, then the integer product dequantized into the gates.
                Span<short> quantized = direction.QuantizedHidden.AsSpan(first * scratchRow, rows * quantizedRow);
                Span<float> scales = direction.HiddenScales.AsSpan(first, rows);
                QuantizedGemm.QuantizeRows(h, rows, H, H, quantized, scales);
                QuantizedGemm.Multiply(rows, quantized, scales, quantizedWeights, gates, GH, accumulate: false);
            }
            else
            {
                Gemm.Multiply(rows, h, H, false, recurrentWeights, gates, GH, accumulate: false);
            }
            _cell.Forward(rows, H, projection, gates, recurrentBias, h, c,
                direction.Training ? cache.Slice(row0 * CW, rows * CW) : default);
            for (int r = 0; r < rows; r++) h.Slice(r * H, H).CopyTo(packedOutput.Slice((row0 + r) * DH + d * H, H));
        }
    }

    /// <summary>
    /// Backpropagates through the last <see cref="Forward(SequenceLayout, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, bool)"/> (which must have run with <c>training: true</c>).
    /// <paramref name="input"/> is the same <c>[N, I]</c> input; <paramref name="outputGradient"/> is dL/dY <c>[N, D·H]</c>;
    /// final-state gradients <c>[D, B, H]</c> may be empty (zero). Adds into the parameter gradients; writes dL/dX
    /// <c>[N, I]</c> and the initial-state gradients <c>[D, B, H]</c> when those spans are not empty.
    /// </summary>
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> finalHiddenGradient,
        ReadOnlySpan<float> finalCellGradient, Span<float> inputGradient, Span<float> initialHiddenGradient, Span<float> initialCellGradient)
    {
        var layout = _own.Layout ?? throw new InvalidOperationException("Backward needs a Forward with training: true first.");
        int N = layout.TotalRows, B = layout.BatchSize, H = HiddenSize, GH = _gateWidth;
        if (!_own.Directions[0].Training) throw new InvalidOperationException("Backward needs a Forward with training: true first.");
        _own.MaxDegreeOfParallelism = MaxDegreeOfParallelism;
        int gradientLength = N * OutputSize;
        if (outputGradient.Length < gradientLength)
            throw new ArgumentException($"outputGradient holds {outputGradient.Length} floats but N·D·H = {gradientLength} are needed.", nameof(outputGradient));
        for (int d = 0; d < Directions; d++)
        {
            var direction = _own.Directions[d];
            (direction.PackedRecurrentBackward ??= new PackedMatrix()).Pack(_parameters.ReadOnlyValuesOf(_directions[d].RecurrentWeights), H,
                transposeB: false, GH, H);
            Span<float> dh = direction.HiddenGradient.AsSpan(0, B * H), dc = direction.CellGradient.AsSpan(0, B * H);
            if (finalHiddenGradient.IsEmpty) dh.Clear(); else finalHiddenGradient.Slice(d * B * H, B * H).CopyTo(dh);
            if (finalCellGradient.IsEmpty || !TCell.HasCellState) dc.Clear(); else finalCellGradient.Slice(d * B * H, B * H).CopyTo(dc);
        }

        fixed (float* gradientAddress = outputGradient)
        {
            nint address = (nint)gradientAddress;
            RunParallel(_own, B, layout, (d, first, end) => BackwardRows(d, first, end, new ReadOnlySpan<float>((void*)address, gradientLength)));
        }

        int gemmThreads = GemmThreads(_own);
        for (int d = 0; d < Directions; d++)
        {
            var weights = _directions[d];
            var direction = _own.Directions[d];
            ReadOnlySpan<float> dGx = direction.InputGateGradient.AsSpan(0, N * GH);
            ReadOnlySpan<float> dGh = TCell.HasSeparateRecurrentGradient ? direction.RecurrentGateGradient.AsSpan(0, N * GH) : dGx;
            // dW_ih += dGxᵀ·X, dW_hh += dGhᵀ·H', db_ih += Σ dGx, db_hh += Σ dGh, dX (+)= dGx·W_ih
            Gemm.MultiplyParallel(GH, InputSize, N, dGx, GH, true, input, InputSize, false,
                _parameters.GradientsOf(weights.InputWeights), InputSize, accumulate: true, gemmThreads);
            Gemm.MultiplyParallel(GH, H, N, dGh, GH, true, _own.Masked ? MaskPreviousHidden(direction) : direction.PreviousHidden, H, false,
                _parameters.GradientsOf(weights.RecurrentWeights), H, accumulate: true, gemmThreads);
            AddColumnSums(dGx, N, GH, _parameters.GradientsOf(weights.InputBias));
            AddColumnSums(dGh, N, GH, _parameters.GradientsOf(weights.RecurrentBias));
            if (!inputGradient.IsEmpty)
                Gemm.MultiplyParallel(N, InputSize, GH, dGx, GH, false, _parameters.ReadOnlyValuesOf(weights.InputWeights), InputSize, false,
                    inputGradient, InputSize, accumulate: d > 0, gemmThreads);
            StoreInitialGradient(direction.HiddenGradient.AsSpan(0, B * H), weights.InitialHidden, direction.GivenInitialHidden, initialHiddenGradient, d, B);
            if (TCell.HasCellState)
                StoreInitialGradient(direction.CellGradient.AsSpan(0, B * H), weights.InitialCell, direction.GivenInitialCell, initialCellGradient, d, B);
        }
    }

    private void StoreInitialGradient(ReadOnlySpan<float> gradient, ParameterTensor? learned, bool given, Span<float> destination, int d, int B)
    {
        int H = HiddenSize;
        if (!destination.IsEmpty) gradient.CopyTo(destination.Slice(d * B * H, B * H));
        if (learned is not null && !given) AddColumnSums(gradient, B, H, _parameters.GradientsOf(learned));
    }

    /// <summary>h'⊙mask for every packed row (row r of step t belongs to sorted sequence r − Offsets[t]), for dW_hh.</summary>
    private float[] MaskPreviousHidden(DirectionBuffers direction)
    {
        var layout = _own.Layout!;
        int H = HiddenSize;
        ReadOnlySpan<int> batchSizes = layout.BatchSizes, offsets = layout.Offsets;
        for (int t = 0; t < layout.Steps; t++)
        {
            int rows = batchSizes[t] * H, start = offsets[t] * H;
            TensorPrimitives.Multiply(direction.PreviousHidden.AsSpan(start, rows), direction.RecurrentMask.AsSpan(0, rows), direction.MaskedHidden.AsSpan(start, rows));
        }
        return direction.MaskedHidden;
    }

    private void BackwardRows(int d, int first, int end, ReadOnlySpan<float> outputGradient)
    {
        var direction = _own.Directions[d];
        var layout = _own.Layout!;
        int T = layout.Steps, H = HiddenSize, GH = _gateWidth, CW = _cacheWidth, DH = OutputSize;
        ReadOnlySpan<int> batchSizes = layout.BatchSizes, offsets = layout.Offsets;
        ReadOnlySpan<float> cache = direction.Cache, previous = direction.PreviousHidden;
        Span<float> dhAll = direction.HiddenGradient, dcAll = direction.CellGradient;
        Span<float> dGxAll = direction.InputGateGradient;
        Span<float> dGhAll = TCell.HasSeparateRecurrentGradient ? direction.RecurrentGateGradient : direction.InputGateGradient;
        for (int k = 0; k < T; k++)
        {
            int t = d == 0 ? T - 1 - k : k;
            int rows = Math.Min(batchSizes[t], end) - first;
            if (rows <= 0)
            {
                if (d == 1) break;
                continue;
            }
            int row0 = offsets[t] + first;
            Span<float> dh = dhAll.Slice(first * H, rows * H);
            Span<float> dc = TCell.HasCellState ? dcAll.Slice(first * H, rows * H) : default;
            for (int r = 0; r < rows; r++)
                TensorPrimitives.Add(dh.Slice(r * H, H), outputGradient.Slice((row0 + r) * DH + d * H, H), dh.Slice(r * H, H));
            Span<float> dGx = dGxAll.Slice(row0 * GH, rows * GH), dGh = dGhAll.Slice(row0 * GH, rows * GH);
            _cell.Backward(rows, H, cache.Slice(row0 * CW, rows * CW), previous.Slice(row0 * H, rows * H), dh, dc, dGx, dGh);
            if (_own.Masked)
            {
                // dh' += (dGh·W_hh)⊙mask, through a scratch of this worker's rows.
                Span<float> recurrent = direction.RecurrentGradientScratch.AsSpan(first * H, rows * H);
                Gemm.Multiply(rows, dGh, GH, false, direction.PackedRecurrentBackward!, recurrent, H, accumulate: false);
                TensorPrimitives.MultiplyAdd(recurrent, direction.RecurrentMask.AsSpan(first * H, rows * H), dh, dh);
            }
            else
            {
                Gemm.Multiply(rows, dGh, GH, false, direction.PackedRecurrentBackward!, dh, H, accumulate: true);
            }
        }
    }

    /// <summary>
    /// Below this many FLOPs of recurrent products per pass (about 35 µs on one core), the fork and join of a split
    /// (about 10 µs) would eat most of what a second thread saves, so the time loop stays on the calling thread. It was
    /// 64 MFLOP until inference projected each step's input per worker; since then workload S (34 MFLOP, B 32) runs its
    /// inference in 0.38–0.40 ms on 2 threads against 0.61 on one, and its training step in 1.23–1.28 ms against 1.63
    /// (BENCHMARKS.md, "Scaling").
    /// </summary>
    internal const long ParallelThresholdFlops = 4L << 20;

    private bool IsSmall(SequenceLayout layout) => (long)layout.TotalRows * 2 * _gateWidth * HiddenSize * Directions < ParallelThresholdFlops;

    /// <summary>Threads for the layer's large GEMMs: one for a small pass (see <see cref="ParallelThresholdFlops"/>).</summary>
    private int GemmThreads(RecurrentLayerWorkspace workspace) =>
        workspace.Layout is not null && IsSmall(workspace.Layout) ? 1 : workspace.MaxDegreeOfParallelism;

    private void RunParallel(RecurrentLayerWorkspace workspace, int batch, SequenceLayout layout, Action<int, int, int> work)
    {
        int D = Directions, threads = workspace.MaxDegreeOfParallelism;
        int chunks = Math.Clamp(threads / D, 1, Math.Max(1, batch / 4));
        bool small = IsSmall(layout);
        if (small) chunks = 1;
        // Split sorted rows so every chunk holds about the same number of real steps (the longest come first).
        SequenceLayout.EnsureCapacity(ref workspace.ChunkBounds, chunks + 1);
        int[] bounds = workspace.ChunkBounds;
        ReadOnlySpan<int> lengths = layout.SortedLengths;
        int total = layout.TotalRows, accumulated = 0, next = 1;
        bounds[0] = 0;
        for (int b = 0; b < batch && next < chunks; b++)
        {
            accumulated += lengths[b];
            if (accumulated * (long)chunks >= total * (long)next) bounds[next++] = b + 1;
        }
        while (next <= chunks) bounds[next++] = batch;
        if (threads == 1 || chunks * D == 1 || small)
        {
            for (int item = 0; item < chunks * D; item++) work(item / chunks, bounds[item % chunks], bounds[item % chunks + 1]);
            return;
        }
        Parallel.For(0, chunks * D, new ParallelOptions { MaxDegreeOfParallelism = threads },
            item => work(item / chunks, bounds[item % chunks], bounds[item % chunks + 1]));
    }

    private static void AddColumnSums(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> sums)
    {
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(sums, matrix.Slice(r * columns, columns), sums);
    }

    /// <summary>One direction's parameter views.</summary>
    private sealed class Direction
    {
        public required ParameterTensor InputWeights, RecurrentWeights, InputBias, RecurrentBias;
        public ParameterTensor? InitialHidden, InitialCell;
    }
}
