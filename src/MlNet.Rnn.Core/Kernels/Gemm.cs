using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MlNet.Rnn.Core.Kernels;

/// <summary>
/// Single-precision matrix product on row-major spans:
/// <c>C[m×n] = (accumulate ? C : 0) + op(A)[m×k] · op(B)[k×n]</c>, where op is the identity or the transpose.
/// </summary>
/// <remarks>
/// A row-major matrix with leading dimension <c>ld</c> stores element (r, c) at <c>r·ld + c</c>.
/// With <c>transposeA</c>, A is stored as [k×m]; with <c>transposeB</c>, B is stored as [n×k].
/// <para>
/// The product is blocked as in GotoBLAS/BLIS: op(B) is packed into column panels of <see cref="Nr"/> = 32 floats
/// (k-blocks of <see cref="Kc"/> rows), op(A) into row panels of MR rows, and a register-blocked micro-kernel
/// computes an MR×32 tile of C from one A panel and one B panel with independent FMA accumulators
/// (Vector512 where accelerated, else Vector256, else Vector128). Single-threaded calls allocate nothing
/// after the first call on a thread: the packing buffers are per thread and reused.
/// </para>
/// </remarks>
public static class Gemm
{
    /// <summary>Columns of a packed B panel: two Vector512, four Vector256 or eight Vector128 per row.</summary>
    internal const int Nr = 32;

    /// <summary>Rows of op(B) per k-block: one kc×32 B panel (32 KiB) stays in L1 while A panels stream from L2.</summary>
    internal const int Kc = 256;

    /// <summary>Rows of op(A) packed at a time: the mc×kc A block (192 KiB) stays in L2.</summary>
    private const int Mc = 192;

    /// <summary>Columns of op(B) packed at a time when B is not pre-packed: the kc×nc block (2 MiB) stays in L2/L3.</summary>
    private const int Nc = 2048;

    /// <summary>Rows of a Vector512 tile: 8×32 uses 16 accumulators (tried 12×32: no faster, worse for batch 64).</summary>
    private const int Mr512 = 8;

    /// <summary>Rows of a Vector256 tile: 6×16 uses 12 of the 16 ymm registers for accumulators.</summary>
    private const int Mr256 = 6;

    /// <summary>Rows of a Vector128 tile: 4×8 uses 8 accumulators.</summary>
    private const int Mr128 = 4;

    /// <summary>
    /// Floats between consecutive packed A panels beyond kc·mr: panels exactly 8 KiB apart map to one L1 set and
    /// thrash it while packing (packing then cost a quarter of the time at n = 256); a cache line of padding spreads them.
    /// </summary>
    private const int APanelPad = 16;

    /// <summary>How many rows ahead A packing prefetches when A is stored transposed.</summary>
    private const int PackPrefetchRows = 8;

    /// <summary>
    /// The fewest flops (2·m·n·k) a thread of a parallel product gets: smaller products run on the calling thread. 2²²
    /// (about 4 MFLOP, some 35 µs on one core): at 2²⁴ the input projection and dW_ih of workload S's training step
    /// (8 MFLOP each) ran on one thread, and S's two-thread step took 1.20–1.76 ms against 1.04–1.15 at 2²² (1 thread:
    /// 1.63; BENCHMARKS.md, "Scaling").
    /// </summary>
    private const long ParallelThresholdFlops = 1L << 22;

    /// <summary>Forces a kernel width (tests use it to cover every path); <see cref="GemmKernel.Auto"/> picks the widest accelerated one.</summary>
    internal static GemmKernel ForcedKernel { get; set; }

    [ThreadStatic] private static Workspace? t_workspace;

    private static readonly GemmKernel s_bestKernel =
        Vector512.IsHardwareAccelerated ? GemmKernel.Vector512
        : Vector256.IsHardwareAccelerated ? GemmKernel.Vector256
        : GemmKernel.Vector128;

    /// <summary>Pooled op(B) for <see cref="MultiplyParallel(int, int, int, ReadOnlySpan{float}, int, bool, ReadOnlySpan{float}, int, bool, Span{float}, int, bool, int)"/>; it keeps the largest size seen.</summary>
    private static PackedMatrix? s_sharedPack;

    internal static GemmKernel ActiveKernel => ForcedKernel == GemmKernel.Auto ? s_bestKernel : ForcedKernel;

    /// <summary>Computes <c>C = (accumulate ? C : 0) + op(A)·op(B)</c> on the calling thread.</summary>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="a">A, stored [m×k] (or [k×m] when <paramref name="transposeA"/>).</param>
    /// <param name="lda">Leading dimension of A as stored.</param>
    /// <param name="transposeA">Whether op(A) = Aᵀ.</param>
    /// <param name="b">B, stored [k×n] (or [n×k] when <paramref name="transposeB"/>).</param>
    /// <param name="ldb">Leading dimension of B as stored.</param>
    /// <param name="transposeB">Whether op(B) = Bᵀ.</param>
    /// <param name="c">C, stored [m×n].</param>
    /// <param name="ldc">Leading dimension of C.</param>
    /// <param name="accumulate">Add to C instead of overwriting it.</param>
    public static unsafe void Multiply(
        int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transposeA,
        ReadOnlySpan<float> b, int ldb, bool transposeB,
        Span<float> c, int ldc, bool accumulate)
    {
        Validate(m, n, k, a, lda, transposeA, c, ldc);
        CheckOperand(nameof(b), b, ldb, nameof(ldb), transposeB ? n : k, transposeB ? k : n, transposeB);
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            MultiplyBlocked(ActiveKernel, m, n, k, pa, lda, transposeA, BOperand.Raw(pb, ldb, transposeB), pc, ldc, accumulate);
        }
    }

    /// <summary>Computes <c>C = (accumulate ? C : 0) + op(A)·B</c> with B packed once by <see cref="PackedMatrix"/>.</summary>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="a">A, stored [m×k] (or [k×m] when <paramref name="transposeA"/>), k = <see cref="PackedMatrix.Depth"/>.</param>
    /// <param name="lda">Leading dimension of A as stored.</param>
    /// <param name="transposeA">Whether op(A) = Aᵀ.</param>
    /// <param name="b">op(B)[k×n], packed.</param>
    /// <param name="c">C, stored [m×n], n = <see cref="PackedMatrix.Columns"/>.</param>
    /// <param name="ldc">Leading dimension of C.</param>
    /// <param name="accumulate">Add to C instead of overwriting it.</param>
    public static unsafe void Multiply(
        int m, ReadOnlySpan<float> a, int lda, bool transposeA,
        PackedMatrix b, Span<float> c, int ldc, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(b);
        Validate(m, b.Columns, b.Depth, a, lda, transposeA, c, ldc);
        fixed (float* pa = a)
        fixed (float* pc = c)
        {
            MultiplyBlocked(ActiveKernel, m, b.Columns, b.Depth, pa, lda, transposeA, BOperand.Packed(b, 0), pc, ldc, accumulate);
        }
    }

    /// <summary>
    /// Computes <c>C = (accumulate ? C : 0) + op(A)·op(B)</c> like
    /// <see cref="Multiply(int, int, int, ReadOnlySpan{float}, int, bool, ReadOnlySpan{float}, int, bool, Span{float}, int, bool)"/>,
    /// splitting the rows (or, for few rows, the columns) of C across up to <paramref name="maxDegreeOfParallelism"/> threads.
    /// </summary>
    /// <remarks>
    /// The product runs on min(<paramref name="maxDegreeOfParallelism"/> (the processor count for -1), ⌊2·m·n·k / 2²²⌋)
    /// threads: each gets at least 2²² flops (about 4 MFLOP), and products under 2²³ flops run on the calling thread.
    /// When rows are split, op(B) is packed once into a shared pooled buffer that all threads read. Results equal the
    /// single-threaded ones up to rounding.
    /// </remarks>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="a">A, stored [m×k] (or [k×m] when <paramref name="transposeA"/>).</param>
    /// <param name="lda">Leading dimension of A as stored.</param>
    /// <param name="transposeA">Whether op(A) = Aᵀ.</param>
    /// <param name="b">B, stored [k×n] (or [n×k] when <paramref name="transposeB"/>).</param>
    /// <param name="ldb">Leading dimension of B as stored.</param>
    /// <param name="transposeB">Whether op(B) = Bᵀ.</param>
    /// <param name="c">C, stored [m×n].</param>
    /// <param name="ldc">Leading dimension of C.</param>
    /// <param name="accumulate">Add to C instead of overwriting it.</param>
    /// <param name="maxDegreeOfParallelism">Most threads to use (≥ 1), or -1 for <see cref="Environment.ProcessorCount"/>.</param>
    public static unsafe void MultiplyParallel(
        int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transposeA,
        ReadOnlySpan<float> b, int ldb, bool transposeB,
        Span<float> c, int ldc, bool accumulate,
        int maxDegreeOfParallelism)
    {
        Validate(m, n, k, a, lda, transposeA, c, ldc);
        CheckOperand(nameof(b), b, ldb, nameof(ldb), transposeB ? n : k, transposeB ? k : n, transposeB);
        int threads = ThreadCount(m, n, k, maxDegreeOfParallelism);
        GemmKernel kernel = ActiveKernel;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            if (threads == 1)
            {
                MultiplyBlocked(kernel, m, n, k, pa, lda, transposeA, BOperand.Raw(pb, ldb, transposeB), pc, ldc, accumulate);
            }
            else if (SplitRows(m, n, threads, kernel))
            {
                // Every thread reads all of op(B): pack it once, in parallel, into a pooled buffer.
                PackedMatrix packed = Interlocked.Exchange(ref s_sharedPack, null) ?? new PackedMatrix();
                packed.Prepare(k, n);
                float* sb = pb;
                int panels = packed.PanelCount;
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    packed.PackPanels(sb, ldb, transposeB, Chunk(panels, threads, t, 1), Chunk(panels, threads, t + 1, 1));
                });
                RunRowChunks(kernel, threads, m, pa, lda, transposeA, packed, pc, ldc, accumulate);
                Interlocked.Exchange(ref s_sharedPack, packed);
            }
            else
            {
                float* sa = pa, sb = pb, sc = pc;
                int blocks = (n + Nr - 1) / Nr;
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    int j0 = Chunk(blocks, threads, t, 1) * Nr, j1 = Math.Min(n, Chunk(blocks, threads, t + 1, 1) * Nr);
                    float* bj = transposeB ? sb + (long)j0 * ldb : sb + j0;
                    MultiplyBlocked(kernel, m, j1 - j0, k, sa, lda, transposeA, BOperand.Raw(bj, ldb, transposeB), sc + j0, ldc, accumulate);
                });
            }
        }
    }

    /// <summary>
    /// Computes <c>C = (accumulate ? C : 0) + op(A)·B</c> with B pre-packed, splitting the rows (or, for few rows,
    /// the columns) of C across up to <paramref name="maxDegreeOfParallelism"/> threads.
    /// </summary>
    /// <remarks>
    /// The product runs on min(<paramref name="maxDegreeOfParallelism"/> (the processor count for -1), ⌊2·m·n·k / 2²²⌋)
    /// threads: each gets at least 2²² flops (about 4 MFLOP), and products under 2²³ flops run on the calling thread.
    /// </remarks>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="a">A, stored [m×k] (or [k×m] when <paramref name="transposeA"/>), k = <see cref="PackedMatrix.Depth"/>.</param>
    /// <param name="lda">Leading dimension of A as stored.</param>
    /// <param name="transposeA">Whether op(A) = Aᵀ.</param>
    /// <param name="b">op(B)[k×n], packed.</param>
    /// <param name="c">C, stored [m×n], n = <see cref="PackedMatrix.Columns"/>.</param>
    /// <param name="ldc">Leading dimension of C.</param>
    /// <param name="accumulate">Add to C instead of overwriting it.</param>
    /// <param name="maxDegreeOfParallelism">Most threads to use (≥ 1), or -1 for <see cref="Environment.ProcessorCount"/>.</param>
    public static unsafe void MultiplyParallel(
        int m, ReadOnlySpan<float> a, int lda, bool transposeA,
        PackedMatrix b, Span<float> c, int ldc, bool accumulate,
        int maxDegreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(b);
        int n = b.Columns, k = b.Depth;
        Validate(m, n, k, a, lda, transposeA, c, ldc);
        int threads = ThreadCount(m, n, k, maxDegreeOfParallelism);
        GemmKernel kernel = ActiveKernel;
        fixed (float* pa = a)
        fixed (float* pc = c)
        {
            if (threads == 1)
            {
                MultiplyBlocked(kernel, m, n, k, pa, lda, transposeA, BOperand.Packed(b, 0), pc, ldc, accumulate);
            }
            else if (SplitRows(m, n, threads, kernel))
            {
                RunRowChunks(kernel, threads, m, pa, lda, transposeA, b, pc, ldc, accumulate);
            }
            else
            {
                float* sa = pa, sc = pc;
                int panels = b.PanelCount;
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    int q0 = Chunk(panels, threads, t, 1), q1 = Chunk(panels, threads, t + 1, 1);
                    int j0 = q0 * Nr, j1 = Math.Min(n, q1 * Nr);
                    MultiplyBlocked(kernel, m, j1 - j0, k, sa, lda, transposeA, BOperand.Packed(b, q0), sc + j0, ldc, accumulate);
                });
            }
        }
    }

    private static unsafe void RunRowChunks(
        GemmKernel kernel, int threads, int m, float* a, int lda, bool transposeA,
        PackedMatrix b, float* c, int ldc, bool accumulate)
    {
        int mr = MicroRows(kernel);
        int n = b.Columns, k = b.Depth;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            int i0 = Math.Min(m, Chunk(m, threads, t, mr)), i1 = Math.Min(m, Chunk(m, threads, t + 1, mr));
            if (i1 <= i0) return;
            float* ai = transposeA ? a + i0 : a + (long)i0 * lda;
            MultiplyBlocked(kernel, i1 - i0, n, k, ai, lda, transposeA, BOperand.Packed(b, 0), c + (long)i0 * ldc, ldc, accumulate);
        });
    }

    /// <summary>Start of chunk <paramref name="t"/> of <paramref name="count"/> items split in <paramref name="chunks"/>, rounded to <paramref name="unit"/>.</summary>
    private static int Chunk(int count, int chunks, int t, int unit)
    {
        if (t >= chunks) return count;
        long units = (count + unit - 1) / unit;
        return (int)(units * t / chunks) * unit;
    }

    private static int ThreadCount(int m, int n, int k, int maxDegreeOfParallelism)
    {
        if (maxDegreeOfParallelism == 0 || maxDegreeOfParallelism < -1)
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism,
                "maxDegreeOfParallelism must be at least 1, or -1 for one thread per processor.");
        int threads = maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : maxDegreeOfParallelism;
        long flops = 2L * m * n * k;
        if (threads <= 1 || flops < ParallelThresholdFlops) return 1;
        return (int)Math.Min(threads, Math.Max(1, flops / ParallelThresholdFlops));
    }

    /// <summary>Split rows when every thread gets at least a few row panels, else columns (if there are enough panels).</summary>
    private static bool SplitRows(int m, int n, int threads, GemmKernel kernel) =>
        m >= threads * 4 * MicroRows(kernel) || (n + Nr - 1) / Nr < threads * 2;

    private static int MicroRows(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Vector512 => Mr512,
        GemmKernel.Vector256 => Mr256,
        _ => Mr128,
    };

    /// <summary>
    /// The blocked product for one thread. Loop order (GotoBLAS): column blocks jc of nc ≤ <see cref="Nc"/>,
    /// k-blocks pc of kc ≤ <see cref="Kc"/> (pack B), row blocks ic of mc ≤ <see cref="Mc"/> (pack A), then B
    /// panels jr and A panels ir around the micro-kernel.
    /// </summary>
    private static unsafe void MultiplyBlocked(
        GemmKernel kernel, int m, int n, int k,
        float* a, int lda, bool transposeA,
        in BOperand b, float* c, int ldc, bool accumulate)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++) new Span<float>(c + (long)i * ldc, n).Clear();
            return;
        }

        int mr = MicroRows(kernel);
        Workspace workspace = t_workspace ??= new Workspace();
        float* aPack = workspace.APanels((Mc / mr) * (Kc * mr + APanelPad));
        float* bPack = b.IsPacked ? null : workspace.BPanels(Math.Min(k, Kc) * RoundUp(Math.Min(n, Nc), Nr));
        float* edge = stackalloc float[Mr512 * Nr];

        for (int jc = 0; jc < n; jc += Nc)
        {
            int nc = Math.Min(Nc, n - jc);
            for (int pc = 0; pc < k; pc += Kc)
            {
                int kc = Math.Min(Kc, k - pc);
                float* bBlock;
                if (b.IsPacked)
                {
                    bBlock = b.Data + (long)pc * b.PackedWidth + (long)(b.FirstPanel + jc / Nr) * kc * Nr;
                }
                else
                {
                    PackBBlock(b.Data, b.Ld, b.Transpose, pc, kc, jc, nc, bPack);
                    bBlock = bPack;
                }

                bool add = accumulate || pc > 0;
                for (int ic = 0; ic < m; ic += Mc)
                {
                    int mc = Math.Min(Mc, m - ic);
                    PackABlock(a, lda, transposeA, ic, mc, pc, kc, aPack, mr);
                    for (int jr = 0; jr < nc; jr += Nr)
                    {
                        int nr = Math.Min(Nr, nc - jr);
                        float* bPanel = bBlock + (long)(jr / Nr) * kc * Nr;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int rows = Math.Min(mr, mc - ir);
                            float* aPanel = aPack + (long)(ir / mr) * (kc * mr + APanelPad);
                            float* cTile = c + (long)(ic + ir) * ldc + jc + jr;
                            if (nr == Nr)
                            {
                                Tile(kernel, rows, kc, aPanel, bPanel, cTile, ldc, add);
                            }
                            else
                            {
                                Tile(kernel, rows, kc, aPanel, bPanel, edge, Nr, false);
                                for (int r = 0; r < rows; r++)
                                {
                                    float* src = edge + r * Nr, dst = cTile + (long)r * ldc;
                                    for (int j = 0; j < nr; j++) dst[j] = add ? dst[j] + src[j] : src[j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static int RoundUp(int value, int unit) => (value + unit - 1) / unit * unit;

    /// <summary>
    /// Packs rows [i0, i0+mc) × columns [p0, p0+kc) of op(A) into panels of <paramref name="mr"/> rows:
    /// panel q holds op(A)[i0 + q·mr + r, p0 + p] at q·(kc·mr + <see cref="APanelPad"/>) + p·mr + r.
    /// Rows past mc are left unset: the kernel for a partial panel reads only its rows.
    /// </summary>
    private static unsafe void PackABlock(float* a, int lda, bool transposeA, int i0, int mc, int p0, int kc, float* dst, int mr)
    {
        if (transposeA)
        {
            // A is stored [k×m]: row p0 + p of the store holds op(A)[i0.., p], contiguous. Reading it whole, once,
            // avoids walking the store column-wise per panel (stride lda, which thrashes L1 sets for lda = 1024).
            int fullPanels = mc / mr;
            for (int p = 0; p < kc; p++)
            {
                float* src = a + (long)(p0 + p) * lda + i0;
                float* d = dst + p * mr;
                if (Sse.IsSupported && p + PackPrefetchRows < kc)
                {
                    // Rows lda apart defeat the hardware prefetcher; ask for a later row while copying this one.
                    float* ahead = src + (long)PackPrefetchRows * lda;
                    for (int j = 0; j < mc; j += 16) Sse.Prefetch0(ahead + j);
                }
                int ir = 0;
                if (mr == 8)
                {
                    for (; ir < fullPanels * 8; ir += 8, d += kc * 8 + APanelPad)
                        Vector256.Store(Vector256.Load(src + ir), d);
                }
                else
                {
                    for (; ir < fullPanels * mr; ir += mr, d += kc * mr + APanelPad)
                        for (int r = 0; r < mr; r++) d[r] = src[ir + r];
                }
                for (int r = 0; ir + r < mc; r++) d[r] = src[ir + r];
            }
            return;
        }

        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* panel = dst + (long)(ir / mr) * (kc * mr + APanelPad);
            int p0Scalar = 0;
            if (Avx.IsSupported && mr == 8 && rows == 8)
            {
                float* src = a + (long)(i0 + ir) * lda + p0;
                for (; p0Scalar + 8 <= kc; p0Scalar += 8)
                    Transpose8x8(src + p0Scalar, lda, panel + p0Scalar * 8);
            }
            for (int r = 0; r < rows; r++)
            {
                float* src = a + (long)(i0 + ir + r) * lda + p0;
                float* d = panel + r;
                for (int p = p0Scalar; p < kc; p++) d[p * mr] = src[p];
            }
        }
    }

    /// <summary>Writes the 8×8 block at <paramref name="src"/> (rows <paramref name="ld"/> apart) transposed to 64 contiguous floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose8x8(float* src, int ld, float* dst)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + ld);
        Vector256<float> r2 = Avx.LoadVector256(src + 2 * ld), r3 = Avx.LoadVector256(src + 3 * ld);
        Vector256<float> r4 = Avx.LoadVector256(src + 4 * ld), r5 = Avx.LoadVector256(src + 5 * ld);
        Vector256<float> r6 = Avx.LoadVector256(src + 6 * ld), r7 = Avx.LoadVector256(src + 7 * ld);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + 8, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 16, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 24, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 32, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 40, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 48, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 56, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>
    /// Packs rows [p0, p0+kc) × columns [j0, j0+nc) of op(B) into panels of <see cref="Nr"/> columns:
    /// panel q holds op(B)[p0 + p, j0 + q·Nr + j] at q·kc·Nr + p·Nr + j; columns past nc are zero.
    /// </summary>
    internal static unsafe void PackBBlock(float* b, int ldb, bool transposeB, int p0, int kc, int j0, int nc, float* dst)
    {
        for (int jr = 0; jr < nc; jr += Nr)
        {
            int cols = Math.Min(Nr, nc - jr);
            float* panel = dst + (long)(jr / Nr) * kc * Nr;
            if (!transposeB)
            {
                float* src = b + (long)p0 * ldb + j0 + jr;
                if (cols == Nr)
                {
                    for (int p = 0; p < kc; p++, src += ldb)
                    {
                        float* d = panel + p * Nr;
                        Vector256.Store(Vector256.Load(src), d);
                        Vector256.Store(Vector256.Load(src + 8), d + 8);
                        Vector256.Store(Vector256.Load(src + 16), d + 16);
                        Vector256.Store(Vector256.Load(src + 24), d + 24);
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++, src += ldb)
                    {
                        float* d = panel + p * Nr;
                        int j = 0;
                        for (; j < cols; j++) d[j] = src[j];
                        for (; j < Nr; j++) d[j] = 0;
                    }
                }
            }
            else
            {
                // B is stored [n×k]: column j of op(B) is contiguous along p.
                for (int j = 0; j < cols; j++)
                {
                    float* src = b + (long)(j0 + jr + j) * ldb + p0;
                    float* d = panel + j;
                    for (int p = 0; p < kc; p++) d[p * Nr] = src[p];
                }
                for (int j = cols; j < Nr; j++)
                    for (int p = 0; p < kc; p++) panel[p * Nr + j] = 0;
            }
        }
    }

    /// <summary>
    /// Computes a rows×32 tile of C from one packed A panel and one packed B panel; 1 ≤ rows ≤ the kernel's MR
    /// (<see cref="MultiplyBlocked"/> passes min(MR, mc − ir)), so each width has a micro-kernel for every row count up to its MR.
    /// </summary>
    private static unsafe void Tile(GemmKernel kernel, int rows, int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        switch (kernel)
        {
            case GemmKernel.Vector512:
                Tile512(rows, kc, a, b, c, ldc, accumulate);
                break;
            case GemmKernel.Vector256:
                Tile256(rows, kc, a, b, c, ldc, accumulate);
                Tile256(rows, kc, a, b + 16, c + 16, ldc, accumulate);
                break;
            default:
                for (int j = 0; j < Nr; j += 8) Tile128(rows, kc, a, b + j, c + j, ldc, accumulate);
                break;
        }
    }

    private static unsafe void Tile512(int rows, int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        switch (rows)
        {
            case 1: Kernel512<R1>(kc, a, b, c, ldc, accumulate); break;
            case 2: Kernel512<R2>(kc, a, b, c, ldc, accumulate); break;
            case 3: Kernel512<R3>(kc, a, b, c, ldc, accumulate); break;
            case 4: Kernel512<R4>(kc, a, b, c, ldc, accumulate); break;
            case 5: Kernel512<R5>(kc, a, b, c, ldc, accumulate); break;
            case 6: Kernel512<R6>(kc, a, b, c, ldc, accumulate); break;
            case 7: Kernel512<R7>(kc, a, b, c, ldc, accumulate); break;
            default: Kernel512<R8>(kc, a, b, c, ldc, accumulate); break;
        }
    }

    private static unsafe void Tile256(int rows, int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        switch (rows)
        {
            case 1: Kernel256<R1>(kc, a, b, c, ldc, accumulate); break;
            case 2: Kernel256<R2>(kc, a, b, c, ldc, accumulate); break;
            case 3: Kernel256<R3>(kc, a, b, c, ldc, accumulate); break;
            case 4: Kernel256<R4>(kc, a, b, c, ldc, accumulate); break;
            case 5: Kernel256<R5>(kc, a, b, c, ldc, accumulate); break;
            default: Kernel256<R6>(kc, a, b, c, ldc, accumulate); break;
        }
    }

    private static unsafe void Tile128(int rows, int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        switch (rows)
        {
            case 1: Kernel128<R1>(kc, a, b, c, ldc, accumulate); break;
            case 2: Kernel128<R2>(kc, a, b, c, ldc, accumulate); break;
            case 3: Kernel128<R3>(kc, a, b, c, ldc, accumulate); break;
            default: Kernel128<R4>(kc, a, b, c, ldc, accumulate); break;
        }
    }

    /// <summary>TRows×32 tile: C[r, 0..32) (+)= Σ_p A[p, r] · B[p, 0..32) with two Vector512 accumulators per row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel512<TRows>(int kc, float* a, float* b, float* c, int ldc, bool accumulate)
        where TRows : struct, IRowCount
    {
        if (Sse.IsSupported)
        {
            // The tile of C is needed only after the k loop; start fetching it now.
            for (int r = 0; r < TRows.Value; r++)
            {
                Sse.Prefetch0(c + r * ldc);
                Sse.Prefetch0(c + r * ldc + 16);
            }
        }
        Vector512<float> c00 = default, c01 = default;
        Vector512<float> c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default;
        Vector512<float> c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default;
        Vector512<float> c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            if (TRows.Value > 0) { var a0 = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01); }
            if (TRows.Value > 1) { var a1 = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11); }
            if (TRows.Value > 2) { var a2 = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21); }
            if (TRows.Value > 3) { var a3 = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31); }
            if (TRows.Value > 4) { var a4 = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(a4, b0, c40); c41 = Vector512.FusedMultiplyAdd(a4, b1, c41); }
            if (TRows.Value > 5) { var a5 = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(a5, b0, c50); c51 = Vector512.FusedMultiplyAdd(a5, b1, c51); }
            if (TRows.Value > 6) { var a6 = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(a6, b0, c60); c61 = Vector512.FusedMultiplyAdd(a6, b1, c61); }
            if (TRows.Value > 7) { var a7 = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(a7, b0, c70); c71 = Vector512.FusedMultiplyAdd(a7, b1, c71); }
            a += Mr512;
            b += Nr;
        }
        if (TRows.Value > 0) StoreRow(c + 0 * ldc, c00, c01, accumulate);
        if (TRows.Value > 1) StoreRow(c + 1 * ldc, c10, c11, accumulate);
        if (TRows.Value > 2) StoreRow(c + 2 * ldc, c20, c21, accumulate);
        if (TRows.Value > 3) StoreRow(c + 3 * ldc, c30, c31, accumulate);
        if (TRows.Value > 4) StoreRow(c + 4 * ldc, c40, c41, accumulate);
        if (TRows.Value > 5) StoreRow(c + 5 * ldc, c50, c51, accumulate);
        if (TRows.Value > 6) StoreRow(c + 6 * ldc, c60, c61, accumulate);
        if (TRows.Value > 7) StoreRow(c + 7 * ldc, c70, c71, accumulate);
    }

    /// <summary>TRows×16 tile of a 32-wide panel with two Vector256 accumulators per row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel256<TRows>(int kc, float* a, float* b, float* c, int ldc, bool accumulate)
        where TRows : struct, IRowCount
    {
        Vector256<float> c00 = default, c01 = default;
        Vector256<float> c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default;
        Vector256<float> c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            if (TRows.Value > 0) { var a0 = Vector256.Create(a[0]); c00 = Vector256.MultiplyAddEstimate(a0, b0, c00); c01 = Vector256.MultiplyAddEstimate(a0, b1, c01); }
            if (TRows.Value > 1) { var a1 = Vector256.Create(a[1]); c10 = Vector256.MultiplyAddEstimate(a1, b0, c10); c11 = Vector256.MultiplyAddEstimate(a1, b1, c11); }
            if (TRows.Value > 2) { var a2 = Vector256.Create(a[2]); c20 = Vector256.MultiplyAddEstimate(a2, b0, c20); c21 = Vector256.MultiplyAddEstimate(a2, b1, c21); }
            if (TRows.Value > 3) { var a3 = Vector256.Create(a[3]); c30 = Vector256.MultiplyAddEstimate(a3, b0, c30); c31 = Vector256.MultiplyAddEstimate(a3, b1, c31); }
            if (TRows.Value > 4) { var a4 = Vector256.Create(a[4]); c40 = Vector256.MultiplyAddEstimate(a4, b0, c40); c41 = Vector256.MultiplyAddEstimate(a4, b1, c41); }
            if (TRows.Value > 5) { var a5 = Vector256.Create(a[5]); c50 = Vector256.MultiplyAddEstimate(a5, b0, c50); c51 = Vector256.MultiplyAddEstimate(a5, b1, c51); }
            a += Mr256;
            b += Nr;
        }
        if (TRows.Value > 0) StoreRow(c + 0 * ldc, c00, c01, accumulate);
        if (TRows.Value > 1) StoreRow(c + 1 * ldc, c10, c11, accumulate);
        if (TRows.Value > 2) StoreRow(c + 2 * ldc, c20, c21, accumulate);
        if (TRows.Value > 3) StoreRow(c + 3 * ldc, c30, c31, accumulate);
        if (TRows.Value > 4) StoreRow(c + 4 * ldc, c40, c41, accumulate);
        if (TRows.Value > 5) StoreRow(c + 5 * ldc, c50, c51, accumulate);
    }

    /// <summary>TRows×8 tile of a 32-wide panel with two Vector128 accumulators per row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel128<TRows>(int kc, float* a, float* b, float* c, int ldc, bool accumulate)
        where TRows : struct, IRowCount
    {
        Vector128<float> c00 = default, c01 = default;
        Vector128<float> c10 = default, c11 = default;
        Vector128<float> c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector128<float> b0 = Vector128.Load(b), b1 = Vector128.Load(b + 4);
            if (TRows.Value > 0) { var a0 = Vector128.Create(a[0]); c00 = Vector128.MultiplyAddEstimate(a0, b0, c00); c01 = Vector128.MultiplyAddEstimate(a0, b1, c01); }
            if (TRows.Value > 1) { var a1 = Vector128.Create(a[1]); c10 = Vector128.MultiplyAddEstimate(a1, b0, c10); c11 = Vector128.MultiplyAddEstimate(a1, b1, c11); }
            if (TRows.Value > 2) { var a2 = Vector128.Create(a[2]); c20 = Vector128.MultiplyAddEstimate(a2, b0, c20); c21 = Vector128.MultiplyAddEstimate(a2, b1, c21); }
            if (TRows.Value > 3) { var a3 = Vector128.Create(a[3]); c30 = Vector128.MultiplyAddEstimate(a3, b0, c30); c31 = Vector128.MultiplyAddEstimate(a3, b1, c31); }
            a += Mr128;
            b += Nr;
        }
        if (TRows.Value > 0) StoreRow(c + 0 * ldc, c00, c01, accumulate);
        if (TRows.Value > 1) StoreRow(c + 1 * ldc, c10, c11, accumulate);
        if (TRows.Value > 2) StoreRow(c + 2 * ldc, c20, c21, accumulate);
        if (TRows.Value > 3) StoreRow(c + 3 * ldc, c30, c31, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(float* c, Vector512<float> x0, Vector512<float> x1, bool accumulate)
    {
        if (accumulate)
        {
            x0 += Vector512.Load(c);
            x1 += Vector512.Load(c + 16);
        }
        Vector512.Store(x0, c);
        Vector512.Store(x1, c + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(float* c, Vector256<float> x0, Vector256<float> x1, bool accumulate)
    {
        if (accumulate)
        {
            x0 += Vector256.Load(c);
            x1 += Vector256.Load(c + 8);
        }
        Vector256.Store(x0, c);
        Vector256.Store(x1, c + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(float* c, Vector128<float> x0, Vector128<float> x1, bool accumulate)
    {
        if (accumulate)
        {
            x0 += Vector128.Load(c);
            x1 += Vector128.Load(c + 4);
        }
        Vector128.Store(x0, c);
        Vector128.Store(x1, c + 4);
    }

    private static void Validate(int m, int n, int k, ReadOnlySpan<float> a, int lda, bool transposeA, Span<float> c, int ldc)
    {
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m), m, "m (rows of C) must be non-negative.");
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n (columns of C) must be non-negative.");
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k (inner dimension) must be non-negative.");
        CheckOperand(nameof(a), a, lda, nameof(lda), transposeA ? k : m, transposeA ? m : k, transposeA);
        CheckOperand(nameof(c), c, ldc, nameof(ldc), m, n, false);
    }

    /// <summary>Checks that a stored [rows×cols] matrix with leading dimension ld fits in the span.</summary>
    internal static void CheckOperand(string name, ReadOnlySpan<float> span, int ld, string ldName, int rows, int cols, bool transposed)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols)
            throw new ArgumentOutOfRangeException(ldName, ld,
                $"{ldName} = {ld} is less than the {cols} columns of {name} as stored{(transposed ? " (transposed)" : "")}; pass a leading dimension ≥ {cols}.");
        long needed = (long)(rows - 1) * ld + cols;
        if (span.Length < needed)
            throw new ArgumentException(
                $"{name} has {span.Length} elements but a stored [{rows}×{cols}] matrix with leading dimension {ld} needs {needed}{(transposed ? " (it is transposed)" : "")}.",
                name);
    }

    /// <summary>Per-thread 64-byte-aligned packing buffers, grown on demand and then reused.</summary>
    private sealed unsafe class Workspace
    {
        private float[] _a = [];
        private float* _aData;
        private float[] _b = [];
        private float* _bData;

        public float* APanels(int floats) => AlignedArray.Ensure(ref _a, ref _aData, floats);

        public float* BPanels(int floats) => AlignedArray.Ensure(ref _b, ref _bData, floats);
    }

    /// <summary>op(B) as the blocked loop reads it: raw (packed per k-block on the fly) or pre-packed panels.</summary>
    private readonly unsafe struct BOperand
    {
        public readonly float* Data;
        public readonly int Ld;
        public readonly bool Transpose;
        public readonly bool IsPacked;
        public readonly int PackedWidth;
        public readonly int FirstPanel;

        private BOperand(float* data, int ld, bool transpose, bool isPacked, int packedWidth, int firstPanel)
        {
            Data = data;
            Ld = ld;
            Transpose = transpose;
            IsPacked = isPacked;
            PackedWidth = packedWidth;
            FirstPanel = firstPanel;
        }

        public static BOperand Raw(float* b, int ldb, bool transposeB) => new(b, ldb, transposeB, false, 0, 0);

        /// <summary>Columns from panel <paramref name="firstPanel"/> (column firstPanel·32) of a packed matrix.</summary>
        public static BOperand Packed(PackedMatrix b, int firstPanel) => new(b.Data, 0, false, true, b.PackedWidth, firstPanel);
    }

    private interface IRowCount
    {
        static abstract int Value { get; }
    }

    private readonly struct R1 : IRowCount { public static int Value => 1; }
    private readonly struct R2 : IRowCount { public static int Value => 2; }
    private readonly struct R3 : IRowCount { public static int Value => 3; }
    private readonly struct R4 : IRowCount { public static int Value => 4; }
    private readonly struct R5 : IRowCount { public static int Value => 5; }
    private readonly struct R6 : IRowCount { public static int Value => 6; }
    private readonly struct R7 : IRowCount { public static int Value => 7; }
    private readonly struct R8 : IRowCount { public static int Value => 8; }
}

/// <summary>The micro-kernel widths <see cref="Gemm"/> can use.</summary>
internal enum GemmKernel
{
    /// <summary>The widest hardware-accelerated width.</summary>
    Auto,

    /// <summary>MR×32 tiles of two Vector512 per row.</summary>
    Vector512,

    /// <summary>6×16 tiles of two Vector256 per row.</summary>
    Vector256,

    /// <summary>4×8 tiles of two Vector128 per row.</summary>
    Vector128,
}

/// <summary>Pinned float arrays whose usable part starts on a 64-byte boundary, so Vector512 loads never split cache lines.</summary>
internal static unsafe class AlignedArray
{
    /// <summary>Floats allocated beyond the usable part: the most the start can move to reach a 64-byte boundary.</summary>
    public const int Slack = 16;

    /// <summary>A pinned array with at least <paramref name="floats"/> usable floats from the 64-byte-aligned <paramref name="data"/>.</summary>
    public static float[] Allocate(int floats, out float* data)
    {
        float[] array = GC.AllocateUninitializedArray<float>(floats + Slack, pinned: true);
        float* p = (float*)Unsafe.AsPointer(ref array[0]);
        data = (float*)(((nuint)p + 63) & ~(nuint)63);
        return array;
    }

    /// <summary>Keeps <paramref name="array"/> when it holds <paramref name="floats"/> usable floats; otherwise replaces it with one that does.</summary>
    public static float* Ensure(ref float[] array, ref float* data, int floats)
    {
        if (array.Length < floats + Slack) array = Allocate(floats, out data);
        return data;
    }
}
