using System.Numerics.Tensors;

namespace MlNet.Rnn.Core.Cells;

/// <summary>
/// GRU cell, as <c>torch.nn.GRU</c>, gate rows ordered r, z, n, with the reset applied after the recurrent product:
/// <c>r = σ(W_ir x + b_ir + W_hr h' + b_hr)</c>, <c>z = σ(W_iz x + b_iz + W_hz h' + b_hz)</c>,
/// <c>n = tanh(W_in x + b_in + r⊙(W_hn h' + b_hn))</c>, <c>h = (1−z)⊙n + z⊙h'</c>.
/// Shapes: W_ih [3H, I], W_hh [3H, H], biases [3H]; G = 3. Cache per row: r, z, n, W_hn h' + b_hn (4H).
/// </summary>
public readonly struct GruCell : IRecurrentCell
{
    /// <inheritdoc />
    public static int GateCount => 3;

    /// <inheritdoc />
    public static bool HasCellState => false;

    /// <inheritdoc />
    public static bool HasSeparateRecurrentGradient => true;

    /// <inheritdoc />
    public static int CacheWidth(int hiddenSize) => 4 * hiddenSize;

    /// <inheritdoc />
    public void Forward(int rows, int hiddenSize, ReadOnlySpan<float> xProj, Span<float> hProj, ReadOnlySpan<float> recurrentBias,
        Span<float> h, Span<float> c, Span<float> cache)
    {
        int H = hiddenSize, gateWidth = 3 * H;
        ReadOnlySpan<float> bhn = recurrentBias.Slice(2 * H, H);
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> x = xProj.Slice(row * gateWidth, gateWidth);
            Span<float> gates = hProj.Slice(row * gateWidth, gateWidth);
            Span<float> rz = gates.Slice(0, 2 * H), hn = gates.Slice(2 * H, H);
            Span<float> hidden = h.Slice(row * H, H);
            TensorPrimitives.Add(rz, x.Slice(0, 2 * H), rz);
            TensorPrimitives.Sigmoid(rz, rz);
            TensorPrimitives.Add(hn, bhn, hn);                                 // W_hn h' + b_hn
            Span<float> rowCache = cache.IsEmpty ? default : cache.Slice(row * 4 * H, 4 * H);
            if (!cache.IsEmpty)
            {
                rz.CopyTo(rowCache);
                hn.CopyTo(rowCache.Slice(3 * H, H));
            }
            ReadOnlySpan<float> r = rz.Slice(0, H), z = rz.Slice(H, H);
            Span<float> n = hn;                                                // reuse: n overwrites W_hn h' + b_hn
            TensorPrimitives.MultiplyAdd(r, hn, x.Slice(2 * H, H), n);
            TensorPrimitives.Tanh(n, n);
            if (!cache.IsEmpty) n.CopyTo(rowCache.Slice(2 * H, H));
            // h = n + z⊙(h' − n)
            TensorPrimitives.Subtract(hidden, n, hidden);
            TensorPrimitives.MultiplyAdd(z, hidden, n, hidden);
        }
    }

    /// <inheritdoc />
    public void Backward(int rows, int hiddenSize, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev,
        Span<float> dh, Span<float> dc, Span<float> dGx, Span<float> dGh)
    {
        int H = hiddenSize, gateWidth = 3 * H;
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> rowCache = cache.Slice(row * 4 * H, 4 * H);
            ReadOnlySpan<float> r = rowCache.Slice(0, H), z = rowCache.Slice(H, H), n = rowCache.Slice(2 * H, H), hn = rowCache.Slice(3 * H, H);
            ReadOnlySpan<float> previous = hPrev.Slice(row * H, H);
            Span<float> dhRow = dh.Slice(row * H, H);
            Span<float> gx = dGx.Slice(row * gateWidth, gateWidth), gh = dGh.Slice(row * gateWidth, gateWidth);
            Span<float> dr = gx.Slice(0, H), dz = gx.Slice(H, H), dn = gx.Slice(2 * H, H);

            // dz_pre = dh⊙(h' − n)⊙z(1−z)
            TensorPrimitives.Subtract(previous, n, dz);
            TensorPrimitives.Multiply(dz, dhRow, dz);
            TensorPrimitives.Multiply(z, z, dr);
            TensorPrimitives.Subtract(z, dr, dr);
            TensorPrimitives.Multiply(dz, dr, dz);
            // dn_pre = dh⊙(1−z)⊙(1−n²)
            TensorPrimitives.Multiply(n, n, dn);
            TensorPrimitives.Subtract(1f, dn, dn);
            TensorPrimitives.Multiply(dn, dhRow, dn);
            TensorPrimitives.Multiply(dn, z, dr);                              // dr as scratch: dn⊙z
            TensorPrimitives.Subtract(dn, dr, dn);                             // dn⊙(1−z)
            // recurrent part of n: dGh_n = dn_pre⊙r; dr_pre = dn_pre⊙(W_hn h' + b_hn)⊙r(1−r)
            TensorPrimitives.Multiply(dn, r, gh.Slice(2 * H, H));
            TensorPrimitives.Multiply(r, r, dr);
            TensorPrimitives.Subtract(r, dr, dr);
            TensorPrimitives.Multiply(dr, hn, dr);
            TensorPrimitives.Multiply(dr, dn, dr);
            gx.Slice(0, 2 * H).CopyTo(gh);
            // direct path: dh' = z⊙dh
            TensorPrimitives.Multiply(dhRow, z, dhRow);
        }
    }
}
