using System.Numerics.Tensors;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// Next-token logits of B streams read chunk after chunk with the recurrent state carried between chunks:
/// <c>e = embedding(x) [k, B, E]</c>; <c>a, (h_k, c_k) = network(e, (h_0, c_0)) [k, B, H]</c>; <c>z = W_ya·drop(a) + b_y [k, B, V]</c>.
/// A chunk starts from the state the previous chunk ended in (the learned or zero state after <see cref="Reset"/>).
/// <see cref="Backward"/> goes back through the last chunk only: the carried state is a constant (truncated BPTT).
/// </summary>
internal sealed class StreamingLogits
{
    private readonly SequenceModel _model;
    private readonly float[][] _hidden = [[], []], _cell = [[], []];
    private float[] _embedded = [], _recurrent = [], _dropped = [], _mask = [], _logits = [], _recurrentGradient = [], _embeddedGradient = [];
    private int[] _ids = [];
    private int _current, _streams, _steps;
    private bool _hasState, _trained;
    private Random _dropoutRandom = new(0);

    public StreamingLogits(SequenceModel model) => _model = model;

    /// <summary>B of the current streams.</summary>
    public int Streams => _streams;

    /// <summary>Starts <paramref name="streams"/> new streams: the next chunk reads from the initial state.</summary>
    public void Reset(int streams)
    {
        _streams = streams;
        _hasState = false;
        int length = _model.Network.StateCount * streams * _model.Options.HiddenSize;
        for (int i = 0; i < 2; i++)
        {
            Grow(ref _hidden[i], length);
            if (_model.Network.HasCellState) Grow(ref _cell[i], length);
        }
    }

    /// <summary>Restarts the dropout masks before the head (those inside the network follow the model's seed).</summary>
    public void ReseedDropout(int seed) => _dropoutRandom = new Random(seed);

    /// <summary>Logits <c>[k, B, V]</c> of <paramref name="ids"/> <c>[k, B]</c>; the state advances by k steps.</summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<int> ids, int steps, bool training)
    {
        int B = _streams, E = _model.Options.EmbeddingSize, H = _model.Options.HiddenSize, V = _model.OutputSize, rows = steps * B;
        int stateLength = _model.Network.StateCount * B * H;
        bool hasCell = _model.Network.HasCellState;
        Grow(ref _ids, rows);
        ids.Slice(0, rows).CopyTo(_ids);
        Grow(ref _embedded, rows * E);
        _model.Embedding!.Forward(ids.Slice(0, rows), _embedded);
        Grow(ref _recurrent, rows * H);
        int next = 1 - _current;
        ReadOnlySpan<float> initialHidden = _hasState ? _hidden[_current].AsSpan(0, stateLength) : default;
        ReadOnlySpan<float> initialCell = _hasState && hasCell ? _cell[_current].AsSpan(0, stateLength) : default;
        _model.Network.Forward(_embedded.AsSpan(0, rows * E), B, default, _recurrent.AsSpan(0, rows * H),
            _hidden[next].AsSpan(0, stateLength), hasCell ? _cell[next].AsSpan(0, stateLength) : default,
            initialHidden, initialCell, training);
        _current = next;
        _hasState = true;

        ReadOnlySpan<float> features = _recurrent.AsSpan(0, rows * H);
        float dropout = _model.Options.Dropout;
        if (training && dropout > 0f)
        {
            // Inverted dropout on the head's input, as SequenceModel applies it.
            Grow(ref _mask, rows * H);
            Grow(ref _dropped, rows * H);
            float keep = 1f - dropout, scale = 1f / keep;
            for (int i = 0; i < rows * H; i++) _mask[i] = _dropoutRandom.NextSingle() < keep ? scale : 0f;
            TensorPrimitives.Multiply(features, _mask.AsSpan(0, rows * H), _dropped.AsSpan(0, rows * H));
            features = _dropped.AsSpan(0, rows * H);
        }
        Grow(ref _logits, rows * V);
        _model.Head.Forward(features, rows, _logits);
        _steps = steps;
        _trained = training;
        return _logits.AsSpan(0, rows * V);
    }

    /// <summary>
    /// The inverted-dropout mask <c>[k, B, H]</c> the last training <see cref="Forward"/> applied to the head's input, for
    /// tests that replay it in a reference; empty when no dropout applied.
    /// </summary>
    public ReadOnlySpan<float> HeadDropoutMask =>
        _trained && _model.Options.Dropout > 0f ? _mask.AsSpan(0, _steps * _streams * _model.Options.HiddenSize) : default;

    /// <summary>Adds dL/dθ of the last training <see cref="Forward"/> into the gradients, given dL/dz <c>[k, B, V]</c>.</summary>
    public void Backward(ReadOnlySpan<float> logitGradient)
    {
        if (!_trained) throw new InvalidOperationException("Backward needs a Forward with training: true first.");
        int B = _streams, E = _model.Options.EmbeddingSize, H = _model.Options.HiddenSize, V = _model.OutputSize, rows = _steps * B;
        bool dropped = _model.Options.Dropout > 0f;
        ReadOnlySpan<float> features = dropped ? _dropped.AsSpan(0, rows * H) : _recurrent.AsSpan(0, rows * H);
        Grow(ref _recurrentGradient, rows * H);
        Span<float> recurrentGradient = _recurrentGradient.AsSpan(0, rows * H);
        _model.Head.Backward(features, _logits.AsSpan(0, rows * V), logitGradient.Slice(0, rows * V), rows, recurrentGradient);
        if (dropped) TensorPrimitives.Multiply(recurrentGradient, _mask.AsSpan(0, rows * H), recurrentGradient);
        Grow(ref _embeddedGradient, rows * E);
        Span<float> embeddedGradient = _embeddedGradient.AsSpan(0, rows * E);
        _model.Network.Backward(recurrentGradient, inputGradient: embeddedGradient);
        _model.Embedding!.Backward(_ids.AsSpan(0, rows), embeddedGradient);
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }
}
