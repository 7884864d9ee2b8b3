using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static MlNet.Rnn.Core.Kernels.GateActivations;

namespace MlNet.Rnn.Core.Cells;

/// <summary>
/// GRU cell, as <c>torch.nn.GRU</c>, gate rows ordered r, z, n, with the reset applied after the recurrent product:
/// <c>r = σ(W_ir x + b_ir + W_hr h' + b_hr)</c>, <c>z = σ(W_iz x + b_iz + W_hz h' + b_hz)</c>,
/// <c>n = tanh(W_in x + b_in + r⊙(W_hn h' + b_hn))</c>, <c>h = (1−z)⊙n + z⊙h'</c>.
/// Shapes: W_ih [3H, I], W_hh [3H, H], biases [3H]; G = 3. Cache per row: r, z, n, W_hn h' + b_hn (4H).
/// </summary>
/// <remarks>Forward and backward are each one fused pass per row: a vector body (forward: 512-bit where accelerated,
/// then <see cref="Vector{T}"/>) and a scalar tail.</remarks>
public readonly struct GruCell : IRecurrentCell
{
    /// <inheritdoc />
    public static int GateCount => 3;

    /// <inheritdoc />
    public static bool HasCellState => false;

    /// <inheritdoc />
    public static bool HasSeparateRecurrentGradient => true;

    /// <inheritdoc />
    /// <remarks>r and z take <c>b_ih + b_hh</c>; n takes <c>b_in</c> only, since <c>b_hn</c> is scaled by r.</remarks>
    public static void CombineBiases(ReadOnlySpan<float> inputBias, ReadOnlySpan<float> recurrentBias, Span<float> combined)
    {
        int H = inputBias.Length / 3;
        System.Numerics.Tensors.TensorPrimitives.Add(inputBias.Slice(0, 2 * H), recurrentBias.Slice(0, 2 * H), combined.Slice(0, 2 * H));
        inputBias.Slice(2 * H, H).CopyTo(combined.Slice(2 * H, H));
    }

    /// <inheritdoc />
    public static int CacheWidth(int hiddenSize) => 4 * hiddenSize;

    /// <inheritdoc />
    public void Forward(int rows, int hiddenSize, ReadOnlySpan<float> xProj, Span<float> hProj, ReadOnlySpan<float> recurrentBias,
        Span<float> h, Span<float> c, Span<float> cache)
    {
        int H = hiddenSize;
        if (xProj.Length < rows * 3 * H || hProj.Length < rows * 3 * H || h.Length < rows * H || recurrentBias.Length < 3 * H ||
            (!cache.IsEmpty && cache.Length < rows * 4 * H))
            throw new ArgumentException("A buffer is shorter than rows × (3H, 3H, H, 4H) or b_hh than 3H.");
        bool keep = !cache.IsEmpty;
        ref float bias = ref Unsafe.Add(ref MemoryMarshal.GetReference(recurrentBias), 2 * H);   // b_hn
        for (int row = 0; row < rows; row++)
        {
            ref float x = ref Unsafe.Add(ref MemoryMarshal.GetReference(xProj), row * 3 * H);
            ref float p = ref Unsafe.Add(ref MemoryMarshal.GetReference(hProj), row * 3 * H);
            ref float hidden = ref Unsafe.Add(ref MemoryMarshal.GetReference(h), row * H);
            ref float k = ref keep ? ref Unsafe.Add(ref MemoryMarshal.GetReference(cache), row * 4 * H) : ref Unsafe.NullRef<float>();
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j <= H - Vector512<float>.Count; j += Vector512<float>.Count)
                {
                    nuint u = (nuint)j;
                    var r = Sigmoid(Vector512.LoadUnsafe(ref x, u) + Vector512.LoadUnsafe(ref p, u));
                    var z = Sigmoid(Vector512.LoadUnsafe(ref x, u + (nuint)H) + Vector512.LoadUnsafe(ref p, u + (nuint)H));
                    var recurrentN = Vector512.LoadUnsafe(ref p, u + (nuint)(2 * H)) + Vector512.LoadUnsafe(ref bias, u);
                    var n = Tanh(Vector512.LoadUnsafe(ref x, u + (nuint)(2 * H)) + r * recurrentN);
                    var previous = Vector512.LoadUnsafe(ref hidden, u);
                    (n + z * (previous - n)).StoreUnsafe(ref hidden, u);
                    if (keep)
                    {
                        r.StoreUnsafe(ref k, u);
                        z.StoreUnsafe(ref k, u + (nuint)H);
                        n.StoreUnsafe(ref k, u + (nuint)(2 * H));
                        recurrentN.StoreUnsafe(ref k, u + (nuint)(3 * H));
                    }
                }
            }
            for (; j <= H - Vector<float>.Count; j += Vector<float>.Count)
            {
                nuint u = (nuint)j;
                var r = Sigmoid(Vector.LoadUnsafe(ref x, u) + Vector.LoadUnsafe(ref p, u));
                var z = Sigmoid(Vector.LoadUnsafe(ref x, u + (nuint)H) + Vector.LoadUnsafe(ref p, u + (nuint)H));
                var recurrentN = Vector.LoadUnsafe(ref p, u + (nuint)(2 * H)) + Vector.LoadUnsafe(ref bias, u);
                var n = Tanh(Vector.LoadUnsafe(ref x, u + (nuint)(2 * H)) + r * recurrentN);
                var previous = Vector.LoadUnsafe(ref hidden, u);
                (n + z * (previous - n)).StoreUnsafe(ref hidden, u);
                if (keep)
                {
                    r.StoreUnsafe(ref k, u);
                    z.StoreUnsafe(ref k, u + (nuint)H);
                    n.StoreUnsafe(ref k, u + (nuint)(2 * H));
                    recurrentN.StoreUnsafe(ref k, u + (nuint)(3 * H));
                }
            }
            for (; j < H; j++)
            {
                float r = Sigmoid(Unsafe.Add(ref x, j) + Unsafe.Add(ref p, j));
                float z = Sigmoid(Unsafe.Add(ref x, H + j) + Unsafe.Add(ref p, H + j));
                float recurrentN = Unsafe.Add(ref p, 2 * H + j) + Unsafe.Add(ref bias, j);
                float n = Tanh(Unsafe.Add(ref x, 2 * H + j) + r * recurrentN);
                float previous = Unsafe.Add(ref hidden, j);
                Unsafe.Add(ref hidden, j) = n + z * (previous - n);
                if (keep)
                {
                    Unsafe.Add(ref k, j) = r;
                    Unsafe.Add(ref k, H + j) = z;
                    Unsafe.Add(ref k, 2 * H + j) = n;
                    Unsafe.Add(ref k, 3 * H + j) = recurrentN;
                }
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// With <c>a = W_hn h' + b_hn</c>: <c>dn = dh⊙(1−z)⊙(1−n²)</c>, <c>dz = dh⊙(h'−n)⊙z(1−z)</c>,
    /// <c>dr = dn⊙a⊙r(1−r)</c>; <c>dGx = [dr, dz, dn]</c>, <c>dGh = [dr, dz, dn⊙r]</c>; direct path <c>dh' = dh⊙z</c>.
    /// </remarks>
    public void Backward(int rows, int hiddenSize, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev,
        Span<float> dh, Span<float> dc, Span<float> dGx, Span<float> dGh)
    {
        int H = hiddenSize;
        if (cache.Length < rows * 4 * H || hPrev.Length < rows * H || dh.Length < rows * H || dGx.Length < rows * 3 * H || dGh.Length < rows * 3 * H)
            throw new ArgumentException("A buffer is shorter than rows × (4H, H, H, 3H, 3H).");
        for (int row = 0; row < rows; row++)
        {
            ref float k = ref Unsafe.Add(ref MemoryMarshal.GetReference(cache), row * 4 * H);
            ref float previousRow = ref Unsafe.Add(ref MemoryMarshal.GetReference(hPrev), row * H);
            ref float dhRow = ref Unsafe.Add(ref MemoryMarshal.GetReference(dh), row * H);
            ref float gx = ref Unsafe.Add(ref MemoryMarshal.GetReference(dGx), row * 3 * H);
            ref float gh = ref Unsafe.Add(ref MemoryMarshal.GetReference(dGh), row * 3 * H);
            int j = 0;
            for (; j <= H - Vector<float>.Count; j += Vector<float>.Count)
            {
                nuint u = (nuint)j;
                var one = Vector<float>.One;
                var r = Vector.LoadUnsafe(ref k, u);
                var z = Vector.LoadUnsafe(ref k, u + (nuint)H);
                var n = Vector.LoadUnsafe(ref k, u + (nuint)(2 * H));
                var recurrentN = Vector.LoadUnsafe(ref k, u + (nuint)(3 * H));
                var upstream = Vector.LoadUnsafe(ref dhRow, u);
                var dn = upstream * (one - z) * (one - n * n);
                var dz = upstream * (Vector.LoadUnsafe(ref previousRow, u) - n) * z * (one - z);
                var dr = dn * recurrentN * r * (one - r);
                dr.StoreUnsafe(ref gx, u);
                dz.StoreUnsafe(ref gx, u + (nuint)H);
                dn.StoreUnsafe(ref gx, u + (nuint)(2 * H));
                dr.StoreUnsafe(ref gh, u);
                dz.StoreUnsafe(ref gh, u + (nuint)H);
                (dn * r).StoreUnsafe(ref gh, u + (nuint)(2 * H));
                (upstream * z).StoreUnsafe(ref dhRow, u);
            }
            for (; j < H; j++)
            {
                float r = Unsafe.Add(ref k, j), z = Unsafe.Add(ref k, H + j), n = Unsafe.Add(ref k, 2 * H + j), recurrentN = Unsafe.Add(ref k, 3 * H + j);
                float upstream = Unsafe.Add(ref dhRow, j);
                float dn = upstream * (1 - z) * (1 - n * n);
                float dz = upstream * (Unsafe.Add(ref previousRow, j) - n) * z * (1 - z);
                float dr = dn * recurrentN * r * (1 - r);
                Unsafe.Add(ref gx, j) = dr;
                Unsafe.Add(ref gx, H + j) = dz;
                Unsafe.Add(ref gx, 2 * H + j) = dn;
                Unsafe.Add(ref gh, j) = dr;
                Unsafe.Add(ref gh, H + j) = dz;
                Unsafe.Add(ref gh, 2 * H + j) = dn * r;
                Unsafe.Add(ref dhRow, j) = upstream * z;
            }
        }
    }
}
