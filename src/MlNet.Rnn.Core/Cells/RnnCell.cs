using System.Numerics.Tensors;

namespace MlNet.Rnn.Core.Cells;

/// <summary>
/// Elman RNN cell, as <c>torch.nn.RNN</c>: <c>h = g1(W_ih x + b_ih + W_hh h' + b_hh)</c>, g1 ∈ {tanh, relu, sigmoid}.
/// Shapes: W_ih [H, I], W_hh [H, H], b_ih and b_hh [H]; G = 1. Cache per row: h [H].
/// </summary>
/// <param name="activation">g1.</param>
public readonly struct RnnCell(RnnActivation activation) : IRecurrentCell
{
    /// <summary>g1.</summary>
    public RnnActivation Activation { get; } = activation;

    /// <inheritdoc />
    public static int GateCount => 1;

    /// <inheritdoc />
    public static bool HasCellState => false;

    /// <inheritdoc />
    public static bool HasSeparateRecurrentGradient => false;

    /// <inheritdoc />
    public static void CombineBiases(ReadOnlySpan<float> inputBias, ReadOnlySpan<float> recurrentBias, Span<float> combined) =>
        TensorPrimitives.Add(inputBias, recurrentBias, combined);

    /// <inheritdoc />
    public static int CacheWidth(int hiddenSize) => hiddenSize;

    /// <inheritdoc />
    public void Forward(int rows, int hiddenSize, ReadOnlySpan<float> xProj, Span<float> hProj, ReadOnlySpan<float> recurrentBias,
        Span<float> h, Span<float> c, Span<float> cache)
    {
        int count = rows * hiddenSize;
        Span<float> state = h.Slice(0, count);
        TensorPrimitives.Add(xProj.Slice(0, count), hProj.Slice(0, count), state);
        switch (Activation)
        {
            case RnnActivation.Tanh: TensorPrimitives.Tanh(state, state); break;
            case RnnActivation.Relu: TensorPrimitives.Max(state, 0f, state); break;
            default: TensorPrimitives.Sigmoid(state, state); break;
        }
        if (!cache.IsEmpty) state.CopyTo(cache);
    }

    /// <inheritdoc />
    public void Backward(int rows, int hiddenSize, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev,
        Span<float> dh, Span<float> dc, Span<float> dGx, Span<float> dGh)
    {
        int count = rows * hiddenSize;
        ReadOnlySpan<float> output = cache.Slice(0, count);
        Span<float> gradient = dGx.Slice(0, count);
        Span<float> upstream = dh.Slice(0, count);
        switch (Activation)
        {
            case RnnActivation.Tanh:
                // dpre = dh (1 - h²)
                TensorPrimitives.Multiply(output, output, gradient);
                TensorPrimitives.Subtract(1f, gradient, gradient);
                TensorPrimitives.Multiply(gradient, upstream, gradient);
                break;
            case RnnActivation.Relu:
                for (int i = 0; i < count; i++) gradient[i] = output[i] > 0f ? upstream[i] : 0f;
                break;
            default:
                // dpre = dh h (1 - h)
                TensorPrimitives.Multiply(output, output, gradient);
                TensorPrimitives.Subtract(output, gradient, gradient);
                TensorPrimitives.Multiply(gradient, upstream, gradient);
                break;
        }
        upstream.Clear();
    }
}
