namespace MlNet.Rnn.Core.Data;

/// <summary>
/// The temporary files data spills to (<see cref="SequenceCache"/>, the language model's <c>TokenStore</c>): opened for
/// reading and writing at any offset, and gone however the process ends.
/// </summary>
internal static class TemporaryFile
{
    /// <summary>A new, empty file <c>{prefix}-{guid}.bin</c> in <paramref name="directory"/> (null: the system's temporary folder).</summary>
    public static FileStream Create(string? directory, string prefix)
    {
        var file = new FileStream(Path.Combine(directory ?? Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}.bin"), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.None, bufferSize: 1, FileOptions.DeleteOnClose | FileOptions.RandomAccess);
        // On Unix the open file loses its name at once, so even a process that is killed leaves nothing behind; Windows
        // deletes it when the handle closes, however the process ends.
        if (!OperatingSystem.IsWindows()) File.Delete(file.Name);
        return file;
    }

    /// <summary>
    /// Fills <paramref name="bytes"/> from <paramref name="file"/> at <paramref name="offset"/>; a file that ends first is an
    /// <see cref="InvalidDataException"/> naming <paramref name="what"/>.
    /// </summary>
    public static void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle file, Span<byte> bytes, long offset, string what)
    {
        for (int read = 0; read < bytes.Length;)
        {
            int n = RandomAccess.Read(file, bytes[read..], offset + read);
            if (n == 0) throw new InvalidDataException($"{what} ends at byte {offset + read}, {bytes.Length - read} bytes before what was written there.");
            read += n;
        }
    }
}
