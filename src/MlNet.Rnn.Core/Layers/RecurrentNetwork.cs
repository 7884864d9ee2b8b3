using System.Globalization;
using System.Numerics.Tensors;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Layers;

/// <summary>
/// A stack of <see cref="RecurrentLayer{TCell}"/>s with the interface of <c>torch.nn.RNN/LSTM/GRU</c>: padded
/// time-major input <c>[T, B, I]</c> with optional lengths, output <c>[T, B, D·H]</c> of the top layer (zeros at padded
/// steps), final states <c>[L·D, B, H]</c>. Inside, the batch is packed once so every layer computes real steps only.
/// Dropout between layers applies in training; the initial state is zeros, given, or learned.
/// </summary>
/// <remarks>
/// The network's own buffers serve training (<see cref="Forward(ReadOnlySpan{float}, int, ReadOnlySpan{int}, Span{float}, Span{float}, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, bool)"/> then <see cref="Backward"/>), one caller at a time.
/// Inference may instead run in a <see cref="RecurrentNetworkWorkspace"/> of the caller's own
/// (<see cref="CreateWorkspace"/>): it reads the weights and writes only the workspace, so many workspaces may score
/// with one network at once.
/// </remarks>
/// <typeparam name="TCell">The recurrent cell.</typeparam>
public sealed class RecurrentNetwork<TCell> : IRecurrentNetwork where TCell : struct, IRecurrentCell
{
    private readonly RecurrentLayer<TCell>[] _layers;
    private readonly RecurrentNetworkWorkspace _own;
    private Random _dropoutRandom;
    private float[][] _masks, _gradients;
    private float[] _sortedHiddenGradient = [], _sortedCellGradient = [];
    private int _steps;
    private bool _trained;

    /// <summary>Creates the network and registers its parameters in <paramref name="parameters"/> (a new set when null).</summary>
    public RecurrentNetwork(RecurrentNetworkOptions options, TCell cell = default, ParameterSet? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Parameters = parameters ?? new ParameterSet();
        _layers = new RecurrentLayer<TCell>[options.Layers];
        int directions = options.Bidirectional ? 2 : 1;
        for (int l = 0; l < options.Layers; l++)
        {
            int inputSize = l == 0 ? options.InputSize : directions * options.HiddenSize;
            _layers[l] = new RecurrentLayer<TCell>(Parameters, cell, l, inputSize, options.HiddenSize, options.Bidirectional,
                options.LearnedInitialState)
            {
                MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, RecurrentDropout = options.RecurrentDropout,
            };
        }
        _dropoutRandom = new Random(options.Seed);
        _own = new RecurrentNetworkWorkspace(this, options.Layers, layers: null, options.MaxDegreeOfParallelism);
        _masks = new float[options.Layers][];
        _gradients = new float[options.Layers + 1][];
        for (int l = 0; l < options.Layers; l++) _masks[l] = [];
        for (int l = 0; l <= options.Layers; l++) _gradients[l] = [];
    }

    /// <summary>The options the network was built with.</summary>
    public RecurrentNetworkOptions Options { get; }

    /// <summary>Parameters and gradients, under PyTorch's names.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The layers, bottom first.</summary>
    public IReadOnlyList<RecurrentLayer<TCell>> Layers => _layers;

    /// <summary>D·H: width of an output step.</summary>
    public int OutputSize => _layers[^1].OutputSize;

    /// <summary>L·D: rows of a final-state tensor.</summary>
    public int StateCount => _layers.Length * _layers[0].Directions;

    /// <summary>
    /// Floats a training pass keeps for each step of each sequence until its backward pass: every layer's input and output
    /// and their gradients, and per direction the input projection, the cell's cache, the previous hidden state and the gate
    /// gradients. Times T·B (and 4 bytes) it is what a batch's activations cost; memory checks and estimates use it.
    /// </summary>
    public long TrainingFloatsPerStep
    {
        get
        {
            int H = Options.HiddenSize, GH = TCell.GateCount * H;
            long floats = 0;
            foreach (var layer in _layers)
                floats += 2L * (layer.InputSize + layer.OutputSize)
                    + (long)layer.Directions * ((TCell.HasSeparateRecurrentGradient ? 3L : 2L) * GH + TCell.CacheWidth(H) + H);
            return floats;
        }
    }

    /// <inheritdoc />
    public bool HasCellState => TCell.HasCellState;

    /// <summary>The packing of the last forward batch in the network's own buffers.</summary>
    public SequenceLayout Layout => _own.Layout;

    /// <inheritdoc />
    public RecurrentNetworkWorkspace CreateWorkspace(int maxDegreeOfParallelism = 1, InferencePrecision precision = InferencePrecision.Float32)
    {
        return new RecurrentNetworkWorkspace(this, _layers.Length,
            [.. _layers.Select(layer => layer.CreateWorkspace(maxDegreeOfParallelism, precision))], maxDegreeOfParallelism, precision);
    }

    /// <inheritdoc />
    public void ReseedDropout(int seed) => _dropoutRandom = new Random(seed);

    /// <summary>
    /// PyTorch's default initialisation: every weight and bias ~ U(−1/√H, 1/√H); learned initial states start at zero.
    /// </summary>
    public void Initialize(Random random)
    {
        float bound = 1f / MathF.Sqrt(Options.HiddenSize);
        foreach (var tensor in Parameters.Tensors)
        {
            string name = Parameters.LocalName(tensor);
            if (!IsOwn(name)) continue;
            Span<float> values = Parameters.ValuesOf(tensor);
            bool initialState = name.StartsWith("h0_", StringComparison.Ordinal) || name.StartsWith("c0_", StringComparison.Ordinal);
            for (int i = 0; i < values.Length; i++) values[i] = initialState ? 0f : (float)(random.NextDouble() * 2 - 1) * bound;
        }
    }

    private static bool IsOwn(string name) =>
        name.StartsWith("weight_ih_l", StringComparison.Ordinal) || name.StartsWith("weight_hh_l", StringComparison.Ordinal) ||
        name.StartsWith("bias_ih_l", StringComparison.Ordinal) || name.StartsWith("bias_hh_l", StringComparison.Ordinal) ||
        name.StartsWith("h0_l", StringComparison.Ordinal) || name.StartsWith("c0_l", StringComparison.Ordinal);

    /// <summary>
    /// Runs the network. <paramref name="input"/> is time-major <c>[T, B, I]</c>; <paramref name="lengths"/> gives each
    /// sequence's real length (empty: all T). Writes <paramref name="output"/> <c>[T, B, D·H]</c> and, when not empty, the
    /// final states <c>[L·D, B, H]</c>. Initial states <c>[L·D, B, H]</c> may be given; empty means learned or zeros.
    /// With <paramref name="training"/>, dropout applies and <see cref="Backward"/> may follow.
    /// </summary>
    public void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<int> lengths, Span<float> output,
        Span<float> finalHidden = default, Span<float> finalCell = default,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default, bool training = false) =>
        ForwardCore(_own, input, batch, lengths, output, finalHidden, finalCell, initialHidden, initialCell, training, allowEmpty: false);

    /// <summary>
    /// Inference in <paramref name="workspace"/>: as <see cref="Forward(ReadOnlySpan{float}, int, ReadOnlySpan{int}, Span{float},
    /// Span{float}, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, bool)"/> without training, except that a length may
    /// be 0 (that sequence's final state is its initial state, as when a stream read chunk by chunk has ended). Writes only
    /// the workspace and the given spans; any number of workspaces may run on one network at once.
    /// </summary>
    public void Forward(RecurrentNetworkWorkspace workspace, ReadOnlySpan<float> input, int batch, ReadOnlySpan<int> lengths, Span<float> output,
        Span<float> finalHidden = default, Span<float> finalCell = default,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        if (!ReferenceEquals(workspace.Network, this) || workspace.Layers is null)
            throw new ArgumentException("The workspace was made by another network; make one with this network's CreateWorkspace.", nameof(workspace));
        ForwardCore(workspace, input, batch, lengths, output, finalHidden, finalCell, initialHidden, initialCell, training: false, allowEmpty: true);
    }

    internal void ForwardCore(RecurrentNetworkWorkspace workspace, ReadOnlySpan<float> input, int batch, ReadOnlySpan<int> lengths, Span<float> output,
        Span<float> finalHidden, Span<float> finalCell, ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell,
        bool training, bool allowEmpty)
    {
        int I = Options.InputSize, H = Options.HiddenSize, stateLength = StateCount * batch * H;
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "The batch size must be at least 1.");
        if (input.Length == 0 || input.Length % (batch * I) != 0)
            throw new ArgumentException(
                $"input holds {input.Length} floats, which is not T·B·I for B = {batch}, I = {I}: give time-major [T, B, I] with T ≥ 1.", nameof(input));
        int steps = input.Length / (batch * I);
        if (!lengths.IsEmpty && lengths.Length != batch)
            throw new ArgumentException($"lengths holds {lengths.Length} values but the batch has B = {batch} sequences.", nameof(lengths));
        CheckLength(output, steps * batch * OutputSize, nameof(output), "T·B·D·H");
        CheckOptionalLength(finalHidden, stateLength, nameof(finalHidden));
        CheckOptionalLength(finalCell, stateLength, nameof(finalCell));
        CheckOptionalLength(initialHidden, stateLength, nameof(initialHidden));
        CheckOptionalLength(initialCell, stateLength, nameof(initialCell));
        if (!initialHidden.IsEmpty && TCell.HasCellState && initialCell.IsEmpty)
            throw new ArgumentException("An LSTM given initialHidden also needs initialCell (both [L·D, B, H]).", nameof(initialCell));
        if (!initialCell.IsEmpty && !TCell.HasCellState)
            throw new ArgumentException($"initialCell was given, but a {typeof(TCell).Name} has no cell state; pass it empty.", nameof(initialCell));
        if (!initialCell.IsEmpty && initialHidden.IsEmpty)
            throw new ArgumentException("initialCell was given without initialHidden; give both [L·D, B, H] or neither.", nameof(initialHidden));
        CheckFinite(input, batch, I, nameof(input), "step, sequence, feature");
        CheckFinite(initialHidden, batch, H, nameof(initialHidden), "layer·direction, sequence, unit");
        CheckFinite(initialCell, batch, H, nameof(initialCell), "layer·direction, sequence, unit");

        var layout = workspace.Layout;
        if (lengths.IsEmpty)
        {
            Span<int> full = batch <= 1024 ? stackalloc int[batch] : new int[batch];
            full.Fill(steps);
            layout.Update(full, steps);
        }
        else
        {
            layout.Update(lengths, steps, allowEmpty);
        }
        bool own = ReferenceEquals(workspace, _own);
        if (own)
        {
            // Only the network's own pass may be followed by Backward; inference in a workspace leaves the network untouched.
            _steps = steps;
            _trained = training;
        }
        bool givenInitialState = !initialHidden.IsEmpty;
        int N = layout.TotalRows;
        float[][] layerInputs = workspace.LayerInputs, layerOutputs = workspace.LayerOutputs;

        Grow(ref layerInputs[0], N * I);
        layout.Pack(input, I, layerInputs[0]);
        bool hasCell = TCell.HasCellState;
        if (givenInitialState)
        {
            Grow(ref workspace.SortedInitialHidden, stateLength);
            SortStates(layout, initialHidden, workspace.SortedInitialHidden, batch);
            if (hasCell) { Grow(ref workspace.SortedInitialCell, stateLength); SortStates(layout, initialCell, workspace.SortedInitialCell, batch); }
        }
        Grow(ref workspace.SortedFinalHidden, stateLength);
        Grow(ref workspace.SortedFinalCell, stateLength);
        float[] sortedInitialHidden = workspace.SortedInitialHidden, sortedInitialCell = workspace.SortedInitialCell,
            sortedFinalHidden = workspace.SortedFinalHidden, sortedFinalCell = workspace.SortedFinalCell;

        int blockLength = _layers[0].Directions * batch * H;
        for (int l = 0; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            Grow(ref layerOutputs[l], N * layer.OutputSize);
            if (training && Options.RecurrentDropout > 0f) layer.SampleRecurrentMasks(_dropoutRandom, batch);
            ReadOnlySpan<float> layerInput = layerInputs[l].AsSpan(0, N * layer.InputSize);
            ReadOnlySpan<float> layerInitialHidden = givenInitialState ? sortedInitialHidden.AsSpan(l * blockLength, blockLength) : default;
            ReadOnlySpan<float> layerInitialCell = givenInitialState && hasCell ? sortedInitialCell.AsSpan(l * blockLength, blockLength) : default;
            Span<float> layerFinalHidden = sortedFinalHidden.AsSpan(l * blockLength, blockLength);
            Span<float> layerFinalCell = hasCell ? sortedFinalCell.AsSpan(l * blockLength, blockLength) : default;
            if (own) layer.Forward(layout, layerInput, layerInitialHidden, layerInitialCell, layerOutputs[l], layerFinalHidden, layerFinalCell, training);
            else layer.Forward(workspace.Layers![l], layout, layerInput, layerInitialHidden, layerInitialCell, layerOutputs[l], layerFinalHidden, layerFinalCell);
            if (l + 1 < _layers.Length)
            {
                int length = N * layer.OutputSize;
                Grow(ref layerInputs[l + 1], length);
                if (training && Options.Dropout > 0f) ApplyNewDropout(l, length);
                else layerOutputs[l].AsSpan(0, length).CopyTo(layerInputs[l + 1]);
            }
        }

        layout.Unpack(layerOutputs[^1], OutputSize, output, steps);
        if (!finalHidden.IsEmpty) UnsortStates(layout, sortedFinalHidden, finalHidden, batch);
        if (hasCell && !finalCell.IsEmpty) UnsortStates(layout, sortedFinalCell, finalCell, batch);
    }

    private void ApplyNewDropout(int layer, int length)
    {
        // Inverted dropout: keep with probability 1 − p and scale by 1/(1 − p), so inference needs no rescaling.
        Grow(ref _masks[layer], length);
        Span<float> mask = _masks[layer].AsSpan(0, length);
        float keep = 1f - Options.Dropout, scale = 1f / keep;
        for (int i = 0; i < length; i++) mask[i] = _dropoutRandom.NextSingle() < keep ? scale : 0f;
        TensorPrimitives.Multiply(_own.LayerOutputs[layer].AsSpan(0, length), mask, _own.LayerInputs[layer + 1].AsSpan(0, length));
    }

    /// <summary>
    /// The dropout masks of layer <paramref name="layer"/> in the last training <see cref="Forward(ReadOnlySpan{float}, int, ReadOnlySpan{int}, Span{float}, Span{float}, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, bool)"/>, in the caller's batch
    /// order, so a test can replay them in a reference: <paramref name="recurrentMask"/> <c>[D, B, H]</c> multiplies h'
    /// entering W_hh, <paramref name="outputMask"/> <c>[T, B, D·H]</c> (below the top layer; may be empty) multiplies the
    /// layer's output before the next layer reads it (zeros at padded steps). All ones where that dropout did not apply.
    /// </summary>
    internal void CopyDropoutMasks(int layer, Span<float> recurrentMask, Span<float> outputMask)
    {
        var layout = _own.Layout;
        int batch = layout.BatchSize, H = Options.HiddenSize, block = batch * H;
        for (int d = 0; d < _layers[layer].Directions; d++)
        {
            Span<float> mask = recurrentMask.Slice(d * block, block);
            if (_trained && Options.RecurrentDropout > 0f) layout.Unsort(_layers[layer].RecurrentMaskOf(d), H, mask);
            else mask.Fill(1f);
        }
        if (outputMask.IsEmpty || layer + 1 == _layers.Length) return;
        if (_trained && Options.Dropout > 0f) layout.Unpack(_masks[layer], _layers[layer].OutputSize, outputMask, _steps);
        else outputMask.Slice(0, _steps * batch * _layers[layer].OutputSize).Fill(1f);
    }

    /// <summary>
    /// Backpropagates through the last training <see cref="Forward(ReadOnlySpan{float}, int, ReadOnlySpan{int}, Span{float}, Span{float}, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, bool)"/>: <paramref name="outputGradient"/> is dL/d(output)
    /// <c>[T, B, D·H]</c> (padded steps ignored); final-state gradients <c>[L·D, B, H]</c> may be empty. Adds into
    /// <see cref="ParameterSet.Gradients"/>; writes dL/d(input) <c>[T, B, I]</c> and initial-state gradients when given.
    /// </summary>
    public void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> finalHiddenGradient = default,
        ReadOnlySpan<float> finalCellGradient = default, Span<float> inputGradient = default,
        Span<float> initialHiddenGradient = default, Span<float> initialCellGradient = default)
    {
        if (!_trained) throw new InvalidOperationException("Backward needs a Forward with training: true first.");
        var layout = _own.Layout;
        int batch = layout.BatchSize, H = Options.HiddenSize, N = layout.TotalRows, stateLength = StateCount * batch * H;
        CheckLength(outputGradient, _steps * batch * OutputSize, nameof(outputGradient), "T·B·D·H");
        CheckOptionalLength(finalHiddenGradient, stateLength, nameof(finalHiddenGradient));
        CheckOptionalLength(finalCellGradient, stateLength, nameof(finalCellGradient));
        CheckOptionalLength(inputGradient, _steps * batch * Options.InputSize, nameof(inputGradient), "[T, B, I]");
        CheckOptionalLength(initialHiddenGradient, stateLength, nameof(initialHiddenGradient));
        CheckOptionalLength(initialCellGradient, stateLength, nameof(initialCellGradient));
        CheckFinite(outputGradient, batch, OutputSize, nameof(outputGradient), "step, sequence, unit");
        CheckFinite(finalHiddenGradient, batch, H, nameof(finalHiddenGradient), "layer·direction, sequence, unit");
        CheckFinite(finalCellGradient, batch, H, nameof(finalCellGradient), "layer·direction, sequence, unit");
        bool hasCell = TCell.HasCellState;
        if (!finalHiddenGradient.IsEmpty) { Grow(ref _sortedHiddenGradient, stateLength); SortStates(layout, finalHiddenGradient, _sortedHiddenGradient, batch); }
        if (hasCell && !finalCellGradient.IsEmpty) { Grow(ref _sortedCellGradient, stateLength); SortStates(layout, finalCellGradient, _sortedCellGradient, batch); }
        bool wantInitial = !initialHiddenGradient.IsEmpty || (hasCell && !initialCellGradient.IsEmpty);
        // The initial-state gradients reuse the sorted final-state buffers, which backward does not read.
        Span<float> initialHiddenSorted = wantInitial ? _own.SortedFinalHidden.AsSpan(0, stateLength) : default;
        Span<float> initialCellSorted = wantInitial && hasCell ? _own.SortedFinalCell.AsSpan(0, stateLength) : default;

        var top = _layers[^1];
        Grow(ref _gradients[_layers.Length], N * top.OutputSize);
        layout.Pack(outputGradient, top.OutputSize, _gradients[_layers.Length]);
        int blockLength = _layers[0].Directions * batch * H;
        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            var layer = _layers[l];
            bool needInput = l > 0 || !inputGradient.IsEmpty;
            if (needInput) Grow(ref _gradients[l], N * layer.InputSize);
            layer.Backward(_own.LayerInputs[l].AsSpan(0, N * layer.InputSize), _gradients[l + 1].AsSpan(0, N * layer.OutputSize),
                finalHiddenGradient.IsEmpty ? default : _sortedHiddenGradient.AsSpan(l * blockLength, blockLength),
                hasCell && !finalCellGradient.IsEmpty ? _sortedCellGradient.AsSpan(l * blockLength, blockLength) : default,
                needInput ? _gradients[l].AsSpan(0, N * layer.InputSize) : default,
                initialHiddenSorted.IsEmpty ? default : initialHiddenSorted.Slice(l * blockLength, blockLength),
                initialCellSorted.IsEmpty ? default : initialCellSorted.Slice(l * blockLength, blockLength));
            if (l > 0 && _trained && Options.Dropout > 0f)
                TensorPrimitives.Multiply(_gradients[l].AsSpan(0, N * layer.InputSize), _masks[l - 1].AsSpan(0, N * layer.InputSize),
                    _gradients[l].AsSpan(0, N * layer.InputSize));
        }

        if (!inputGradient.IsEmpty) layout.Unpack(_gradients[0], Options.InputSize, inputGradient, _steps);
        if (!initialHiddenGradient.IsEmpty) UnsortStates(layout, initialHiddenSorted, initialHiddenGradient, batch);
        if (hasCell && !initialCellGradient.IsEmpty) UnsortStates(layout, initialCellSorted, initialCellGradient, batch);
    }

    /// <summary>
    /// Truncated backpropagation through time: runs <paramref name="input"/> <c>[T, B, I]</c> in chunks of
    /// <paramref name="chunkSteps"/> steps, carrying the state from one chunk to the next as a constant, so gradients
    /// flow back at most one chunk. For each chunk, <paramref name="chunkGradient"/> receives the chunk's first step,
    /// its step count, its output <c>[k, B, D·H]</c>, and writes dL/d(output) for it; the chunk's backward then adds
    /// into the parameter gradients, and <paramref name="afterChunk"/> (if given) may step an optimizer.
    /// The first chunk starts from the given, learned or zero state. Bidirectional networks cannot be truncated:
    /// their reverse direction needs the whole sequence. When <paramref name="inputGradient"/> <c>[T, B, I]</c> is given, each
    /// chunk's backward writes dL/d(input) for its steps (an embedding below the network learns from it).
    /// </summary>
    public void BackpropagateTruncated(ReadOnlySpan<float> input, int batch, ReadOnlySpan<int> lengths, int chunkSteps,
        TruncatedChunkGradient chunkGradient, Action<int>? afterChunk = null,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default, Span<float> inputGradient = default)
    {
        ArgumentNullException.ThrowIfNull(chunkGradient);
        if (Options.Bidirectional)
            throw new InvalidOperationException("Truncated BPTT needs a unidirectional network: the reverse direction reads the whole sequence.");
        if (chunkSteps <= 0) throw new ArgumentOutOfRangeException(nameof(chunkSteps), chunkSteps, "chunkSteps must be at least 1.");
        int I = Options.InputSize, H = Options.HiddenSize, stepWidth = batch * I;
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "The batch size must be at least 1.");
        if (input.Length == 0 || input.Length % stepWidth != 0)
            throw new ArgumentException($"input holds {input.Length} floats, which is not T·B·I for B = {batch}, I = {I}.", nameof(input));
        int steps = input.Length / stepWidth, stateLength = StateCount * batch * H;
        CheckOptionalLength(inputGradient, input.Length, nameof(inputGradient), "[T, B, I]");
        if (!lengths.IsEmpty && lengths.Length != batch)
            throw new ArgumentException($"lengths holds {lengths.Length} values but the batch has B = {batch} sequences.", nameof(lengths));
        for (int b = 0; b < lengths.Length; b++)
            if (lengths[b] < 1 || lengths[b] > steps)
                throw new ArgumentOutOfRangeException(nameof(lengths), $"lengths[{b}] = {lengths[b]}, but every length must be in [1, {steps}].");

        Grow(ref _chunkHidden, 2 * stateLength);
        Grow(ref _chunkCell, 2 * stateLength);
        Grow(ref _chunkOutput, Math.Min(chunkSteps, steps) * batch * OutputSize);
        Grow(ref _chunkGradient, Math.Min(chunkSteps, steps) * batch * OutputSize);
        if (_chunkLengths.Length < batch) _chunkLengths = new int[batch];
        Span<int> chunkLengths = _chunkLengths.AsSpan(0, batch);
        inputGradient.Clear(); // steps after every sequence has ended get no gradient
        for (int first = 0, chunk = 0; first < steps; first += chunkSteps, chunk++)
        {
            int count = Math.Min(chunkSteps, steps - first);
            for (int b = 0; b < batch; b++) chunkLengths[b] = Math.Clamp((lengths.IsEmpty ? steps : lengths[b]) - first, 0, count);
            if (!chunkLengths.ContainsAnyExcept(0)) break; // every sequence has ended
            // States alternate between two halves of the buffer: the previous final state is this chunk's initial state.
            int current = chunk % 2 * stateLength, previous = (chunk + 1) % 2 * stateLength;
            ReadOnlySpan<float> startHidden = chunk == 0 ? initialHidden : _chunkHidden.AsSpan(previous, stateLength);
            ReadOnlySpan<float> startCell = chunk == 0 ? initialCell : TCell.HasCellState ? _chunkCell.AsSpan(previous, stateLength) : default;
            Span<float> output = _chunkOutput.AsSpan(0, count * batch * OutputSize), gradient = _chunkGradient.AsSpan(0, output.Length);
            ForwardCore(_own, input.Slice(first * stepWidth, count * stepWidth), batch, chunkLengths, output,
                _chunkHidden.AsSpan(current, stateLength), TCell.HasCellState ? _chunkCell.AsSpan(current, stateLength) : default,
                startHidden, startCell, training: true, allowEmpty: true);
            gradient.Clear();
            chunkGradient(first, count, output, gradient);
            Backward(gradient, inputGradient: inputGradient.IsEmpty ? default : inputGradient.Slice(first * stepWidth, count * stepWidth));
            afterChunk?.Invoke(chunk);
        }
    }

    private float[] _chunkHidden = [], _chunkCell = [], _chunkOutput = [], _chunkGradient = [];
    private int[] _chunkLengths = [];

    private void SortStates(SequenceLayout layout, ReadOnlySpan<float> callerOrder, Span<float> sorted, int batch)
    {
        int block = batch * Options.HiddenSize;
        for (int s = 0; s < StateCount; s++)
            layout.Sort(callerOrder.Slice(s * block, block), Options.HiddenSize, sorted.Slice(s * block, block));
    }

    private void UnsortStates(SequenceLayout layout, ReadOnlySpan<float> sorted, Span<float> callerOrder, int batch)
    {
        int block = batch * Options.HiddenSize;
        for (int s = 0; s < StateCount; s++)
            layout.Unsort(sorted.Slice(s * block, block), Options.HiddenSize, callerOrder.Slice(s * block, block));
    }

    private static void Grow(ref float[] buffer, int length) => SequenceLayout.EnsureCapacity(ref buffer, length);

    private static void CheckLength(ReadOnlySpan<float> span, int expected, string name, string formula)
    {
        if (span.Length != expected)
            throw new ArgumentException($"{name} holds {span.Length} floats but {formula} = {expected} are needed.", name);
    }

    private static void CheckOptionalLength(ReadOnlySpan<float> span, int expected, string name, string shape = "[L·D, B, H]")
    {
        if (!span.IsEmpty && span.Length != expected)
            throw new ArgumentException($"{name} holds {span.Length} floats but {shape} = {expected} are needed (or pass it empty).", name);
    }

    /// <summary>Rejects NaN and infinities, naming the first bad position along <paramref name="axes"/>.</summary>
    internal static void CheckFinite(ReadOnlySpan<float> values, int batch, int width, string name, string axes)
    {
        if (values.IsEmpty) return;
        int index = TensorPrimitives.IndexOfMaxMagnitude(values);
        if (float.IsFinite(values[index])) return;
        for (index = 0; float.IsFinite(values[index]); index++) { }
        int row = index / width;
        string position = string.Create(CultureInfo.InvariantCulture, $"{name}[{row / batch}, {row % batch}, {index % width}] ({axes}) is {values[index]}");
        throw new ArgumentException($"{position}; every value must be a finite number. Replace or drop missing values first.", name);
    }
}
