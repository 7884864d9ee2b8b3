using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace MlNet.Rnn.Tests;

/// <summary>
/// A temporary folder of a test's own, which TMPDIR (Unix) points at while it lives, so every temporary file the code under
/// test makes goes there and the process's handles on them can be told from any other test's. Moving TMPDIR moves it for the
/// whole process: a test that makes one belongs to the collection <see cref="Alone"/>, which runs after the others, alone.
/// </summary>
internal sealed class TemporaryFolder : IDisposable
{
    /// <summary>The collection of the tests that move TMPDIR.</summary>
    public const string Alone = "Alone: moves TMPDIR";

    private readonly string? _previous = Environment.GetEnvironmentVariable("TMPDIR");

    public TemporaryFolder()
    {
        Path = Directory.CreateTempSubdirectory("mlnet-rnn-tests-tmpdir-").FullName;
        Environment.SetEnvironmentVariable("TMPDIR", Path);
        Assert.Equal(Path + System.IO.Path.DirectorySeparatorChar, System.IO.Path.GetTempPath());
    }

    public string Path { get; }

    /// <summary>
    /// The files inside the folder the process has a handle open on, with their length now (on Linux, through /proc/self/fd,
    /// which reaches even a file that has no name any more; elsewhere none are seen), ordered by name.
    /// </summary>
    public (string File, long Length)[] OpenFiles()
    {
        if (!OperatingSystem.IsLinux()) return [];
        var open = new List<(string, long)>();
        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue;   // closed since the listing
            }
            if (target is null || !target.StartsWith(Path, StringComparison.Ordinal)) continue;
            using var handle = new SafeFileHandle(int.Parse(System.IO.Path.GetFileName(fd), CultureInfo.InvariantCulture), ownsHandle: false);
            open.Add((target, RandomAccess.GetLength(handle)));
        }
        return [.. open.OrderBy(file => file.Item1, StringComparer.Ordinal)];
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("TMPDIR", _previous);
        Directory.Delete(Path, recursive: true);
    }
}

/// <summary>The tests that move TMPDIR (<see cref="TemporaryFolder"/>) run in this collection, alone, after the others.</summary>
[CollectionDefinition(TemporaryFolder.Alone, DisableParallelization = true)]
public sealed class TemporaryFolderCollection;
