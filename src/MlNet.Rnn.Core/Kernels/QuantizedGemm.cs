using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MlNet.Rnn.Core.Kernels;

/// <summary>
/// Dynamically quantized int8 matrix product for inference: <c>C[m×n] = (accumulate ? C : 0) + A[m×k]·Wᵀ</c> with W
/// [n×k] quantized once per output row (<see cref="QuantizedMatrix"/>) and A quantized per row as it arrives
/// (<see cref="QuantizeRows"/>); the integer dot products are exact in 32 bits and dequantized into float.
/// </summary>
/// <remarks>
/// Symmetric quantization, as PyTorch's dynamic quantization of LSTM weights and ONNX Runtime's per-channel int8:
/// a row <c>x</c> is <c>s·q</c> with <c>s = max|x| / 127</c> and <c>q = round(x / s)</c> in [−127, 127], so each value is off
/// by at most <c>s / 2</c>. Entry (i, j) of C is <c>s_A[i]·s_W[j]·Σ q_A[i, p]·q_W[j, p]</c>.
/// <para>The products use the widest integer multiply-add .NET exposes on the CPU: <c>vpmaddwd</c> (16-bit pairs summed into
/// 32 bits; AVX-512BW on 512 bits, else AVX2 on 256), 32 multiply-adds per 512-bit instruction against 16 for a float FMA.
/// The 8-bit values are stored widened to 16 bits, which keeps the products exact (the 8-bit <c>vpmaddubsw</c> saturates its
/// 16-bit sums). The VNNI instructions (<c>vpdpbusd</c>, 64 per instruction) are exposed by .NET 10 only as AVX-VNNI
/// (VEX) and AVX10.2; AMD Zen 4, with AVX512-VNNI only, cannot reach them from .NET, so they are not used.</para>
/// <para>Layout of the quantized operands: values in pairs along k (<c>k</c> rounded up to even, the pad zero), so one 32-bit
/// lane holds <c>(q[2p], q[2p+1])</c>. W is stored in panels of 32 output rows: pair p of panel t is 64 int16 at
/// <c>(t·pairs + p)·64</c>, output row <c>32t + c</c> at <c>2c</c> and <c>2c + 1</c> (rows past n are zero). A tile of up to
/// 6 rows of A and one panel is computed with 12 (512-bit) accumulators, the A pair broadcast to every lane, and dequantized
/// straight into C.</para>
/// </remarks>
public static unsafe class QuantizedGemm
{
    /// <summary>Output rows of W per panel.</summary>
    internal const int Nr = 32;

    /// <summary>Rows of A per 512-bit tile: 6×32 uses 12 accumulators.</summary>
    private const int Mr = 6;

    /// <summary>Largest quantized magnitude: symmetric int8.</summary>
    internal const float Levels = 127f;

    /// <summary>Forces a kernel (tests cover every path with it); <see cref="QuantizedKernel.Auto"/> picks the widest the CPU runs.</summary>
    internal static QuantizedKernel ForcedKernel { get; set; }

    private static readonly QuantizedKernel s_bestKernel =
        Avx512BW.IsSupported ? QuantizedKernel.Vector512 : Avx2.IsSupported ? QuantizedKernel.Vector256 : QuantizedKernel.Scalar;

    internal static QuantizedKernel ActiveKernel => ForcedKernel == QuantizedKernel.Auto ? s_bestKernel : ForcedKernel;

    /// <summary>int16 per quantized row of depth <paramref name="k"/>: k rounded up to even.</summary>
    public static int RowLength(int k) => k + (k & 1);

    /// <summary>
    /// Quantizes rows <c>[m×k]</c> of <paramref name="a"/> (leading dimension <paramref name="lda"/>): row i becomes
    /// <paramref name="scales"/>[i]·q[i, ·] with q in [−127, 127], written at <c>i·<see cref="RowLength"/>(k)</c> of
    /// <paramref name="quantized"/> (the pad of an odd k zero). An all-zero row gets scale 0. NaN or infinity in a row makes
    /// its scale and so its products NaN, as the float product would.
    /// </summary>
    public static void QuantizeRows(ReadOnlySpan<float> a, int m, int k, int lda, Span<short> quantized, Span<float> scales)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        int ldq = RowLength(k);
        if (m == 0) return;
        if (lda < k) throw new ArgumentOutOfRangeException(nameof(lda), lda, $"lda must be at least k = {k}.");
        if (a.Length < (long)(m - 1) * lda + k) throw new ArgumentException($"a holds {a.Length} floats; [{m}×{k}] with lda {lda} needs {(long)(m - 1) * lda + k}.", nameof(a));
        if (quantized.Length < (long)m * ldq) throw new ArgumentException($"quantized holds {quantized.Length} values; {m} rows of {ldq} are needed.", nameof(quantized));
        if (scales.Length < m) throw new ArgumentException($"scales holds {scales.Length} values; {m} are needed.", nameof(scales));
        for (int i = 0; i < m; i++)
        {
            ReadOnlySpan<float> row = a.Slice(i * lda, k);
            Span<short> q = quantized.Slice(i * ldq, ldq);
            float max = k == 0 ? 0f : Math.Abs(TensorPrimitives.MaxMagnitude(row)); // NaN when the row holds one
            float scale = max / Levels;
            scales[i] = scale;
            if (max == 0f || !float.IsFinite(max))
            {
                q.Clear();
                continue;
            }
            Quantize(row, Levels / max, q);
            if ((k & 1) != 0) q[k] = 0;
        }
    }

    /// <summary>
    /// <c>C[m×n] = (accumulate ? C : 0) + dequantize(A·Wᵀ)</c>: A is <paramref name="m"/> rows quantized by
    /// <see cref="QuantizeRows"/> (row length <see cref="RowLength"/>(<see cref="QuantizedMatrix.Depth"/>)), W is
    /// <paramref name="weights"/>, C is stored [m×n] with leading dimension <paramref name="ldc"/>, n = <see cref="QuantizedMatrix.Rows"/>.
    /// </summary>
    public static void Multiply(int m, ReadOnlySpan<short> a, ReadOnlySpan<float> aScales, QuantizedMatrix weights, Span<float> c, int ldc, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        int n = weights.Rows, ldq = RowLength(weights.Depth);
        if (m == 0 || n == 0) return;
        if (ldc < n) throw new ArgumentOutOfRangeException(nameof(ldc), ldc, $"ldc must be at least n = {n}.");
        if (a.Length < (long)m * ldq) throw new ArgumentException($"a holds {a.Length} values; {m} rows of {ldq} are needed.", nameof(a));
        if (aScales.Length < m) throw new ArgumentException($"aScales holds {aScales.Length} values; {m} are needed.", nameof(aScales));
        if (c.Length < (long)(m - 1) * ldc + n) throw new ArgumentException($"c holds {c.Length} floats; [{m}×{n}] with ldc {ldc} needs {(long)(m - 1) * ldc + n}.", nameof(c));
        fixed (short* pa = a)
        fixed (float* ps = aScales)
        fixed (float* pc = c)
        {
            MultiplyCore(ActiveKernel, m, (int*)pa, ldq / 2, ps, weights, 0, weights.PanelCount, pc, ldc, accumulate);
        }
    }

    /// <summary>
    /// As <see cref="Multiply"/>, splitting the rows of C across up to <paramref name="maxDegreeOfParallelism"/> threads when
    /// each gets at least 2²⁴ multiply-adds (or the panels of W, when there are too few rows to split).
    /// </summary>
    public static void MultiplyParallel(int m, ReadOnlySpan<short> a, ReadOnlySpan<float> aScales, QuantizedMatrix weights, Span<float> c, int ldc,
        bool accumulate, int maxDegreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDegreeOfParallelism);
        long work = (long)m * weights.Rows * weights.Depth;
        int threads = (int)Math.Min(maxDegreeOfParallelism, Math.Max(1, work >> 24));
        if (threads == 1)
        {
            Multiply(m, a, aScales, weights, c, ldc, accumulate);
            return;
        }
        int n = weights.Rows, ldq = RowLength(weights.Depth);
        if (ldc < n) throw new ArgumentOutOfRangeException(nameof(ldc), ldc, $"ldc must be at least n = {n}.");
        if (a.Length < (long)m * ldq || aScales.Length < m || c.Length < (long)(m - 1) * ldc + n)
            throw new ArgumentException($"A [{m} rows of {ldq}], its {m} scales and C [{m}×{n}] with ldc {ldc} do not fit the spans given.");
        var kernel = ActiveKernel;
        bool splitRows = m >= threads * 2 * Mr;
        int panels = weights.PanelCount;
        fixed (short* pa = a)
        fixed (float* ps = aScales)
        fixed (float* pc = c)
        {
            int* sa = (int*)pa;
            float* ss = ps, sc = pc;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                if (splitRows)
                {
                    int i0 = Chunk(m, threads, t, Mr), i1 = Chunk(m, threads, t + 1, Mr);
                    if (i1 > i0)
                        MultiplyCore(kernel, i1 - i0, sa + (long)i0 * (ldq / 2), ldq / 2, ss + i0, weights, 0, panels, sc + (long)i0 * ldc, ldc, accumulate);
                }
                else
                {
                    int t0 = Chunk(panels, threads, t, 1), t1 = Chunk(panels, threads, t + 1, 1);
                    if (t1 > t0) MultiplyCore(kernel, m, sa, ldq / 2, ss, weights, t0, t1, sc, ldc, accumulate);
                }
            });
        }
    }

    private static int Chunk(int count, int chunks, int t, int unit)
    {
        if (t >= chunks) return count;
        long units = (count + unit - 1) / unit;
        return (int)Math.Min(count, units * t / chunks * unit);
    }

    /// <summary>
    /// Panels [t0, t1) of W against all m rows of A (<paramref name="pairs"/> 32-bit pairs per row). A whole panel's tile is
    /// dequantized straight into C (added to it when accumulating); the last, partial panel goes through a tile buffer.
    /// </summary>
    private static void MultiplyCore(QuantizedKernel kernel, int m, int* a, int pairs, float* aScales, QuantizedMatrix weights, int t0, int t1,
        float* c, int ldc, bool accumulate)
    {
        int n = weights.Rows, weightPairs = weights.Pairs;
        float* tile = stackalloc float[Mr * Nr];
        for (int t = t0; t < t1; t++)
        {
            short* panel = weights.Data + (long)t * weightPairs * 64;
            float* wScales = weights.ScaleData + t * Nr;
            int j0 = t * Nr, columns = Math.Min(Nr, n - j0);
            bool whole = columns == Nr;
            for (int i = 0; i < m; i += Mr)
            {
                int rows = Math.Min(Mr, m - i);
                int* ai = a + (long)i * pairs;
                float* destination = whole ? c + (long)i * ldc + j0 : tile;
                int ld = whole ? ldc : Nr;
                bool add = whole && accumulate;
                switch (kernel)
                {
                    case QuantizedKernel.Vector512 when rows <= RowByRowLimit:
                        for (int r = 0; r < rows; r++) Tile512x1(ai + (long)r * pairs, panel, weightPairs, aScales[i + r], wScales, destination + r * ld, add);
                        break;
                    case QuantizedKernel.Vector512:
                        Tile512(ai, pairs, rows, panel, weightPairs, aScales + i, wScales, destination, ld, add);
                        break;
                    case QuantizedKernel.Vector256:
                        for (int r = 0; r < rows; r++) Tile256x1(ai + (long)r * pairs, panel, weightPairs, aScales[i + r], wScales, destination + r * ld, add);
                        break;
                    default:
                        for (int r = 0; r < rows; r++) TileScalar(ai + (long)r * pairs, panel, weightPairs, aScales[i + r], wScales, destination + r * ld, add);
                        break;
                }
                if (whole) continue;
                for (int r = 0; r < rows; r++)
                {
                    float* source = tile + r * Nr, target = c + (long)(i + r) * ldc + j0;
                    if (accumulate) for (int j = 0; j < columns; j++) target[j] += source[j];
                    else new ReadOnlySpan<float>(source, columns).CopyTo(new Span<float>(target, columns));
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Madd512(Vector512<int> a, Vector512<short> w) => Avx512BW.MultiplyAddAdjacent(a.AsInt16(), w);

    /// <summary>
    /// Up to 6 rows × one panel of 32 outputs, dequantized into <paramref name="c"/> (leading dimension <paramref name="ldc"/>,
    /// added to it with <paramref name="accumulate"/>). Fewer rows repeat the last one, so the tile always runs all 12
    /// independent accumulators; only <paramref name="rows"/> rows are stored.
    /// </summary>
    private static void Tile512(int* a, int pairs, int rows, short* panel, int weightPairs, float* aScales, float* wScales, float* c, int ldc, bool accumulate)
    {
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        int last = rows - 1;
        int* a0 = a, a1 = a + Math.Min(1, last) * pairs, a2 = a + Math.Min(2, last) * pairs, a3 = a + Math.Min(3, last) * pairs,
            a4 = a + Math.Min(4, last) * pairs, a5 = a + Math.Min(5, last) * pairs;
        for (int p = 0; p < weightPairs; p++)
        {
            var w0 = Vector512.Load(panel + p * 64);
            var w1 = Vector512.Load(panel + p * 64 + 32);
            var x = Vector512.Create(a0[p]);
            c00 += Madd512(x, w0); c01 += Madd512(x, w1);
            x = Vector512.Create(a1[p]);
            c10 += Madd512(x, w0); c11 += Madd512(x, w1);
            x = Vector512.Create(a2[p]);
            c20 += Madd512(x, w0); c21 += Madd512(x, w1);
            x = Vector512.Create(a3[p]);
            c30 += Madd512(x, w0); c31 += Madd512(x, w1);
            x = Vector512.Create(a4[p]);
            c40 += Madd512(x, w0); c41 += Madd512(x, w1);
            x = Vector512.Create(a5[p]);
            c50 += Madd512(x, w0); c51 += Madd512(x, w1);
        }
        var s0 = Vector512.Load(wScales);
        var s1 = Vector512.Load(wScales + 16);
        Store512(c00, c01, aScales[0], s0, s1, c, accumulate);
        if (rows > 1) Store512(c10, c11, aScales[1], s0, s1, c + ldc, accumulate);
        if (rows > 2) Store512(c20, c21, aScales[2], s0, s1, c + 2 * ldc, accumulate);
        if (rows > 3) Store512(c30, c31, aScales[3], s0, s1, c + 3 * ldc, accumulate);
        if (rows > 4) Store512(c40, c41, aScales[4], s0, s1, c + 4 * ldc, accumulate);
        if (rows > 5) Store512(c50, c51, aScales[5], s0, s1, c + 5 * ldc, accumulate);
    }

    /// <summary>
    /// Up to this many rows, a tile runs one row at a time (<see cref="Tile512x1"/>): 2 multiply-adds per row and pair of W,
    /// against the 12 of <see cref="Tile512"/>, which repeats its last row to fill 6. On one sequence (a prediction engine's
    /// row) the 6-row tile did 6 times the work, which made int8 slower than float32 there.
    /// </summary>
    private const int RowByRowLimit = 4;

    /// <summary>One row × one panel of 32 outputs; two sets of accumulators, even and odd pairs, summed at the end (exact).</summary>
    private static void Tile512x1(int* a, short* panel, int weightPairs, float aScale, float* wScales, float* c, bool accumulate)
    {
        Vector512<int> c0 = default, c1 = default, d0 = default, d1 = default;
        int p = 0;
        for (; p + 1 < weightPairs; p += 2)
        {
            short* w = panel + p * 64;
            var x = Vector512.Create(a[p]);
            c0 += Madd512(x, Vector512.Load(w));
            c1 += Madd512(x, Vector512.Load(w + 32));
            x = Vector512.Create(a[p + 1]);
            d0 += Madd512(x, Vector512.Load(w + 64));
            d1 += Madd512(x, Vector512.Load(w + 96));
        }
        if (p < weightPairs)
        {
            var x = Vector512.Create(a[p]);
            c0 += Madd512(x, Vector512.Load(panel + p * 64));
            c1 += Madd512(x, Vector512.Load(panel + p * 64 + 32));
        }
        Store512(c0 + d0, c1 + d1, aScale, Vector512.Load(wScales), Vector512.Load(wScales + 16), c, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(Vector512<int> c0, Vector512<int> c1, float aScale, Vector512<float> s0, Vector512<float> s1, float* c, bool accumulate)
    {
        var scale = Vector512.Create(aScale);
        var v0 = Vector512.ConvertToSingle(c0) * (s0 * scale);
        var v1 = Vector512.ConvertToSingle(c1) * (s1 * scale);
        if (accumulate)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + 16);
        }
        v0.Store(c);
        v1.Store(c + 16);
    }

    private static void Tile256x1(int* a, short* panel, int weightPairs, float aScale, float* wScales, float* c, bool accumulate)
    {
        Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int p = 0; p < weightPairs; p++)
        {
            var x = Vector256.Create(a[p]).AsInt16();
            short* w = panel + p * 64;
            c0 += Avx2.MultiplyAddAdjacent(x, Vector256.Load(w));
            c1 += Avx2.MultiplyAddAdjacent(x, Vector256.Load(w + 16));
            c2 += Avx2.MultiplyAddAdjacent(x, Vector256.Load(w + 32));
            c3 += Avx2.MultiplyAddAdjacent(x, Vector256.Load(w + 48));
        }
        var scale = Vector256.Create(aScale);
        Store256(Vector256.ConvertToSingle(c0) * (Vector256.Load(wScales) * scale), c, accumulate);
        Store256(Vector256.ConvertToSingle(c1) * (Vector256.Load(wScales + 8) * scale), c + 8, accumulate);
        Store256(Vector256.ConvertToSingle(c2) * (Vector256.Load(wScales + 16) * scale), c + 16, accumulate);
        Store256(Vector256.ConvertToSingle(c3) * (Vector256.Load(wScales + 24) * scale), c + 24, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(Vector256<float> value, float* c, bool accumulate) => (accumulate ? value + Vector256.Load(c) : value).Store(c);

    private static void TileScalar(int* a, short* panel, int weightPairs, float aScale, float* wScales, float* c, bool accumulate)
    {
        int* sums = stackalloc int[Nr];
        new Span<int>(sums, Nr).Clear();
        for (int p = 0; p < weightPairs; p++)
        {
            int pair = a[p];
            int x0 = (short)pair, x1 = pair >> 16;
            short* w = panel + p * 64;
            for (int j = 0; j < Nr; j++) sums[j] += x0 * w[2 * j] + x1 * w[2 * j + 1];
        }
        for (int j = 0; j < Nr; j++)
        {
            float value = sums[j] * (wScales[j] * aScale);
            c[j] = accumulate ? c[j] + value : value;
        }
    }

    /// <summary>q = round(x·factor), ties to even; |x·factor| ≤ 127 by the choice of factor.</summary>
    private static void Quantize(ReadOnlySpan<float> row, float factor, Span<short> q)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && row.Length >= 16)
        {
            var f = Vector256.Create(factor);
            ref float source = ref MemoryMarshal.GetReference(row);
            ref short destination = ref MemoryMarshal.GetReference(q);
            for (; i <= row.Length - 16; i += 16)
            {
                var lo = Vector256.ConvertToInt32(Vector256.Round(Vector256.LoadUnsafe(ref source, (nuint)i) * f));
                var hi = Vector256.ConvertToInt32(Vector256.Round(Vector256.LoadUnsafe(ref source, (nuint)i + 8) * f));
                Vector256.Narrow(lo, hi).StoreUnsafe(ref destination, (nuint)i);
            }
        }
        for (; i < row.Length; i++) q[i] = (short)MathF.Round(row[i] * factor);
    }
}

/// <summary>
/// A weight matrix W [n×k] quantized to int8 per output row for <see cref="QuantizedGemm"/>: row j is
/// <see cref="Scales"/>[j]·q[j, ·], q in [−127, 127], stored widened to int16 in the kernel's panel layout (see
/// <see cref="QuantizedGemm"/>), pinned and 64-byte aligned. Made once per set of weights; read by any number of threads.
/// </summary>
public sealed unsafe class QuantizedMatrix
{
    private short[] _storage = [];
    private float[] _scales = [];
    private short* _data;
    private float* _scaleData;

    /// <summary>n: output rows of W.</summary>
    public int Rows { get; private set; }

    /// <summary>k: columns of W, the depth of the product.</summary>
    public int Depth { get; private set; }

    /// <summary>Pairs along k: ⌈k / 2⌉.</summary>
    internal int Pairs => (Depth + 1) / 2;

    /// <summary>Panels of 32 output rows: ⌈n / 32⌉.</summary>
    internal int PanelCount => (Rows + QuantizedGemm.Nr - 1) / QuantizedGemm.Nr;

    internal short* Data => _data;

    internal float* ScaleData => _scaleData;

    /// <summary>Each output row's scale <c>max|W[j, ·]| / 127</c> (0 for an all-zero row).</summary>
    public ReadOnlySpan<float> Scales => new(_scaleData, Rows);

    /// <summary>Quantizes W, stored row-major [n×k] (leading dimension k); reuses this instance's storage when it is large enough.</summary>
    public void Quantize(ReadOnlySpan<float> w, int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (w.Length < (long)n * k) throw new ArgumentException($"w holds {w.Length} floats; [{n}×{k}] needs {(long)n * k}.", nameof(w));
        int pairs = (k + 1) / 2, panels = (n + QuantizedGemm.Nr - 1) / QuantizedGemm.Nr, ldq = QuantizedGemm.RowLength(k);
        long values = (long)panels * pairs * 64;
        if (values > Array.MaxLength - 32) throw new ArgumentException($"W [{n}×{k}] is too large to quantize ({values} values).", nameof(w));
        if (_storage.Length < values + 32)
        {
            _storage = GC.AllocateArray<short>((int)values + 32, pinned: true);
            _data = (short*)(((nuint)Unsafe.AsPointer(ref _storage[0]) + 63) & ~(nuint)63);
        }
        if (_scales.Length < panels * QuantizedGemm.Nr + 16)
        {
            _scales = GC.AllocateArray<float>(panels * QuantizedGemm.Nr + 16, pinned: true);
            _scaleData = (float*)(((nuint)Unsafe.AsPointer(ref _scales[0]) + 63) & ~(nuint)63);
        }
        Rows = n;
        Depth = k;
        new Span<short>(_data, (int)values).Clear();
        new Span<float>(_scaleData, panels * QuantizedGemm.Nr).Clear();
        Span<short> row = ldq <= 1024 ? stackalloc short[ldq] : new short[ldq];
        Span<float> scale = stackalloc float[1];
        for (int j = 0; j < n; j++)
        {
            QuantizedGemm.QuantizeRows(w.Slice(j * k, k), 1, k, k, row, scale);
            _scaleData[j] = scale[0];
            short* panel = _data + (long)(j / QuantizedGemm.Nr) * pairs * 64 + 2 * (j % QuantizedGemm.Nr);
            for (int p = 0; p < pairs; p++)
            {
                panel[p * 64] = row[2 * p];
                panel[p * 64 + 1] = row[2 * p + 1];
            }
        }
    }
}

/// <summary>Which <see cref="QuantizedGemm"/> kernel runs.</summary>
internal enum QuantizedKernel
{
    /// <summary>The widest the CPU runs.</summary>
    Auto,

    /// <summary>AVX-512BW <c>vpmaddwd</c>, 6×32 tiles.</summary>
    Vector512,

    /// <summary>AVX2 <c>vpmaddwd</c>, one row at a time.</summary>
    Vector256,

    /// <summary>Plain integer arithmetic (any CPU).</summary>
    Scalar,
}
