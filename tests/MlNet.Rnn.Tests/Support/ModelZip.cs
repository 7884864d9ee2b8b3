using System.IO.Compression;

namespace MlNet.Rnn.Tests;

/// <summary>Damaged copies of a saved ML.NET model (a zip of streams), for the tests of what loading refuses.</summary>
public static class ModelZip
{
    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="target"/> with the one entry <paramref name="edit"/> rewrites
    /// (it returns the entry's new bytes, or null to leave the entry as it is); asserts exactly one entry was rewritten.
    /// </summary>
    public static string Rewrite(string source, string target, Func<ZipArchiveEntry, byte[], byte[]?> edit)
    {
        File.Copy(source, target);
        using var zip = ZipFile.Open(target, ZipArchiveMode.Update);
        int edited = 0;
        foreach (var entry in zip.Entries.ToArray())
        {
            byte[] bytes;
            using (var stream = entry.Open()) { var buffer = new MemoryStream(); stream.CopyTo(buffer); bytes = buffer.ToArray(); }
            if (edit(entry, bytes) is not { } rewritten) continue;
            string entryName = entry.FullName;
            entry.Delete();
            using (var stream = zip.CreateEntry(entryName).Open()) stream.Write(rewritten);
            edited++;
        }
        Assert.Equal(1, edited);
        return target;
    }
}
