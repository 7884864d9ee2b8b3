using System.Buffers.Binary;
using System.Text;
using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// The reader at the edges of the safetensors header: each malformed header is refused with the message for its own
/// fault (not a neighbour's, not a JSON parser's), limits hold exactly at their boundary (header length, dimension,
/// element count), what the format allows reads (null metadata, no tensors, a file that starts mid-stream), zero-length
/// tensors keep their header order, and an unnamed source is called "The model file".
/// </summary>
public sealed class SafetensorsHeaderEdgeTests
{
    private static string ErrorOf(byte[] file, bool requireModelFormat = false) =>
        Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(file), requireModelFormat, source: "m.safetensors")).Message;

    public static TheoryData<string, int, string> Refused() => new()
    {
        { """{"a":{"dtype":5,"shape":[1],"data_offsets":[0,4]}}""", 4, "gives tensor 'a' no dtype string." },
        { """{"a":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}""", 4, "gives tensor 'a' no shape array." },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":"0,4"}}""", 4, "gives tensor 'a' data_offsets \"0,4\"; they must be [begin, end], two whole byte offsets." },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,8]}}""", 8,
            "gives tensor 'b' shape [2] F32 = 8 bytes, but its data_offsets [4, 8] span 4." },
        { """{"__metadata__":{"k":"1","k":"2"}}""", 0, "names __metadata__ entry 'k' twice." },
        { """{"__metadata__":{"format":"MlNet.Rnn","format_version":"0"}}""", 0, "has format_version '0'; it must be a whole number from 1." },
        // The largest dimension allowed, but more elements than an array holds: the element count is the fault.
        { """{"a":{"dtype":"F32","shape":[2147483647],"data_offsets":[0,8589934588]}}""", 0,
            "gives tensor 'a' shape [2147483647], more than the 2147483591 elements an array can hold." },
        // Exactly as many elements as an array holds is allowed: what is wrong is the missing data.
        { """{"a":{"dtype":"F32","shape":[2147483591],"data_offsets":[0,8589934364]}}""", 0,
            "is truncated: its header describes 8589934364 bytes of tensor data, but only 0 follow the header." },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void AMalformedHeader_IsRefusedWithTheMessageForItsOwnFault(string header, int dataBytes, string expected)
    {
        Assert.Equal($"m.safetensors {expected}",
            ErrorOf(SafetensorsBytes.File(header, new byte[dataBytes])));
    }

    [Fact]
    public void APlainFile_WhenOurFormatIsRequired_SaysHowToLoadItInstead()
    {
        byte[] file = SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[4]);
        Assert.Equal("m.safetensors is not an MlNet.Rnn model file: its header has no __metadata__ \"format\" (a plain safetensors file, " +
            "e.g. saved from PyTorch); read it without requiring the model format and copy its weights with ModelFile.LoadInto.",
            ErrorOf(file, requireModelFormat: true));
    }

    [Fact]
    public void AHeaderLengthJustPastTheEnd_IsRefusedAsRunningPastIt()
    {
        byte[] file = SafetensorsBytes.File("{}      ", []);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 9);
        Assert.Equal("m.safetensors is truncated or not a safetensors file: its header length 9 runs past the end of the file (8 bytes follow the length).", ErrorOf(file));
    }

    [Fact]
    public void AHeaderLengthOfExactlyTheLimit_IsAllowed()
    {
        byte[] file = SafetensorsBytes.File("{}", []);
        BinaryPrimitives.WriteUInt64LittleEndian(file, SafetensorsReader.MaxHeaderLength);
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new SafetensorsBytes.ForwardOnlyStream(file, maxRead: 1 << 16)));
        Assert.Equal($"The model file is truncated: its header length is {SafetensorsReader.MaxHeaderLength} bytes, but only 2 follow the length.", error.Message);
    }

    [Fact]
    public void AFileStartingMidStream_IsReadFromThere()
    {
        byte[] file = SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", SafetensorsBytes.Floats(1, 2));
        var stream = new MemoryStream("pre"u8.ToArray().Concat(file).ToArray()) { Position = 3 };
        Assert.Equal([1f, 2f], ModelFile.Read(stream)["a"].Data);
    }

    [Fact]
    public void NullMetadata_AndNoTensors_Read()
    {
        var contents = ModelFile.Read(new MemoryStream(SafetensorsBytes.File("""{"__metadata__":null}""", [])));
        Assert.Empty(contents.Metadata);
        Assert.Empty(contents.Tensors);

        var written = new MemoryStream();
        ModelFile.Write(written, new Dictionary<string, string> { ["note"] = "no tensors" }, []);
        contents = ModelFile.Read(new MemoryStream(written.ToArray()), requireModelFormat: true);
        Assert.Equal("no tensors", contents.Metadata["note"]);
        Assert.Empty(contents.Tensors);
    }

    [Fact]
    public void ZeroLengthTensorsAtOneOffset_KeepTheirHeaderOrder()
    {
        byte[] file = SafetensorsBytes.File(
            """{"b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"c":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]}}""",
            SafetensorsBytes.Floats(5));
        Assert.Equal(["c", "b", "a"], ModelFile.Read(new MemoryStream(file)).Tensors.Select(t => t.Name));
    }

    [Fact]
    public void AnUnnamedSource_IsCalledTheModelFile()
    {
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(Encoding.UTF8.GetBytes("abc"))));
        Assert.Equal("The model file is truncated: it holds 3 bytes, but a safetensors file starts with an 8-byte header length.", error.Message);
    }
}
