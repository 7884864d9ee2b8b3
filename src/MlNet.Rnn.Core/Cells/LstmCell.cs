using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MlNet.Rnn.Core.Kernels;
using static MlNet.Rnn.Core.Kernels.GateActivations;

namespace MlNet.Rnn.Core.Cells;

/// <summary>
/// LSTM cell, as <c>torch.nn.LSTM</c>, gate rows ordered i, f, g, o:
/// <c>i = σ(·), f = σ(·), g = tanh(·), o = σ(·)</c> of <c>W_ih x + b_ih + W_hh h' + b_hh</c>;
/// <c>c = f⊙c' + i⊙g</c>, <c>h = o⊙tanh(c)</c>.
/// Shapes: W_ih [4H, I], W_hh [4H, H], biases [4H]; G = 4. Cache per row: i, f, g, o, tanh(c), c' (6H).
/// </summary>
/// <remarks>Forward and backward are each one fused pass per row: the equations are written once, in
/// <c>ForwardRow</c> and <c>BackwardRow</c>, and <see cref="LaneLoop"/> runs them at every vector width and the scalar tail.</remarks>
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
        for (int row = 0; row < rows; row++)
        {
            var kernel = new ForwardRow(H,
                ref Unsafe.Add(ref MemoryMarshal.GetReference(xProj), row * 4 * H),
                ref Unsafe.Add(ref MemoryMarshal.GetReference(hProj), row * 4 * H),
                ref Unsafe.Add(ref MemoryMarshal.GetReference(h), row * H),
                ref Unsafe.Add(ref MemoryMarshal.GetReference(c), row * H),
                ref cache.IsEmpty ? ref Unsafe.NullRef<float>() : ref Unsafe.Add(ref MemoryMarshal.GetReference(cache), row * 6 * H));
            LaneLoop.Run(ref kernel, H);
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
            var kernel = new BackwardRow(H,
                ref Unsafe.Add(ref MemoryMarshal.GetReference(cache), row * 6 * H),
                ref Unsafe.Add(ref MemoryMarshal.GetReference(dh), row * H),
                ref Unsafe.Add(ref MemoryMarshal.GetReference(dc), row * H),
                ref Unsafe.Add(ref MemoryMarshal.GetReference(dGx), row * 4 * H));
            LaneLoop.Run(ref kernel, H);
        }
    }

    /// <summary>The forward equations for lanes of one row: xProj and hProj [4H], h and c [H], the cache [6H] or null.</summary>
    private readonly ref struct ForwardRow(int hiddenSize, ref float xProj, ref float hProj, ref float h, ref float c, ref float cache) : ILaneKernel
    {
        private readonly nuint _H = (nuint)hiddenSize;
        private readonly ref float _xProj = ref xProj;
        private readonly ref float _hProj = ref hProj;
        private readonly ref float _h = ref h;
        private readonly ref float _c = ref c;
        private readonly ref float _cache = ref cache;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke<TLanes>(nuint j) where TLanes : struct, ILanes<TLanes>
        {
            nuint H = _H;
            var i = Sigmoid(TLanes.Load(ref _xProj, j) + TLanes.Load(ref _hProj, j));
            var f = Sigmoid(TLanes.Load(ref _xProj, H + j) + TLanes.Load(ref _hProj, H + j));
            var g = Tanh(TLanes.Load(ref _xProj, 2 * H + j) + TLanes.Load(ref _hProj, 2 * H + j));
            var o = Sigmoid(TLanes.Load(ref _xProj, 3 * H + j) + TLanes.Load(ref _hProj, 3 * H + j));
            var previous = TLanes.Load(ref _c, j);
            var next = f * previous + i * g;
            var tanhC = Tanh(next);
            next.Store(ref _c, j);
            (o * tanhC).Store(ref _h, j);
            if (!Unsafe.IsNullRef(ref _cache))
            {
                i.Store(ref _cache, j);
                f.Store(ref _cache, H + j);
                g.Store(ref _cache, 2 * H + j);
                o.Store(ref _cache, 3 * H + j);
                tanhC.Store(ref _cache, 4 * H + j);
                previous.Store(ref _cache, 5 * H + j);
            }
        }
    }

    /// <summary>The backward equations for lanes of one row: the cache [6H], dh and dc [H] (updated in place), dGx [4H].</summary>
    private readonly ref struct BackwardRow(int hiddenSize, ref float cache, ref float dh, ref float dc, ref float dGx) : ILaneKernel
    {
        private readonly nuint _H = (nuint)hiddenSize;
        private readonly ref float _cache = ref cache;
        private readonly ref float _dh = ref dh;
        private readonly ref float _dc = ref dc;
        private readonly ref float _dGx = ref dGx;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke<TLanes>(nuint j) where TLanes : struct, ILanes<TLanes>
        {
            nuint H = _H;
            var one = TLanes.One;
            var i = TLanes.Load(ref _cache, j);
            var f = TLanes.Load(ref _cache, H + j);
            var g = TLanes.Load(ref _cache, 2 * H + j);
            var o = TLanes.Load(ref _cache, 3 * H + j);
            var tanhC = TLanes.Load(ref _cache, 4 * H + j);
            var previous = TLanes.Load(ref _cache, 5 * H + j);
            var upstream = TLanes.Load(ref _dh, j);
            var cellGradient = TLanes.Load(ref _dc, j) + upstream * o * (one - tanhC * tanhC);
            (cellGradient * g * i * (one - i)).Store(ref _dGx, j);
            (cellGradient * previous * f * (one - f)).Store(ref _dGx, H + j);
            (cellGradient * i * (one - g * g)).Store(ref _dGx, 2 * H + j);
            (upstream * tanhC * o * (one - o)).Store(ref _dGx, 3 * H + j);
            (cellGradient * f).Store(ref _dc, j);
            TLanes.Zero.Store(ref _dh, j);
        }
    }
}
