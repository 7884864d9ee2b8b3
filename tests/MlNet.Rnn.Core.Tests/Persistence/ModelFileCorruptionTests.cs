using System.Buffers.Binary;
using System.Text;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// Corrupt, truncated, foreign and mismatched files are refused with an <see cref="InvalidDataException"/> that says
/// what is wrong (and names the path), and the model is never half-loaded.
/// </summary>
public sealed class ModelFileCorruptionTests
{
    private static RecurrentNetwork<LstmCell> SmallLstm(int inputSize = 2)
    {
        var network = new RecurrentNetwork<LstmCell>(new RecurrentNetworkOptions
        {
            InputSize = inputSize, HiddenSize = 2, Layers = 2, Bidirectional = true, LearnedInitialState = true,
        });
        network.Initialize(new Random(inputSize));
        return network;
    }

    private static byte[] SavedFile(RecurrentNetwork<LstmCell> network)
    {
        var stream = new MemoryStream();
        ModelFile.Save(stream, network.Parameters, """{"hidden_size":2}""");
        return stream.ToArray();
    }

    /// <summary>Reads and loads; returns the error, asserting it is an <see cref="InvalidDataException"/> and nothing changed.</summary>
    private static InvalidDataException? TryLoad(Stream stream, ParameterSet parameters)
    {
        var before = SafetensorsBytes.Bits(parameters.Values);
        try
        {
            ModelFile.LoadInto(parameters, ModelFile.Read(stream, source: "model.safetensors"));
            return null;
        }
        catch (Exception exception)
        {
            var invalid = Assert.IsType<InvalidDataException>(exception);
            Assert.StartsWith("model.safetensors ", invalid.Message);
            Assert.Equal(before, SafetensorsBytes.Bits(parameters.Values));
            return invalid;
        }
    }

    [Fact]
    public void Truncated_AtEveryLength_IsRefused_AndNothingLoads()
    {
        byte[] file = SavedFile(SmallLstm());
        var target = SmallLstm(inputSize: 2);
        target.Initialize(new Random(99));
        for (int length = 0; length < file.Length; length++)
        {
            byte[] cut = file[..length];
            var seekable = TryLoad(new MemoryStream(cut), target.Parameters);
            var forwardOnly = TryLoad(new SafetensorsBytes.ForwardOnlyStream(cut), target.Parameters);
            Assert.NotNull(seekable);
            Assert.NotNull(forwardOnly);
            Assert.Contains("truncated", seekable.Message);
            Assert.Contains("truncated", forwardOnly.Message);
            if (length < 8)
                Assert.Equal($"model.safetensors is truncated: it holds {length} bytes, but a safetensors file starts with an 8-byte header length.", seekable.Message);
        }
        Assert.Null(TryLoad(new MemoryStream(file), target.Parameters));
    }

    [Fact]
    public void Truncated_FileOnDisk_NamesThePath()
    {
        using var folder = new SafetensorsBytes.TemporaryFolder();
        string path = folder.File("cut.safetensors");
        var network = SmallLstm();
        ModelFile.Save(path, network.Parameters, "{}");
        byte[] file = File.ReadAllBytes(path);
        File.WriteAllBytes(path, file[..^5]);

        var target = SmallLstm();
        var before = SafetensorsBytes.Bits(target.Parameters.Values);
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, target.Parameters));
        Assert.Equal($"{path} is truncated: its header describes {file.Length - 8 - BinaryPrimitives.ReadInt64LittleEndian(file)} bytes of tensor data, " +
            $"but only {file.Length - 13 - BinaryPrimitives.ReadInt64LittleEndian(file)} follow the header.", error.Message);
        Assert.Equal(before, SafetensorsBytes.Bits(target.Parameters.Values));
    }

    [Fact]
    public void FlippedBytes_InTheHeader_AreRefusedOrHarmless_NeverAnotherException()
    {
        var source = SmallLstm();
        byte[] file = SavedFile(source);
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var target = SmallLstm();
        int refused = 0, harmless = 0;
        foreach (byte mask in new byte[] { 0x01, 0x02, 0x10, 0x20, 0x40, 0x80, 0xFF })
        {
            for (int position = 0; position < headerEnd; position++)
            {
                byte[] flipped = (byte[])file.Clone();
                flipped[position] ^= mask;
                target.Initialize(new Random(5));
                if (TryLoad(new MemoryStream(flipped), target.Parameters) is null) harmless++;
                else refused++;
            }
        }
        // A flip inside a metadata string or the padding leaves a valid file; most flips must be caught.
        Assert.True(refused > 4 * harmless, $"{refused} refused, {harmless} harmless");
    }

    [Fact]
    public void RandomGarbage_AnywhereInTheFile_IsRefusedOrHarmless_NeverAnotherException()
    {
        byte[] file = SavedFile(SmallLstm());
        var target = SmallLstm();
        var random = new Random(17);
        for (int trial = 0; trial < 3000; trial++)
        {
            byte[] damaged = (byte[])file.Clone();
            int count = 1 + random.Next(4);
            for (int k = 0; k < count; k++) damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            if (random.Next(4) == 0) damaged = damaged[..random.Next(damaged.Length)];
            TryLoad(random.Next(2) == 0 ? new MemoryStream(damaged) : new SafetensorsBytes.ForwardOnlyStream(damaged), target.Parameters);
        }
    }

    public static TheoryData<string, string, int, string> CorruptHeaders() => new()
    {
        { "not JSON", "{not json", 0, "has a header that is not valid JSON" },
        { "array", "[1, 2]", 0, "has a header that is a JSON Array, not the object of tensors a safetensors header is." },
        { "empty", "", 0, "has a header that is not valid JSON" },
        { "entry not object", """{"a":[0,4]}""", 4, "describes tensor 'a' with a JSON Array; it must be an object with dtype, shape and data_offsets." },
        { "no dtype", """{"a":{"shape":[1],"data_offsets":[0,4]}}""", 4, "gives tensor 'a' no dtype string." },
        { "unknown dtype", """{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}""", 1,
            "has tensor 'a' of dtype 'F8_E4M3', which this version does not read; it reads F32, F64, F16, BF16, I64, I32." },
        { "negative dimension", """{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "gives tensor 'a' shape [-1]; every dimension must be a whole number" },
        { "fractional dimension", """{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""", 4, "gives tensor 'a' shape [1.5]" },
        { "no offsets", """{"a":{"dtype":"F32","shape":[1]}}""", 4, "gives tensor 'a' data_offsets (none); they must be [begin, end]" },
        { "three offsets", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}""", 4, "gives tensor 'a' data_offsets [0,4,8]" },
        { "negative offset", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}""", 4, "gives tensor 'a' data_offsets [-4,0]" },
        { "offsets reversed", """{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}""", 4, "gives tensor 'a' data_offsets [4, 0], which end before they begin." },
        { "size mismatch", """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8,
            "gives tensor 'a' shape [3] F32 = 12 bytes, but its data_offsets [0, 8] span 8." },
        { "dtype size mismatch", """{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}""", 8,
            "gives tensor 'a' shape [2] F64 = 16 bytes, but its data_offsets [0, 8] span 8." },
        { "overlap", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12,
            "has overlapping tensors: 'b' begins at byte 4, before the previous tensor 'a' ends at byte 8." },
        { "gap", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}""", 20,
            "leaves a gap in its data: tensor 'b' begins at byte 12, but the previous tensor 'a' ends at byte 8." },
        { "gap at start", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8,
            "leaves a gap in its data: tensor 'a' begins at byte 4, but the data starts at byte 0." },
        { "out of range", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4,
            "is truncated: its header describes 8 bytes of tensor data, but only 4 follow the header." },
        { "trailing data", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 12,
            "holds 4 bytes after the last tensor's data; the header describes 8 bytes of tensor data." },
        { "duplicate tensor", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8,
            "names 'a' twice in its header." },
        { "metadata not strings", """{"__metadata__":{"epoch":3}}""", 0,
            "has __metadata__ entry 'epoch' that is a JSON Number; every metadata value must be a string." },
        { "metadata not object", """{"__metadata__":"x"}""", 0, "has a __metadata__ that is a JSON String; it must be an object of strings." },
        { "newer version", """{"__metadata__":{"format":"MlNet.Rnn","format_version":"7"},"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}""", 1,
            "was written by a newer MlNet.Rnn (format version 7); this version reads up to 1: update the package." },
        { "bad version", """{"__metadata__":{"format":"MlNet.Rnn","format_version":"1.0"}}""", 0, "has format_version '1.0'; it must be a whole number from 1." },
        { "no version", """{"__metadata__":{"format":"MlNet.Rnn"}}""", 0, "says it is an MlNet.Rnn model file but has no format_version." },
        { "lone surrogate in a name", """{"\uD800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4, "has a header that is not valid JSON" },
        { "lone surrogate in metadata", """{"__metadata__":{"a":"\uDC00"}}""", 0, "has a header that is not valid JSON" },
        { "integer too large", """{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}""", -1,
            "has tensor 'a' (I32) holding 16777217 at index 0; integer tensors are read as float and must stay within ±2^24 to be exact." },
    };

    [Theory]
    [MemberData(nameof(CorruptHeaders))]
    public void CorruptHeader_IsRefusedWithItsReason(string what, string header, int dataBytes, string expected)
    {
        byte[] data = dataBytes >= 0 ? new byte[dataBytes] : [0x01, 0x00, 0x00, 0x01];
        byte[] file = SafetensorsBytes.File(header, data);
        var parameters = new ParameterSet();
        parameters.Add("a", 2);
        var seekable = TryLoad(new MemoryStream(file), parameters);
        Assert.NotNull(seekable);
        Assert.StartsWith($"model.safetensors {expected}", seekable.Message);
        var forwardOnly = TryLoad(new SafetensorsBytes.ForwardOnlyStream(file), parameters);
        Assert.NotNull(forwardOnly);
        // Without a length, a forward-only stream learns of missing or surplus data only by reading it.
        if (what == "out of range") Assert.Contains("is truncated: the data of tensor 'a'", forwardOnly.Message);
        else if (what == "trailing data") Assert.Contains("holds bytes after the last tensor's data", forwardOnly.Message);
        else Assert.StartsWith($"model.safetensors {expected}", forwardOnly.Message);
    }

    [Fact]
    public void HeaderNotUtf8_IsRefused()
    {
        byte[] header = Encoding.UTF8.GetBytes("""{"__metadata__":{"a":"b"}}""");
        header[21] = 0xFF;
        var error = TryLoad(new MemoryStream(SafetensorsBytes.File(header, [])), new ParameterSet());
        Assert.Equal("model.safetensors has a header that is not valid UTF-8 text.", error!.Message);
    }

    [Fact]
    public void HeaderLength_PastTheEndOrHuge_IsRefused()
    {
        var file = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(file, ulong.MaxValue);
        Assert.Equal("model.safetensors is truncated or not a safetensors file: its header length 18446744073709551615 runs past the end of the file (8 bytes follow the length).",
            TryLoad(new MemoryStream(file), new ParameterSet())!.Message);
        Assert.Equal("model.safetensors is not a safetensors file: its header length 18446744073709551615 exceeds the 100000000-byte limit.",
            TryLoad(new SafetensorsBytes.ForwardOnlyStream(file), new ParameterSet())!.Message);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 9);
        Assert.Equal("model.safetensors is truncated: its header length is 9 bytes, but only 8 follow the length.",
            TryLoad(new SafetensorsBytes.ForwardOnlyStream(file), new ParameterSet())!.Message);
    }

    [Fact]
    public void ForeignFormat_IsRefusedOnlyWhenOurFormatIsRequired()
    {
        byte[] file = SafetensorsBytes.File("""{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", SafetensorsBytes.Floats(2));
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(file), requireModelFormat: true, source: "x.safetensors"));
        Assert.Equal("x.safetensors is not an MlNet.Rnn model file: its __metadata__ \"format\" is 'pt', expected 'MlNet.Rnn'.", error.Message);
        var contents = ModelFile.Read(new MemoryStream(file));
        Assert.False(contents.IsModelFile);
        Assert.Equal("pt", contents.Metadata["format"]);
        Assert.Equal([2f], contents["a"].Data);
    }

    [Fact]
    public void LoadInto_ShapeMismatch_NamesTheTensorAndBothShapes_AndLoadsNothing()
    {
        var small = new RecurrentNetwork<LstmCell>(new RecurrentNetworkOptions { InputSize = 3, HiddenSize = 4 });
        small.Initialize(new Random(1));
        var stream = new MemoryStream();
        ModelFile.Save(stream, small.Parameters, "{}");
        var contents = ModelFile.Read(new MemoryStream(stream.ToArray()), source: "small.safetensors");

        var target = new RecurrentNetwork<LstmCell>(new RecurrentNetworkOptions { InputSize = 4, HiddenSize = 4 });
        target.Initialize(new Random(2));
        var before = SafetensorsBytes.Bits(target.Parameters.Values);
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.LoadInto(target.Parameters, contents));
        Assert.Equal($"small.safetensors does not fit the model; nothing was loaded:{Environment.NewLine}  weight_ih_l0: file has [16, 3], model expects [16, 4]", error.Message);
        Assert.Equal(before, SafetensorsBytes.Bits(target.Parameters.Values));
    }

    [Fact]
    public void LoadInto_ListsEveryProblemAtOnce()
    {
        var parameters = new ParameterSet();
        parameters.Add("w", 2);
        parameters.Add("v", 1);
        parameters.Add("u", 1);
        byte[] file = SafetensorsBytes.File(
            """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"extra.a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"extra.b":{"dtype":"F32","shape":[0],"data_offsets":[12,12]}}""",
            SafetensorsBytes.Floats(1, float.NaN, 3));
        var error = TryLoad(new MemoryStream(file), parameters);
        Assert.Equal(string.Join(Environment.NewLine + "  ",
            "model.safetensors does not fit the model; nothing was loaded:",
            "w: value 1 is NaN; a model's parameters must be finite",
            "missing from the file (2): v, u (pass requireAll: false to keep the model's values for these)",
            "not in the model (2): extra.a, extra.b (pass ignorePrefixes to skip them)"), error!.Message);
        Assert.Throws<ArgumentException>(() => ModelFile.LoadInto(parameters, ModelFile.Read(new MemoryStream(file)), ignorePrefixes: [""]));
    }
}
