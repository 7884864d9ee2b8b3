using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using MlNet.Rnn.Core.Kernels;
using static MlNet.Rnn.Core.Kernels.GateActivations;

namespace MlNet.Rnn.Core.Cells;

/// <summary>
/// Elman RNN cell, as <c>torch.nn.RNN</c>: <c>h = g1(W_ih x + b_ih + W_hh h' + b_hh)</c>, g1 ∈ {tanh, relu, sigmoid}.
/// Shapes: W_ih [H, I], W_hh [H, H], b_ih and b_hh [H]; G = 1. Cache per row: h [H].
/// </summary>
/// <remarks>Forward and backward are each one fused pass over all rows: the equation is written once, in
/// <c>ForwardLanes</c> and <c>BackwardLanes</c> with g1 chosen by type, and <see cref="LaneLoop"/> runs it at every
/// vector width and the scalar tail.</remarks>
/// <param name="activation">g1.</param>
public readonly unsafe struct RnnCell(RnnActivation activation) : IRecurrentCell
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
        if (xProj.Length < count || hProj.Length < count || h.Length < count || (!cache.IsEmpty && cache.Length < count))
            throw new ArgumentException("A buffer is shorter than rows × H.");
        switch (Activation)
        {
            case RnnActivation.Tanh: Forward<TanhFunction>(count, xProj, hProj, h, cache); break;
            case RnnActivation.Relu: Forward<ReluFunction>(count, xProj, hProj, h, cache); break;
            default: Forward<SigmoidFunction>(count, xProj, hProj, h, cache); break;
        }
    }

    /// <inheritdoc />
    /// <remarks><c>dGx = dh⊙g1'</c> with g1' from h: tanh <c>1 − h²</c>, relu <c>[h &gt; 0]</c>, sigmoid <c>h(1 − h)</c>.</remarks>
    public void Backward(int rows, int hiddenSize, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev,
        Span<float> dh, Span<float> dc, Span<float> dGx, Span<float> dGh)
    {
        int count = rows * hiddenSize;
        if (cache.Length < count || dh.Length < count || dGx.Length < count)
            throw new ArgumentException("A buffer is shorter than rows × H.");
        switch (Activation)
        {
            case RnnActivation.Tanh: Backward<TanhFunction>(count, cache, dh, dGx); break;
            case RnnActivation.Relu: Backward<ReluFunction>(count, cache, dh, dGx); break;
            default: Backward<SigmoidFunction>(count, cache, dh, dGx); break;
        }
    }

    private static void Forward<TFunction>(int count, ReadOnlySpan<float> xProj, ReadOnlySpan<float> hProj, Span<float> h, Span<float> cache)
        where TFunction : IActivationFunction
    {
        fixed (float* px = xProj, ph = hProj, pState = h, pCache = cache)
        {
            var kernel = new ForwardLanes<TFunction>(px, ph, pState, pCache);
            LaneLoop.Run(ref kernel, 1, count);
        }
    }

    private static void Backward<TFunction>(int count, ReadOnlySpan<float> cache, Span<float> dh, Span<float> dGx)
        where TFunction : IActivationFunction
    {
        fixed (float* pCache = cache, pdh = dh, pdGx = dGx)
        {
            var kernel = new BackwardLanes<TFunction>(pCache, pdh, pdGx);
            LaneLoop.Run(ref kernel, 1, count);
        }
    }

    /// <summary>g1 and its backward, written in terms of its output h.</summary>
    private interface IActivationFunction
    {
        /// <summary><c>h = g1(x)</c>.</summary>
        static abstract TLanes Apply<TLanes>(TLanes x) where TLanes : struct, ILanes<TLanes>;

        /// <summary><c>dL/dx = dL/dh · g1'(x)</c>, with g1' computed from <c>h = g1(x)</c>.</summary>
        static abstract TLanes Backward<TLanes>(TLanes h, TLanes dh) where TLanes : struct, ILanes<TLanes>;
    }

    private readonly struct TanhFunction : IActivationFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TLanes Apply<TLanes>(TLanes x) where TLanes : struct, ILanes<TLanes> => Tanh(x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TLanes Backward<TLanes>(TLanes h, TLanes dh) where TLanes : struct, ILanes<TLanes> => dh * (TLanes.One - h * h);
    }

    private readonly struct ReluFunction : IActivationFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TLanes Apply<TLanes>(TLanes x) where TLanes : struct, ILanes<TLanes> => TLanes.Max(TLanes.Zero, x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TLanes Backward<TLanes>(TLanes h, TLanes dh) where TLanes : struct, ILanes<TLanes> => TLanes.WherePositive(h, dh);
    }

    private readonly struct SigmoidFunction : IActivationFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TLanes Apply<TLanes>(TLanes x) where TLanes : struct, ILanes<TLanes> => Sigmoid(x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TLanes Backward<TLanes>(TLanes h, TLanes dh) where TLanes : struct, ILanes<TLanes> => dh * h * (TLanes.One - h);
    }

    /// <summary>The forward equation over all rows' units as one row of rows·H: xProj, hProj and h [rows·H], the cache [rows·H] or null.</summary>
    private readonly unsafe struct ForwardLanes<TFunction>(float* xProj, float* hProj, float* h, float* cache) : ILaneKernel
        where TFunction : IActivationFunction
    {
        private readonly float* _xProj = xProj;
        private readonly float* _hProj = hProj;
        private readonly float* _h = h;
        private readonly float* _cache = cache;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke<TLanes>(nuint row, nuint j) where TLanes : struct, ILanes<TLanes>
        {
            var output = TFunction.Apply(TLanes.Load(ref *_xProj, j) + TLanes.Load(ref *_hProj, j));
            output.Store(ref *_h, j);
            if (_cache != null) output.Store(ref *_cache, j);
        }
    }

    /// <summary>The backward equation over all rows' units as one row of rows·H: the cache (h), dh (zeroed: no direct path to h') and dGx [rows·H].</summary>
    private readonly unsafe struct BackwardLanes<TFunction>(float* cache, float* dh, float* dGx) : ILaneKernel
        where TFunction : IActivationFunction
    {
        private readonly float* _cache = cache;
        private readonly float* _dh = dh;
        private readonly float* _dGx = dGx;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke<TLanes>(nuint row, nuint j) where TLanes : struct, ILanes<TLanes>
        {
            TFunction.Backward(TLanes.Load(ref *_cache, j), TLanes.Load(ref *_dh, j)).Store(ref *_dGx, j);
            TLanes.Zero.Store(ref *_dh, j);
        }
    }
}
