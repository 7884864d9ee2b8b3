using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static MlNet.Rnn.Core.Kernels.GateActivations;

namespace MlNet.Rnn.Core.Cells;

/// <summary>
/// LSTM cell, as <c>torch.nn.LSTM</c>, gate rows ordered i, f, g, o:
/// <c>i = σ(·), f = σ(·), g = tanh(·), o = σ(·)</c> of <c>W_ih x + b_ih + W_hh h' + b_hh</c>;
/// <c>c = f⊙c' + i⊙g</c>, <c>h = o⊙tanh(c)</c>.
/// Shapes: W_ih [4H, I], W_hh [4H, H], biases [4H]; G = 4. Cache per row: i, f, g, o, tanh(c), c' (6H).
/// </summary>
/// <remarks>Forward and backward are each one fused pass per row: a vector body (forward: 512-bit where accelerated,
/// then <see cref="Vector{T}"/>) and a scalar tail.</remarks>
public readonly struct LstmCell : IRecurrentCell
{
    /// <inheritdoc />
    public static int GateCount => 4;

    /// <inheritdoc />
    public static bool HasCellState => true;

    /// <inheritdoc />
    public static bool HasSeparateRecurrentGradient => false;

    /// <inheritdoc />
    public static void CombineBiases(ReadOnlySpan<float> inputBias, ReadOnlySpan<float> recurrentBias, Span<float> combined) =>
        System.Numerics.Tensors.TensorPrimitives.Add(inputBias, recurrentBias, combined);

    /// <inheritdoc />
    public static int CacheWidth(int hiddenSize) => 6 * hiddenSize;

    /// <inheritdoc />
    public void Forward(int rows, int hiddenSize, ReadOnlySpan<float> xProj, Span<float> hProj, ReadOnlySpan<float> recurrentBias,
        Span<float> h, Span<float> c, Span<float> cache)
    {
        int H = hiddenSize;
        if (xProj.Length < rows * 4 * H || hProj.Length < rows * 4 * H || h.Length < rows * H || c.Length < rows * H ||
            (!cache.IsEmpty && cache.Length < rows * 6 * H))
            throw new ArgumentException("A buffer is shorter than rows × (4H, 4H, H, H, 6H).");
        bool keep = !cache.IsEmpty;
        for (int row = 0; row < rows; row++)
        {
            ref float x = ref Unsafe.Add(ref MemoryMarshal.GetReference(xProj), row * 4 * H);
            ref float r = ref Unsafe.Add(ref MemoryMarshal.GetReference(hProj), row * 4 * H);
            ref float hidden = ref Unsafe.Add(ref MemoryMarshal.GetReference(h), row * H);
            ref float cell = ref Unsafe.Add(ref MemoryMarshal.GetReference(c), row * H);
            ref float k = ref keep ? ref Unsafe.Add(ref MemoryMarshal.GetReference(cache), row * 6 * H) : ref Unsafe.NullRef<float>();
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j <= H - Vector512<float>.Count; j += Vector512<float>.Count)
                {
                    nuint u = (nuint)j;
                    var i = Sigmoid(Vector512.LoadUnsafe(ref x, u) + Vector512.LoadUnsafe(ref r, u));
                    var f = Sigmoid(Vector512.LoadUnsafe(ref x, u + (nuint)H) + Vector512.LoadUnsafe(ref r, u + (nuint)H));
                    var g = Tanh(Vector512.LoadUnsafe(ref x, u + (nuint)(2 * H)) + Vector512.LoadUnsafe(ref r, u + (nuint)(2 * H)));
                    var o = Sigmoid(Vector512.LoadUnsafe(ref x, u + (nuint)(3 * H)) + Vector512.LoadUnsafe(ref r, u + (nuint)(3 * H)));
                    var previous = Vector512.LoadUnsafe(ref cell, u);
                    var next = f * previous + i * g;
                    var tanhC = Tanh(next);
                    next.StoreUnsafe(ref cell, u);
                    (o * tanhC).StoreUnsafe(ref hidden, u);
                    if (keep)
                    {
                        i.StoreUnsafe(ref k, u);
                        f.StoreUnsafe(ref k, u + (nuint)H);
                        g.StoreUnsafe(ref k, u + (nuint)(2 * H));
                        o.StoreUnsafe(ref k, u + (nuint)(3 * H));
                        tanhC.StoreUnsafe(ref k, u + (nuint)(4 * H));
                        previous.StoreUnsafe(ref k, u + (nuint)(5 * H));
                    }
                }
            }
            for (; j <= H - Vector<float>.Count; j += Vector<float>.Count)
            {
                nuint u = (nuint)j;
                var i = Sigmoid(Vector.LoadUnsafe(ref x, u) + Vector.LoadUnsafe(ref r, u));
                var f = Sigmoid(Vector.LoadUnsafe(ref x, u + (nuint)H) + Vector.LoadUnsafe(ref r, u + (nuint)H));
                var g = Tanh(Vector.LoadUnsafe(ref x, u + (nuint)(2 * H)) + Vector.LoadUnsafe(ref r, u + (nuint)(2 * H)));
                var o = Sigmoid(Vector.LoadUnsafe(ref x, u + (nuint)(3 * H)) + Vector.LoadUnsafe(ref r, u + (nuint)(3 * H)));
                var previous = Vector.LoadUnsafe(ref cell, u);
                var next = f * previous + i * g;
                var tanhC = Tanh(next);
                next.StoreUnsafe(ref cell, u);
                (o * tanhC).StoreUnsafe(ref hidden, u);
                if (keep)
                {
                    i.StoreUnsafe(ref k, u);
                    f.StoreUnsafe(ref k, u + (nuint)H);
                    g.StoreUnsafe(ref k, u + (nuint)(2 * H));
                    o.StoreUnsafe(ref k, u + (nuint)(3 * H));
                    tanhC.StoreUnsafe(ref k, u + (nuint)(4 * H));
                    previous.StoreUnsafe(ref k, u + (nuint)(5 * H));
                }
            }
            for (; j < H; j++)
            {
                float i = Sigmoid(Unsafe.Add(ref x, j) + Unsafe.Add(ref r, j));
                float f = Sigmoid(Unsafe.Add(ref x, H + j) + Unsafe.Add(ref r, H + j));
                float g = Tanh(Unsafe.Add(ref x, 2 * H + j) + Unsafe.Add(ref r, 2 * H + j));
                float o = Sigmoid(Unsafe.Add(ref x, 3 * H + j) + Unsafe.Add(ref r, 3 * H + j));
                float previous = Unsafe.Add(ref cell, j);
                float next = f * previous + i * g;
                float tanhC = Tanh(next);
                Unsafe.Add(ref cell, j) = next;
                Unsafe.Add(ref hidden, j) = o * tanhC;
                if (keep)
                {
                    Unsafe.Add(ref k, j) = i;
                    Unsafe.Add(ref k, H + j) = f;
                    Unsafe.Add(ref k, 2 * H + j) = g;
                    Unsafe.Add(ref k, 3 * H + j) = o;
                    Unsafe.Add(ref k, 4 * H + j) = tanhC;
                    Unsafe.Add(ref k, 5 * H + j) = previous;
                }
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// <c>dc += dh⊙o⊙(1 − tanh²c)</c>; pre-activation gradients <c>di = dc⊙g⊙i(1−i)</c>, <c>df = dc⊙c'⊙f(1−f)</c>,
    /// <c>dg = dc⊙i⊙(1−g²)</c>, <c>do = dh⊙tanh(c)⊙o(1−o)</c>; <c>dc' = dc⊙f</c>; no direct path from h to h'.
    /// </remarks>
    public void Backward(int rows, int hiddenSize, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev,
        Span<float> dh, Span<float> dc, Span<float> dGx, Span<float> dGh)
    {
        int H = hiddenSize;
        if (cache.Length < rows * 6 * H || dh.Length < rows * H || dc.Length < rows * H || dGx.Length < rows * 4 * H)
            throw new ArgumentException("A buffer is shorter than rows × (6H, H, H, 4H).");
        for (int row = 0; row < rows; row++)
        {
            ref float k = ref Unsafe.Add(ref MemoryMarshal.GetReference(cache), row * 6 * H);
            ref float dhRow = ref Unsafe.Add(ref MemoryMarshal.GetReference(dh), row * H);
            ref float dcRow = ref Unsafe.Add(ref MemoryMarshal.GetReference(dc), row * H);
            ref float gates = ref Unsafe.Add(ref MemoryMarshal.GetReference(dGx), row * 4 * H);
            int j = 0;
            for (; j <= H - Vector<float>.Count; j += Vector<float>.Count)
            {
                nuint u = (nuint)j;
                var i = Vector.LoadUnsafe(ref k, u);
                var f = Vector.LoadUnsafe(ref k, u + (nuint)H);
                var g = Vector.LoadUnsafe(ref k, u + (nuint)(2 * H));
                var o = Vector.LoadUnsafe(ref k, u + (nuint)(3 * H));
                var tanhC = Vector.LoadUnsafe(ref k, u + (nuint)(4 * H));
                var previous = Vector.LoadUnsafe(ref k, u + (nuint)(5 * H));
                var upstream = Vector.LoadUnsafe(ref dhRow, u);
                var one = Vector<float>.One;
                var cellGradient = Vector.LoadUnsafe(ref dcRow, u) + upstream * o * (one - tanhC * tanhC);
                (cellGradient * g * i * (one - i)).StoreUnsafe(ref gates, u);
                (cellGradient * previous * f * (one - f)).StoreUnsafe(ref gates, u + (nuint)H);
                (cellGradient * i * (one - g * g)).StoreUnsafe(ref gates, u + (nuint)(2 * H));
                (upstream * tanhC * o * (one - o)).StoreUnsafe(ref gates, u + (nuint)(3 * H));
                (cellGradient * f).StoreUnsafe(ref dcRow, u);
                Vector<float>.Zero.StoreUnsafe(ref dhRow, u);
            }
            for (; j < H; j++)
            {
                float i = Unsafe.Add(ref k, j), f = Unsafe.Add(ref k, H + j), g = Unsafe.Add(ref k, 2 * H + j);
                float o = Unsafe.Add(ref k, 3 * H + j), tanhC = Unsafe.Add(ref k, 4 * H + j), previous = Unsafe.Add(ref k, 5 * H + j);
                float upstream = Unsafe.Add(ref dhRow, j);
                float cellGradient = Unsafe.Add(ref dcRow, j) + upstream * o * (1 - tanhC * tanhC);
                Unsafe.Add(ref gates, j) = cellGradient * g * i * (1 - i);
                Unsafe.Add(ref gates, H + j) = cellGradient * previous * f * (1 - f);
                Unsafe.Add(ref gates, 2 * H + j) = cellGradient * i * (1 - g * g);
                Unsafe.Add(ref gates, 3 * H + j) = upstream * tanhC * o * (1 - o);
                Unsafe.Add(ref dcRow, j) = cellGradient * f;
                Unsafe.Add(ref dhRow, j) = 0;
            }
        }
    }
}
