using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// What loading one mutant did: <see cref="Result"/> is <c>identical</c> (it loaded and scored bit for bit as the original),
/// <see cref="Differs"/>, or
/// the type of the exception it threw, with its inner exceptions' (<c>InvalidOperationException &gt; InvalidDataException</c>),
/// and <see cref="Message"/> their messages; <see cref="Problem"/> says why the case breaks the rule (null when it keeps it).
/// </summary>
public sealed record FuzzOutcome(string Case, string Result, string? Message, long AllocatedBytes, TimeSpan Elapsed, string? Problem)
{
    /// <summary>The result of a mutant that loaded and scored as the original.</summary>
    public const string Identical = "identical";

    /// <summary>The result of a mutant that loaded but scored otherwise (which breaks the rule).</summary>
    public const string Differs = "loaded, outputs differ";

    /// <summary>The most a case may allocate on its thread.</summary>
    public const long AllocationLimit = 200_000_000;

    /// <summary>Runs <paramref name="load"/> (which loads the mutant and returns its outputs on the fixed input, or throws), measuring
    /// the time and the bytes it allocated, and judges it: outputs bit-identical (NaN payloads and −0 count) to <paramref name="expected"/>, or an exception that
    /// <paramref name="isClear"/> accepts (it returns null, or what is unclear about the exception); never over <see cref="AllocationLimit"/>.</summary>
    public static FuzzOutcome Judge(string name, Func<float[]> load, float[] expected, Func<Exception, string?> isClear)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        string result;
        string? message = null, problem = null;
        try
        {
            float[] actual = load();
            result = Identical;
            if (!BitIdentical(actual, expected))
            {
                result = Differs;
                problem = $"loaded, but its {actual.Length} outputs are not bit-identical to the original's {expected.Length}";
            }
        }
        catch (Exception exception)
        {
            result = TypeChain(exception);
            message = Messages(exception);
            problem = isClear(exception);
        }
        clock.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > AllocationLimit) problem = (problem is null ? "" : problem + "; ") + $"allocated {allocated:N0} bytes";
        return new FuzzOutcome(name, result, message, allocated, clock.Elapsed, problem);
    }

    private static bool BitIdentical(float[] a, float[] b) => MemoryMarshal.Cast<float, int>(a).SequenceEqual(MemoryMarshal.Cast<float, int>(b));

    /// <summary>The exception's type name, then its inner exceptions', " &gt; " between them.</summary>
    public static string TypeChain(Exception exception) =>
        exception.InnerException is null ? exception.GetType().Name : exception.GetType().Name + " > " + TypeChain(exception.InnerException);

    /// <summary>The exception's message, then its inner exceptions', " | " between them.</summary>
    public static string Messages(Exception exception) =>
        exception.InnerException is null ? exception.Message : exception.Message + " | " + Messages(exception.InnerException);
}
