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

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="target"/> with the first <paramref name="count"/> 32-bit fields of
    /// the transformer whose ML.NET model header (256 bytes) carries <paramref name="signature"/> passed through <paramref name="edit"/>.
    /// </summary>
    public static string RewriteFields(string source, string target, string signature, int count, Action<int[]> edit) =>
        Rewrite(source, target, (_, bytes) =>
        {
            if (bytes.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(signature)) < 0) return null;
            const int start = 256;
            int[] fields = [.. Enumerable.Range(0, count).Select(i => BitConverter.ToInt32(bytes, start + 4 * i))];
            edit(fields);
            for (int i = 0; i < fields.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(start + 4 * i), fields[i]);
            return bytes;
        });

    /// <summary>Copies <paramref name="source"/> to <paramref name="target"/> without its one entry named <paramref name="entryName"/>.</summary>
    public static string Remove(string source, string target, string entryName)
    {
        File.Copy(source, target);
        using var zip = ZipFile.Open(target, ZipArchiveMode.Update);
        Assert.Single(zip.Entries, entry => entry.Name == entryName).Delete();
        return target;
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="target"/> with the model header carrying <paramref name="signature"/>
    /// claiming format <paramref name="version"/> (written and readable), as a newer MlNet.Rnn would write it.
    /// </summary>
    public static string RewriteVersion(string source, string target, string signature, uint version) =>
        Rewrite(source, target, (_, bytes) =>
        {
            int at = bytes.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(signature));
            if (at < 0) return null;
            BitConverter.TryWriteBytes(bytes.AsSpan(at + 8), version);
            BitConverter.TryWriteBytes(bytes.AsSpan(at + 12), version);
            return bytes;
        });

    /// <summary>What loading <paramref name="path"/> throws, with its inner exceptions' messages (ML.NET wraps a loader's error twice).</summary>
    public static string LoadError(Microsoft.ML.MLContext mlContext, string path) =>
        Flatten(Assert.ThrowsAny<Exception>(() => mlContext.Model.Load(path, out _)));

    /// <summary>An exception's message followed by its inner exceptions' messages, " | " between them.</summary>
    public static string Flatten(Exception error) => error.InnerException is null ? error.Message : error.Message + " | " + Flatten(error.InnerException);
}
