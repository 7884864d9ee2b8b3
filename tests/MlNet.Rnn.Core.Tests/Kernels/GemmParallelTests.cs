using System.Diagnostics.Tracing;
using System.Globalization;
using MlNet.Rnn.Core.Kernels;

namespace MlNet.Rnn.Core.Tests.Kernels;

/// <summary>
/// The parallel entry points above the parallel threshold, where the work is really split: both splits (rows, with
/// op(B) packed once into the shared pooled buffer, and column panels), raw and pre-packed B, every transpose
/// combination, with and without accumulation, give the double-precision reference product; the product is split
/// across min(maxDegreeOfParallelism (or the processor count for -1), ⌊2mnk / 2²²⌋) threads, and runs on the calling
/// thread alone when that is one; and a steady-state row split reuses the pooled op(B) instead of allocating one.
/// </summary>
[Collection(GemmCollection.Name)]
public sealed class GemmParallelTests
{
    /// <summary>Enough rows for every thread to get whole row panels (rows split); 2·131·200·1000 ≈ 12.5·2²² flops.</summary>
    private static readonly Lazy<GemmProblem> s_manyRows = new(() => new GemmProblem(131, 200, 1000, seed: 11));

    /// <summary>Too few rows to share (40 &lt; 4·MR per thread), 20 column panels (columns split); 2·40·630·1000 ≈ 12.0·2²² flops.</summary>
    private static readonly Lazy<GemmProblem> s_fewRows = new(() => new GemmProblem(40, 630, 1000, seed: 12));

    /// <summary>Above the 2²²-flop threshold but one thread's worth: 2·21·125·1000 ≈ 1.25·2²² flops.</summary>
    private static readonly Lazy<GemmProblem> s_oneThreadsWorth = new(() => new GemmProblem(21, 125, 1000, seed: 13));

    /// <summary>Far below the threshold.</summary>
    private static readonly Lazy<GemmProblem> s_small = new(() => new GemmProblem(17, 33, 5, seed: 14));

    public static TheoryData<bool, bool> TransposeCombinations() => new()
    {
        { false, false }, { false, true }, { true, false }, { true, true },
    };

    /// <summary>
    /// Problem, pre-packed B, maxDegreeOfParallelism: every degree for one split of each entry point, and each other
    /// split and entry on two threads; one thread's worth of flops; far below the threshold.
    /// </summary>
    public static TheoryData<string, bool, int> WorkerCases()
    {
        var data = new TheoryData<string, bool, int>();
        foreach (int threads in new[] { 1, 2, 4, -1 })
        {
            data.Add(nameof(s_manyRows), false, threads);
            data.Add(nameof(s_fewRows), true, threads);
        }
        data.Add(nameof(s_manyRows), true, 2);
        data.Add(nameof(s_fewRows), false, 2);
        data.Add(nameof(s_oneThreadsWorth), false, 2);
        data.Add(nameof(s_oneThreadsWorth), true, 4);
        data.Add(nameof(s_small), false, -1);
        data.Add(nameof(s_small), true, 2);
        return data;
    }

    [Theory]
    [MemberData(nameof(TransposeCombinations))]
    public void AboveTheThreshold_BothSplits_MatchReference(bool transposeA, bool transposeB)
    {
        // Accumulating or not, on two threads or one per processor, as the transposes vary.
        foreach (GemmProblem problem in new[] { s_manyRows.Value, s_fewRows.Value })
            foreach (bool packed in new[] { false, true })
                Run(problem, transposeA, transposeB, packed, accumulate: transposeA, threads: transposeB ? -1 : 2, pad: 1);
    }

    [Theory]
    [MemberData(nameof(WorkerCases))]
    public void Workers_AreTheAllowedThreads_CappedAtOnePer2To22Flops(string problemName, bool packed, int threads)
    {
        GemmProblem problem = Problem(problemName);
        int allowed = threads == -1 ? Environment.ProcessorCount : threads;
        long expected = Math.Min(allowed, problem.Flops >> 22);
        if (expected < 2) expected = 0;

        long workers;
        using (var loops = new ParallelLoopRecorder())
        {
            // The transposes vary with the case so each split also meets every operand layout here.
            Run(problem, transposeA: threads % 2 == 0, transposeB: packed ^ (threads < 0), packed, accumulate: packed, threads, pad: 2);
            workers = loops.MostWorkers;
        }
        Assert.True(expected == workers,
            $"{problemName} ({problem.Flops} flops = {problem.Flops / (double)(1 << 22):F2}·2²²), packed B {packed}, " +
            $"maxDegreeOfParallelism {threads}: split {workers} ways, expected {expected} (0: on the calling thread alone).");
    }

    [Fact]
    public void RowSplit_InSteadyState_ReusesThePooledPackedB()
    {
        GemmProblem problem = s_manyRows.Value;
        float[] a = problem.StoreA(false, 0, out int lda), b = problem.StoreB(false, 0, out int ldb);
        float[] c = problem.NewC(accumulate: false, 0, out int ldc, out int length);
        long packedBytes = (long)problem.K * ((problem.N + 31) / 32 * 32) * sizeof(float);
        void Product() => Gemm.MultiplyParallel(problem.M, problem.N, problem.K, a, lda, false, b, ldb, false, c.AsSpan(0, length), ldc, false, 2);
        Product();   // sizes the pooled matrix and this thread's packing buffers
        // The pooled matrix is packed on the calling thread. Another test class may borrow the pool at the same
        // moment, so one clean call of three is enough.
        long fewest = long.MaxValue;
        for (int call = 0; call < 3; call++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Product();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        problem.AssertProduct(c, ldc, accumulate: false, "steady-state row split");
        Assert.True(fewest < packedBytes / 8,
            $"a steady-state row split allocated {fewest} bytes on the calling thread; packed op(B) takes {packedBytes}: " +
            "it should come from the pool, not be allocated per call.");
    }

    private static GemmProblem Problem(string name) => name switch
    {
        nameof(s_manyRows) => s_manyRows.Value,
        nameof(s_fewRows) => s_fewRows.Value,
        nameof(s_oneThreadsWorth) => s_oneThreadsWorth.Value,
        _ => s_small.Value,
    };

    private static void Run(GemmProblem problem, bool transposeA, bool transposeB, bool packed, bool accumulate, int threads, int pad)
    {
        float[] a = problem.StoreA(transposeA, pad, out int lda);
        float[] c = problem.NewC(accumulate, pad, out int ldc, out int length);
        if (packed)
        {
            PackedMatrix b = problem.PackB(transposeB, pad);
            Gemm.MultiplyParallel(problem.M, a, lda, transposeA, b, c.AsSpan(0, length), ldc, accumulate, threads);
        }
        else
        {
            float[] b = problem.StoreB(transposeB, pad, out int ldb);
            Gemm.MultiplyParallel(problem.M, problem.N, problem.K, a, lda, transposeA, b, ldb, transposeB, c.AsSpan(0, length), ldc, accumulate, threads);
        }
        problem.AssertProduct(c, ldc, accumulate,
            $"MultiplyParallel packed={packed} transposeA={transposeA} transposeB={transposeB} accumulate={accumulate} threads={threads}");
    }

    /// <summary>
    /// Records the parallel loops one thread starts, from the events the runtime's parallel library writes for each
    /// loop (System.Threading.Tasks.Parallel.EventSource; an in-process listener gets them on the thread that starts
    /// the loop, so loops of tests running at the same time are left out). <see cref="Gemm"/> splits a product as
    /// <c>Parallel.For(0, threads, …)</c>, one iteration per thread, so a loop's iteration count is its thread count.
    /// </summary>
    private sealed class ParallelLoopRecorder : EventListener
    {
        // Field initialisers run before the base constructor, which already reports the existing event sources.
        private readonly int _thread = Environment.CurrentManagedThreadId;
        private readonly List<long> _iterations = [];

        /// <summary>Iterations of the largest parallel loop the thread started; 0 when it started none.</summary>
        public long MostWorkers
        {
            get
            {
                lock (_iterations) return _iterations.Count == 0 ? 0 : _iterations.Max();
            }
        }

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "System.Threading.Tasks.Parallel.EventSource")
                EnableEvents(source, EventLevel.Informational, EventKeywords.All);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName != "ParallelLoopBegin" || Environment.CurrentManagedThreadId != _thread) return;
            long from = Convert.ToInt64(e.Payload![e.PayloadNames!.IndexOf("InclusiveFrom")], CultureInfo.InvariantCulture);
            long to = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("ExclusiveTo")], CultureInfo.InvariantCulture);
            lock (_iterations) _iterations.Add(to - from);
        }
    }
}
