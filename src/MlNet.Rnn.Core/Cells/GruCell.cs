using System.Runtime.CompilerServices;
using MlNet.Rnn.Core.Kernels;
using static MlNet.Rnn.Core.Kernels.GateActivations;

namespace MlNet.Rnn.Core.Cells;

/// <summary>
/// GRU cell, as <c>torch.nn.GRU</c>, gate rows ordered r, z, n, with the reset applied after the recurrent product:
/// <c>r = σ(W_ir x + b_ir + W_hr h' + b_hr)</c>, <c>z = σ(W_iz x + b_iz + W_hz h' + b_hz)</c>,
/// <c>n = tanh(W_in x + b_in + r⊙(W_hn h' + b_hn))</c>, <c>h = (1−z)⊙n + z⊙h'</c>.
/// Shapes: W_ih [3H, I], W_hh [3H, H], biases [3H]; G = 3. Cache per row: r, z, n, W_hn h' + b_hn (4H).
/// </summary>
/// <remarks>Forward and backward are each one fused pass: the equations are written once, in <c>ForwardLanes</c> and
/// <c>BackwardLanes</c>, and <see cref="LaneLoop"/> runs them at every vector width and the scalar tail.</remarks>
public readonly unsafe struct GruCell : IRecurrentCell
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
        fixed (float* px = xProj, ph = hProj, pBias = recurrentBias, pState = h, pCache = cache)
        {
            var kernel = new ForwardLanes(H, px, ph, pBias + 2 * H, pState, pCache);
            LaneLoop.Run(ref kernel, rows, H);
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
        fixed (float* pCache = cache, pPrevious = hPrev, pdh = dh, pdGx = dGx, pdGh = dGh)
        {
            var kernel = new BackwardLanes(H, pCache, pPrevious, pdh, pdGx, pdGh);
            LaneLoop.Run(ref kernel, rows, H);
        }
    }

    /// <summary>
    /// The forward equations for lanes of a row: xProj and hProj [rows, 3H], <c>b_hn</c> [H], h [rows, H] (h' on entry),
    /// the cache [rows, 4H] or null.
    /// </summary>
    private readonly unsafe struct ForwardLanes(int hiddenSize, float* xProj, float* hProj, float* bhn, float* h, float* cache) : ILaneKernel
    {
        private readonly nuint _H = (nuint)hiddenSize;
        private readonly float* _xProj = xProj;
        private readonly float* _hProj = hProj;
        private readonly float* _bhn = bhn;
        private readonly float* _h = h;
        private readonly float* _cache = cache;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke<TLanes>(nuint row, nuint j) where TLanes : struct, ILanes<TLanes>
        {
            nuint H = _H, gate = row * 3 * H + j, unit = row * H + j, cached = row * 4 * H + j;
            var r = Sigmoid(TLanes.Load(ref *_xProj, gate) + TLanes.Load(ref *_hProj, gate));
            var z = Sigmoid(TLanes.Load(ref *_xProj, gate + H) + TLanes.Load(ref *_hProj, gate + H));
            var recurrentN = TLanes.Load(ref *_hProj, gate + 2 * H) + TLanes.Load(ref *_bhn, j);
            var n = Tanh(TLanes.Load(ref *_xProj, gate + 2 * H) + r * recurrentN);
            var previous = TLanes.Load(ref *_h, unit);
            (n + z * (previous - n)).Store(ref *_h, unit);
            if (_cache != null)
            {
                r.Store(ref *_cache, cached);
                z.Store(ref *_cache, cached + H);
                n.Store(ref *_cache, cached + 2 * H);
                recurrentN.Store(ref *_cache, cached + 3 * H);
            }
        }
    }

    /// <summary>
    /// The backward equations for lanes of a row: the cache [rows, 4H], h' [rows, H], dh [rows, H] (updated in place),
    /// dGx and dGh [rows, 3H].
    /// </summary>
    private readonly unsafe struct BackwardLanes(int hiddenSize, float* cache, float* hPrev, float* dh, float* dGx, float* dGh) : ILaneKernel
    {
        private readonly nuint _H = (nuint)hiddenSize;
        private readonly float* _cache = cache;
        private readonly float* _hPrev = hPrev;
        private readonly float* _dh = dh;
        private readonly float* _dGx = dGx;
        private readonly float* _dGh = dGh;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke<TLanes>(nuint row, nuint j) where TLanes : struct, ILanes<TLanes>
        {
            nuint H = _H, cached = row * 4 * H + j, unit = row * H + j, gate = row * 3 * H + j;
            var one = TLanes.One;
            var r = TLanes.Load(ref *_cache, cached);
            var z = TLanes.Load(ref *_cache, cached + H);
            var n = TLanes.Load(ref *_cache, cached + 2 * H);
            var recurrentN = TLanes.Load(ref *_cache, cached + 3 * H);
            var upstream = TLanes.Load(ref *_dh, unit);
            var dn = upstream * (one - z) * (one - n * n);
            var dz = upstream * (TLanes.Load(ref *_hPrev, unit) - n) * z * (one - z);
            var dr = dn * recurrentN * r * (one - r);
            dr.Store(ref *_dGx, gate);
            dz.Store(ref *_dGx, gate + H);
            dn.Store(ref *_dGx, gate + 2 * H);
            dr.Store(ref *_dGh, gate);
            dz.Store(ref *_dGh, gate + H);
            (dn * r).Store(ref *_dGh, gate + 2 * H);
            (upstream * z).Store(ref *_dh, unit);
        }
    }
}
