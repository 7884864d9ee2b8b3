using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// The bytes our writer produces, checked against the safetensors specification: an 8-byte little-endian header length
/// N, N bytes of JSON padded with spaces to a multiple of 8, then little-endian F32 data, contiguous in order.
/// </summary>
public sealed class SafetensorsLayoutTests
{
    [Fact]
    public void Write_SmallFile_MatchesTheSpecificationByteForByte()
    {
        var stream = new MemoryStream();
        ModelFile.Write(stream, new Dictionary<string, string> { ["note"] = "x" },
        [
            ("a", [2], new float[] { 1f, -2f }),
            ("b", [1, 1], new float[] { 0.5f }),
        ]);

        byte[] a = [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0];             // 1.0f, -2.0f
        byte[] b = [0x00, 0x00, 0x00, 0x3F];                                      // 0.5f
        // Every tensor's XXH3-64 of its stored bytes, as 16 hex digits, in a JSON object held as a metadata string.
        string checksums = $$"""{\"a\":\"{{XxHash3.HashToUInt64(a):x16}}\",\"b\":\"{{XxHash3.HashToUInt64(b):x16}}\"}""";
        // The metadata's checksum: XXH3-64 of every other entry, in ordinal key order, as key, a zero byte, value, a zero byte.
        string unescaped = checksums.Replace("\\\"", "\"", StringComparison.Ordinal);
        string entries = $"checksums_xxh3_64\0{unescaped}\0format\0MlNet.Rnn\0format_version\01\0note\0x\0";
        string metadataChecksum = $"{XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(entries)):x16}";
        string json = """{"__metadata__":{"format":"MlNet.Rnn","format_version":"1","note":"x","checksums_xxh3_64":""" + $"\"{checksums}\"," +
                      $"\"metadata_xxh3_64\":\"{metadataChecksum}\"}}," +
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[8,12]}}";
        Assert.Equal(296, json.Length);
        var expected = new List<byte> { 0x28, 0x01, 0, 0, 0, 0, 0, 0 };      // N = 296 = 0x128, a multiple of 8, little-endian u64
        expected.AddRange(Encoding.ASCII.GetBytes(json));                    // no padding
        expected.AddRange(a);
        expected.AddRange(b);
        Assert.Equal(expected.ToArray(), stream.ToArray());
    }

    [Fact]
    public void Save_Network_HeaderAndDataFollowTheSpecification()
    {
        var network = new RecurrentNetwork<LstmCell>(new RecurrentNetworkOptions
        {
            InputSize = 3, HiddenSize = 4, Layers = 2, Bidirectional = true, LearnedInitialState = true,
        });
        network.Initialize(new Random(1));
        var stream = new MemoryStream();
        ModelFile.Save(stream, network.Parameters, """{"hidden_size":4}""");
        byte[] file = stream.ToArray();

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(0UL, n % 8);
        var header = file.AsSpan(8, (int)n);
        int end = header.LastIndexOf((byte)'}');
        Assert.True(n - (ulong)end - 1 < 8, "at most 7 bytes of padding");
        Assert.True(header[(end + 1)..].IndexOfAnyExcept((byte)' ') < 0, "the padding is spaces");
        Assert.Equal((int)(8 + n) + 4 * network.Parameters.Count, file.Length);

        using var document = JsonDocument.Parse(header.ToArray());
        var properties = document.RootElement.EnumerateObject().ToList();
        Assert.Equal("__metadata__", properties[0].Name);
        var metadata = properties[0].Value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal("MlNet.Rnn", metadata["format"]);
        Assert.Equal("1", metadata["format_version"]);
        Assert.Equal("""{"hidden_size":4}""", metadata["configuration"]);

        long offset = 0;
        var data = file.AsSpan((int)(8 + n));
        Assert.Equal(network.Parameters.Tensors.Select(t => t.Name), properties.Skip(1).Select(p => p.Name));
        foreach (var tensor in network.Parameters.Tensors)
        {
            var entry = document.RootElement.GetProperty(tensor.Name);
            Assert.Equal("F32", entry.GetProperty("dtype").GetString());
            Assert.Equal(tensor.Shape, entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
            var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal([offset, offset + 4L * tensor.Length], offsets);
            var values = network.Parameters.ValuesOf(tensor);
            for (int i = 0; i < values.Length; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits(values[i]), BinaryPrimitives.ReadInt32LittleEndian(data[(int)(offset + 4 * i)..]));
            offset = offsets[1];
        }
        Assert.Equal(data.Length, offset);
    }

    [Fact]
    public void Write_HeaderIsPaddedToAMultipleOf8_ForEveryNameLength()
    {
        for (int length = 1; length <= 24; length++)
        {
            var stream = new MemoryStream();
            ModelFile.Write(stream, new Dictionary<string, string>(), [(new string('w', length), [1], new float[] { 3f })]);
            byte[] file = stream.ToArray();
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
            Assert.Equal(0UL, n % 8);
            string header = Encoding.UTF8.GetString(file, 8, (int)n);
            Assert.True(header.Length - header.TrimEnd(' ').Length < 8);
            Assert.Equal(3f, BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan((int)(8 + n))));
            Assert.Equal(3f, ModelFile.Read(new MemoryStream(file))[new string('w', length)].Data[0]);
        }
    }

    private delegate void BytesWriter(Span<byte> bytes);

    [Fact]
    public void Read_OtherDtypes_ConvertToFloat()
    {
        var data = new List<byte>();
        void Add(int size, BytesWriter write) { var b = new byte[size]; write(b); data.AddRange(b); }
        Add(16, b => { BinaryPrimitives.WriteDoubleLittleEndian(b, 0.1); BinaryPrimitives.WriteDoubleLittleEndian(b[8..], -1e300); });
        Add(4, b => { BinaryPrimitives.WriteHalfLittleEndian(b, (Half)1.5); BinaryPrimitives.WriteHalfLittleEndian(b[2..], Half.NegativeInfinity); });
        Add(4, b => { BinaryPrimitives.WriteUInt16LittleEndian(b, 0x3FC0); BinaryPrimitives.WriteUInt16LittleEndian(b[2..], 0xC080); }); // bf16 1.5, -4
        Add(16, b => { BinaryPrimitives.WriteInt64LittleEndian(b, -16_777_216); BinaryPrimitives.WriteInt64LittleEndian(b[8..], 7); });
        Add(8, b => { BinaryPrimitives.WriteInt32LittleEndian(b, 16_777_216); BinaryPrimitives.WriteInt32LittleEndian(b[4..], -3); });
        byte[] file = SafetensorsBytes.File("""
            {"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},
             "b":{"dtype":"BF16","shape":[1,2],"data_offsets":[20,24]},"l":{"dtype":"I64","shape":[2],"data_offsets":[24,40]},
             "i":{"dtype":"I32","shape":[2],"data_offsets":[40,48]}}
            """, data.ToArray());

        var contents = ModelFile.Read(new MemoryStream(file));
        Assert.Equal([0.1f, float.NegativeInfinity], contents["d"].Data);
        Assert.Equal([1.5f, float.NegativeInfinity], contents["h"].Data);
        Assert.Equal([1.5f, -4f], contents["b"].Data);
        Assert.Equal([-16_777_216f, 7f], contents["l"].Data);
        Assert.Equal([16_777_216f, -3f], contents["i"].Data);
        Assert.Equal(["F64", "F16", "BF16", "I64", "I32"], contents.Tensors.Select(t => t.DataType));
        Assert.Equal([1, 2], contents["b"].Shape);
    }
}
