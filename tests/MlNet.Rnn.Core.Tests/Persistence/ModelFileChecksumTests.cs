using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text.Json;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// Every model file carries each tensor's XXH3-64 checksum in its metadata; reading verifies it, so one damaged byte
/// anywhere in the data is an error naming the tensor; a damaged checksum list is an error too; the metadata carries a checksum
/// of its own, so any change to it (a configuration value, the tensors' checksum list) is an error naming it; files without
/// checksums (older ones, PyTorch's) still load.
/// </summary>
public sealed class ModelFileChecksumTests
{
    private static byte[] SavedNetwork()
    {
        var network = new RecurrentNetwork<GruCell>(new RecurrentNetworkOptions { InputSize = 2, HiddenSize = 3, Layers = 2 });
        network.Initialize(new Random(1));
        var stream = new MemoryStream();
        ModelFile.Save(stream, network.Parameters, """{"hidden_size":3}""");
        return stream.ToArray();
    }

    /// <summary>The header's tensors with their data's place in the file, read with a plain JSON parser.</summary>
    private static (JsonDocument Header, int DataStart, List<(string Name, int Begin, int End)> Tensors) Layout(byte[] file)
    {
        int n = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var header = JsonDocument.Parse(file.AsMemory(8, n));
        var tensors = header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__")
            .Select(p => (p.Name, p.Value.GetProperty("data_offsets")[0].GetInt32(), p.Value.GetProperty("data_offsets")[1].GetInt32())).ToList();
        return (header, 8 + n, tensors);
    }

    [Fact]
    public void EveryTensorsChecksum_IsXxh3OfItsStoredBytes()
    {
        byte[] file = SavedNetwork();
        var (header, start, tensors) = Layout(file);
        using var _ = header;
        string listed = header.RootElement.GetProperty("__metadata__").GetProperty(ModelFile.ChecksumsKey).GetString()!;
        var checksums = JsonSerializer.Deserialize<Dictionary<string, string>>(listed)!;

        Assert.Equal(tensors.Select(t => t.Name).Order(StringComparer.Ordinal), checksums.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, begin, end) in tensors)
            Assert.Equal(XxHash3.HashToUInt64(file.AsSpan(start + begin, end - begin)).ToString("x16"), checksums[name]);
    }

    [Fact]
    public void AnyDamagedDataByte_IsAnErrorNamingItsTensor()
    {
        byte[] file = SavedNetwork();
        var (header, start, tensors) = Layout(file);
        header.Dispose();
        Assert.True(tensors.Count >= 6);
        foreach (var (name, begin, end) in tensors)
            for (int offset = begin; offset < end; offset++)
            {
                byte[] damaged = (byte[])file.Clone();
                damaged[start + offset] ^= 0x10;
                var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(damaged), source: "model.safetensors"));
                Assert.StartsWith($"model.safetensors is damaged: the data of tensor '{name}' does not match its checksum (XXH3 ", error.Message);
                Assert.EndsWith("Restore the file from a copy, or train and save the model again.", error.Message);
            }
        ModelFile.Read(new MemoryStream(file));
    }

    /// <summary>A file of one tensor "w" [2] = {1, 2} whose metadata is <paramref name="metadata"/> (a JSON object's members).</summary>
    private static byte[] FileWithMetadata(string metadata) =>
        SafetensorsBytes.File("""{"__metadata__":{""" + metadata + """},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", SafetensorsBytes.Floats(1f, 2f));

    [Theory]
    [InlineData("""{}""", "has no checksum for tensor 'w' although it lists checksums: the header is damaged.")]
    [InlineData("""{\"w\":\"0000000000000000\",\"v\":\"0000000000000000\"}""", "lists a checksum for tensor 'v', which the file does not hold: the header is damaged.")]
    [InlineData("""{\"w\":\"00\"}""", "has checksum \"00\" for tensor 'w'; a checksum is 16 hex digits.")]
    [InlineData("""{\"w\":\"zzzzzzzzzzzzzzzz\"}""", "has checksum \"zzzzzzzzzzzzzzzz\" for tensor 'w'; a checksum is 16 hex digits.")]
    [InlineData("""{\"w\":1}""", "has checksum 1 for tensor 'w'; a checksum is 16 hex digits.")]
    [InlineData("""[]""", "has checksums_xxh3_64 that is a JSON Array, not an object of tensor checksums.")]
    [InlineData("""{\"w\":""", "has checksums_xxh3_64 that is not valid JSON (")]
    public void ADamagedChecksumList_IsAnErrorSayingWhat(string checksums, string problem)
    {
        byte[] file = FileWithMetadata($"\"{ModelFile.ChecksumsKey}\":\"{checksums}\"");

        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(file), source: "f"));

        Assert.StartsWith($"f {problem}", error.Message);
    }

    [Fact]
    public void AChecksumListedTwice_IsAnError()
    {
        string twice = $$"""{\"w\":\"{{XxHash3.HashToUInt64(SafetensorsBytes.Floats(1f, 2f)):x16}}\",\"w\":\"0000000000000000\"}""";
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(FileWithMetadata($"\"{ModelFile.ChecksumsKey}\":\"{twice}\"")), source: "f"));
        Assert.Equal("f lists a checksum for tensor 'w' twice.", error.Message);
    }

    [Fact]
    public void AnyChangeToTheMetadata_IsAnErrorNamingTheMetadata_EvenOneThatDescribesAValidModel()
    {
        var stream = new MemoryStream();
        ModelFile.Write(stream, new Dictionary<string, string> { ["configuration"] = """{"confidence":0.9}""" }, [("w", [2], new float[] { 1, 2 })]);
        byte[] file = stream.ToArray();
        int at = file.AsSpan().IndexOf("0.9"u8) + 2;
        foreach (byte other in "0123456789"u8.ToArray().Where(digit => digit != file[at]))
        {
            byte[] damaged = (byte[])file.Clone();
            damaged[at] = other; // confidence 0.9 becomes 0.8, 0.7, …: still a valid model, but not the one saved
            var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(damaged), source: "f"));
            Assert.StartsWith("f is damaged: its __metadata__ does not match its checksum (XXH3 ", error.Message);
            Assert.EndsWith("). Restore the file from a copy, or train and save the model again.", error.Message);
        }
        // The file as saved carries the metadata's checksum and reads back (the fuzz corpus removes the tensors' checksum list:
        // refused too, as a change to the metadata).
        string header = System.Text.Encoding.UTF8.GetString(file, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(file));
        Assert.Contains("\"metadata_xxh3_64\":\"", header);
        ModelFile.Read(new MemoryStream(file), source: "f");
    }

    [Theory]
    [InlineData("00")]
    [InlineData("ABCDEF0123456789")]
    [InlineData("zzzzzzzzzzzzzzzz")]
    public void AMalformedMetadataChecksum_IsAnError(string recorded)
    {
        byte[] file = FileWithMetadata($"\"format\":\"MlNet.Rnn\",\"format_version\":\"1\",\"{ModelFile.MetadataChecksumKey}\":\"{recorded}\"");
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(file), source: "f"));
        Assert.Equal($"f has metadata_xxh3_64 '{recorded}'; a checksum is 16 lowercase hex digits.", error.Message);
    }

    [Fact]
    public void AFileWithoutChecksums_StillLoads_WithoutTheCheck()
    {
        byte[] file = FileWithMetadata("\"format\":\"MlNet.Rnn\",\"format_version\":\"1\"");
        file[^1] ^= 0x10; // nothing records what the bytes were

        var contents = ModelFile.Read(new MemoryStream(file), requireModelFormat: true);

        Assert.Equal(2, contents["w"].Data.Length);
        Assert.DoesNotContain(ModelFile.ChecksumsKey, contents.Metadata.Keys);
    }

    [Fact]
    public void WritingBackMetadataOfAnotherFile_RecomputesTheChecksums()
    {
        var first = new MemoryStream();
        ModelFile.Write(first, new Dictionary<string, string>(), [("x", [1], new float[] { 2 })]);
        var metadata = ModelFile.Read(new MemoryStream(first.ToArray())).Metadata;

        var second = new MemoryStream();
        ModelFile.Write(second, metadata, [("x", [1], new float[] { 3 }), ("y", [1], new float[] { 4 })]);
        var contents = ModelFile.Read(new MemoryStream(second.ToArray()));

        Assert.Equal([3f], contents["x"].Data);
        Assert.Equal([4f], contents["y"].Data);
    }
}
