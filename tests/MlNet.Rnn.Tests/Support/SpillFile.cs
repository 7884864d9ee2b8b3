namespace MlNet.Rnn.Tests;

/// <summary>
/// The temporary file a fit spilled its training data to, as its log names it, and the check that nothing of it outlives
/// the fit: on Unix the file has no name from the moment it opens, so only the process's open handles can show it is closed.
/// </summary>
internal static class SpillFile
{
    /// <summary>The path in the fit's one "… (over TrainingDataMemoryMegabytes: read a … at a time from N MB in PATH)…" line.</summary>
    public static string PathIn(IEnumerable<string> messages)
    {
        string start = Assert.Single(messages, m => m.Contains("over TrainingDataMemoryMegabytes", StringComparison.Ordinal));
        int from = start.IndexOf(" in /", StringComparison.Ordinal) + 4;
        return start[from..start.IndexOf(')', from)];
    }

    /// <summary>No file has the name, and (on Linux) no handle of the process is open on it.</summary>
    public static void AssertGone(string path)
    {
        Assert.StartsWith(Path.GetTempPath(), path);
        Assert.False(File.Exists(path), $"{path} outlived Fit");
        if (OperatingSystem.IsLinux())
            Assert.DoesNotContain(Directory.GetFiles("/proc/self/fd").Select(fd => new FileInfo(fd).LinkTarget),
                target => target?.StartsWith(path, StringComparison.Ordinal) == true);
    }
}

/// <summary>
/// A fit's log, watched for the temporary files open in <paramref name="folder"/> at the fit's first line (the one that starts
/// with <paramref name="firstLine"/>) and at epoch 1, where it cancels the fit through <see cref="Cancellation"/>.
/// </summary>
internal sealed class SpillWatch : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();

    public SpillWatch(TemporaryFolder folder, string firstLine) => Logger = new RecordingLogger((_, line) =>
    {
        if (line.StartsWith(firstLine, StringComparison.Ordinal)) AtStart = folder.OpenFiles();
        if (line.StartsWith("Epoch 1:", StringComparison.Ordinal))
        {
            AtEpoch1 = folder.OpenFiles();
            _cancellation.Cancel();
        }
    });

    /// <summary>The logger to give the fit.</summary>
    public RecordingLogger Logger { get; }

    /// <summary>The token to give the fit: cancelled at epoch 1.</summary>
    public CancellationToken Cancellation => _cancellation.Token;

    /// <summary>The files open at the first line, with their lengths.</summary>
    public (string File, long Length)[] AtStart { get; private set; } = [];

    /// <summary>The files open at epoch 1, with their lengths.</summary>
    public (string File, long Length)[] AtEpoch1 { get; private set; } = [];

    public void Dispose() => _cancellation.Dispose();
}
