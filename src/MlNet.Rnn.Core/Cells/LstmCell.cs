using System.Runtime.CompilerServices;
using MlNet.Rnn.Core.Kernels;
using static MlNet.Rnn.Core.Kernels.GateActivations;

namespace MlNet.Rnn.Core.Cells;

/// <summary>
/// LSTM cell, as <c>torch.nn.LSTM</c>, gate rows ordered i, f, g, o:
/// <c>i = σ(·), f = σ(·), g = tanh(·), o = σ(·)</c> of <c>W_ih x + b_ih + W_hh h' + b_hh</c>;
/// <c>c = f⊙c' + i⊙g</c>, <c>h = o⊙tanh(c)</c>.
/// Shapes: W_ih [4H, I], W_hh [4H, H], biases [4H]; G = 4. Cache per row: i, f, g, o, tanh(c), c' (6H).
/// </summary>
/// <remarks>Forward and backward are each one fused pass: the equations are written once, in <c>ForwardLanes</c> and
/// <c>BackwardLanes</c>, and <see cref="LaneLoop"/> runs them at every vector width and the scalar tail.</remarks>
public readonly unsafe struct LstmCell : IRecurrentCell
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
        fixed (float* px = xProj, ph = hProj, pState = h, pCell = c, pCache = cache)
        {
            var kernel = new ForwardLanes(H, px, ph, pState, pCell, pCache);
            LaneLoop.Run(ref kernel, rows, H);
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
        fixed (float* pCache = cache, pdh = dh, pdc = dc, pdGx = dGx)
        {
            var kernel = new BackwardLanes(H, pCache, pdh, pdc, pdGx);
            LaneLoop.Run(ref kernel, rows, H);
        }
    }

    /// <summary>The forward equations for lanes of a row: xProj and hProj [rows, 4H], h and c [rows, H], the cache [rows, 6H] or null.</summary>
    private readonly unsafe struct ForwardLanes(int hiddenSize, float* xProj, float* hProj, float* h, float* c, float* cache) : ILaneKernel
    {
        private readonly nuint _H = (nuint)hiddenSize;
        private readonly float* _xProj = xProj;
        private readonly float* _hProj = hProj;
        private readonly float* _h = h;
        private readonly float* _c = c;
        private readonly float* _cache = cache;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke<TLanes>(nuint row, nuint j) where TLanes : struct, ILanes<TLanes>
        {
            nuint H = _H, gate = row * 4 * H + j, unit = row * H + j, cached = row * 6 * H + j;
            var i = Sigmoid(TLanes.Load(ref *_xProj, gate) + TLanes.Load(ref *_hProj, gate));
            var f = Sigmoid(TLanes.Load(ref *_xProj, gate + H) + TLanes.Load(ref *_hProj, gate + H));
            var g = Tanh(TLanes.Load(ref *_xProj, gate + 2 * H) + TLanes.Load(ref *_hProj, gate + 2 * H));
            var o = Sigmoid(TLanes.Load(ref *_xProj, gate + 3 * H) + TLanes.Load(ref *_hProj, gate + 3 * H));
            var previous = TLanes.Load(ref *_c, unit);
            var next = f * previous + i * g;
            var tanhC = Tanh(next);
            next.Store(ref *_c, unit);
            (o * tanhC).Store(ref *_h, unit);
            if (_cache != null)
            {
                i.Store(ref *_cache, cached);
                f.Store(ref *_cache, cached + H);
                g.Store(ref *_cache, cached + 2 * H);
                o.Store(ref *_cache, cached + 3 * H);
                tanhC.Store(ref *_cache, cached + 4 * H);
                previous.Store(ref *_cache, cached + 5 * H);
            }
        }
    }

    /// <summary>The backward equations for lanes of a row: the cache [rows, 6H], dh and dc [rows, H] (updated in place), dGx [rows, 4H].</summary>
    private readonly unsafe struct BackwardLanes(int hiddenSize, float* cache, float* dh, float* dc, float* dGx) : ILaneKernel
    {
        private readonly nuint _H = (nuint)hiddenSize;
        private readonly float* _cache = cache;
        private readonly float* _dh = dh;
        private readonly float* _dc = dc;
        private readonly float* _dGx = dGx;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke<TLanes>(nuint row, nuint j) where TLanes : struct, ILanes<TLanes>
        {
            nuint H = _H, cached = row * 6 * H + j, unit = row * H + j, gate = row * 4 * H + j;
            var one = TLanes.One;
            var i = TLanes.Load(ref *_cache, cached);
            var f = TLanes.Load(ref *_cache, cached + H);
            var g = TLanes.Load(ref *_cache, cached + 2 * H);
            var o = TLanes.Load(ref *_cache, cached + 3 * H);
            var tanhC = TLanes.Load(ref *_cache, cached + 4 * H);
            var previous = TLanes.Load(ref *_cache, cached + 5 * H);
            var upstream = TLanes.Load(ref *_dh, unit);
            var cellGradient = TLanes.Load(ref *_dc, unit) + upstream * o * (one - tanhC * tanhC);
            (cellGradient * g * i * (one - i)).Store(ref *_dGx, gate);
            (cellGradient * previous * f * (one - f)).Store(ref *_dGx, gate + H);
            (cellGradient * i * (one - g * g)).Store(ref *_dGx, gate + 2 * H);
            (upstream * tanhC * o * (one - o)).Store(ref *_dGx, gate + 3 * H);
            (cellGradient * f).Store(ref *_dc, unit);
            TLanes.Zero.Store(ref *_dh, unit);
        }
    }
}
