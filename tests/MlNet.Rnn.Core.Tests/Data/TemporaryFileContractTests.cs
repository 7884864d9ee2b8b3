using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// <see cref="TemporaryFile"/>, where spilled data goes: <see cref="TemporaryFile.Create"/> opens a new file
/// <c>{prefix}-{32 hex digits}.bin</c> for reading and writing at any offset, in the folder given or the system's temporary
/// folder for null, with no name in its folder on Unix once open and none left on Windows once closed;
/// <see cref="TemporaryFile.ReadExactly"/> fills a span from an offset, and a file that ends first is an
/// <see cref="InvalidDataException"/> naming what was read, the byte where the file ended and how many bytes were missing.
/// </summary>
public sealed class TemporaryFileContractTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-temporary-file-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Create_OpensPrefixGuidBin_InTheFolderGiven_OrTheSystemsForNull_AndLeavesNothingThere()
    {
        using (var file = TemporaryFile.Create(_folder, "probe"))
        {
            Assert.Equal(_folder, Path.GetDirectoryName(file.Name));
            Assert.Matches(@"^probe-[0-9a-f]{32}\.bin$", Path.GetFileName(file.Name));
            Assert.True(file.CanRead && file.CanWrite && file.CanSeek);
            Assert.Equal(0, file.Length);
            Assert.Equal(OperatingSystem.IsWindows(), File.Exists(file.Name));
        }
        Assert.Empty(Directory.GetFileSystemEntries(_folder));

        using var inTemp = TemporaryFile.Create(null, "probe");
        Assert.Equal(Path.TrimEndingDirectorySeparator(Path.GetTempPath()), Path.GetDirectoryName(inTemp.Name));
        Assert.Matches(@"^probe-[0-9a-f]{32}\.bin$", Path.GetFileName(inTemp.Name));
    }

    [Fact]
    public void ReadExactly_FillsTheSpanFromTheOffset_AndAFileThatEndsFirst_SaysWhereAndHowManyBytesAreMissing()
    {
        using var file = TemporaryFile.Create(_folder, "probe");
        RandomAccess.Write(file.SafeFileHandle, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0);
        var four = new byte[4];
        TemporaryFile.ReadExactly(file.SafeFileHandle, four, 3, "The probe");
        Assert.Equal([4, 5, 6, 7], four);

        // 20 bytes from byte 3 of 10: the file gives 7, then ends at byte 10, 13 bytes short.
        var twenty = new byte[20];
        var error = Assert.Throws<InvalidDataException>(() => TemporaryFile.ReadExactly(file.SafeFileHandle, twenty, 3, "The probe"));
        Assert.Equal("The probe ends at byte 10, 13 bytes before what was written there.", error.Message);
        Assert.Equal([4, 5, 6, 7, 8, 9, 10], twenty[..7]);
    }
}
