using System.Numerics.Tensors;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Models;

/// <summary>
/// A complete recurrent model: optional token embedding → recurrent stack → dense head <c>y = W_ya a + b_y</c>
/// (raw outputs: logits for classification, values for regression; losses apply the link).
/// Many-to-one reads the top layer's final state <c>a = [h_fwd; h_rev]</c> <c>[B, D·H]</c>, or the mean of its outputs over
/// each sequence's real steps (<see cref="SequenceReadout.MeanOverSteps"/>); many-to-many reads every step.
/// Parameters: <c>embedding.weight</c>, the network's PyTorch names, <c>head.weight</c>, <c>head.bias</c>.
/// </summary>
/// <remarks>
/// The model's own buffers serve training (<see cref="Forward(SequenceBatch, Span{float}, bool)"/> then
/// <see cref="Backward"/>), one caller at a time. For inference, each thread, cursor or prediction engine may instead take a
/// <see cref="SequenceModelWorkspace"/> (<see cref="CreateWorkspace"/>): it copies no weights and writes nothing shared, so
/// any number of them score with one model at once.
/// </remarks>
public sealed class SequenceModel
{
    private Random _dropoutRandom;
    private readonly SequenceModelWorkspace _own;
    private float[] _droppedFeatures = [], _mask = [],
        _headOutput = [], _outputGradient = [], _featureGradient = [], _recurrentGradient = [], _finalHiddenGradient = [], _embeddedGradient = [];
    private int[] _ids = [], _endingRows = [];
    private float[]? _tokenDropout; // per id, from the training data's counts (UseTokenCounts); null: TokenDropout for every id
    private SequenceBatch? _batch;
    private bool _training;
    // The batch, loss and running results of a BackpropagateTruncated call, read by its per-chunk callback (made once).
    private readonly Layers.TruncatedChunkGradient _onChunk;
    private ReadoutLoss? _chunkLoss;
    private double _chunkLossSum;
    private bool _chunkOverflow;
    private float[] _chunkTargets = [], _chunkWeights = [];

    /// <summary>Builds the model and initialises it as PyTorch would, from <see cref="SequenceModelOptions.Seed"/>.</summary>
    public SequenceModel(SequenceModelOptions options) : this(options, initialize: true)
    {
    }

    /// <summary>Builds the model; without <paramref name="initialize"/> every parameter is zero (for a model file to fill).</summary>
    internal SequenceModel(SequenceModelOptions options, bool initialize)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Parameters = new ParameterSet();
        if (options.VocabularySize > 0) Embedding = new Embedding(Parameters, "embedding", options.VocabularySize, options.EmbeddingSize);
        var networkOptions = new RecurrentNetworkOptions
        {
            InputSize = options.RecurrentInputSize, HiddenSize = options.HiddenSize, Layers = options.Layers, Bidirectional = options.Bidirectional,
            Dropout = options.Dropout, RecurrentDropout = options.RecurrentDropout, LearnedInitialState = options.LearnedInitialState, Seed = options.Seed,
            MaxDegreeOfParallelism = options.MaxDegreeOfParallelism,
        };
        Network = options.Cell switch
        {
            RecurrentCellType.Lstm => new RecurrentNetwork<LstmCell>(networkOptions, default, Parameters),
            RecurrentCellType.Gru => new RecurrentNetwork<GruCell>(networkOptions, default, Parameters),
            _ => new RecurrentNetwork<RnnCell>(networkOptions, new RnnCell(options.RnnActivation), Parameters),
        };
        Head = new Dense(Parameters, "head", Network.OutputSize, options.OutputSize, OutputActivation.Identity);
        _dropoutRandom = new Random(unchecked(options.Seed * 31 + 7));
        _own = new SequenceModelWorkspace(this, network: null);
        _onChunk = OnChunk;
        if (initialize) Initialize(new Random(options.Seed));
    }

    /// <summary>The options the model was built with.</summary>
    public SequenceModelOptions Options { get; }

    /// <summary>Every parameter, in one flat buffer.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The token embedding, when inputs are tokens.</summary>
    public Embedding? Embedding { get; }

    /// <summary>The recurrent stack.</summary>
    public IRecurrentNetwork Network { get; }

    /// <summary>The dense head.</summary>
    public Dense Head { get; }

    /// <summary>O.</summary>
    public int OutputSize => Options.OutputSize;

    /// <summary>Rows of the output for a batch: B (many-to-one) or T·B (many-to-many).</summary>
    public int OutputRows(SequenceBatch batch) => Options.Readout == SequenceReadout.EveryStep ? batch.Steps * batch.BatchSize : batch.BatchSize;

    /// <summary>
    /// A new, empty workspace for inference with this model (<see cref="SequenceModelWorkspace.Forward"/>): nothing is copied
    /// or initialised, and its buffers grow on its first batch. Its passes split a batch across up to
    /// <paramref name="maxDegreeOfParallelism"/> threads; the recurrent layers' products run in <paramref name="precision"/>
    /// (<see cref="InferencePrecision.Int8"/>: dynamically quantized; the embedding and the readout stay float).
    /// </summary>
    public SequenceModelWorkspace CreateWorkspace(int maxDegreeOfParallelism = 1, InferencePrecision precision = InferencePrecision.Float32) =>
        new(this, Network.CreateWorkspace(maxDegreeOfParallelism, precision));

    /// <summary>
    /// Token dropout by frequency, in training: with the count of each id in the training data, a token seen n times is read as
    /// unknown with probability α/(α + n), α = p/(1 − p) for p = <see cref="SequenceModelOptions.TokenDropout"/> (p for a token
    /// seen once), as in Kiperwasser and Goldberg's word dropout. Rare tokens, the ones most like a word never seen, then teach
    /// the unknown row; frequent ones are almost never dropped. <see cref="Training.SequenceTrainer"/> counts its training data
    /// and calls this; without it, every token is dropped with probability p. Ignored by numeric models and at p = 0.
    /// </summary>
    /// <param name="counts">Occurrences of each id, <c>[V]</c>.</param>
    public void UseTokenCounts(ReadOnlySpan<long> counts)
    {
        if (Embedding is null || Options.TokenDropout == 0f) return;
        if (counts.Length != Options.VocabularySize)
            throw new ArgumentException($"counts holds {counts.Length} values but the vocabulary has {Options.VocabularySize} ids.", nameof(counts));
        double alpha = Options.TokenDropout / (1.0 - Options.TokenDropout);
        _tokenDropout ??= new float[counts.Length];
        for (int id = 0; id < counts.Length; id++) _tokenDropout[id] = (float)(alpha / (alpha + Math.Max(counts[id], 1)));
    }

    /// <summary>The probability that a training pass reads token <paramref name="id"/> as unknown.</summary>
    internal float TokenDropoutOf(int id) => _tokenDropout?[id] ?? Options.TokenDropout;

    /// <summary>Restarts every dropout mask sequence (between layers and before the head) from <paramref name="seed"/>.</summary>
    public void ReseedDropout(int seed)
    {
        Network.ReseedDropout(seed);
        _dropoutRandom = new Random(unchecked(seed * 31 + 7));
    }

    /// <summary>PyTorch's default initialisation of every part, then <see cref="SequenceModelOptions.Initialization"/> and the forget-gate bias.</summary>
    public void Initialize(Random random)
    {
        Embedding?.Initialize(random);
        Network.Initialize(random);
        Head.Initialize(random);
        if (Options.Initialization == WeightInitialization.XavierOrthogonal)
        {
            Training.Initialization.Xavier(Parameters, random);
            Training.Initialization.Orthogonal(Parameters, random, Options.HiddenSize);
        }
        if (Options.ForgetGateBias is float forget) Training.Initialization.ForgetGateBias(Parameters, Options.HiddenSize, forget);
    }

    /// <summary>
    /// Computes the raw outputs <c>[B, O]</c> or <c>[T, B, O]</c> (zeros at padded steps) for a batch. With
    /// <paramref name="training"/>, dropout applies and <see cref="Backward"/> may follow.
    /// </summary>
    public void Forward(SequenceBatch batch, Span<float> output, bool training) => Run(_own, batch, output, training);

    /// <summary>
    /// Inference in <paramref name="workspace"/>: the raw outputs of a batch as <see cref="Forward(SequenceBatch, Span{float}, bool)"/>
    /// computes them without training, bit for bit; reads the weights and writes only the workspace and <paramref name="output"/>.
    /// </summary>
    public void Forward(SequenceModelWorkspace workspace, SequenceBatch batch, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        if (!ReferenceEquals(workspace.Model, this) || workspace.Network is null)
            throw new ArgumentException("The workspace was made by another model; make one with this model's CreateWorkspace.", nameof(workspace));
        Run(workspace, batch, output, training: false);
    }

    private void Run(SequenceModelWorkspace workspace, SequenceBatch batch, Span<float> output, bool training)
    {
        CheckBatch(batch);
        int B = batch.BatchSize, T = batch.Steps, H = Options.HiddenSize, DH = Network.OutputSize, O = Options.OutputSize;
        int rows = OutputRows(batch);
        if (output.Length < rows * O) throw new ArgumentException($"output holds {output.Length} floats but {rows}·{O} are needed.", nameof(output));
        if (ReferenceEquals(workspace, _own))
        {
            // Only the model's own pass may be followed by Backward; a workspace's inference leaves the model untouched.
            _batch = batch;
            _training = training;
        }

        ReadOnlySpan<float> input = Embed(workspace, batch, training);
        Grow(ref workspace.RecurrentOutput, T * B * DH);
        Grow(ref workspace.FinalHidden, Network.StateCount * B * H);
        Span<float> recurrentOutput = workspace.RecurrentOutput.AsSpan(0, T * B * DH), finalHidden = workspace.FinalHidden.AsSpan(0, Network.StateCount * B * H);
        if (workspace.Network is { } network) Network.Forward(network, input, B, batch.Lengths, recurrentOutput, finalHidden);
        else Network.Forward(input, B, batch.Lengths, recurrentOutput, finalHidden, training: training);

        Span<float> features;
        if (Options.Readout == SequenceReadout.EveryStep)
        {
            features = recurrentOutput;
        }
        else
        {
            Grow(ref workspace.Features, B * DH);
            features = workspace.Features.AsSpan(0, B * DH);
            if (Options.Readout == SequenceReadout.MeanOverSteps)
            {
                // a_b = (1/T_b) Σ_(t < T_b) y_(t,b): both directions' outputs at every real step.
                features.Clear();
                for (int b = 0; b < B; b++)
                {
                    Span<float> mean = features.Slice(b * DH, DH);
                    int length = batch.Lengths[b];
                    for (int t = 0; t < length; t++) TensorPrimitives.Add(mean, recurrentOutput.Slice((t * B + b) * DH, DH), mean);
                    if (length > 0) TensorPrimitives.Multiply(mean, 1f / length, mean); // (a sequence of no step reads zeros)
                }
            }
            else
            {
                int D = Options.Bidirectional ? 2 : 1, top = (Options.Layers - 1) * D;
                for (int b = 0; b < B; b++)
                    for (int d = 0; d < D; d++)
                        finalHidden.Slice(((top + d) * B + b) * H, H).CopyTo(features.Slice(b * DH + d * H, H));
            }
        }
        workspace.ReadoutRows = rows;
        if (training && Options.Dropout > 0f) features = Drop(features);
        Head.Forward(features, rows, output);
        if (Options.Readout == SequenceReadout.EveryStep) ZeroPaddedSteps(output, batch, O);
        if (training)
        {
            Grow(ref _headOutput, rows * O);
            output.Slice(0, rows * O).CopyTo(_headOutput);
        }
    }

    /// <summary>
    /// The features the head read in the last <see cref="Forward(SequenceBatch, Span{float}, bool)"/>, before dropout: the top layer's final states
    /// <c>[B, D·H]</c> (many-to-one: forward direction's last real step, then the reverse direction's step 0; or their outputs'
    /// mean over the real steps, <see cref="SequenceReadout.MeanOverSteps"/>) or every
    /// step's top-layer output <c>[T·B, D·H]</c> (many-to-many). Valid until the next <see cref="Forward(SequenceBatch, Span{float}, bool)"/>.
    /// </summary>
    public ReadOnlySpan<float> LastReadoutFeatures => _own.ReadoutFeatures;

    /// <summary>
    /// The inverted-dropout mask <c>[rows, D·H]</c> the last training <see cref="Forward(SequenceBatch, Span{float}, bool)"/> applied to
    /// the head's input (0 or 1/(1 − p)), for tests that replay it in a reference; empty when no dropout applied.
    /// </summary>
    internal ReadOnlySpan<float> HeadDropoutMask =>
        _training && Options.Dropout > 0f ? _mask.AsSpan(0, _own.ReadoutRows * Network.OutputSize) : default;

    /// <summary>
    /// Adds dL/dθ for the last training <see cref="Forward(SequenceBatch, Span{float}, bool)"/> into <see cref="ParameterSet.Gradients"/>. When the gradient
    /// overflows to infinity on its way back, every gradient is set to NaN, so the caller's norm check sees it.
    /// </summary>
    public void Backward(ReadOnlySpan<float> outputGradient)
    {
        var batch = _batch;
        if (batch is null || !_training) throw new InvalidOperationException("Backward needs a Forward with training: true first.");
        int B = batch.BatchSize, T = batch.Steps, H = Options.HiddenSize, DH = Network.OutputSize, O = Options.OutputSize, rows = OutputRows(batch);
        bool manyToOne = Options.Readout != SequenceReadout.EveryStep;
        ReadOnlySpan<float> features = Options.Dropout > 0f ? _droppedFeatures.AsSpan(0, rows * DH)
            : manyToOne ? _own.Features.AsSpan(0, rows * DH) : _own.RecurrentOutput.AsSpan(0, rows * DH);
        Grow(ref _featureGradient, rows * DH);
        Span<float> featureGradient = _featureGradient.AsSpan(0, rows * DH);
        if (!manyToOne)
        {
            // Padded outputs were set to zero, so nothing flows back from them.
            Grow(ref _outputGradient, rows * O);
            outputGradient.Slice(0, rows * O).CopyTo(_outputGradient);
            ZeroPaddedSteps(_outputGradient, batch, O);
            outputGradient = _outputGradient.AsSpan(0, rows * O);
        }
        Head.Backward(features, _headOutput.AsSpan(0, rows * O), outputGradient, rows, featureGradient);
        if (Options.Dropout > 0f) System.Numerics.Tensors.TensorPrimitives.Multiply(featureGradient, _mask.AsSpan(0, rows * DH), featureGradient);
        if (!float.IsFinite(featureGradient[System.Numerics.Tensors.TensorPrimitives.IndexOfMaxMagnitude(featureGradient)]))
        {
            // The gradient overflowed (exploding gradients): report it as NaN gradients, which a trainer sees in the norm.
            Parameters.Gradients.Fill(float.NaN);
            return;
        }

        int stateLength = Network.StateCount * B * H;
        Grow(ref _recurrentGradient, T * B * DH);
        Span<float> recurrentGradient = _recurrentGradient.AsSpan(0, T * B * DH);
        Span<float> finalHiddenGradient = default;
        if (Options.Readout == SequenceReadout.MeanOverSteps)
        {
            // dL/dy_(t,b) = dL/da_b / T_b at each real step, 0 at padded steps.
            recurrentGradient.Clear();
            for (int b = 0; b < B; b++)
            {
                int length = batch.Lengths[b];
                for (int t = 0; t < length; t++)
                    TensorPrimitives.Multiply(featureGradient.Slice(b * DH, DH), 1f / length, recurrentGradient.Slice((t * B + b) * DH, DH));
            }
        }
        else if (Options.Readout == SequenceReadout.LastStep)
        {
            recurrentGradient.Clear();
            Grow(ref _finalHiddenGradient, stateLength);
            finalHiddenGradient = _finalHiddenGradient.AsSpan(0, stateLength);
            finalHiddenGradient.Clear();
            int D = Options.Bidirectional ? 2 : 1, top = (Options.Layers - 1) * D;
            for (int b = 0; b < B; b++)
                for (int d = 0; d < D; d++)
                    featureGradient.Slice(b * DH + d * H, H).CopyTo(finalHiddenGradient.Slice(((top + d) * B + b) * H, H));
        }
        else
        {
            featureGradient.CopyTo(recurrentGradient);
        }

        Span<float> inputGradient = default;
        if (Embedding is not null)
        {
            Grow(ref _embeddedGradient, T * B * Options.EmbeddingSize);
            inputGradient = _embeddedGradient.AsSpan(0, T * B * Options.EmbeddingSize);
        }
        Network.Backward(recurrentGradient, finalHiddenGradient, default, inputGradient);
        Embedding?.Backward(_ids.AsSpan(0, T * B), inputGradient);
    }

    /// <summary>
    /// Truncated backpropagation through time over one training batch, for a unidirectional model: runs the batch in chunks of
    /// <paramref name="chunkSteps"/> steps, carrying the state into the next chunk as a constant, so gradients flow back at
    /// most one chunk and the pass keeps one chunk's activations instead of the whole sequence's. Many-to-many: every chunk's
    /// steps are read out and scored; many-to-one: each sequence is read out and scored in the chunk where it ends (its
    /// gradient reaches its last <paramref name="chunkSteps"/> steps). For each chunk with something to score,
    /// <paramref name="loss"/> gets the head's outputs <c>[rows, O]</c> (zeros at padded steps) with their targets
    /// <c>[rows, W]</c> and weights <c>[rows]</c>, writes dL/d(output), and returns that chunk's share of the batch's loss.
    /// Adds dL/dθ into <see cref="ParameterSet.Gradients"/> (every gradient NaN when it overflows, as <see cref="Backward"/>)
    /// and returns the sum of the shares. Dropout applies as in a training <see cref="Forward(SequenceBatch, Span{float}, bool)"/>;
    /// recurrent dropout draws its masks per chunk. With <paramref name="chunkSteps"/> ≥ the batch's steps this is exactly a
    /// training forward, the same loss and <see cref="Backward"/>.
    /// </summary>
    public double BackpropagateTruncated(SequenceBatch batch, int chunkSteps, ReadoutLoss loss)
    {
        CheckBatch(batch);
        ArgumentNullException.ThrowIfNull(loss);
        if (Options.Bidirectional)
            throw new InvalidOperationException("Truncated BPTT needs a unidirectional model: the reverse direction reads the whole sequence.");
        if (Options.Readout == SequenceReadout.MeanOverSteps)
            throw new InvalidOperationException("Truncated BPTT reads each sequence out where it ends; a MeanOverSteps readout needs every step in one pass: use LastStep.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSteps);
        int B = batch.BatchSize, T = batch.Steps, E = Options.EmbeddingSize;
        _batch = batch;
        _training = false; // Backward cannot follow: the chunks were already backpropagated
        ReadOnlySpan<float> input = Embed(_own, batch, training: true);
        Span<float> inputGradient = default;
        if (Embedding is not null)
        {
            Grow(ref _embeddedGradient, T * B * E);
            inputGradient = _embeddedGradient.AsSpan(0, T * B * E);
        }
        _chunkLoss = loss;
        _chunkLossSum = 0;
        _chunkOverflow = false;
        try
        {
            Network.BackpropagateTruncated(input, B, batch.Lengths, chunkSteps, _onChunk, inputGradient: inputGradient);
        }
        finally
        {
            _chunkLoss = null;
        }
        if (_chunkOverflow)
        {
            Parameters.Gradients.Fill(float.NaN);
            return _chunkLossSum;
        }
        Embedding?.Backward(_ids.AsSpan(0, T * B), inputGradient);
        return _chunkLossSum;
    }

    /// <summary>
    /// About how many bytes a training pass over a batch of <paramref name="batchSize"/> sequences of <paramref name="steps"/>
    /// steps holds (the batch, activations and caches kept for backward, and their gradients); with
    /// <paramref name="chunkSteps"/> &gt; 0 (<see cref="BackpropagateTruncated"/>), the activations of one chunk.
    /// </summary>
    public long TrainingBytes(int batchSize, int steps, int chunkSteps = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        ArgumentOutOfRangeException.ThrowIfNegative(chunkSteps);
        long sequenceSteps = (long)batchSize * steps, chunk = chunkSteps > 0 ? Math.Min(chunkSteps, steps) : steps;
        int DH = Network.OutputSize, O = Options.OutputSize;
        bool manyToOne = Options.Readout != SequenceReadout.EveryStep;
        long readoutRows = manyToOne ? batchSize : batchSize * chunk;
        long floats = batchSize * chunk * (Network.TrainingFloatsPerStep + 2L * DH) // activations, the stack's output and its gradient
            + sequenceSteps * (Embedding is null ? Options.FeaturesPerStep : 1 + 2L * Options.EmbeddingSize) // the batch, embedded and its gradient
            + (manyToOne ? batchSize : sequenceSteps) * (O + 1L) // targets and weights
            + readoutRows * (3L * DH + 2L * O); // the head's input (and with dropout), outputs and their gradients
        return floats * sizeof(float);
    }

    private void CheckBatch(SequenceBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Tokens != (Embedding is not null))
            throw new ArgumentException(Embedding is null
                ? "The batch holds token ids but the model reads numeric steps (VocabularySize is 0)."
                : "The batch holds numeric steps but the model reads token ids (VocabularySize > 0).", nameof(batch));
        if (!batch.Tokens && batch.FeaturesPerStep != Options.FeaturesPerStep)
            throw new ArgumentException($"The batch has {batch.FeaturesPerStep} features per step; the model expects {Options.FeaturesPerStep}.", nameof(batch));
    }

    /// <summary>The stack's input: the batch's numeric steps, or its token ids embedded (kept for the embedding's backward when training).</summary>
    private ReadOnlySpan<float> Embed(SequenceModelWorkspace workspace, SequenceBatch batch, bool training)
    {
        if (Embedding is null) return batch.Input;
        int n = batch.Steps * batch.BatchSize;
        Grow(ref workspace.Embedded, n * Options.EmbeddingSize);
        ReadOnlySpan<int> ids = batch.Ids;
        if (training)
        {
            Grow(ref _ids, n);
            batch.Ids.CopyTo(_ids);
            if (_tokenDropout is { } byId)
            {
                for (int i = 0; i < n; i++)
                    if (_dropoutRandom.NextSingle() < byId[_ids[i]]) _ids[i] = 0;
            }
            else if (Options.TokenDropout > 0f)
            {
                for (int i = 0; i < n; i++)
                    if (_dropoutRandom.NextSingle() < Options.TokenDropout) _ids[i] = 0;
            }
            ids = _ids.AsSpan(0, n);
        }
        Embedding.Forward(ids, workspace.Embedded);
        return workspace.Embedded.AsSpan(0, n * Options.EmbeddingSize);
    }

    /// <summary>One chunk of <see cref="BackpropagateTruncated"/>: read out, score and backpropagate the head, hand dL/d(output) to the stack.</summary>
    private void OnChunk(int first, int count, ReadOnlySpan<float> output, Span<float> gradient)
    {
        var batch = _batch!;
        int B = batch.BatchSize, DH = Network.OutputSize, O = Options.OutputSize, W = batch.TargetWidth, rows;
        bool lastStep = Options.Readout == SequenceReadout.LastStep;
        Span<float> features;
        ReadOnlySpan<float> targets, weights;
        if (lastStep)
        {
            // The sequences that end in this chunk, read out at their last step (which is their final state).
            Grow(ref _endingRows, B);
            Grow(ref _own.Features, B * DH);
            Grow(ref _chunkTargets, B * W);
            Grow(ref _chunkWeights, B);
            rows = 0;
            for (int b = 0; b < B; b++)
            {
                int end = batch.Lengths[b] - 1 - first;
                if (end < 0 || end >= count) continue;
                _endingRows[rows] = end * B + b;
                output.Slice((end * B + b) * DH, DH).CopyTo(_own.Features.AsSpan(rows * DH, DH));
                batch.Targets.Slice(b * W, W).CopyTo(_chunkTargets.AsSpan(rows * W, W));
                _chunkWeights[rows] = batch.Weights[b];
                rows++;
            }
            if (rows == 0) return;
            features = _own.Features.AsSpan(0, rows * DH);
            targets = _chunkTargets.AsSpan(0, rows * W);
            weights = _chunkWeights.AsSpan(0, rows);
        }
        else
        {
            rows = count * B;
            Grow(ref _own.Features, rows * DH);
            features = _own.Features.AsSpan(0, rows * DH);
            output.CopyTo(features);
            targets = batch.Targets.Slice(first * B * W, rows * W);
            weights = batch.Weights.Slice(first * B, rows);
        }
        if (Options.Dropout > 0f) features = Drop(features);
        Grow(ref _headOutput, rows * O);
        Grow(ref _outputGradient, rows * O);
        Grow(ref _featureGradient, rows * DH);
        Span<float> headOutput = _headOutput.AsSpan(0, rows * O), headGradient = _outputGradient.AsSpan(0, rows * O),
            featureGradient = _featureGradient.AsSpan(0, rows * DH);
        Head.Forward(features, rows, headOutput);
        if (!lastStep) ZeroPaddedSteps(headOutput, batch, O, first, count);
        _chunkLossSum += _chunkLoss!(headOutput, targets, weights, rows, headGradient);
        if (!lastStep) ZeroPaddedSteps(headGradient, batch, O, first, count);
        Head.Backward(features, headOutput, headGradient, rows, featureGradient);
        if (Options.Dropout > 0f) System.Numerics.Tensors.TensorPrimitives.Multiply(featureGradient, _mask.AsSpan(0, rows * DH), featureGradient);
        if (!float.IsFinite(featureGradient[System.Numerics.Tensors.TensorPrimitives.IndexOfMaxMagnitude(featureGradient)]))
        {
            _chunkOverflow = true; // reported as NaN gradients once the pass is over; the stack gets no gradient from this chunk
            return;
        }
        if (!lastStep)
        {
            featureGradient.CopyTo(gradient);
            return;
        }
        for (int r = 0; r < rows; r++) featureGradient.Slice(r * DH, DH).CopyTo(gradient.Slice(_endingRows[r] * DH, DH));
    }

    private Span<float> Drop(Span<float> features)
    {
        // Inverted dropout on the head's input.
        int length = features.Length;
        Grow(ref _mask, length);
        Grow(ref _droppedFeatures, length);
        float keep = 1f - Options.Dropout, scale = 1f / keep;
        for (int i = 0; i < length; i++) _mask[i] = _dropoutRandom.NextSingle() < keep ? scale : 0f;
        Span<float> dropped = _droppedFeatures.AsSpan(0, length);
        System.Numerics.Tensors.TensorPrimitives.Multiply(features, _mask.AsSpan(0, length), dropped);
        return dropped;
    }

    /// <summary>Zeroes the rows <c>[count, B, width]</c> of steps <paramref name="first"/> … that lie past their sequence's end.</summary>
    private static void ZeroPaddedSteps(Span<float> output, SequenceBatch batch, int width, int first = 0, int count = -1)
    {
        ReadOnlySpan<int> lengths = batch.Lengths;
        if (count < 0) count = batch.Steps;
        for (int t = 0; t < count; t++)
            for (int b = 0; b < batch.BatchSize; b++)
                if (first + t >= lengths[b]) output.Slice((t * batch.BatchSize + b) * width, width).Clear();
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }
}
