using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MlNet.Rnn.Benchmarks;

/// <summary>
/// The FMA peak of one moment in GFLOP/s (wall clock) with 1 and with 2 threads, and the one-thread rate per second the
/// thread was on a CPU (<paramref name="OneThreadPerCpuSecond"/>): the core's own speed, whatever else ran inside the VM.
/// </summary>
internal readonly record struct FmaPeak(double OneThread, double TwoThreads, double OneThreadPerCpuSecond)
{
    /// <summary>Two-thread peak ÷ one-thread peak: 2 on two free cores.</summary>
    public double Ratio => TwoThreads / OneThread;

    /// <summary>Whether the second core was there: <see cref="Ratio"/> at least <see cref="MachineCheck.QuietRatio"/>.</summary>
    public bool Quiet => TwoThreads >= MachineCheck.QuietRatio * OneThread;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"1 thread {OneThread:F0} GFLOP/s ({OneThreadPerCpuSecond:F0} per CPU-second), 2 threads {TwoThreads:F0} GFLOP/s ({Ratio:F2}×)");
}

/// <summary>
/// Whether a run's machine was quiet. These VMs sometimes lose most of their second core to neighbours, which halves every
/// two-thread number without any other sign. A run measures the FMA peak (a loop of independent fused multiply-adds over
/// registers, <see cref="Vector512"/> when hardware-accelerated, else <see cref="Vector256"/>) with 1 and with 2 threads at its
/// start (<see cref="Begin"/>) and at its end (<see cref="Finish"/>), a few tenths of a second each, and prints both. The run is
/// quiet when at both ends the two-thread peak is at least <see cref="QuietRatio"/>× the one-thread peak; otherwise its
/// two-thread numbers are flagged.
/// </summary>
internal sealed class MachineCheck
{
    /// <summary>The least two-thread ÷ one-thread FMA peak of a quiet machine.</summary>
    public const double QuietRatio = 1.8;

    private const int Rounds = 3;
    private const double RoundSeconds = 0.08;
    private const int Accumulators = 12;

    private static readonly bool Use512 = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>FLOPs of one iteration of the kernel: an FMA (2 FLOPs) per lane of every accumulator.</summary>
    private static readonly int FlopsPerIteration = Accumulators * 2 * (Use512 ? Vector512<float>.Count : Vector256<float>.Count);

    private static long _iterations;

    private MachineCheck(FmaPeak start) => Start = start;

    /// <summary>The peak at the start of the run.</summary>
    public FmaPeak Start { get; }

    /// <summary>The peak at the end of the run; null before <see cref="Finish"/>.</summary>
    public FmaPeak? End { get; private set; }

    /// <summary>Quiet at the start and, once measured, at the end.</summary>
    public bool Quiet => Start.Quiet && (End?.Quiet ?? true);

    /// <summary>"quiet" or "noisy", as results.csv records it.</summary>
    public string State => Quiet ? "quiet" : "noisy";

    /// <summary>One line for the tables: both peaks and the verdict.</summary>
    public string Summary =>
        $"machine check (FMA peak, {(Use512 ? "Vector512" : "Vector256")}): start {Start}, " +
        (End is { } end ? $"end {end}" : "end not measured yet") + ": " +
        (Quiet
            ? $"quiet (two threads ≥ {QuietRatio.ToString(CultureInfo.InvariantCulture)}× one thread at both ends)"
            : $"NOISY (two threads below {QuietRatio.ToString(CultureInfo.InvariantCulture)}× one thread; two-thread numbers of this run are not to be trusted)");

    /// <summary>Measures and prints the peak at the start of a run.</summary>
    public static MachineCheck Begin()
    {
        var check = new MachineCheck(Measure());
        Console.WriteLine($"// machine check at the start: FMA peak {check.Start}{(check.Start.Quiet ? "" : $": NOISY, below {QuietRatio}×")}");
        return check;
    }

    /// <summary>Measures the peak at the end of the run and prints <see cref="Summary"/>.</summary>
    public void Finish()
    {
        End = Measure();
        Console.WriteLine($"// {Summary}");
    }

    /// <summary>The median of <see cref="Rounds"/> rounds with 1 thread and with 2, alternating so that both see the same moments.</summary>
    private static FmaPeak Measure()
    {
        if (_iterations == 0)
        {
            // Calibrate once: iterations for about RoundSeconds on one thread.
            Gflops(1, 100_000);
            long start = Stopwatch.GetTimestamp();
            Gflops(1, 1_000_000);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            _iterations = Math.Max(1_000_000, (long)(1_000_000 * RoundSeconds / seconds));
        }
        var one = new double[Rounds];
        var oneCpu = new double[Rounds];
        var two = new double[Rounds];
        for (int r = 0; r < Rounds; r++)
        {
            (one[r], oneCpu[r]) = Gflops(1, _iterations);
            two[r] = Gflops(2, _iterations).Wall;
        }
        Array.Sort(one);
        Array.Sort(oneCpu);
        Array.Sort(two);
        return new FmaPeak(one[Rounds / 2], two[Rounds / 2], oneCpu[Rounds / 2]);
    }

    /// <summary>
    /// GFLOP/s of <paramref name="threads"/> threads each running <paramref name="iterations"/> iterations of the kernel, from
    /// their common start to the last one's end, and per second on a CPU (the threads' mean; NaN where Linux's schedstat
    /// is missing); throws if the kernel allocated.
    /// </summary>
    private static (double Wall, double PerCpuSecond) Gflops(int threads, long iterations)
    {
        var ends = new long[threads];
        var allocated = new long[threads];
        var cpuNanoseconds = new double[threads];
        using var ready = new CountdownEvent(threads);
        using var go = new ManualResetEventSlim();
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() =>
            {
                ready.Signal();
                go.Wait();
                double cpuBefore = ThreadCpuNanoseconds();
                long before = GC.GetAllocatedBytesForCurrentThread();
                float sink = Use512 ? Kernel512(iterations, Multiplier, Addend) : Kernel256(iterations, Multiplier, Addend);
                ends[index] = Stopwatch.GetTimestamp();
                allocated[index] = GC.GetAllocatedBytesForCurrentThread() - before;
                cpuNanoseconds[index] = ThreadCpuNanoseconds() - cpuBefore;
                if (float.IsNaN(sink)) Console.WriteLine("// (never printed: keeps the kernel's result alive)");
            }) { IsBackground = true, Name = $"fma {index}" };
            workers[t].Start();
        }
        ready.Wait();
        long start = Stopwatch.GetTimestamp();
        go.Set();
        foreach (var worker in workers) worker.Join();
        if (allocated.Any(a => a != 0))
            throw new InvalidOperationException($"The FMA kernel allocated {allocated.Max()} bytes; it must allocate nothing.");
        double seconds = (double)(ends.Max() - start) / Stopwatch.Frequency, gflop = iterations * (double)FlopsPerIteration / 1e9;
        return (threads * gflop / seconds, gflop / (cpuNanoseconds.Average() / 1e9));
    }

    /// <summary>Nanoseconds the calling thread has spent on a CPU (the first field of Linux's /proc/thread-self/schedstat), or NaN.</summary>
    private static double ThreadCpuNanoseconds()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/thread-self/schedstat").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }

    // acc ← acc·m + a converges to a / (1 − m) = 1, so nothing overflows or turns subnormal. m and a come in as arguments:
    // as constants, .NET 8's JIT reads them from memory in every FMA, and the loads, not the FMAs, set the pace.
    private const float Multiplier = 0.999f, Addend = 0.001f;

    // Twelve independent accumulators cover the FMA latency of two pipes; each iteration is one FMA per accumulator, no
    // memory traffic.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Kernel512(long iterations, float multiplier, float addend)
    {
        var m = Vector512.Create(multiplier);
        var a = Vector512.Create(addend);
        Vector512<float> c0 = Vector512.Create(0.50f), c1 = Vector512.Create(0.51f), c2 = Vector512.Create(0.52f), c3 = Vector512.Create(0.53f);
        Vector512<float> c4 = Vector512.Create(0.54f), c5 = Vector512.Create(0.55f), c6 = Vector512.Create(0.56f), c7 = Vector512.Create(0.57f);
        Vector512<float> c8 = Vector512.Create(0.58f), c9 = Vector512.Create(0.59f), c10 = Vector512.Create(0.60f), c11 = Vector512.Create(0.61f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, m, a);
            c1 = Avx512F.FusedMultiplyAdd(c1, m, a);
            c2 = Avx512F.FusedMultiplyAdd(c2, m, a);
            c3 = Avx512F.FusedMultiplyAdd(c3, m, a);
            c4 = Avx512F.FusedMultiplyAdd(c4, m, a);
            c5 = Avx512F.FusedMultiplyAdd(c5, m, a);
            c6 = Avx512F.FusedMultiplyAdd(c6, m, a);
            c7 = Avx512F.FusedMultiplyAdd(c7, m, a);
            c8 = Avx512F.FusedMultiplyAdd(c8, m, a);
            c9 = Avx512F.FusedMultiplyAdd(c9, m, a);
            c10 = Avx512F.FusedMultiplyAdd(c10, m, a);
            c11 = Avx512F.FusedMultiplyAdd(c11, m, a);
        }
        return Vector512.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
    }

    /// <summary>The same kernel in 256-bit vectors (FMA3 when supported, else a multiply and an add).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Kernel256(long iterations, float multiplier, float addend)
    {
        var m = Vector256.Create(multiplier);
        var a = Vector256.Create(addend);
        Vector256<float> c0 = Vector256.Create(0.50f), c1 = Vector256.Create(0.51f), c2 = Vector256.Create(0.52f), c3 = Vector256.Create(0.53f);
        Vector256<float> c4 = Vector256.Create(0.54f), c5 = Vector256.Create(0.55f), c6 = Vector256.Create(0.56f), c7 = Vector256.Create(0.57f);
        Vector256<float> c8 = Vector256.Create(0.58f), c9 = Vector256.Create(0.59f), c10 = Vector256.Create(0.60f), c11 = Vector256.Create(0.61f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Fma(c0, m, a);
            c1 = Fma(c1, m, a);
            c2 = Fma(c2, m, a);
            c3 = Fma(c3, m, a);
            c4 = Fma(c4, m, a);
            c5 = Fma(c5, m, a);
            c6 = Fma(c6, m, a);
            c7 = Fma(c7, m, a);
            c8 = Fma(c8, m, a);
            c9 = Fma(c9, m, a);
            c10 = Fma(c10, m, a);
            c11 = Fma(c11, m, a);
        }
        return Vector256.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));

        static Vector256<float> Fma(Vector256<float> c, Vector256<float> m, Vector256<float> a) =>
            System.Runtime.Intrinsics.X86.Fma.IsSupported ? System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(c, m, a) : c * m + a;
    }
}
