using System.Runtime.InteropServices;
using MlNet.Rnn.Core.Kernels;

namespace MlNet.Rnn.Core.Tests.Kernels;

/// <summary>
/// Every entry point of <see cref="Gemm"/> and <see cref="PackedMatrix.Pack"/> refuses each bad argument before
/// touching memory, with the exception type, the parameter name and the whole message that names the value and the fix:
/// negative sizes, a leading dimension below the stored columns (transposed or not), a span too short for its
/// stored matrix (transposed or not), a null packed matrix, a degree of parallelism of 0 or below -1, and a B too large to pack.
/// </summary>
[Collection(GemmCollection.Name)]
public sealed class GemmArgumentTests
{
    /// <summary>The plain and the parallel entry point with raw B (the parallel one with one thread per processor).</summary>
    public delegate void RawEntry(int m, int n, int k, float[] a, int lda, bool transposeA, float[] b, int ldb, bool transposeB, float[] c, int ldc);

    /// <summary>The plain and the parallel entry point with pre-packed B.</summary>
    public delegate void PackedEntry(int m, float[] a, int lda, bool transposeA, PackedMatrix? b, float[] c, int ldc);

    public static TheoryData<string> EntryNames() => new() { "Multiply", "MultiplyParallel" };

    [Theory]
    [MemberData(nameof(EntryNames))]
    public void RawB_BadArguments_AreRefusedWithTheirNameAndFix(string entryName)
    {
        RawEntry multiply = entryName == "Multiply"
            ? (m, n, k, a, lda, ta, b, ldb, tb, c, ldc) => Gemm.Multiply(m, n, k, a, lda, ta, b, ldb, tb, c, ldc, false)
            : (m, n, k, a, lda, ta, b, ldb, tb, c, ldc) => Gemm.MultiplyParallel(m, n, k, a, lda, ta, b, ldb, tb, c, ldc, false, -1);
        float[] six = new float[6], five = new float[5], four = new float[4], three = new float[3];

        // m = 2, n = 2, k = 3: A is [2×3] (stored [3×2] transposed), B is [3×2] (stored [2×3] transposed), C is [2×2].
        AssertRefused<ArgumentOutOfRangeException>(() => multiply(-1, 2, 3, six, 3, false, six, 2, false, four, 2),
            "m", "m (rows of C) must be non-negative.");
        AssertRefused<ArgumentOutOfRangeException>(() => multiply(2, -1, 3, six, 3, false, six, 2, false, four, 2),
            "n", "n (columns of C) must be non-negative.");
        AssertRefused<ArgumentOutOfRangeException>(() => multiply(2, 2, -1, six, 3, false, six, 2, false, four, 2),
            "k", "k (inner dimension) must be non-negative.");

        AssertRefused<ArgumentOutOfRangeException>(() => multiply(2, 2, 3, six, 2, false, six, 2, false, four, 2),
            "lda", "lda = 2 is less than the 3 columns of a as stored; pass a leading dimension ≥ 3.");
        AssertRefused<ArgumentOutOfRangeException>(() => multiply(2, 2, 3, six, 1, true, six, 2, false, four, 2),
            "lda", "lda = 1 is less than the 2 columns of a as stored (transposed); pass a leading dimension ≥ 2.");
        AssertRefused<ArgumentOutOfRangeException>(() => multiply(2, 2, 3, six, 3, false, six, 1, false, four, 2),
            "ldb", "ldb = 1 is less than the 2 columns of b as stored; pass a leading dimension ≥ 2.");
        AssertRefused<ArgumentOutOfRangeException>(() => multiply(2, 2, 3, six, 3, false, six, 2, true, four, 2),
            "ldb", "ldb = 2 is less than the 3 columns of b as stored (transposed); pass a leading dimension ≥ 3.");
        AssertRefused<ArgumentOutOfRangeException>(() => multiply(2, 2, 3, six, 3, false, six, 2, false, four, 1),
            "ldc", "ldc = 1 is less than the 2 columns of c as stored; pass a leading dimension ≥ 2.");

        AssertRefused<ArgumentException>(() => multiply(2, 2, 3, five, 3, false, six, 2, false, four, 2),
            "a", "a has 5 elements but a stored [2×3] matrix with leading dimension 3 needs 6.");
        AssertRefused<ArgumentException>(() => multiply(2, 2, 3, five, 2, true, six, 2, false, four, 2),
            "a", "a has 5 elements but a stored [3×2] matrix with leading dimension 2 needs 6 (it is transposed).");
        AssertRefused<ArgumentException>(() => multiply(2, 2, 3, six, 3, false, five, 2, false, four, 2),
            "b", "b has 5 elements but a stored [3×2] matrix with leading dimension 2 needs 6.");
        AssertRefused<ArgumentException>(() => multiply(2, 2, 3, six, 3, false, five, 3, true, four, 2),
            "b", "b has 5 elements but a stored [2×3] matrix with leading dimension 3 needs 6 (it is transposed).");
        AssertRefused<ArgumentException>(() => multiply(2, 2, 3, six, 3, false, six, 2, false, three, 2),
            "c", "c has 3 elements but a stored [2×2] matrix with leading dimension 2 needs 4.");
    }

    [Theory]
    [MemberData(nameof(EntryNames))]
    public void PackedB_BadArguments_AreRefusedWithTheirNameAndFix(string entryName)
    {
        PackedEntry multiply = entryName == "Multiply"
            ? (m, a, lda, ta, b, c, ldc) => Gemm.Multiply(m, a, lda, ta, b!, c, ldc, false)
            : (m, a, lda, ta, b, c, ldc) => Gemm.MultiplyParallel(m, a, lda, ta, b!, c, ldc, false, -1);
        var packed = new PackedMatrix();
        packed.Pack(new float[6], 2, false, 3, 2);   // op(B) [3×2]: k = 3, n = 2
        float[] six = new float[6], five = new float[5], four = new float[4], three = new float[3];

        AssertRefused<ArgumentNullException>(() => multiply(2, six, 3, false, null, four, 2),
            "b", "Value cannot be null.");
        AssertRefused<ArgumentOutOfRangeException>(() => multiply(-1, six, 3, false, packed, four, 2),
            "m", "m (rows of C) must be non-negative.");
        AssertRefused<ArgumentOutOfRangeException>(() => multiply(2, six, 2, false, packed, four, 2),
            "lda", "lda = 2 is less than the 3 columns of a as stored; pass a leading dimension ≥ 3.");
        AssertRefused<ArgumentOutOfRangeException>(() => multiply(2, six, 1, true, packed, four, 2),
            "lda", "lda = 1 is less than the 2 columns of a as stored (transposed); pass a leading dimension ≥ 2.");
        AssertRefused<ArgumentException>(() => multiply(2, five, 2, true, packed, four, 2),
            "a", "a has 5 elements but a stored [3×2] matrix with leading dimension 2 needs 6 (it is transposed).");
        AssertRefused<ArgumentOutOfRangeException>(() => multiply(2, six, 3, false, packed, four, 1),
            "ldc", "ldc = 1 is less than the 2 columns of c as stored; pass a leading dimension ≥ 2.");
        AssertRefused<ArgumentException>(() => multiply(2, six, 3, false, packed, three, 2),
            "c", "c has 3 elements but a stored [2×2] matrix with leading dimension 2 needs 4.");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    [InlineData(int.MinValue)]
    public void MaxDegreeOfParallelism_ZeroOrBelowMinusOne_IsRefused(int threads)
    {
        float[] a = new float[6], b = new float[6], c = new float[4];
        var packed = new PackedMatrix();
        packed.Pack(b, 2, false, 3, 2);
        const string message = "maxDegreeOfParallelism must be at least 1, or -1 for one thread per processor.";
        AssertRefused<ArgumentOutOfRangeException>(
            () => Gemm.MultiplyParallel(2, 2, 3, a, 3, false, b, 2, false, c, 2, false, threads), "maxDegreeOfParallelism", message);
        AssertRefused<ArgumentOutOfRangeException>(
            () => Gemm.MultiplyParallel(2, a, 3, false, packed, c, 2, false, threads), "maxDegreeOfParallelism", message);
    }

    [Fact]
    public void Pack_BadArguments_AreRefusedWithTheirNameAndFix()
    {
        var packed = new PackedMatrix();
        float[] six = new float[6], five = new float[5];
        AssertRefused<ArgumentOutOfRangeException>(() => packed.Pack(six, 2, false, -1, 2), "k", "k (rows of op(B)) must be non-negative.");
        AssertRefused<ArgumentOutOfRangeException>(() => packed.Pack(six, 2, false, 3, -1), "n", "n (columns of op(B)) must be non-negative.");
        AssertRefused<ArgumentOutOfRangeException>(() => packed.Pack(six, 1, false, 3, 2),
            "ldb", "ldb = 1 is less than the 2 columns of b as stored; pass a leading dimension ≥ 2.");
        AssertRefused<ArgumentOutOfRangeException>(() => packed.Pack(six, 2, true, 3, 2),
            "ldb", "ldb = 2 is less than the 3 columns of b as stored (transposed); pass a leading dimension ≥ 3.");
        AssertRefused<ArgumentException>(() => packed.Pack(five, 3, true, 3, 2),
            "b", "b has 5 elements but a stored [2×3] matrix with leading dimension 3 needs 6 (it is transposed).");
        // A refused pack leaves the matrix as it was.
        Assert.Equal(0, packed.Depth);
        Assert.Equal(0, packed.Columns);
    }

    [Fact]
    public unsafe void Pack_MoreFloatsThanAnArrayHolds_IsRefused()
    {
        // op(B) [2²⁶+1 × 1] fits its span (2²⁶+1 floats, 256 MiB, reserved but never touched), but its panels of 32
        // columns would take 32·(2²⁶+1) > Array.MaxLength floats.
        const int k = (1 << 26) + 1;
        nint memory = (nint)NativeMemory.Alloc((nuint)k * sizeof(float));
        try
        {
            var packed = new PackedMatrix();
            ArgumentException refused = Assert.Throws<ArgumentException>(
                () => packed.Pack(new ReadOnlySpan<float>((void*)memory, k), 1, false, k, 1));
            Assert.Equal("k", refused.ParamName);
            Assert.StartsWith($"op(B) [{k}×1] is too large to pack ({32L * k} floats). (Parameter 'k')", refused.Message);
        }
        finally
        {
            NativeMemory.Free((void*)memory);
        }
    }

    private static void AssertRefused<TException>(Action call, string parameter, string message) where TException : ArgumentException
    {
        TException refused = Assert.Throws<TException>(call);
        Assert.Equal(parameter, refused.ParamName);
        Assert.StartsWith($"{message} (Parameter '{parameter}')", refused.Message);
    }
}
