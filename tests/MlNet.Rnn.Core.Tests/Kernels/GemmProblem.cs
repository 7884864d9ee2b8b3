using System.Numerics;
using System.Runtime.CompilerServices;
using MlNet.Rnn.Core.Kernels;

namespace MlNet.Rnn.Core.Tests.Kernels;

/// <summary>
/// One product <c>C = (accumulate ? C₀ : 0) + op(A)[m×k]·op(B)[k×n]</c> on values in [−1, 1]: the operands stored in
/// either layout with padded leading dimensions, C with padding and a tail past its span, and the double-precision
/// product, computed here without <see cref="Gemm"/>, that C must match element-wise within
/// 1e-5·(Σ_p |op(A)[i,p]·op(B)[p,j]| + |C₀[i,j]|) + 1e-6.
/// </summary>
/// <remarks>
/// Padding of A and B holds NaN (a product that reads it shows NaN); C's padding and its tail hold
/// <see cref="Sentinel"/> (must never be written); without accumulation C starts as NaN (must be overwritten).
/// </remarks>
internal sealed class GemmProblem
{
    /// <summary>What C's padding and tail hold; any other value there was written by the product.</summary>
    public const float Sentinel = 12345f;

    /// <summary>Floats after C's span, inside the same array, that the product must leave alone.</summary>
    public const int Tail = 64;

    private readonly float[] _opA, _opB, _c0;
    private readonly double[] _product, _bound;

    // Stores and packs are read-only to the product, so each layout is built once per problem.
    private readonly Dictionary<(bool Transpose, int Pad), (float[] Data, int Ld)> _storesOfA = [], _storesOfB = [];
    private readonly Dictionary<(bool Transpose, int Pad), PackedMatrix> _packs = [];

    public GemmProblem(int m, int n, int k, int seed)
    {
        (M, N, K) = (m, n, k);
        var rng = new Random(seed);
        _opA = Uniform(rng, m * k);
        _opB = Uniform(rng, k * n);
        _c0 = Uniform(rng, m * n);
        (_product, _bound) = Reference(_opA, _opB, m, n, k);
    }

    public int M { get; }

    public int N { get; }

    public int K { get; }

    /// <summary>2·m·n·k, the flop count the parallel entry points size their thread count by.</summary>
    public long Flops => 2L * M * N * K;

    /// <summary>A stored [m×k] (or [k×m] when transposed) with <paramref name="pad"/> NaN columns per stored row; not to be written.</summary>
    public float[] StoreA(bool transposeA, int pad, out int lda) => Store(_storesOfA, _opA, M, K, transposeA, pad, out lda);

    /// <summary>B stored [k×n] (or [n×k] when transposed) with <paramref name="pad"/> NaN columns per stored row; not to be written.</summary>
    public float[] StoreB(bool transposeB, int pad, out int ldb) => Store(_storesOfB, _opB, K, N, transposeB, pad, out ldb);

    /// <summary>op(B) packed from a padded store; not to be repacked.</summary>
    public PackedMatrix PackB(bool transposeB, int pad)
    {
        if (!_packs.TryGetValue((transposeB, pad), out PackedMatrix? packed))
        {
            float[] b = StoreB(transposeB, pad, out int ldb);
            packed = new PackedMatrix();
            packed.Pack(b, ldb, transposeB, K, N);
            _packs.Add((transposeB, pad), packed);
        }
        return packed;
    }

    /// <summary>
    /// C with <paramref name="pad"/> padding columns: C₀ when accumulating, else NaN. The product gets the first
    /// <paramref name="length"/> floats; the <see cref="Tail"/> floats after them, like the padding, hold <see cref="Sentinel"/>.
    /// </summary>
    public float[] NewC(bool accumulate, int pad, out int ldc, out int length)
    {
        ldc = N + pad;
        length = M == 0 || N == 0 ? 0 : (M - 1) * ldc + N;
        float[] c = new float[length + Tail];
        c.AsSpan().Fill(Sentinel);
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                c[i * ldc + j] = accumulate ? _c0[i * N + j] : float.NaN;
        return c;
    }

    /// <summary>Asserts C (from <see cref="NewC"/>) holds the product within tolerance and that nothing else was written.</summary>
    public void AssertProduct(float[] c, int ldc, bool accumulate, string what)
    {
        double worstExcess = double.NegativeInfinity, worstGot = 0, worstExpected = 0;
        int worstI = -1, worstJ = -1;
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                double c0 = accumulate ? _c0[i * N + j] : 0;
                double expected = c0 + _product[i * N + j], got = c[i * ldc + j];
                double difference = Math.Abs(got - expected);
                double excess = double.IsNaN(difference)
                    ? double.PositiveInfinity
                    : difference - (1e-5 * (_bound[i * N + j] + Math.Abs(c0)) + 1e-6);
                if (excess > worstExcess) (worstExcess, worstGot, worstExpected, worstI, worstJ) = (excess, got, expected, i, j);
            }
        }
        Assert.True(worstExcess <= 0,
            $"{what}, m={M} n={N} k={K}: C[{worstI},{worstJ}] = {worstGot:G9}, reference {worstExpected:G9}, beyond the tolerance by {worstExcess:G3}.");

        int length = M == 0 || N == 0 ? 0 : (M - 1) * ldc + N;
        for (int e = 0; e < c.Length; e++)
        {
            bool inside = e < length && e % ldc < N;
            Assert.True(inside || c[e] == Sentinel,
                $"{what}, m={M} n={N} k={K}: float {e} of C's array (row {e / ldc}, column {e % ldc}, ldc {ldc}, span {length}) " +
                $"lies outside C yet was overwritten with {c[e]}.");
        }
    }

    private static float[] Store(
        Dictionary<(bool Transpose, int Pad), (float[] Data, int Ld)> stores, float[] op, int rows, int cols, bool transpose, int pad, out int ld)
    {
        if (!stores.TryGetValue((transpose, pad), out var store))
        {
            store = (Store(op, rows, cols, transpose, pad), (transpose ? rows : cols) + pad);
            stores.Add((transpose, pad), store);
        }
        ld = store.Ld;
        return store.Data;
    }

    private static float[] Store(float[] op, int rows, int cols, bool transpose, int pad)
    {
        int storedRows = transpose ? cols : rows, storedCols = transpose ? rows : cols;
        int ld = storedCols + pad;
        float[] data = new float[storedRows == 0 || storedCols == 0 ? 0 : (storedRows - 1) * ld + storedCols];
        data.AsSpan().Fill(float.NaN);
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < cols; q++)
                data[transpose ? q * ld + r : r * ld + q] = op[r * cols + q];
        return data;
    }

    /// <summary>
    /// Row i of the product is Σ_p op(A)[i,p] · op(B)[p,:], of the bound Σ_p |op(A)[i,p]| · |op(B)[p,:]|, in double.
    /// Compiled optimised at once: the parallel tests' products are tens of millions of terms.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double[] Product, double[] Bound) Reference(float[] opA, float[] opB, int m, int n, int k)
    {
        double[] b = new double[k * n], absB = new double[k * n];
        for (int e = 0; e < b.Length; e++) (b[e], absB[e]) = (opB[e], Math.Abs(opB[e]));
        double[] product = new double[m * n], bound = new double[m * n];
        int width = Vector<double>.Count;
        for (int i = 0; i < m; i++)
        {
            Span<double> productRow = product.AsSpan(i * n, n), boundRow = bound.AsSpan(i * n, n);
            for (int p = 0; p < k; p++)
            {
                double a = opA[i * k + p], absA = Math.Abs(a);
                ReadOnlySpan<double> bRow = b.AsSpan(p * n, n), absBRow = absB.AsSpan(p * n, n);
                int j = 0;
                for (; j <= n - width; j += width)
                {
                    (new Vector<double>(productRow[j..]) + a * new Vector<double>(bRow[j..])).CopyTo(productRow[j..]);
                    (new Vector<double>(boundRow[j..]) + absA * new Vector<double>(absBRow[j..])).CopyTo(boundRow[j..]);
                }
                for (; j < n; j++)
                {
                    productRow[j] += a * bRow[j];
                    boundRow[j] += absA * absBRow[j];
                }
            }
        }
        return (product, bound);
    }

    private static float[] Uniform(Random rng, int length)
    {
        float[] data = new float[length];
        for (int i = 0; i < length; i++) data[i] = (float)(2 * rng.NextDouble() - 1);
        return data;
    }
}
