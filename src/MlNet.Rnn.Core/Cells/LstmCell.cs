using System.Numerics.Tensors;

namespace MlNet.Rnn.Core.Cells;

/// <summary>
/// LSTM cell, as <c>torch.nn.LSTM</c>, gate rows ordered i, f, g, o:
/// <c>i = σ(·), f = σ(·), g = tanh(·), o = σ(·)</c> of <c>W_ih x + b_ih + W_hh h' + b_hh</c>;
/// <c>c = f⊙c' + i⊙g</c>, <c>h = o⊙tanh(c)</c>.
/// Shapes: W_ih [4H, I], W_hh [4H, H], biases [4H]; G = 4. Cache per row: i, f, g, o, tanh(c), c' (6H).
/// </summary>
public readonly struct LstmCell : IRecurrentCell
{
    /// <inheritdoc />
    public static int GateCount => 4;

    /// <inheritdoc />
    public static bool HasCellState => true;

    /// <inheritdoc />
    public static bool HasSeparateRecurrentGradient => false;

    /// <inheritdoc />
    public static int CacheWidth(int hiddenSize) => 6 * hiddenSize;

    /// <inheritdoc />
    public void Forward(int rows, int hiddenSize, ReadOnlySpan<float> xProj, Span<float> hProj, ReadOnlySpan<float> recurrentBias,
        Span<float> h, Span<float> c, Span<float> cache)
    {
        int H = hiddenSize, gateWidth = 4 * H;
        Span<float> gatesAll = hProj.Slice(0, rows * gateWidth);
        TensorPrimitives.Add(xProj.Slice(0, rows * gateWidth), gatesAll, gatesAll);
        for (int row = 0; row < rows; row++)
        {
            Span<float> gates = gatesAll.Slice(row * gateWidth, gateWidth);
            Span<float> cell = c.Slice(row * H, H), hidden = h.Slice(row * H, H);
            TensorPrimitives.Sigmoid(gates.Slice(0, 2 * H), gates.Slice(0, 2 * H));   // i, f
            TensorPrimitives.Tanh(gates.Slice(2 * H, H), gates.Slice(2 * H, H));       // g
            TensorPrimitives.Sigmoid(gates.Slice(3 * H, H), gates.Slice(3 * H, H));    // o
            ReadOnlySpan<float> i = gates.Slice(0, H), f = gates.Slice(H, H), g = gates.Slice(2 * H, H), o = gates.Slice(3 * H, H);
            if (!cache.IsEmpty)
            {
                Span<float> rowCache = cache.Slice(row * 6 * H, 6 * H);
                gates.CopyTo(rowCache);
                cell.CopyTo(rowCache.Slice(5 * H, H));                                    // c'
            }
            TensorPrimitives.Multiply(f, cell, cell);                                     // f⊙c'
            TensorPrimitives.MultiplyAdd(i, g, cell, cell);                               // + i⊙g
            TensorPrimitives.Tanh(cell, hidden);
            if (!cache.IsEmpty) hidden.CopyTo(cache.Slice(row * 6 * H + 4 * H, H));    // tanh(c)
            TensorPrimitives.Multiply(o, hidden, hidden);
        }
    }

    /// <inheritdoc />
    public void Backward(int rows, int hiddenSize, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev,
        Span<float> dh, Span<float> dc, Span<float> dGx, Span<float> dGh)
    {
        int H = hiddenSize;
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> rowCache = cache.Slice(row * 6 * H, 6 * H);
            ReadOnlySpan<float> i = rowCache.Slice(0, H), f = rowCache.Slice(H, H), g = rowCache.Slice(2 * H, H),
                o = rowCache.Slice(3 * H, H), tanhC = rowCache.Slice(4 * H, H), cPrev = rowCache.Slice(5 * H, H);
            Span<float> dhRow = dh.Slice(row * H, H), dcRow = dc.Slice(row * H, H);
            Span<float> gates = dGx.Slice(row * 4 * H, 4 * H);
            Span<float> di = gates.Slice(0, H), df = gates.Slice(H, H), dg = gates.Slice(2 * H, H), dO = gates.Slice(3 * H, H);

            // dc += dh⊙o⊙(1 − tanh²c); dO = dh⊙tanh(c)⊙o(1−o)
            TensorPrimitives.Multiply(tanhC, tanhC, di);
            TensorPrimitives.Subtract(1f, di, di);
            TensorPrimitives.Multiply(di, o, di);
            TensorPrimitives.MultiplyAdd(di, dhRow, dcRow, dcRow);
            SigmoidDerivativeTimes(o, dhRow, tanhC, dO);
            // di = dc⊙g⊙i(1−i); df = dc⊙c'⊙f(1−f); dg = dc⊙i⊙(1−g²)
            SigmoidDerivativeTimes(i, dcRow, g, di);
            SigmoidDerivativeTimes(f, dcRow, cPrev, df);
            TensorPrimitives.Multiply(g, g, dg);
            TensorPrimitives.Subtract(1f, dg, dg);
            TensorPrimitives.Multiply(dg, i, dg);
            TensorPrimitives.Multiply(dg, dcRow, dg);
            // dc' = dc⊙f; no direct path from h to h'.
            TensorPrimitives.Multiply(dcRow, f, dcRow);
            dhRow.Clear();
        }
    }

    /// <summary><c>result = s(1−s)⊙a⊙b</c>, the gradient through a sigmoid output s.</summary>
    private static void SigmoidDerivativeTimes(ReadOnlySpan<float> s, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> result)
    {
        TensorPrimitives.Multiply(s, s, result);
        TensorPrimitives.Subtract(s, result, result);
        TensorPrimitives.Multiply(result, a, result);
        TensorPrimitives.Multiply(result, b, result);
    }
}
