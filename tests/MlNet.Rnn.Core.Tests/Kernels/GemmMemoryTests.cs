using System.Runtime.ExceptionServices;
using MlNet.Rnn.Core.Kernels;

namespace MlNet.Rnn.Core.Tests.Kernels;

/// <summary>
/// The memory <see cref="Gemm"/> touches: with every kernel width, row count and layout it reads nothing past the end
/// of A or B (each ends at an inaccessible page, so a stray read stops the test process) and writes nothing past C's
/// span or into C's padding; and a thread's packing buffers are one cache block of each operand (192 KiB of op(A)
/// panels, 2 MiB of op(B) panels, none for a pre-packed B), however large the product.
/// </summary>
[Collection(GemmCollection.Name)]
public sealed class GemmMemoryTests
{
    // The slack covers what the runtime allocates beside the buffers: the parallel split's tasks, whose number depends on how
    // busy the thread pool is (a loaded CI machine once took 9.7 KB). A second block of either operand (192 KB or 2 MB) is
    // far beyond it.
    private const long ABlockBytes = 192 * 1024, BBlockBytes = 2048 * 1024, Slack = 64 * 1024;

    public static TheoryData<string> KernelNames() =>
        new() { nameof(GemmKernel.Vector512), nameof(GemmKernel.Vector256), nameof(GemmKernel.Vector128) };

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void ReadsNothingPastAOrB_AndWritesNothingOutsideC(string kernelName)
    {
        GemmKernel kernel = Enum.Parse<GemmKernel>(kernelName);
        int mr = kernel switch { GemmKernel.Vector512 => 8, GemmKernel.Vector256 => 6, _ => 4 };
        using var aMemory = new GuardedFloats(4096);
        using var bMemory = new GuardedFloats(4096);
        GemmKernel saved = Gemm.ForcedKernel;
        Gemm.ForcedKernel = kernel;
        try
        {
            int seed = 100;
            const int k = 19;
            // Whole and partial row panels (m a multiple of MR or not, 3 rows past whole panels, one panel or several),
            // a partial and a whole column panel; pad 0 puts the last stored element right before the guard page.
            foreach (int m in new[] { 1, mr, mr + 3, 3 * mr - 1, 4 * mr })
                foreach (int n in new[] { 37, 64 })
                    foreach (bool transposeA in new[] { false, true })
                        foreach (bool transposeB in new[] { false, true })
                        {
                            var problem = new GemmProblem(m, n, k, ++seed);
                            int pad = seed % 3 == 0 ? 2 : 0;
                            Span<float> a = aMemory.Place(problem.StoreA(transposeA, pad, out int lda));
                            Span<float> b = bMemory.Place(problem.StoreB(transposeB, pad, out int ldb));
                            string what = $"kernel {kernel}, transposeA={transposeA} transposeB={transposeB} pad={pad}";

                            float[] c = problem.NewC(accumulate: false, pad, out int ldc, out int length);
                            Gemm.Multiply(m, n, k, a, lda, transposeA, b, ldb, transposeB, c.AsSpan(0, length), ldc, accumulate: false);
                            problem.AssertProduct(c, ldc, accumulate: false, what);

                            var packed = new PackedMatrix();
                            packed.Pack(b, ldb, transposeB, k, n);
                            c = problem.NewC(accumulate: false, pad, out ldc, out length);
                            Gemm.Multiply(m, a, lda, transposeA, packed, c.AsSpan(0, length), ldc, accumulate: false);
                            problem.AssertProduct(c, ldc, accumulate: false, what + ", B pre-packed");
                        }
        }
        finally
        {
            Gemm.ForcedKernel = saved;
        }
    }

    [Fact]
    public void PackingBuffers_AreOneCacheBlockPerOperand_HoweverLargeTheProduct()
    {
        // n = 2100 > nc = 2048 columns and k = 300 > kc = 256 rows: more than one block of op(B) each way.
        var problem = new GemmProblem(2, 2100, 300, seed: 31);
        float[] a = problem.StoreA(false, 0, out int lda), b = problem.StoreB(false, 0, out int ldb);
        PackedMatrix packed = problem.PackB(false, 0);
        float[] c = problem.NewC(accumulate: false, 0, out int ldc, out int length);
        void Raw() => Gemm.Multiply(problem.M, problem.N, problem.K, a, lda, false, b, ldb, false, c.AsSpan(0, length), ldc, false);
        void Packed() => Gemm.Multiply(problem.M, a, lda, false, packed, c.AsSpan(0, length), ldc, false);
        // Compile and initialise everything on this thread first, so the fresh threads allocate only their buffers.
        Raw();
        Packed();

        long raw = AllocatedOnAFreshThread(Raw);
        problem.AssertProduct(c, ldc, accumulate: false, "raw B on a fresh thread");
        long prePacked = AllocatedOnAFreshThread(Packed);
        problem.AssertProduct(c, ldc, accumulate: false, "pre-packed B on a fresh thread");

        Assert.True(raw >= BBlockBytes && raw <= ABlockBytes + BBlockBytes + Slack,
            $"a first product with raw B allocated {raw} bytes; one block of each operand is {ABlockBytes} + {BBlockBytes} (+ {Slack} slack).");
        Assert.True(prePacked >= ABlockBytes && prePacked <= ABlockBytes + Slack,
            $"a first product with pre-packed B allocated {prePacked} bytes; one block of op(A) is {ABlockBytes} (+ {Slack} slack), and B needs none.");
    }

    private static long AllocatedOnAFreshThread(Action action)
    {
        long allocated = -1;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                action();
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Start();
        thread.Join();
        failure?.Throw();
        return allocated;
    }
}
