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
