using System.Runtime.Intrinsics;
using MlNet.Rnn.Core.Kernels;

namespace MlNet.Rnn.Core.Tests.Kernels;

/// <summary>
/// <see cref="Gemm"/> against a double-precision reference: C = (accumulate ? C₀ : 0) + op(A)·op(B), checked
/// element-wise with |got − ref| ≤ 1e-5·Σ_p |op(A)[i,p]|·|op(B)[p,j]| + 1e-6, for every kernel width, transpose
/// combination, accumulate flag, padded leading dimensions, and the packed and parallel entry points (the parallel ones
/// here below their threshold; <see cref="GemmParallelTests"/> splits the work); nothing is written past C's span or
/// into its padding; and <see cref="Gemm.ForcedKernel"/> really selects the kernel these tests mean to cover.
/// </summary>
[Collection(GemmCollection.Name)]
public sealed class GemmTests
{
    private static readonly int[] s_sizes = [0, 1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 64, 65, 70];

    /// <summary>Floats after C's span, in the same array, that no product may write (a row past C's last one starts there).</summary>
    private const int CTail = 64;

    /// <summary>How the product is invoked.</summary>
    public enum Entry
    {
        Plain,
        Packed,
        Parallel,
        PackedParallel,
    }

    public static TheoryData<bool, bool> TransposeCombinations() => new()
    {
        { false, false }, { false, true }, { true, false }, { true, true },
    };

    /// <summary>Kernel widths by name (<see cref="GemmKernel"/> is internal) with every transpose combination.</summary>
    public static TheoryData<string, bool, bool> KernelsAndTransposes()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (string kernel in new[] { nameof(GemmKernel.Vector512), nameof(GemmKernel.Vector256), nameof(GemmKernel.Vector128) })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    data.Add(kernel, ta, tb);
        return data;
    }

    [Theory]
    [MemberData(nameof(TransposeCombinations))]
    public void SizeCube_MatchesReference(bool transposeA, bool transposeB)
    {
        var rng = new Random(1);
        int index = 0;
        foreach (int m in s_sizes)
            foreach (int n in s_sizes)
                foreach (int k in s_sizes)
                {
                    index++;
                    Check(rng, m, n, k, transposeA, transposeB, accumulate: index % 2 == 0, pad: index % 3, Entry.Plain, GemmKernel.Auto);
                }
    }

    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void EachKernelWidth_MatchesReference(string kernelName, bool transposeA, bool transposeB)
    {
        GemmKernel kernel = Enum.Parse<GemmKernel>(kernelName);
        var rng = new Random(2);
        for (int i = 0; i < s_sizes.Length; i++)
            for (int j = 0; j < s_sizes.Length; j++)
            {
                int k = s_sizes[(i + 2 * j) % s_sizes.Length];
                Check(rng, s_sizes[i], s_sizes[j], k, transposeA, transposeB, (i + j) % 2 == 0, pad: (i * j) % 3, Entry.Plain, kernel);
                Check(rng, s_sizes[i], s_sizes[j], k, transposeA, transposeB, (i + j) % 2 == 1, pad: 1, Entry.Packed, kernel);
            }
        // Several k-blocks, row blocks and a column edge in one product.
        Check(rng, 200, 45, 600, transposeA, transposeB, accumulate: true, pad: 2, Entry.Plain, kernel);
    }

    [Theory]
    [MemberData(nameof(TransposeCombinations))]
    public void EveryColumnCount_MatchesReference(bool transposeA, bool transposeB)
    {
        var rng = new Random(3);
        foreach (GemmKernel kernel in new[] { GemmKernel.Auto, GemmKernel.Vector256, GemmKernel.Vector128 })
            for (int n = 0; n <= 70; n++)
            {
                Check(rng, 5, n, 19, transposeA, transposeB, n % 2 == 0, pad: n % 3, Entry.Plain, kernel);
                Check(rng, 13, n, 3, transposeA, transposeB, n % 2 == 1, pad: 1, Entry.Packed, kernel);
            }
    }

    [Theory]
    [MemberData(nameof(TransposeCombinations))]
    public void EveryRowCount_MatchesReference(bool transposeA, bool transposeB)
    {
        var rng = new Random(4);
        foreach (GemmKernel kernel in new[] { GemmKernel.Auto, GemmKernel.Vector256, GemmKernel.Vector128 })
            for (int m = 0; m <= 70; m++)
            {
                Check(rng, m, 37, 21, transposeA, transposeB, m % 2 == 0, pad: m % 3, Entry.Plain, kernel);
                Check(rng, m, 64, 9, transposeA, transposeB, m % 2 == 1, pad: 2, Entry.Packed, kernel);
            }
    }

    [Theory]
    [MemberData(nameof(TransposeCombinations))]
    public void LargeShapes_MatchReference(bool transposeA, bool transposeB)
    {
        var rng = new Random(5);
        Check(rng, 257, 513, 300, transposeA, transposeB, accumulate: false, pad: 3, Entry.Plain, GemmKernel.Auto);
        Check(rng, 257, 513, 300, transposeA, transposeB, accumulate: true, pad: 0, Entry.Packed, GemmKernel.Auto);
        // More columns than one packed column block (2048).
        Check(rng, 9, 2100, 40, transposeA, transposeB, accumulate: true, pad: 1, Entry.Plain, GemmKernel.Auto);
    }

    [Theory]
    [MemberData(nameof(TransposeCombinations))]
    public void OneRow_MatchesReference(bool transposeA, bool transposeB)
    {
        // A single sequence's recurrent product: one row of C against up to 16 panels of B and a column edge.
        var rng = new Random(7);
        foreach (GemmKernel kernel in new[] { GemmKernel.Auto, GemmKernel.Vector256, GemmKernel.Vector128 })
            foreach (int n in new[] { 96, 127, 128, 129, 160, 255, 256, 300, 512 })
                foreach (int k in new[] { 1, 19, 300 })
                {
                    Check(rng, 1, n, k, transposeA, transposeB, accumulate: n % 2 == 0, pad: k % 3, Entry.Plain, kernel);
                    Check(rng, 1, n, k, transposeA, transposeB, accumulate: n % 2 == 1, pad: 1, Entry.Packed, kernel);
                }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ARowAlone_GetsTheBitsItGetsInABatch(bool accumulate)
    {
        // A prediction engine scores one row; batch scoring puts it in a tile of several: both must give the same bits. (A
        // one-row kernel keeping more running sums, tried for speed, failed here when a sum's multiply and add were rounded apart.)
        var rng = new Random(8);
        foreach (GemmKernel kernel in new[] { GemmKernel.Auto, GemmKernel.Vector256, GemmKernel.Vector128 })
            foreach (int n in new[] { 128, 200, 512 })
                foreach (int k in new[] { 5, 300 })
                {
                    const int m = 8;
                    float[] a = RandomArray(rng, m * k), b = RandomArray(rng, k * n), c0 = RandomArray(rng, m * n);
                    var packed = new PackedMatrix();
                    packed.Pack(b, n, false, k, n);
                    GemmKernel saved = Gemm.ForcedKernel;
                    Gemm.ForcedKernel = kernel;
                    try
                    {
                        float[] batch = (float[])c0.Clone(), batchPacked = (float[])c0.Clone();
                        Gemm.Multiply(m, n, k, a, k, false, b, n, false, batch, n, accumulate);
                        Gemm.Multiply(m, a, k, false, packed, batchPacked, n, accumulate);
                        for (int r = 0; r < m; r++)
                        {
                            float[] alone = c0.AsSpan(r * n, n).ToArray(), alonePacked = (float[])alone.Clone();
                            Gemm.Multiply(1, n, k, a.AsSpan(r * k, k), k, false, b, n, false, alone, n, accumulate);
                            Gemm.Multiply(1, a.AsSpan(r * k, k), k, false, packed, alonePacked, n, accumulate);
                            Assert.True(alone.AsSpan().SequenceEqual(batch.AsSpan(r * n, n)), $"row {r} alone differs from its batch bits: n={n} k={k} kernel={kernel}");
                            Assert.True(alonePacked.AsSpan().SequenceEqual(batchPacked.AsSpan(r * n, n)), $"row {r} alone (packed B) differs from its batch bits: n={n} k={k} kernel={kernel}");
                        }
                    }
                    finally
                    {
                        Gemm.ForcedKernel = saved;
                    }
                }
    }

    [Theory]
    [MemberData(nameof(TransposeCombinations))]
    public void ParallelEntries_BelowTheirThreshold_MatchReference(bool transposeA, bool transposeB)
    {
        // Every product here is under 2·2²² flops, so each runs on the calling thread.
        var rng = new Random(6);
        foreach (Entry entry in new[] { Entry.Parallel, Entry.PackedParallel })
        {
            Check(rng, 150, 70, 300, transposeA, transposeB, accumulate: true, pad: 1, entry, GemmKernel.Auto, threads: 2);
            Check(rng, 151, 97, 260, transposeA, transposeB, accumulate: false, pad: 0, entry, GemmKernel.Auto, threads: 3);
            Check(rng, 6, 1000, 400, transposeA, transposeB, accumulate: false, pad: 2, entry, GemmKernel.Auto, threads: 2);
            Check(rng, 7, 1001, 300, transposeA, transposeB, accumulate: true, pad: 1, entry, GemmKernel.Vector256, threads: -1);
            Check(rng, 17, 33, 5, transposeA, transposeB, accumulate: true, pad: 1, entry, GemmKernel.Auto, threads: 4);
        }
    }

    [Fact]
    public void ForcedKernel_IsTheKernelUsed_AndAutoIsTheWidestAccelerated()
    {
        GemmKernel widest = Vector512.IsHardwareAccelerated ? GemmKernel.Vector512
            : Vector256.IsHardwareAccelerated ? GemmKernel.Vector256
            : GemmKernel.Vector128;
        GemmKernel saved = Gemm.ForcedKernel;
        try
        {
            foreach (GemmKernel kernel in new[] { GemmKernel.Vector128, GemmKernel.Vector256, GemmKernel.Vector512 })
            {
                Gemm.ForcedKernel = kernel;
                Assert.Equal(kernel, Gemm.ActiveKernel);
            }
            Gemm.ForcedKernel = GemmKernel.Auto;
            Assert.Equal(widest, Gemm.ActiveKernel);
        }
        finally
        {
            Gemm.ForcedKernel = saved;
        }
    }

    [Fact]
    public void PackedMatrix_RepackedWithOtherShapes_MatchesReference()
    {
        var rng = new Random(7);
        var packed = new PackedMatrix();
        foreach ((int k, int n, bool tb) in new[] { (300, 70, false), (3, 5, true), (0, 9, false), (513, 33, true), (40, 64, false) })
        {
            float[] b = RandomArray(rng, k * n);
            int ldb = tb ? k : n;
            packed.Pack(b, ldb, tb, k, n);
            Assert.Equal(k, packed.Depth);
            Assert.Equal(n, packed.Columns);
            const int m = 11;
            float[] a = RandomArray(rng, m * k);
            float[] c = new float[m * n];
            Gemm.Multiply(m, a, k, false, packed, c, n, accumulate: false);
            float[] expected = new float[m * n];
            Gemm.Multiply(m, n, k, a, k, false, b, ldb, tb, expected, n, accumulate: false);
            for (int i = 0; i < c.Length; i++)
                Assert.True(Math.Abs(c[i] - expected[i]) <= 1e-5f * (1 + Math.Abs(expected[i])),
                    $"packed {c[i]} vs unpacked {expected[i]} at {i} for k={k} n={n} transposeB={tb}");
        }
    }

    [Fact]
    public void SteadyStateCalls_DoNotAllocate()
    {
        const int m = 64, n = 1024, k = 256;
        var rng = new Random(8);
        float[] a = RandomArray(rng, m * k), b = RandomArray(rng, k * n), c = new float[m * n];
        var packed = new PackedMatrix();
        packed.Pack(b, n, false, k, n);
        void Steps()
        {
            for (int step = 0; step < 4; step++)
            {
                Gemm.Multiply(m, n, k, a, step % 2 == 0 ? m : k, step % 2 == 0, b, n, false, c, n, true);
                Gemm.Multiply(m, a, k, false, packed, c, n, true);
            }
        }
        // The first round sizes this thread's packing buffers for every call the measured round makes (both layouts of A).
        Steps();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Steps();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void InvalidArguments_Throw()
    {
        float[] a = new float[6], b = new float[6], c = new float[4];
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(-1, 2, 3, a, 3, false, b, 2, false, c, 2, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(2, 2, 3, a, 2, false, b, 2, false, c, 2, false));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(2, 2, 3, a, 3, false, b, 2, false, c.AsSpan(0, 3), 2, false));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(2, 2, 4, a, 4, false, b, 2, false, c, 2, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyParallel(2, 2, 3, a, 3, false, b, 2, false, c, 2, false, 0));
        Assert.Throws<ArgumentException>(() => new PackedMatrix().Pack(b, 2, false, 4, 2));
    }

    /// <summary>
    /// Runs one product on random data and asserts it against the double reference. Stored operands get
    /// <paramref name="pad"/> extra columns: A's and B's padding holds NaN (must never be read), C's holds a sentinel
    /// (must never be written), as do <see cref="CTail"/> floats after C's span; without accumulation C starts as NaN
    /// (must be overwritten, not added to).
    /// </summary>
    private static void Check(
        Random rng, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate, int pad,
        Entry entry, GemmKernel kernel, int threads = 2)
    {
        int aRows = transposeA ? k : m, aCols = transposeA ? m : k;
        int bRows = transposeB ? n : k, bCols = transposeB ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        float[] a = StoredMatrix(rng, aRows, aCols, lda, float.NaN);
        float[] b = StoredMatrix(rng, bRows, bCols, ldb, float.NaN);
        const float sentinel = 12345f;
        float[] stored = StoredMatrix(rng, m, n, ldc, sentinel);
        float[] c = new float[stored.Length + CTail];
        c.AsSpan().Fill(sentinel);
        stored.CopyTo(c, 0);
        if (!accumulate && n > 0)
            for (int i = 0; i < m; i++) c.AsSpan(i * ldc, n).Fill(float.NaN);
        float[] c0 = (float[])c.Clone();

        GemmKernel saved = Gemm.ForcedKernel;
        Gemm.ForcedKernel = kernel;
        try
        {
            var packed = new PackedMatrix();
            if (entry is Entry.Packed or Entry.PackedParallel) packed.Pack(b, ldb, transposeB, k, n);
            switch (entry)
            {
                case Entry.Plain: Gemm.Multiply(m, n, k, a, lda, transposeA, b, ldb, transposeB, c.AsSpan(0, stored.Length), ldc, accumulate); break;
                case Entry.Packed: Gemm.Multiply(m, a, lda, transposeA, packed, c.AsSpan(0, stored.Length), ldc, accumulate); break;
                case Entry.Parallel: Gemm.MultiplyParallel(m, n, k, a, lda, transposeA, b, ldb, transposeB, c.AsSpan(0, stored.Length), ldc, accumulate, threads); break;
                default: Gemm.MultiplyParallel(m, a, lda, transposeA, packed, c.AsSpan(0, stored.Length), ldc, accumulate, threads); break;
            }
        }
        finally
        {
            Gemm.ForcedKernel = saved;
        }

        string shape = $"m={m} n={n} k={k} transposeA={transposeA} transposeB={transposeB} accumulate={accumulate} " +
                       $"lda={lda} ldb={ldb} ldc={ldc} entry={entry} kernel={kernel}";
        double worstExcess = double.NegativeInfinity, worstDiff = 0;
        int worstI = -1, worstJ = -1;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = accumulate ? c0[i * ldc + j] : 0, bound = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = transposeA ? a[p * lda + i] : a[i * lda + p];
                    double bv = transposeB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += av * bv;
                    bound += Math.Abs(av * bv);
                }
                double got = c[i * ldc + j];
                double diff = Math.Abs(got - sum);
                double excess = double.IsNaN(diff) ? double.PositiveInfinity : diff - (1e-5 * bound + 1e-6);
                if (excess > worstExcess)
                {
                    (worstExcess, worstDiff, worstI, worstJ) = (excess, diff, i, j);
                }
            }
            for (int j = n; j < ldc && i * ldc + j < stored.Length; j++)
                Assert.True(c[i * ldc + j] == sentinel, $"padding C[{i},{j}] was overwritten with {c[i * ldc + j]} for {shape}");
        }
        for (int e = stored.Length; e < c.Length; e++)
            Assert.True(c[e] == sentinel, $"float {e - stored.Length} after C's span was overwritten with {c[e]} for {shape}");
        Assert.True(worstExcess <= 0,
            $"max |got - ref| = {worstDiff:G6} at C[{worstI},{worstJ}] exceeds the tolerance by {worstExcess:G6} for {shape}");
    }

    /// <summary>A stored [rows×cols] matrix with leading dimension ld: values in [−1, 1], padding set to <paramref name="padding"/>.</summary>
    private static float[] StoredMatrix(Random rng, int rows, int cols, int ld, float padding)
    {
        int length = rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
        float[] data = new float[length];
        data.AsSpan().Fill(padding);
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < cols; col++)
                data[r * ld + col] = (float)(2 * rng.NextDouble() - 1);
        return data;
    }

    private static float[] RandomArray(Random rng, int length)
    {
        float[] data = new float[length];
        for (int i = 0; i < length; i++) data[i] = (float)(2 * rng.NextDouble() - 1);
        return data;
    }
}
