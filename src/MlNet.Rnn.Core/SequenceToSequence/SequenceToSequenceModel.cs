using System.Globalization;
using System.Numerics.Tensors;
using MlNet.Rnn.Core.Kernels;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// An encoder–decoder (many-to-many unaligned). Encoder: source ids <c>[S, B]</c> → embedding <c>[S, B, E]</c> →
/// recurrent stack → memory m <c>[S, B, D·H]</c> and final states <c>[L·D, B, H]</c>. Bridge: decoder layer l starts from
/// encoder layer l's final state (summed over the D directions). Decoder: target ids shifted right (start, y_1 … y_n)
/// → embedding → recurrent stack of the same cell → h <c>[T, B, H]</c> → logits <c>z = W_o h + b_o</c> <c>[T, B, V_t]</c>,
/// trained to predict y_1 … y_n, end under softmax cross-entropy over real target steps. Attention over m is optional:
/// <see cref="AttentionKind.Luong"/> turns h into <c>h̃</c> after the decoder, over all steps at once;
/// <see cref="AttentionKind.Bahdanau"/> adds a context to the decoder's input, so the decoder runs step by step.
/// Decoding feeds back its own predictions (greedy or beam search), never the unknown id 0 or the start id (the ids of
/// <see cref="Data.Vocabulary"/>).
/// </summary>
/// <remarks>
/// Parameters live in one buffer, <see cref="Parameters"/>, with a scope per part, because each recurrent stack registers
/// PyTorch's names (<c>weight_ih_l0</c>, …): <c>encoder.</c> holds <c>embedding.weight</c> <c>[V_s, E]</c> and the stack's
/// tensors; <c>decoder.</c> holds <c>embedding.weight</c> <c>[V_t, E]</c>, the stack's tensors, the attention's
/// (<c>attention.…</c>) and <c>output.weight</c> <c>[V_t, H]</c>, <c>output.bias</c> <c>[V_t]</c>.
/// The model's own buffers serve training and <see cref="Translate(IReadOnlyList{int[]}, DecodingOptions?)"/>, one caller at a
/// time. A <see cref="SequenceToSequenceWorkspace"/> (<see cref="CreateWorkspace"/>) decodes with the weights read-only and
/// nothing shared written, so any number of them may decode with one model at once.
/// </remarks>
public sealed class SequenceToSequenceModel
{
    private readonly Embedding _sourceEmbedding, _targetEmbedding;
    private readonly LuongAttention? _attention;
    private readonly BahdanauAttention? _additiveAttention;
    private readonly Dense _output;
    private readonly SequenceToSequenceWorkspace _own;
    private float[] _logits = [],
        _featureGradient = [], _decoderOutputGradient = [], _memoryGradient = [], _targetEmbeddedGradient = [], _initialHiddenGradient = [],
        _initialCellGradient = [], _encoderHiddenGradient = [], _encoderCellGradient = [], _sourceEmbeddedGradient = [],
        _stepHidden = [], _stepCell = [], _stepOutput = [], _stepInputGradient = [], _carryHidden = [], _carryCell = [],
        _queryGradient = [];
    private int[] _sourceIds = [], _decoderIds = [];
    private int _targetSteps;
    private bool _trained;
    private Random _stepRandom;
    private int _stepSeed;

    /// <summary>Builds the model and initialises it from <see cref="SequenceToSequenceOptions.Seed"/>.</summary>
    public SequenceToSequenceModel(SequenceToSequenceOptions options) : this(options, initialize: true)
    {
    }

    /// <summary>Builds the model; without <paramref name="initialize"/> every parameter is zero (for a model file to fill).</summary>
    internal SequenceToSequenceModel(SequenceToSequenceOptions options, bool initialize)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Parameters = new ParameterSet();
        EncoderParameters = Parameters.Scope(SequenceToSequenceModelFile.EncoderPrefix);
        DecoderParameters = Parameters.Scope(SequenceToSequenceModelFile.DecoderPrefix);
        _sourceEmbedding = new Embedding(EncoderParameters, "embedding", options.SourceVocabularySize, options.EmbeddingSize);
        Encoder = CreateNetwork(options, EncoderParameters, options.EmbeddingSize, options.Bidirectional, options.Seed);
        _targetEmbedding = new Embedding(DecoderParameters, "embedding", options.TargetVocabularySize, options.EmbeddingSize);
        int decoderInputSize = options.EmbeddingSize + (options.Attention == AttentionKind.Bahdanau ? MemoryWidth : 0);
        Decoder = CreateNetwork(options, DecoderParameters, decoderInputSize, bidirectional: false, unchecked(options.Seed * 31 + 1));
        if (options.Attention == AttentionKind.Luong)
            _attention = new LuongAttention(DecoderParameters, options.HiddenSize, MemoryWidth);
        if (options.Attention == AttentionKind.Bahdanau)
            _additiveAttention = new BahdanauAttention(DecoderParameters, options.HiddenSize, MemoryWidth);
        _stepRandom = new Random(unchecked(options.Seed * 31 + 2));
        _output = new Dense(DecoderParameters, "output", options.HiddenSize, options.TargetVocabularySize, OutputActivation.Identity);
        _own = new SequenceToSequenceWorkspace(this, encoder: null, decoder: null, _attention?.Own, _additiveAttention?.Own);
        if (initialize) Initialize(new Random(options.Seed));
    }

    /// <summary>
    /// A new, empty workspace for decoding with this model: nothing is copied or initialised, buffers grow on first use. Its
    /// recurrent passes split a batch across up to <paramref name="maxDegreeOfParallelism"/> threads.
    /// </summary>
    public SequenceToSequenceWorkspace CreateWorkspace(int maxDegreeOfParallelism = 1) =>
        new(this, Encoder.CreateWorkspace(maxDegreeOfParallelism), Decoder.CreateWorkspace(maxDegreeOfParallelism),
            _attention is null ? null : new LuongAttention.Workspace(), _additiveAttention is null ? null : new BahdanauAttention.Workspace());

    /// <summary>The options the model was built with.</summary>
    public SequenceToSequenceOptions Options { get; }

    /// <summary>Every parameter of the model in one buffer, the encoder's under <c>encoder.</c>, the decoder's under <c>decoder.</c>.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The scope <c>encoder.</c> of <see cref="Parameters"/>: the source embedding and the encoder's recurrent stack.</summary>
    public ParameterSet EncoderParameters { get; }

    /// <summary>The scope <c>decoder.</c> of <see cref="Parameters"/>: the target embedding, the decoder's recurrent stack, the attention and the output layer.</summary>
    public ParameterSet DecoderParameters { get; }

    /// <summary>Total number of trainable scalars.</summary>
    public int ParameterCount => Parameters.Count;

    /// <summary>The encoder's recurrent stack (D directions).</summary>
    public IRecurrentNetwork Encoder { get; }

    /// <summary>The decoder's recurrent stack (one direction).</summary>
    public IRecurrentNetwork Decoder { get; }

    /// <summary>V_t: logits per target step.</summary>
    public int TargetVocabularySize => Options.TargetVocabularySize;

    /// <summary>D·H: width of a memory step.</summary>
    private int MemoryWidth => Options.Directions * Options.HiddenSize;

    /// <summary>L·B·H floats of one decoder state.</summary>
    internal int DecoderStateLength(int batch) => Options.Layers * batch * Options.HiddenSize;

    /// <summary>
    /// PyTorch's defaults: embeddings N(0, 1), recurrent weights U(−1/√H, 1/√H), dense layers U(−1/√A, 1/√A); then
    /// the LSTM forget-gate bias when <see cref="SequenceToSequenceOptions.ForgetGateBias"/> is set.
    /// </summary>
    public void Initialize(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        _sourceEmbedding.Initialize(random);
        Encoder.Initialize(random);
        _targetEmbedding.Initialize(random);
        Decoder.Initialize(random);
        _attention?.Initialize(random);
        _additiveAttention?.Initialize(random);
        _output.Initialize(random);
        if (Options.ForgetGateBias is float forget)
        {
            Training.Initialization.ForgetGateBias(EncoderParameters, Options.HiddenSize, forget);
            Training.Initialization.ForgetGateBias(DecoderParameters, Options.HiddenSize, forget);
        }
    }

    /// <summary>Restarts the dropout masks of both stacks from <paramref name="seed"/>.</summary>
    public void ReseedDropout(int seed)
    {
        Encoder.ReseedDropout(seed);
        Decoder.ReseedDropout(unchecked(seed * 31 + 1));
        _stepRandom = new Random(unchecked(seed * 31 + 2));
    }

    /// <summary>
    /// log P(y_1 … y_n, end | source) under the model: the sum over target steps of the log-softmax of the logit of the
    /// token taught at that step (teacher forcing). Ids as in <see cref="SequencePairs"/>; the target may be empty
    /// (then it is log P(end | source), as for an empty translation).
    /// </summary>
    public double Score(ReadOnlySpan<int> source, ReadOnlySpan<int> target)
    {
        int[] sourceIds = source.ToArray(), targetIds = target.ToArray();
        CheckSource(sourceIds, 0);
        CheckTarget(targetIds, 0, nameof(target));
        var batch = new PairBatch();
        batch.Fill([sourceIds], [targetIds], [0], Options.StartId, Options.EndId);
        int T = batch.TargetSteps, V = TargetVocabularySize;
        var logits = new float[T * V];
        Forward(batch, logits, training: false);
        double total = 0;
        for (int t = 0; t < T; t++) total += LogSoftmaxAt(logits.AsSpan(t * V, V), (int)batch.Targets[t]);
        return total;
    }

    /// <summary>The translation of one source sequence: target ids without start and end.</summary>
    public int[] Translate(ReadOnlySpan<int> source, DecodingOptions? options = null) =>
        Translate([source.ToArray()], options)[0].Tokens;

    /// <summary>
    /// Translates every source: greedy decoding (<see cref="DecodingOptions.BeamWidth"/> = 1) runs all sources as one batch;
    /// beam search runs the beams of one source as a batch. Both choose among every target id but the unknown id 0 and
    /// <see cref="SequenceToSequenceOptions.StartId"/>, which are never emitted (a token's log-probability is still over all
    /// V_t ids). Sources are checked first; an empty one is an error naming its row.
    /// </summary>
    public Translation[] Translate(IReadOnlyList<int[]> sources, DecodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sources);
        options ??= new DecodingOptions();
        options.Validate();
        for (int row = 0; row < sources.Count; row++) CheckSource(sources[row], row);
        if (sources.Count == 0) return [];
        var (ids, lengths) = SequenceDecoding.Pad(sources);
        return Translate(_own, ids, sources.Count, lengths, options);
    }

    /// <summary>Decodes checked sources given as padded ids <c>[S, B]</c> with their lengths, in <paramref name="workspace"/>.</summary>
    internal Translation[] Translate(SequenceToSequenceWorkspace workspace, ReadOnlySpan<int> ids, int batch, ReadOnlySpan<int> lengths, DecodingOptions options) =>
        options.BeamWidth == 1 ? SequenceDecoding.Greedy(this, workspace, ids, batch, lengths, options) : SequenceDecoding.Beam(this, workspace, ids, batch, lengths, options);

    /// <summary>Checks source <paramref name="row"/> (ids <paramref name="source"/>) against the source vocabulary.</summary>
    internal void CheckSource(ReadOnlySpan<int> source, long row)
    {
        if (source.IsEmpty)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Row {row}: the source sequence is empty; every source needs at least one token."), "sources");
        for (int s = 0; s < source.Length; s++)
            if ((uint)source[s] >= (uint)Options.SourceVocabularySize)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Row {row}: source token {s} has id {source[s]}, outside the source vocabulary [0, {Options.SourceVocabularySize}); map unseen tokens to 0."),
                    "sources");
    }

    /// <summary>
    /// Exact match, token accuracy and mean edit distance of the decoded translations of <paramref name="data"/>
    /// (<see cref="SequencePairs"/> or a cache of them), read a part at a time and each part checked before it is decoded.
    /// </summary>
    public SequenceToSequenceMetrics Evaluate(ISequenceSource data, DecodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        SequencePairs.CheckShape(data, nameof(data));
        const int chunk = 256;
        var accumulator = new SequenceToSequenceMetrics.Accumulator();
        var buffer = SequencePairs.Create();
        for (int p = 0; p < data.PartCount; p++)
        {
            var part = data.ReadPart(p, buffer);
            CheckIds(part, nameof(data));
            for (int start = 0; start < part.Count; start += chunk)
            {
                int count = Math.Min(chunk, part.Count - start);
                var sources = new int[count][];
                for (int i = 0; i < count; i++) sources[i] = SequencePairs.SourceOf(part, start + i).ToArray();
                var translations = Translate(sources, options);
                for (int i = 0; i < count; i++) accumulator.Add(SequencePairs.TargetOf(part, start + i), translations[i].Tokens);
            }
        }
        return accumulator.Metrics;
    }

    /// <summary>
    /// Teacher-forced forward pass: writes logits <c>[T, B, V_t]</c> for the batch. With <paramref name="training"/>,
    /// dropout applies and <see cref="Backward"/> may follow.
    /// </summary>
    internal void Forward(PairBatch batch, Span<float> logits, bool training)
    {
        var workspace = _own;
        int B = batch.BatchSize, S = batch.SourceSteps, T = batch.TargetSteps, E = Options.EmbeddingSize, H = Options.HiddenSize,
            M = MemoryWidth, V = TargetVocabularySize;
        workspace.Batch = B;
        workspace.SourceSteps = S;
        _targetSteps = T;
        _trained = training;
        Grow(ref _sourceIds, S * B);
        batch.SourceIds.AsSpan(0, S * B).CopyTo(_sourceIds);
        Grow(ref _decoderIds, T * B);
        batch.DecoderInputs.AsSpan(0, T * B).CopyTo(_decoderIds);

        Encode(workspace, _sourceIds.AsSpan(0, S * B), B, batch.SourceLengths.AsSpan(0, B), training);
        Grow(ref workspace.TargetEmbedded, T * B * E);
        _targetEmbedding.Forward(_decoderIds.AsSpan(0, T * B), workspace.TargetEmbedded);
        Grow(ref workspace.DecoderOutput, T * B * H);
        int stateLength = DecoderStateLength(B);
        if (_additiveAttention is not null) DecodeTeacherForced(B, T, training);
        else Decoder.Forward(workspace.TargetEmbedded.AsSpan(0, T * B * E), B, batch.TargetLengths.AsSpan(0, B), workspace.DecoderOutput.AsSpan(0, T * B * H),
            initialHidden: workspace.InitialHidden.AsSpan(0, stateLength), initialCell: Decoder.HasCellState ? workspace.InitialCell.AsSpan(0, stateLength) : default,
            training: training);
        ReadOnlySpan<float> features = workspace.DecoderOutput.AsSpan(0, T * B * H);
        if (_attention is not null)
        {
            Grow(ref workspace.Features, T * B * H);
            _attention.Attend(workspace.Luong!, workspace.Memory.AsSpan(0, S * B * M), features, T, workspace.Features);
            features = workspace.Features.AsSpan(0, T * B * H);
        }
        _output.Forward(features, T * B, logits);
        if (training)
        {
            Grow(ref _logits, T * B * V);
            logits[..(T * B * V)].CopyTo(_logits);
        }
    }

    /// <summary>Adds dL/dθ of the last training <see cref="Forward"/> into both parameter sets' gradients, from dL/dz <c>[T, B, V_t]</c>.</summary>
    internal void Backward(ReadOnlySpan<float> logitsGradient)
    {
        var workspace = _own;
        if (!_trained) throw new InvalidOperationException("Backward needs a Forward with training: true first.");
        int B = workspace.Batch, S = workspace.SourceSteps, T = _targetSteps, E = Options.EmbeddingSize, H = Options.HiddenSize, M = MemoryWidth,
            V = TargetVocabularySize, D = Options.Directions, L = Options.Layers, rows = T * B;
        Grow(ref _featureGradient, rows * H);
        Grow(ref _memoryGradient, S * B * M);
        Span<float> memoryGradient = _memoryGradient.AsSpan(0, S * B * M);
        memoryGradient.Clear();
        ReadOnlySpan<float> features = _attention is null ? workspace.DecoderOutput.AsSpan(0, rows * H) : workspace.Features.AsSpan(0, rows * H);
        _output.Backward(features, _logits.AsSpan(0, rows * V), logitsGradient, rows, _featureGradient.AsSpan(0, rows * H));
        Span<float> decoderOutputGradient = _featureGradient.AsSpan(0, rows * H);
        if (_attention is not null)
        {
            Grow(ref _decoderOutputGradient, rows * H);
            decoderOutputGradient = _decoderOutputGradient.AsSpan(0, rows * H);
            _attention.Backward(workspace.Memory.AsSpan(0, S * B * M), _featureGradient.AsSpan(0, rows * H), decoderOutputGradient, memoryGradient);
        }

        int stateLength = DecoderStateLength(B), encoderStateLength = L * D * B * H, block = B * H;
        Grow(ref _targetEmbeddedGradient, rows * E);
        Grow(ref _initialHiddenGradient, stateLength);
        Grow(ref _initialCellGradient, stateLength);
        bool cell = Decoder.HasCellState;
        if (_additiveAttention is not null)
            BackpropagateTeacherForced(decoderOutputGradient, memoryGradient);
        else
            Decoder.Backward(decoderOutputGradient, default, default, _targetEmbeddedGradient.AsSpan(0, rows * E),
                _initialHiddenGradient.AsSpan(0, stateLength), cell ? _initialCellGradient.AsSpan(0, stateLength) : default);
        _targetEmbedding.Backward(_decoderIds.AsSpan(0, rows), _targetEmbeddedGradient.AsSpan(0, rows * E));

        // Bridge h0_dec[l] = Σ_d h_enc[l·D + d]: each direction receives the decoder state's gradient.
        Grow(ref _encoderHiddenGradient, encoderStateLength);
        Grow(ref _encoderCellGradient, encoderStateLength);
        for (int l = 0; l < L; l++)
            for (int d = 0; d < D; d++)
            {
                _initialHiddenGradient.AsSpan(l * block, block).CopyTo(_encoderHiddenGradient.AsSpan((l * D + d) * block, block));
                if (cell) _initialCellGradient.AsSpan(l * block, block).CopyTo(_encoderCellGradient.AsSpan((l * D + d) * block, block));
            }
        Grow(ref _sourceEmbeddedGradient, S * B * E);
        Encoder.Backward(memoryGradient, _encoderHiddenGradient.AsSpan(0, encoderStateLength),
            cell ? _encoderCellGradient.AsSpan(0, encoderStateLength) : default, _sourceEmbeddedGradient.AsSpan(0, S * B * E));
        _sourceEmbedding.Backward(_sourceIds.AsSpan(0, S * B), _sourceEmbeddedGradient.AsSpan(0, S * B * E));
    }

    /// <summary>
    /// Teacher-forced decoding with <see cref="AttentionKind.Bahdanau"/> attention, one step at a time: step t reads
    /// <c>x_t = [embedding(y_(t−1)); c_t]</c> <c>[B, E + D·H]</c> from state t (kept, <c>[T + 1, L, B, H]</c>) and writes
    /// h_t into the decoder output <c>[T, B, H]</c>. Every row runs every step; padded steps carry no loss.
    /// </summary>
    private void DecodeTeacherForced(int B, int T, bool training)
    {
        var workspace = _own;
        int E = Options.EmbeddingSize, H = Options.HiddenSize, M = MemoryWidth, X = E + M, L = Options.Layers, stateLength = DecoderStateLength(B);
        bool cell = Decoder.HasCellState;
        Grow(ref workspace.StepInputs, T * B * X);
        Grow(ref _stepHidden, (T + 1) * stateLength);
        Grow(ref _stepCell, (T + 1) * stateLength);
        workspace.InitialHidden.AsSpan(0, stateLength).CopyTo(_stepHidden);
        if (cell) workspace.InitialCell.AsSpan(0, stateLength).CopyTo(_stepCell);
        _stepSeed = _stepRandom.Next();
        ReadOnlySpan<float> memory = workspace.Memory.AsSpan(0, workspace.SourceSteps * B * M);
        for (int t = 0; t < T; t++)
        {
            Span<float> x = workspace.StepInputs.AsSpan(t * B * X, B * X);
            for (int b = 0; b < B; b++) workspace.TargetEmbedded.AsSpan((t * B + b) * E, E).CopyTo(x.Slice(b * X, E));
            _additiveAttention!.Forward(workspace.Bahdanau!, t, _stepHidden.AsSpan(t * stateLength + (L - 1) * B * H, B * H), memory, x[E..], X);
            // Dropout masks are reseeded per step, so the recomputation in backward draws the same ones.
            if (training) Decoder.ReseedDropout(unchecked(_stepSeed + t * 7919));
            Decoder.Forward(x, B, default, workspace.DecoderOutput.AsSpan(t * B * H, B * H),
                _stepHidden.AsSpan((t + 1) * stateLength, stateLength), cell ? _stepCell.AsSpan((t + 1) * stateLength, stateLength) : default,
                _stepHidden.AsSpan(t * stateLength, stateLength), cell ? _stepCell.AsSpan(t * stateLength, stateLength) : default, training);
        }
    }

    /// <summary>
    /// Backpropagation through <see cref="DecodeTeacherForced"/>, last step first: each step's forward is recomputed from
    /// its kept state, then its backward takes dL/dh_t and the state gradient carried from step t + 1 and gives dL/dx_t and
    /// dL/d(state t); the context's share of dL/dx_t goes through the attention, whose query gradient joins the carried
    /// state gradient of the top layer. Leaves dL/d(initial state) in the initial-state gradient buffers.
    /// </summary>
    private void BackpropagateTeacherForced(ReadOnlySpan<float> decoderOutputGradient, Span<float> memoryGradient)
    {
        var workspace = _own;
        int B = workspace.Batch, T = _targetSteps, E = Options.EmbeddingSize, H = Options.HiddenSize, M = MemoryWidth, X = E + M, L = Options.Layers,
            stateLength = DecoderStateLength(B);
        bool cell = Decoder.HasCellState;
        Grow(ref _stepOutput, B * H);
        Grow(ref _stepInputGradient, B * X);
        Grow(ref _carryHidden, stateLength);
        Grow(ref _carryCell, stateLength);
        Grow(ref _queryGradient, B * H);
        Grow(ref workspace.NextHidden, stateLength);
        Grow(ref workspace.NextCell, stateLength);
        Span<float> carryHidden = _carryHidden.AsSpan(0, stateLength), carryCell = _carryCell.AsSpan(0, stateLength);
        Span<float> initialHiddenGradient = _initialHiddenGradient.AsSpan(0, stateLength), initialCellGradient = _initialCellGradient.AsSpan(0, stateLength);
        Span<float> dx = _stepInputGradient.AsSpan(0, B * X), queryGradient = _queryGradient.AsSpan(0, B * H);
        carryHidden.Clear();
        carryCell.Clear();
        ReadOnlySpan<float> memory = workspace.Memory.AsSpan(0, workspace.SourceSteps * B * M);
        for (int t = T - 1; t >= 0; t--)
        {
            ReadOnlySpan<float> x = workspace.StepInputs.AsSpan(t * B * X, B * X);
            Decoder.ReseedDropout(unchecked(_stepSeed + t * 7919));
            Decoder.Forward(x, B, default, _stepOutput.AsSpan(0, B * H), workspace.NextHidden.AsSpan(0, stateLength),
                cell ? workspace.NextCell.AsSpan(0, stateLength) : default, _stepHidden.AsSpan(t * stateLength, stateLength),
                cell ? _stepCell.AsSpan(t * stateLength, stateLength) : default, training: true);
            Decoder.Backward(decoderOutputGradient.Slice(t * B * H, B * H), carryHidden, cell ? carryCell : default, dx,
                initialHiddenGradient, cell ? initialCellGradient : default);
            for (int b = 0; b < B; b++) dx.Slice(b * X, E).CopyTo(_targetEmbeddedGradient.AsSpan((t * B + b) * E, E));
            _additiveAttention!.Backward(t, memory, dx[E..], X, queryGradient, memoryGradient);
            initialHiddenGradient.CopyTo(carryHidden);
            Span<float> top = carryHidden.Slice((L - 1) * B * H, B * H);
            TensorPrimitives.Add(top, queryGradient, top);
            if (cell) initialCellGradient.CopyTo(carryCell);
        }
        _additiveAttention!.FinishBackward(memory, memoryGradient);
        // The cell's carried gradient already is the initial cell's (copied from it at step 0); the hidden one adds the query's.
        carryHidden.CopyTo(initialHiddenGradient);
    }

    /// <summary>
    /// Runs the encoder over source ids <c>[S, B]</c>: memory <c>[S, B, D·H]</c>, the bridged decoder initial state
    /// <c>[L, B, H]</c> (and cell), and the attention's keys.
    /// </summary>
    private void Encode(SequenceToSequenceWorkspace workspace, ReadOnlySpan<int> sourceIds, int B, ReadOnlySpan<int> sourceLengths, bool training)
    {
        int S = sourceIds.Length / B, E = Options.EmbeddingSize, H = Options.HiddenSize, M = MemoryWidth, D = Options.Directions, L = Options.Layers;
        int encoderStateLength = L * D * B * H, stateLength = DecoderStateLength(B), block = B * H;
        bool cell = Encoder.HasCellState;
        Grow(ref workspace.SourceEmbedded, S * B * E);
        _sourceEmbedding.Forward(sourceIds, workspace.SourceEmbedded);
        Grow(ref workspace.Memory, S * B * M);
        Grow(ref workspace.EncoderHidden, encoderStateLength);
        Grow(ref workspace.EncoderCell, encoderStateLength);
        ReadOnlySpan<float> embedded = workspace.SourceEmbedded.AsSpan(0, S * B * E);
        Span<float> memory = workspace.Memory.AsSpan(0, S * B * M), encoderHidden = workspace.EncoderHidden.AsSpan(0, encoderStateLength),
            encoderCell = cell ? workspace.EncoderCell.AsSpan(0, encoderStateLength) : default;
        if (workspace.Encoder is { } encoder) Encoder.Forward(encoder, embedded, B, sourceLengths, memory, encoderHidden, encoderCell);
        else Encoder.Forward(embedded, B, sourceLengths, memory, encoderHidden, encoderCell, training: training);
        Grow(ref workspace.InitialHidden, stateLength);
        Grow(ref workspace.InitialCell, stateLength);
        for (int l = 0; l < L; l++)
        {
            Span<float> hidden = workspace.InitialHidden.AsSpan(l * block, block), state = workspace.InitialCell.AsSpan(l * block, block);
            workspace.EncoderHidden.AsSpan(l * D * block, block).CopyTo(hidden);
            if (cell) workspace.EncoderCell.AsSpan(l * D * block, block).CopyTo(state);
            for (int d = 1; d < D; d++)
            {
                TensorPrimitives.Add(hidden, workspace.EncoderHidden.AsSpan((l * D + d) * block, block), hidden);
                if (cell) TensorPrimitives.Add(state, workspace.EncoderCell.AsSpan((l * D + d) * block, block), state);
            }
        }
        _attention?.Prepare(workspace.Luong!, workspace.Memory.AsSpan(0, S * B * M), S, B, sourceLengths);
        _additiveAttention?.Prepare(workspace.Bahdanau!, workspace.Memory.AsSpan(0, S * B * M), S, B, sourceLengths);
    }

    /// <summary>
    /// Starts decoding of <paramref name="batch"/> sources given as ids <c>[S, B]</c> with their lengths, each source repeated
    /// <paramref name="copies"/> times in a row (the beams of a beam search): writes the initial decoder state
    /// <c>[L, B·copies, H]</c> into <paramref name="hidden"/> and <paramref name="cellState"/> and keeps the memory.
    /// </summary>
    internal void BeginDecoding(SequenceToSequenceWorkspace workspace, ReadOnlySpan<int> sourceIds, int batch, ReadOnlySpan<int> sourceLengths, int copies, Span<float> hidden, Span<float> cellState)
    {
        Encode(workspace, sourceIds, batch, sourceLengths, training: false);
        if (ReferenceEquals(workspace, _own)) _trained = false;
        int S = sourceIds.Length / batch, H = Options.HiddenSize, M = MemoryWidth, rows = batch * copies;
        workspace.SourceSteps = S;
        workspace.Batch = rows;
        if (copies > 1)
        {
            // Repeat memory rows and states: row b·copies + k reads source b.
            Grow(ref workspace.RepeatedMemory, S * rows * M);
            Grow(ref workspace.RepeatedLengths, rows);
            for (int s = 0; s < S; s++)
                for (int b = 0; b < batch; b++)
                    for (int k = 0; k < copies; k++)
                        workspace.Memory.AsSpan((s * batch + b) * M, M).CopyTo(workspace.RepeatedMemory.AsSpan((s * rows + b * copies + k) * M, M));
            for (int b = 0; b < batch; b++)
                for (int k = 0; k < copies; k++) workspace.RepeatedLengths[b * copies + k] = sourceLengths[b];
            (workspace.Memory, workspace.RepeatedMemory) = (workspace.RepeatedMemory, workspace.Memory);
            _attention?.Prepare(workspace.Luong!, workspace.Memory.AsSpan(0, S * rows * M), S, rows, workspace.RepeatedLengths.AsSpan(0, rows));
            _additiveAttention?.Prepare(workspace.Bahdanau!, workspace.Memory.AsSpan(0, S * rows * M), S, rows, workspace.RepeatedLengths.AsSpan(0, rows));
        }
        for (int l = 0; l < Options.Layers; l++)
            for (int b = 0; b < batch; b++)
                for (int k = 0; k < copies; k++)
                {
                    workspace.InitialHidden.AsSpan((l * batch + b) * H, H).CopyTo(hidden.Slice((l * rows + b * copies + k) * H, H));
                    if (Decoder.HasCellState) workspace.InitialCell.AsSpan((l * batch + b) * H, H).CopyTo(cellState.Slice((l * rows + b * copies + k) * H, H));
                }
    }

    /// <summary>
    /// One decoding step for the rows begun by <see cref="BeginDecoding"/>: feeds <paramref name="previous"/> ids <c>[B]</c>
    /// from the state <c>[L, B, H]</c> in <paramref name="hidden"/>/<paramref name="cellState"/> (updated in place) and writes
    /// log-probabilities <c>[B, V_t]</c>.
    /// </summary>
    internal void DecodeStep(SequenceToSequenceWorkspace workspace, ReadOnlySpan<int> previous, Span<float> hidden, Span<float> cellState, Span<float> logProbabilities)
    {
        int B = previous.Length, E = Options.EmbeddingSize, H = Options.HiddenSize, V = TargetVocabularySize, stateLength = DecoderStateLength(B);
        bool cell = Decoder.HasCellState;
        Grow(ref workspace.TargetEmbedded, B * E);
        _targetEmbedding.Forward(previous, workspace.TargetEmbedded);
        Grow(ref workspace.DecoderOutput, B * H);
        ReadOnlySpan<float> input = workspace.TargetEmbedded.AsSpan(0, B * E);
        if (_additiveAttention is not null)
        {
            // The decoder reads [embedding; context], the context attending from the previous top-layer state.
            int X = E + MemoryWidth;
            Grow(ref workspace.StepInputs, B * X);
            for (int b = 0; b < B; b++) workspace.TargetEmbedded.AsSpan(b * E, E).CopyTo(workspace.StepInputs.AsSpan(b * X, E));
            _additiveAttention.Forward(workspace.Bahdanau!, 0, hidden.Slice((Options.Layers - 1) * B * H, B * H), workspace.Memory.AsSpan(0, workspace.SourceSteps * B * MemoryWidth),
                workspace.StepInputs.AsSpan(E, B * X - E), X);
            input = workspace.StepInputs.AsSpan(0, B * X);
        }
        Grow(ref workspace.NextHidden, stateLength);
        Grow(ref workspace.NextCell, stateLength);
        // The new state goes to its own buffers first: Forward reads the old one as its initial state.
        Span<float> nextHidden = workspace.NextHidden.AsSpan(0, stateLength), nextCell = workspace.NextCell.AsSpan(0, stateLength);
        Span<float> decoderOutput = workspace.DecoderOutput.AsSpan(0, B * H);
        if (workspace.Decoder is { } decoder)
            Decoder.Forward(decoder, input, B, default, decoderOutput, nextHidden, cell ? nextCell : default, hidden[..stateLength], cell ? cellState[..stateLength] : default);
        else
            Decoder.Forward(input, B, default, decoderOutput, nextHidden, cell ? nextCell : default, hidden[..stateLength], cell ? cellState[..stateLength] : default,
                training: false);
        nextHidden.CopyTo(hidden);
        if (cell) nextCell.CopyTo(cellState);
        ReadOnlySpan<float> features = workspace.DecoderOutput.AsSpan(0, B * H);
        if (_attention is not null)
        {
            Grow(ref workspace.Features, B * H);
            _attention.Attend(workspace.Luong!, workspace.Memory.AsSpan(0, workspace.SourceSteps * B * MemoryWidth), features, 1, workspace.Features);
            features = workspace.Features.AsSpan(0, B * H);
        }
        _output.Forward(features, B, logProbabilities);
        for (int b = 0; b < B; b++)
        {
            Span<float> row = logProbabilities.Slice(b * V, V);
            float logSum = LogSumExp(row);
            TensorPrimitives.Subtract(row, logSum, row);
        }
    }

    /// <summary>Checks every pair of a part of encoded pairs against both vocabularies and the reserved target ids, naming the row.</summary>
    internal void CheckIds(SequenceDataset pairs, string name)
    {
        for (int index = 0; index < pairs.Count; index++)
        {
            SequencePairs.CheckEncoding(pairs, index, name);
            long row = pairs.NumberOf(index);
            CheckSource(SequencePairs.SourceOf(pairs, index), row);
            CheckTarget(SequencePairs.TargetOf(pairs, index), row, name);
        }
    }

    private void CheckTarget(ReadOnlySpan<int> target, long row, string name)
    {
        for (int t = 0; t < target.Length; t++)
        {
            int id = target[t];
            if ((uint)id < (uint)Options.TargetVocabularySize && id != Options.StartId && id != Options.EndId) continue;
            string problem = (uint)id >= (uint)Options.TargetVocabularySize
                ? string.Create(CultureInfo.InvariantCulture, $"outside the target vocabulary [0, {Options.TargetVocabularySize})")
                : string.Create(CultureInfo.InvariantCulture, $"the reserved {(id == Options.StartId ? "start" : "end")} id");
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Row {row} of {name}: target token {t} has id {id}, {problem}; give targets without start and end tokens and map unseen tokens to 0."), name);
        }
    }

    private void CheckSource(int[]? source, int row) => CheckSource(source.AsSpan(), row);

    internal static float LogSumExp(ReadOnlySpan<float> values)
    {
        float max = Reductions.Max(values);
        double sum = 0;
        foreach (float value in values) sum += Math.Exp(value - max);
        return (float)(max + Math.Log(sum));
    }

    private static double LogSoftmaxAt(ReadOnlySpan<float> logits, int index) => logits[index] - (double)LogSumExp(logits);

    private static IRecurrentNetwork CreateNetwork(SequenceToSequenceOptions options, ParameterSet parameters, int inputSize, bool bidirectional, int seed)
    {
        var networkOptions = new RecurrentNetworkOptions
        {
            InputSize = inputSize, HiddenSize = options.HiddenSize, Layers = options.Layers, Bidirectional = bidirectional,
            Dropout = options.Dropout, Seed = seed, MaxDegreeOfParallelism = options.MaxDegreeOfParallelism,
        };
        return options.Cell switch
        {
            RecurrentCellType.Lstm => new RecurrentNetwork<LstmCell>(networkOptions, default, parameters),
            RecurrentCellType.Gru => new RecurrentNetwork<GruCell>(networkOptions, default, parameters),
            _ => new RecurrentNetwork<RnnCell>(networkOptions, new RnnCell(options.RnnActivation), parameters),
        };
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }
}
