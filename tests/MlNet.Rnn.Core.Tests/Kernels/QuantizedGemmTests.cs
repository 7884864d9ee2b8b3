using System.Runtime.Intrinsics.X86;
using MlNet.Rnn.Core.Kernels;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Kernels;

/// <summary>
/// <see cref="QuantizedGemm"/>: on integer data whose rows reach ±127 (scale exactly 1, so quantization is the identity) every
/// kernel computes the integer product exactly, for tile edges on both sides, odd depths, accumulation and a padded C, writing
/// nothing outside C's rows; a row quantizes to <c>s·q</c> with <c>s = max|v| / 127</c>, q within ±127 and each value off by at
/// most s/2; on random floats the product equals the double product of the quantized operands (an independent reference,
/// <see cref="ReferenceNetwork.QuantizeRow"/>) and stays within the quantization error bound of the exact product; the parallel
/// entry gives the single-threaded bits.
/// </summary>
[Collection(GemmCollection.Name)]
public sealed class QuantizedGemmTests
{
    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string> { nameof(QuantizedKernel.Scalar) };
        if (Avx2.IsSupported) data.Add(nameof(QuantizedKernel.Vector256));
        if (Avx512BW.IsSupported) data.Add(nameof(QuantizedKernel.Vector512));
        return data;
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void IntegerData_GivesTheExactIntegerProduct_ForEveryKernelAndEdge(string kernel)
    {
        var random = new Random(3);
        QuantizedGemm.ForcedKernel = Enum.Parse<QuantizedKernel>(kernel);
        try
        {
            foreach (int m in new[] { 1, 2, 3, 4, 5, 6, 7, 10, 13 }) // up to 4 rows a row at a time, 5 and 6 one tile, then both
                foreach (int n in new[] { 1, 31, 32, 33, 70 })
                    foreach (int k in new[] { 1, 2, 3, 17, 64 })
                    {
                        float[] a = IntegerRows(random, m, k), w = IntegerRows(random, n, k);
                        bool accumulate = (m + n + k) % 2 == 0;
                        int ldc = n + 3;
                        float[] c = new float[m * ldc + 8];
                        for (int i = 0; i < c.Length; i++) c[i] = random.Next(-50, 50);
                        float[] before = (float[])c.Clone();

                        var weights = new QuantizedMatrix();
                        weights.Quantize(w, n, k);
                        Assert.All(weights.Scales.ToArray(), s => Assert.Equal(1f, s));
                        short[] quantized = new short[m * QuantizedGemm.RowLength(k)];
                        float[] scales = new float[m];
                        QuantizedGemm.QuantizeRows(a, m, k, k, quantized, scales);
                        QuantizedGemm.Multiply(m, quantized, scales, weights, c, ldc, accumulate);

                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < ldc; j++)
                            {
                                int at = i * ldc + j;
                                if (j >= n)
                                {
                                    Assert.Equal(before[at], c[at]);
                                    continue;
                                }
                                double expected = accumulate ? before[at] : 0;
                                for (int p = 0; p < k; p++) expected += (double)a[i * k + p] * w[j * k + p];
                                Assert.True(expected == c[at], $"{kernel} m={m} n={n} k={k}: C[{i},{j}] = {c[at]}, expected {expected}");
                            }
                        for (int i = m * ldc; i < c.Length; i++) Assert.Equal(before[i], c[i]);
                    }
        }
        finally
        {
            QuantizedGemm.ForcedKernel = QuantizedKernel.Auto;
        }
    }

    [Fact]
    public void QuantizeRows_IsSymmetricInt8_WithinHalfAStep_AndZeroOrNonFiniteRowsAreExplicit()
    {
        var random = new Random(5);
        const int m = 4, k = 37, lda = 40;
        float[] a = NetworkFactory.RandomFloats(random, m * lda, 3);
        a.AsSpan(2 * lda, k).Clear(); // an all-zero row
        short[] quantized = Enumerable.Repeat((short)99, m * QuantizedGemm.RowLength(k)).ToArray();
        float[] scales = new float[m];
        QuantizedGemm.QuantizeRows(a, m, k, lda, quantized, scales);
        for (int i = 0; i < m; i++)
        {
            int row = i * QuantizedGemm.RowLength(k);
            float max = 0;
            for (int p = 0; p < k; p++) max = Math.Max(max, Math.Abs(a[i * lda + p]));
            Assert.Equal(max / 127f, scales[i]);
            Assert.Equal(0, quantized[row + k]); // the pad of an odd depth
            for (int p = 0; p < k; p++)
            {
                short q = quantized[row + p];
                Assert.InRange(q, (short)-127, (short)127);
                if (max == 0) Assert.Equal(0, q);
                else Assert.True(Math.Abs(q * (double)scales[i] - a[i * lda + p]) <= scales[i] * 0.5000001, $"row {i}, value {p}: q = {q}, scale {scales[i]}, x = {a[i * lda + p]}");
            }
        }
        Assert.Equal(0f, scales[2]);
        // The largest magnitude maps to ±127 exactly.
        int at = Array.IndexOf(a, a.AsSpan(0, k).ToArray().MaxBy(Math.Abs));
        Assert.Equal(127, Math.Abs((int)quantized[at]));

        a[lda + 3] = float.NaN;
        QuantizedGemm.QuantizeRows(a, m, k, lda, quantized, scales);
        Assert.True(float.IsNaN(scales[1]), "A NaN in a row must make its scale, and so its products, NaN.");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void RandomFloats_EqualTheDoubleProductOfTheQuantizedOperands_AndStayWithinTheQuantizationBound(string kernel)
    {
        var random = new Random(7);
        const int m = 11, n = 45, k = 29;
        float[] a = NetworkFactory.RandomFloats(random, m * k, 2), w = NetworkFactory.RandomFloats(random, n * k, 0.5);
        QuantizedGemm.ForcedKernel = Enum.Parse<QuantizedKernel>(kernel);
        float[] c = new float[m * n];
        float[] scales = new float[m];
        try
        {
            var weights = new QuantizedMatrix();
            weights.Quantize(w, n, k);
            short[] quantized = new short[m * QuantizedGemm.RowLength(k)];
            QuantizedGemm.QuantizeRows(a, m, k, k, quantized, scales);
            QuantizedGemm.Multiply(m, quantized, scales, weights, c, n, accumulate: false);
        }
        finally
        {
            QuantizedGemm.ForcedKernel = QuantizedKernel.Auto;
        }

        double[] qa = ReferenceNetwork.QuantizeRows(NetworkFactory.Widen(a), k), qw = ReferenceNetwork.QuantizeRows(NetworkFactory.Widen(w), k);
        double worstExact = 0, worstBound = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double quantizedProduct = 0, exact = 0, magnitude = 0, bound = 0;
                double sa = scales[i], sw = MaxAbs(w, j * k, k) / 127;
                for (int p = 0; p < k; p++)
                {
                    double x = a[i * k + p], y = w[j * k + p];
                    quantizedProduct += qa[i * k + p] * qw[j * k + p];
                    exact += x * y;
                    magnitude += Math.Abs(qa[i * k + p] * qw[j * k + p]);
                    bound += Math.Abs(x) * sw / 2 + Math.Abs(y) * sa / 2 + sa * sw / 4;
                }
                double got = c[i * n + j];
                worstExact = Math.Max(worstExact, Math.Abs(got - quantizedProduct) / (1e-6 * magnitude + 1e-7));
                worstBound = Math.Max(worstBound, Math.Abs(got - exact) / bound);
            }
        Assert.True(worstExact <= 1, $"{kernel}: the product differs from the double product of the quantized operands by {worstExact:F2}× the float tolerance.");
        Assert.True(worstBound <= 1, $"{kernel}: the product differs from the exact one by {worstBound:F2}× the quantization bound.");
    }

    [Theory]
    [InlineData(7)]    // too few rows: the panels of W are split
    [InlineData(300)]  // the rows of A are split
    public void MultiplyParallel_GivesTheSingleThreadedBits(int m)
    {
        var random = new Random(11);
        const int n = 512, k = 256;
        float[] a = NetworkFactory.RandomFloats(random, m * k), w = NetworkFactory.RandomFloats(random, n * k, 0.1);
        var weights = new QuantizedMatrix();
        weights.Quantize(w, n, k);
        short[] quantized = new short[m * QuantizedGemm.RowLength(k)];
        float[] scales = new float[m];
        QuantizedGemm.QuantizeRows(a, m, k, k, quantized, scales);
        float[] one = NetworkFactory.RandomFloats(random, m * n), two = (float[])one.Clone();
        QuantizedGemm.Multiply(m, quantized, scales, weights, one, n, accumulate: true);
        QuantizedGemm.MultiplyParallel(m, quantized, scales, weights, two, n, accumulate: true, maxDegreeOfParallelism: 2);
        Assert.Equal(one, two);
    }

    [Fact]
    public void ShapesThatDoNotFit_AreRefused_NamingTheArgument()
    {
        var weights = new QuantizedMatrix();
        weights.Quantize(new float[6], 2, 3);
        var error = Assert.Throws<ArgumentException>(() => QuantizedGemm.Multiply(2, new short[4], new float[2], weights, new float[4], 2, false));
        Assert.Equal("a", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => QuantizedGemm.Multiply(2, new short[8], new float[1], weights, new float[4], 2, false));
        Assert.Equal("aScales", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => QuantizedGemm.Multiply(2, new short[8], new float[2], weights, new float[3], 2, false));
        Assert.Equal("c", error.ParamName);
        Assert.Throws<ArgumentException>(() => weights.Quantize(new float[5], 2, 3));
        Assert.Throws<ArgumentException>(() => QuantizedGemm.QuantizeRows(new float[6], 2, 3, 3, new short[7], new float[2]));
    }

    /// <summary>Rows of integers in [−127, 127], each holding ±127 once, so their int8 scale is exactly 1.</summary>
    private static float[] IntegerRows(Random random, int rows, int columns)
    {
        var values = new float[rows * columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++) values[r * columns + c] = random.Next(-127, 128);
            values[r * columns + random.Next(columns)] = random.Next(2) == 0 ? 127 : -127;
        }
        return values;
    }

    private static double MaxAbs(float[] values, int start, int count)
    {
        double max = 0;
        for (int i = start; i < start + count; i++) max = Math.Max(max, Math.Abs(values[i]));
        return max;
    }
}
