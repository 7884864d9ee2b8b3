using System.Runtime.InteropServices;

namespace MlNet.Rnn.Core.Tests.Kernels;

/// <summary>
/// Native floats that end exactly where an inaccessible page begins: reading or writing even one float past the end
/// of <see cref="Place"/>'s span faults (the test process stops), where a managed array would let it read its
/// neighbour's memory unnoticed.
/// </summary>
internal sealed unsafe partial class GuardedFloats : IDisposable
{
    private readonly byte* _start;
    private readonly nuint _bytes;
    private readonly float* _end;

    /// <param name="capacity">The most floats <see cref="Place"/> will be asked to hold.</param>
    public GuardedFloats(int capacity)
    {
        nuint page = (nuint)Environment.SystemPageSize;
        nuint dataBytes = ((nuint)capacity * sizeof(float) + page - 1) / page * page;
        _bytes = dataBytes + page;
        _start = Map(_bytes);
        Protect(_start + dataBytes, page);
        _end = (float*)(_start + dataBytes);
        Capacity = (int)(dataBytes / sizeof(float));
    }

    public int Capacity { get; }

    /// <summary>Copies <paramref name="values"/> so they end at the guard page and returns that span.</summary>
    public Span<float> Place(ReadOnlySpan<float> values)
    {
        if (values.Length > Capacity) throw new ArgumentException($"{values.Length} floats exceed the capacity {Capacity}.", nameof(values));
        var span = new Span<float>(_end - values.Length, values.Length);
        values.CopyTo(span);
        return span;
    }

    public void Dispose()
    {
        if (OperatingSystem.IsWindows()) VirtualFree(_start, 0, MemRelease);
        else munmap(_start, _bytes);
    }

    private static byte* Map(nuint bytes)
    {
        void* memory = OperatingSystem.IsWindows()
            ? VirtualAlloc(null, bytes, MemCommit | MemReserve, PageReadWrite)
            : mmap(null, bytes, ProtRead | ProtWrite, MapPrivate | (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 0x1000 : 0x20), -1, 0);
        if (memory == null || memory == (void*)-1) throw new InvalidOperationException($"Could not map {bytes} bytes.");
        return (byte*)memory;
    }

    private static void Protect(byte* page, nuint bytes)
    {
        bool protectedPage = OperatingSystem.IsWindows()
            ? VirtualProtect(page, bytes, PageNoAccess, out _) != 0
            : mprotect(page, bytes, ProtNone) == 0;
        if (!protectedPage) throw new InvalidOperationException("Could not protect the guard page.");
    }

    private const int ProtNone = 0, ProtRead = 1, ProtWrite = 2, MapPrivate = 2;
    private const uint MemCommit = 0x1000, MemReserve = 0x2000, MemRelease = 0x8000, PageNoAccess = 0x01, PageReadWrite = 0x04;

    [LibraryImport("libc", SetLastError = true)]
    private static partial void* mmap(void* address, nuint length, int protection, int flags, int descriptor, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mprotect(void* address, nuint length, int protection);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(void* address, nuint length);

    [LibraryImport("kernel32", SetLastError = true)]
    private static partial void* VirtualAlloc(void* address, nuint size, uint allocationType, uint protection);

    [LibraryImport("kernel32", SetLastError = true)]
    private static partial int VirtualProtect(void* address, nuint size, uint newProtection, out uint oldProtection);

    [LibraryImport("kernel32", SetLastError = true)]
    private static partial int VirtualFree(void* address, nuint size, uint freeType);
}
