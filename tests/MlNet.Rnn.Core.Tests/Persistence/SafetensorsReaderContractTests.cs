using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// The reader's buffers and checks where files are large or unusual: a header or a float tensor larger than the reader's
/// first buffer reads whole from a forward-only stream (growing by doubling) and is allocated once from a seekable one; a
/// claim that runs past a forward-only stream costs at most about twice the bytes present; a converted (non-F32) tensor's
/// checksum is of its stored bytes; a skipped tensor is seeked past, so the tensor after it reads right; a file whose
/// checksum list sits under a damaged key is refused, and what counts as a listed checksum; a configuration the network
/// refuses to build is an <see cref="InvalidDataException"/> naming the file.
/// </summary>
public sealed class SafetensorsReaderContractTests
{
    private const string RestoreAdvice = "Restore the file from a copy, or train and save the model again.";

    /// <summary>A file of one F32 tensor "w" = {1, 2} whose metadata holds "note" = <paramref name="noteLength"/> letters.</summary>
    private static (byte[] File, string Note) FileWithLongHeader(int noteLength)
    {
        string note = string.Create(noteLength, 0, (span, _) => { for (int i = 0; i < span.Length; i++) span[i] = (char)('a' + i % 26); });
        byte[] file = SafetensorsBytes.File("{\"__metadata__\":{\"note\":\"" + note + "\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            SafetensorsBytes.Floats(1f, 2f));
        return (file, note);
    }

    [Fact]
    public void AHeaderLargerThanTheFirstBuffer_ReadsWholeFromAForwardOnlyStream()
    {
        // 200 KB: past the first 64 KB buffer and not a power-of-two multiple of it, with tensor data after it in the stream.
        var (file, note) = FileWithLongHeader(200_000);
        var contents = ModelFile.Read(new SafetensorsBytes.ForwardOnlyStream(file, maxRead: 1 << 16));
        Assert.Equal(note, contents.Metadata["note"]);
        Assert.Equal([1f, 2f], contents["w"].Data);
    }

    [Fact]
    public void AHeaderFromASeekableStream_IsAllocatedOnce()
    {
        var (file, _) = FileWithLongHeader(2_000_000);
        ModelFile.Read(new MemoryStream(file));   // JIT
        long grown = Allocated(() => ModelFile.Read(new SafetensorsBytes.ForwardOnlyStream(file, maxRead: 1 << 20)));
        long whole = Allocated(() => ModelFile.Read(new MemoryStream(file)));
        // Growing from 64 KB by doubling allocates 64 KB + 128 KB + … + 2 MB ≈ 4 MB for the header; once, 2 MB.
        Assert.True(grown - whole > 1_500_000, $"Reading the header from a seekable stream allocated {whole:N0} bytes, from a forward-only one {grown:N0}.");
    }

    /// <summary>One F32 tensor "w" of <paramref name="claimed"/> values i·0.5 (exact in float), of which the stream holds <paramref name="present"/>.</summary>
    private static byte[] FloatFile(long claimed, int present)
    {
        var data = new byte[4L * present];
        for (int i = 0; i < present; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4 * i), i * 0.5f);
        return SafetensorsBytes.File($$$"""{"w":{"dtype":"F32","shape":[{{{claimed}}}],"data_offsets":[0,{{{4 * claimed}}}]}}""", data);
    }

    private const int Large = 2_500_000;   // floats: past the reader's first allocation of 2^20 and not a power-of-two multiple of it

    [Fact]
    public void AFloatTensorLargerThanTheFirstAllocation_ReadsWholeFromAForwardOnlyStream()
    {
        byte[] file = FloatFile(Large, Large);
        float[] data = ModelFile.Read(new SafetensorsBytes.ForwardOnlyStream(file, maxRead: 1 << 20))["w"].Data;
        Assert.Equal(Large, data.Length);
        for (int i = 0; i < Large; i += 997) Assert.Equal(i * 0.5f, data[i]);
        Assert.Equal((Large - 1) * 0.5f, data[^1]);
    }

    [Fact]
    public void AFloatTensorFromASeekableStream_IsAllocatedOnce()
    {
        byte[] file = FloatFile(Large, Large);
        ModelFile.Read(new MemoryStream(file));   // JIT
        long allocated = Allocated(() => ModelFile.Read(new MemoryStream(file)));
        Assert.True(allocated < 4L * Large + 1_000_000, $"Reading {Large:N0} floats from a seekable stream allocated {allocated:N0} bytes; they take {4L * Large:N0}.");
    }

    [Fact]
    public void AClaimRunningPastAForwardOnlyStream_GrowsByDoublingAndCostsAboutTheBytesPresent()
    {
        // 400 million floats claimed, 1.5 million present: 4 MB, then 8 MB, then the cut is found.
        byte[] file = FloatFile(400_000_000, 1_500_000);
        Assert.Throws<InvalidDataException>(() => ModelFile.Read(new SafetensorsBytes.ForwardOnlyStream(file, maxRead: 1 << 20)));   // JIT
        InvalidDataException? error = null;
        long allocated = Allocated(() => error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new SafetensorsBytes.ForwardOnlyStream(file, maxRead: 1 << 20), source: "f")));
        Assert.Equal("f is truncated: the data of tensor 'w' (bytes 0 to 1600000000 of the data) is cut short.", error!.Message);
        Assert.True(allocated < 13_000_000, $"1.5 million floats present made the reader allocate {allocated:N0} bytes.");
    }

    /// <summary>One F16 tensor "h" {1, 2, 3} with its checksum (XXH3 of the stored 2-byte values) in the metadata.</summary>
    private static byte[] HalfFileWithChecksum()
    {
        var data = new byte[6];
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2 * i), (Half)(i + 1));
        string checksums = $$$"""{\"h\":\"{{{XxHash3.HashToUInt64(data):x16}}}\"}""";
        return SafetensorsBytes.File($$$"""{"__metadata__":{"{{{ModelFile.ChecksumsKey}}}":"{{{checksums}}}"},"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]}}""", data);
    }

    [Fact]
    public void AConvertedTensorsChecksum_IsOfItsStoredBytes()
    {
        byte[] file = HalfFileWithChecksum();
        Assert.Equal([1f, 2f, 3f], ModelFile.Read(new MemoryStream(file))["h"].Data);
        file[^1] ^= 0x01;
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(file), source: "f"));
        Assert.StartsWith("f is damaged: the data of tensor 'h' does not match its checksum (XXH3 ", error.Message);
    }

    [Fact]
    public void ASkippedTensor_IsSeekedPast_SoTheTensorAfterItReadsRight()
    {
        byte[] file = SafetensorsBytes.File(
            """{"optimizer.m":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"w":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}""",
            SafetensorsBytes.Floats(7f, 8f, 9f, 1f, 2f));
        var contents = ModelFile.Read(new MemoryStream(file), skipPrefixes: [ModelFile.CheckpointPrefix.Optimizer]);
        Assert.Equal(["w"], contents.Tensors.Select(tensor => tensor.Name));
        Assert.Equal([1f, 2f], contents["w"].Data);
    }

    [Fact]
    public void AChecksumListUnderADamagedKey_IsRefusedRatherThanReadWithoutChecks()
    {
        string checksums = $$$"""{\"w\":\"{{{XxHash3.HashToUInt64(SafetensorsBytes.Floats(1f, 2f)):x16}}}\"}""";
        byte[] file = SafetensorsBytes.File($$$"""{"__metadata__":{"checksums_xxh3_6A":"{{{checksums}}}"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""",
            SafetensorsBytes.Floats(1f, 2f));
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(file), source: "f"));
        Assert.Equal($"f has no {ModelFile.ChecksumsKey}, but its __metadata__ entry 'checksums_xxh3_6A' lists tensor checksums: the header is damaged. {RestoreAdvice}", error.Message);
    }

    [Theory]
    [InlineData("{\"w\":\"0123456789abcdef\"}", true)]
    [InlineData("\"w\":\"0123456789ABCDEF\" ", true)]            // at the very start of the value
    [InlineData("{\"w\":\"0123456789abcdef", false)]             // no closing quote: 16 digits and the end of the value
    [InlineData("x\"w\":\"0123456789abcdef\"", true)]            // the closing quote is the value's last character
    [InlineData("{\"w\":\"0123456789abcde\"}", false)]           // 15 digits
    [InlineData("{\"w\":\"0123456789abcdef0\"}", false)]         // 17 digits
    [InlineData("{\"w\":\"0123456789abcdeg\"}", false)]          // not hex
    [InlineData("{\"w\":\"short\", \"w\":\"0123456789abcdef\"}", true)]   // the second mention counts
    [InlineData("{\"w\":1, \"v\":\"0123456789abcdef\"}", false)]   // another tensor's name
    [InlineData("{\"w\" :\"0123456789abcdef\"}", false)]         // not a member as the writer writes it
    public void AValueMentionsAChecksum_WhenATensorsNameIsFollowedBy16HexDigitsInQuotes(string value, bool mentions)
    {
        Assert.Equal(mentions, TensorChecksums.MentionsAChecksumOf(value, ["w"]));
    }

    [Fact]
    public void AConfigurationTheNetworkRefusesToBuild_IsAnInvalidDataExceptionNamingTheFile()
    {
        var options = new SequenceModelOptions { FeaturesPerStep = 2, HiddenSize = 50_000, OutputSize = 1 };
        using var file = new MemoryStream();
        ModelFile.Write(file, new Dictionary<string, string> { [ModelFile.ConfigurationKey] = SequenceModelFile.ToJson(options) }, [("w", [2], new float[] { 1, 2 })]);
        var error = Assert.Throws<InvalidDataException>(() => SequenceModelFile.Load(new MemoryStream(file.ToArray()), "the upload"));
        Assert.StartsWith("the upload: the configuration describes a model that cannot be built: ", error.Message);
        Assert.IsAssignableFrom<ArgumentException>(error.InnerException);
    }

    private static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
