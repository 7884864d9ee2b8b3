using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>One damaged or lying copy of a file: what was done to it, and its bytes.</summary>
public sealed record Mutant(string Name, byte[] Bytes)
{
    /// <summary>The name.</summary>
    public override string ToString() => Name;
}

/// <summary>
/// Damaged and lying copies of a model file (safetensors: 8-byte length, JSON header, data) and of a saved ML.NET model (a zip
/// of entries), shared by the fuzz corpus of the regular tests (<c>ModelFileFuzzTests</c>, <c>SavedModelFuzzTests</c>) and the
/// campaign run by hand (<c>tests/Fuzz</c>), so both try the same mutations. Deterministic: a case is its name plus, for the
/// random ones, the seed. Every lie here describes a damaged file: a loader must refuse it or read back the model it was made
/// from. The metadata carries its own checksum, so even a value rewritten into another model the same tensors fit is refused.
/// </summary>
public static class ModelFileMutations
{
    /// <summary>The header and the data of a well-formed file.</summary>
    public static (byte[] Header, byte[] Data) Split(byte[] file)
    {
        int length = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(file));
        return (file[8..(8 + length)], file[(8 + length)..]);
    }

    /// <summary>8-byte little-endian length, the header, the data.</summary>
    public static byte[] Join(ReadOnlySpan<byte> header, ReadOnlySpan<byte> data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes.AsSpan(8));
        data.CopyTo(bytes.AsSpan(8 + header.Length));
        return bytes;
    }

    /// <summary>The bytes from <paramref name="file"/> with <paramref name="mask"/> XORed into the byte at <paramref name="position"/>.</summary>
    public static Mutant Flip(byte[] file, int position, byte mask)
    {
        byte[] bytes = (byte[])file.Clone();
        bytes[position] ^= mask;
        return new($"flip byte {position} ^ 0x{mask:X2}", bytes);
    }

    /// <summary>The first <paramref name="length"/> bytes.</summary>
    public static Mutant Truncate(byte[] file, int length) => new($"truncated to {length} of {file.Length} bytes", file[..length]);

    /// <summary>Every byte of the length and the header XORed with each mask, in order.</summary>
    public static IEnumerable<Mutant> HeaderFlips(byte[] file, params byte[] masks)
    {
        int headerEnd = 8 + Split(file).Header.Length;
        foreach (byte mask in masks)
            for (int position = 0; position < headerEnd; position++)
                yield return Flip(file, position, mask);
    }

    /// <summary>Every byte of the data flipped once, by a mask drawn from <paramref name="seed"/>.</summary>
    public static IEnumerable<Mutant> DataFlips(byte[] file, int seed)
    {
        var random = new Random(seed);
        int headerEnd = 8 + Split(file).Header.Length;
        for (int position = headerEnd; position < file.Length; position++)
            yield return Flip(file, position, (byte)random.Next(1, 256));
    }

    /// <summary>Every proper prefix, from empty to one byte short.</summary>
    public static IEnumerable<Mutant> Truncations(byte[] file) => Enumerable.Range(0, file.Length).Select(length => Truncate(file, length));

    // ---------------------------------------------------------------------------------------------------------------------
    // The header as JSON: its members as raw text, so a lie can repeat a key, which a JSON object cannot hold.

    /// <summary>A header's members in order, each with its raw JSON value.</summary>
    private sealed class Header
    {
        public List<(string Key, string Value)> Members { get; } = [];

        public Header(byte[] header)
        {
            using var document = JsonDocument.Parse(header);
            foreach (var property in document.RootElement.EnumerateObject()) Members.Add((property.Name, property.Value.GetRawText()));
        }

        public IEnumerable<string> TensorNames => Members.Select(m => m.Key).Where(key => key != "__metadata__");

        public string this[string key]
        {
            get => Members.First(m => m.Key == key).Value;
            set
            {
                int at = Members.FindIndex(m => m.Key == key);
                if (at < 0) Members.Add((key, value));
                else Members[at] = (key, value);
            }
        }

        public void Remove(string key) => Members.RemoveAll(m => m.Key == key);

        public JsonObject Metadata => JsonNode.Parse(this["__metadata__"])!.AsObject();

        public byte[] Bytes()
        {
            string text = ObjectText(Members);
            return Encoding.UTF8.GetBytes(text.PadRight((text.Length + 7) / 8 * 8));
        }
    }

    /// <summary>A JSON object of the given members, written as given (keys may repeat).</summary>
    public static string ObjectText(IEnumerable<(string Key, string Value)> members) =>
        "{" + string.Join(",", members.Select(m => JsonSerializer.Serialize(m.Key) + ":" + m.Value)) + "}";

    private static string Text(JsonNode? node) => node?.ToJsonString() ?? "null";

    private static Mutant Edit(byte[] file, string name, Action<Header> edit)
    {
        var (headerBytes, data) = Split(file);
        var header = new Header(headerBytes);
        edit(header);
        return new(name, Join(header.Bytes(), data));
    }

    private static Mutant EditMetadata(byte[] file, string name, Action<JsonObject> edit) => Edit(file, name, header =>
    {
        var metadata = header.Metadata;
        edit(metadata);
        header["__metadata__"] = Text(metadata);
    });

    /// <summary>A metadata value that is itself a JSON object (the configuration, the checksums), rewritten.</summary>
    private static Mutant EditInner(byte[] file, string key, string name, Action<JsonObject> edit) => EditMetadata(file, name, metadata =>
    {
        var inner = JsonNode.Parse(metadata[key]!.GetValue<string>())!.AsObject();
        edit(inner);
        metadata[key] = Text(inner);
    });

    private static Mutant EditTensor(byte[] file, string tensor, string name, Action<JsonObject> edit) => Edit(file, name, header =>
    {
        var entry = JsonNode.Parse(header[tensor])!.AsObject();
        edit(entry);
        header[tensor] = Text(entry);
    });

    private static (ulong Begin, ulong End) Offsets(Header header, string tensor)
    {
        var offsets = JsonNode.Parse(header[tensor])!["data_offsets"]!.AsArray();
        return (offsets[0]!.GetValue<ulong>(), offsets[1]!.GetValue<ulong>());
    }

    /// <summary>Each tensor's name with its data's place, in header order.</summary>
    public static IReadOnlyList<(string Name, ulong Begin, ulong End)> Tensors(byte[] file)
    {
        var header = new Header(Split(file).Header);
        return [.. header.TensorNames.Select(name => { var (begin, end) = Offsets(header, name); return (name, begin, end); })];
    }

    /// <summary>The file without <paramref name="tensor"/>'s entry and bytes, the later tensors moved up to close the gap;
    /// <paramref name="alsoItsChecksum"/> removes its checksum too, making a consistent file that lacks the tensor.</summary>
    private static Mutant RemoveTensor(byte[] file, string tensor, bool alsoItsChecksum)
    {
        var (headerBytes, data) = Split(file);
        var header = new Header(headerBytes);
        var (begin, end) = Offsets(header, tensor);
        ulong size = end - begin;
        header.Remove(tensor);
        foreach (string other in header.TensorNames.ToArray())
        {
            var (b, e) = Offsets(header, other);
            if (b < begin) continue;
            var entry = JsonNode.Parse(header[other])!.AsObject();
            entry["data_offsets"] = new JsonArray(b - size, e - size);
            header[other] = Text(entry);
        }
        if (alsoItsChecksum)
        {
            var metadata = header.Metadata;
            var checksums = JsonNode.Parse(metadata["checksums_xxh3_64"]!.GetValue<string>())!.AsObject();
            checksums.Remove(tensor);
            metadata["checksums_xxh3_64"] = Text(checksums);
            header["__metadata__"] = Text(metadata);
        }
        byte[] rest = [.. data.AsSpan(0, (int)begin), .. data.AsSpan((int)end)];
        return new($"tensor {tensor} removed with its data{(alsoItsChecksum ? " and checksum" : "")}", Join(header.Bytes(), rest));
    }

    /// <summary>The file with a tensor <paramref name="tensor"/> [<paramref name="values"/>] F32 appended, its checksum listed.</summary>
    private static Mutant AppendTensor(byte[] file, string tensor, int values)
    {
        var (headerBytes, data) = Split(file);
        var header = new Header(headerBytes);
        byte[] extra = new byte[4 * values];
        for (int i = 0; i < values; i++) BinaryPrimitives.WriteSingleLittleEndian(extra.AsSpan(4 * i), 0.25f * (i + 1));
        header[tensor] = $$"""{"dtype":"F32","shape":[{{values}}],"data_offsets":[{{data.Length}},{{data.Length + extra.Length}}]}""";
        var metadata = header.Metadata;
        var checksums = JsonNode.Parse(metadata["checksums_xxh3_64"]!.GetValue<string>())!.AsObject();
        checksums[tensor] = System.IO.Hashing.XxHash3.HashToUInt64(extra).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        metadata["checksums_xxh3_64"] = Text(checksums);
        header["__metadata__"] = Text(metadata);
        return new($"tensor {tensor} [{values}] appended with its checksum", Join(header.Bytes(), [.. data, .. extra]));
    }

    /// <summary>The 8-byte header length replaced.</summary>
    private static Mutant HeaderLength(byte[] file, ulong length, string what)
    {
        byte[] bytes = (byte[])file.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
        return new($"header length {what} ({length})", bytes);
    }

    /// <summary>Values a configuration's number may lie with: out of range, not whole, too large for an int, not a number.</summary>
    private static readonly string[] NumberLies = ["0", "-1", "2147483647", "2147483648", "1e300", "2.5", "\"7\"", "null", "true", "[]"];

    /// <summary>Values an enum or flag may lie with.</summary>
    private static readonly string[] EnumLies = ["\"Nope\"", "99", "-1", "null", "\"\"", "{}", "2.5"];

    /// <summary>Values a shape may lie with.</summary>
    private static readonly string[] ShapeLies =
        ["[]", "[0]", "[-1]", "[2147483647,2147483647]", "[4294967296]", "[18446744073709551615]", "[1.5]", "[\"8\"]", "null", "8", "[[8]]"];

    /// <summary>Values a dtype may lie with.</summary>
    private static readonly string[] DtypeLies = ["\"F64\"", "\"F16\"", "\"BF16\"", "\"I32\"", "\"I64\"", "\"BOOL\"", "\"U8\"", "\"F8_E4M3\"", "\"f32\"", "\"\"", "32", "null"];

    /// <summary>Values data_offsets may lie with (besides those computed from the tensor's own offsets).</summary>
    private static readonly string[] OffsetLies =
        ["[0,18446744073709551615]", "[9223372036854775808,9223372036854775812]", "[18446744073709551612,18446744073709551615]", "[]", "[0]", "[0,4,8]",
         "[\"0\",\"4\"]", "[-4,0]", "[0.5,4.5]", "null"];

    /// <summary>
    /// The header and metadata lies, each named: the header length; shapes, dtypes and offsets of each tensor; tensors
    /// removed, added, renamed and repeated; the metadata's format, version and checksums; each other metadata value (the
    /// configuration, a forecaster's header, a language model's vocabulary, a kind's name) damaged whole and, when it is a JSON
    /// object, each member of it (a list's elements too); sizes whose weights could not be allocated, for each size the
    /// configuration has.
    /// The file must be one our writer wrote (metadata with <c>format</c>, <c>format_version</c>, <c>configuration</c> and
    /// <c>checksums_xxh3_64</c>).
    /// </summary>
    public static IEnumerable<Mutant> HeaderLies(byte[] file)
    {
        var (headerBytes, data) = Split(file);
        ulong length = (ulong)headerBytes.Length;
        yield return HeaderLength(file, length + 1, "one too many");
        yield return HeaderLength(file, length - 1, "one too few");
        yield return HeaderLength(file, length + 8, "eight too many");
        yield return HeaderLength(file, length - 8, "eight too few");
        yield return HeaderLength(file, 0, "zero");
        yield return HeaderLength(file, (ulong)(file.Length - 8), "the whole file");
        yield return HeaderLength(file, 100_000_001, "past the limit");
        yield return HeaderLength(file, 100_000_000, "at the limit");
        yield return HeaderLength(file, int.MaxValue, "int.MaxValue");
        yield return HeaderLength(file, 1UL << 63, "2^63");
        yield return HeaderLength(file, ulong.MaxValue, "2^64 - 1");

        string text = Encoding.UTF8.GetString(headerBytes);
        yield return new("header is a JSON array", Join(Encoding.UTF8.GetBytes("[" + text.TrimEnd() + "]"), data));
        yield return new("header is null", Join("null    "u8, data));
        yield return new("header is empty", Join([], data));
        yield return new("header is {}", Join("{}      "u8, data));
        yield return new("header has a byte-order mark", Join([0xEF, 0xBB, 0xBF, .. headerBytes], data));
        yield return new("header has an invalid UTF-8 byte", Join([.. headerBytes[..^1], 0xFF], data));
        yield return new("header nested 10,000 deep", Join(Encoding.UTF8.GetBytes("{\"a\":" + new string('[', 10_000) + new string(']', 10_000) + "}"), data));
        yield return new("header cut before its end", Join(Encoding.UTF8.GetBytes(text.TrimEnd()[..^1]), data));
        yield return new("header padded with tabs", Join(Encoding.UTF8.GetBytes(text.TrimEnd() + "\t\t\t\t\t\t\t\t"), data));
        yield return new("header padded with NULs", Join([.. Encoding.UTF8.GetBytes(text.TrimEnd()), 0, 0, 0, 0, 0, 0, 0, 0], data));
        yield return new("data has one more byte", Join(headerBytes, [.. data, 0]));
        yield return new("data lost its last byte", Join(headerBytes, data[..^1]));

        var header = new Header(headerBytes);
        string[] tensors = [.. header.TensorNames];
        foreach (var lie in TensorLies(file, checksummed: true)) yield return lie;
        // The same lies where no checksum catches a misread: the structure alone must refuse them.
        var plain = EditMetadata(file, "", m => m.Remove("checksums_xxh3_64")).Bytes;
        foreach (var lie in TensorLies(plain, checksummed: false)) yield return lie with { Name = "without checksums: " + lie.Name };
        yield return AppendTensor(file, "extra.weight", 3);
        yield return AppendTensor(file, "optimizer.extra", 3);
        yield return Edit(file, "a tensor of 2·10^9 elements past the data", h =>
            h["huge"] = $$"""{"dtype":"F32","shape":[2000000000],"data_offsets":[{{data.Length}},{{(ulong)data.Length + 8_000_000_000UL}}]}""");
        yield return Edit(file, "a skipped tensor of 2·10^9 elements past the data", h =>
            h["optimizer.huge"] = $$"""{"dtype":"F32","shape":[2000000000],"data_offsets":[{{data.Length}},{{(ulong)data.Length + 8_000_000_000UL}}]}""");
        yield return EditMetadata(Edit(file, "", h =>
                h["huge"] = $$"""{"dtype":"F32","shape":[2000000000],"data_offsets":[{{data.Length}},{{(ulong)data.Length + 8_000_000_000UL}}]}""").Bytes,
            "a tensor of 2·10^9 elements past the data, with a checksum", m =>
            {
                var checksums = JsonNode.Parse(m["checksums_xxh3_64"]!.GetValue<string>())!.AsObject();
                checksums["huge"] = "0123456789abcdef";
                m["checksums_xxh3_64"] = Text(checksums);
            });
        yield return Edit(plain, "without checksums: a tensor of 2·10^9 elements past the data", h =>
            h["huge"] = $$"""{"dtype":"F32","shape":[2000000000],"data_offsets":[{{data.Length}},{{(ulong)data.Length + 8_000_000_000UL}}]}""");
        yield return Edit(file, "a tensor of 2^40 bytes past the data", h =>
            h["huge"] = $$"""{"dtype":"F64","shape":[1024,1024,1024,128],"data_offsets":[{{data.Length}},{{(ulong)data.Length + (1UL << 40)}}]}""");

        foreach (string value in new[] { "null", "[]", "\"x\"", "{}", "1" })
            yield return Edit(file, $"__metadata__ is {value}", h => h["__metadata__"] = value);
        yield return Edit(file, "__metadata__ removed", h => h.Remove("__metadata__"));
        yield return Edit(file, "__metadata__ repeated", h => h.Members.Add(("__metadata__", h["__metadata__"])));
        yield return Edit(file, "a __metadata__ key repeated", h =>
        {
            var members = h.Metadata.Select(m => (m.Key, Text(m.Value))).ToList();
            members.Add(members[0]);
            h["__metadata__"] = ObjectText(members);
        });
        yield return EditMetadata(file, "metadata gains an entry", m => m["note"] = "hello");
        yield return EditMetadata(file, "metadata value is a number", m => m["note"] = 1);
        yield return EditMetadata(file, "metadata value is an object", m => m["note"] = new JsonObject());
        var metadataKeys = header.Metadata.Select(m => m.Key).ToArray();
        foreach (string key in metadataKeys)
            yield return EditMetadata(file, $"metadata {key} removed", m => m.Remove(key));
        foreach (string format in new[] { "mlnet.rnn", "", "MlNet.Rnn ", "safetensors" })
            yield return EditMetadata(file, $"format '{format}'", m => m["format"] = format);
        foreach (string version in new[] { "2", "0", "-1", "01", " 1", "1.0", "99999999999", "", "one" })
            yield return EditMetadata(file, $"format_version '{version}'", m => m["format_version"] = version);

        const string checksumsKey = "checksums_xxh3_64";
        foreach (string value in new[] { "", "{", "[]", "null", "1", "\"x\"" })
            yield return EditMetadata(file, $"checksums are '{value}'", m => m[checksumsKey] = value);
        yield return EditInner(file, checksumsKey, "a checksum off by one", c =>
        {
            string hash = c[tensors[0]]!.GetValue<string>();
            c[tensors[0]] = (ulong.Parse(hash, System.Globalization.NumberStyles.HexNumber) ^ 1).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        });
        yield return EditInner(file, checksumsKey, "a checksum in upper case", c => c[tensors[0]] = c[tensors[0]]!.GetValue<string>().ToUpperInvariant());
        yield return EditInner(file, checksumsKey, "a checksum of 15 digits", c => c[tensors[0]] = c[tensors[0]]!.GetValue<string>()[1..]);
        yield return EditInner(file, checksumsKey, "a checksum of 17 digits", c => c[tensors[0]] = "0" + c[tensors[0]]!.GetValue<string>());
        yield return EditInner(file, checksumsKey, "a checksum that is a number", c => c[tensors[0]] = 1);
        yield return EditInner(file, checksumsKey, "a checksum removed", c => c.Remove(tensors[0]));
        yield return EditInner(file, checksumsKey, "a checksum for a tensor not there", c => c["ghost"] = "0000000000000000");
        // A damaged key must not turn the check off: the list is there, under another name, and the data may be damaged too.
        var keyDamaged = EditMetadata(file, "the checksum list's key damaged", m =>
        {
            m["checksums_yyh3_64"] = m[checksumsKey]!.GetValue<string>();
            m.Remove(checksumsKey);
        });
        yield return keyDamaged;
        yield return Flip(keyDamaged.Bytes, keyDamaged.Bytes.Length - Split(keyDamaged.Bytes).Data.Length, 0x40) with
        {
            Name = "the checksum list's key damaged, and the first data byte",
        };
        var listDamaged = EditMetadata(file, "", m =>
        {
            string list = m[checksumsKey]!.GetValue<string>();
            m["checksums_yyh3_64"] = "[" + list[1..];
            m.Remove(checksumsKey);
        });
        yield return Flip(listDamaged.Bytes, listDamaged.Bytes.Length - Split(listDamaged.Bytes).Data.Length, 0x40) with
        {
            Name = "the checksum list's key and JSON damaged, and the first data byte",
        };
        yield return EditMetadata(file, "a checksum listed twice", m =>
        {
            var members = JsonNode.Parse(m[checksumsKey]!.GetValue<string>())!.AsObject().Select(c => (c.Key, Text(c.Value))).ToList();
            members.Add(members[^1]);
            m[checksumsKey] = ObjectText(members);
        });

        // Every other metadata value (the configuration, and what a kind of model adds: a forecaster's header, a language
        // model's vocabulary, a sequence-to-sequence model's kind): damaged whole, and each member of a JSON object lied about.
        const string configurationKey = "configuration";
        foreach (string metadataKey in metadataKeys.Where(key => key is not ("format" or "format_version" or checksumsKey)))
        {
            string original = header.Metadata[metadataKey]!.GetValue<string>();
            JsonObject? inner = null;
            try
            {
                inner = JsonNode.Parse(original) as JsonObject;
            }
            catch (JsonException)
            {
                // A plain string (a kind's name): lied about whole below.
            }
            string what = metadataKey == configurationKey ? configurationKey : metadataKey;
            if (inner is null)
            {
                foreach (string value in new[] { "", original.ToUpperInvariant(), original + " ", original[..^1], "{}" })
                    yield return EditMetadata(file, $"{what} is '{value}'", m => m[metadataKey] = value);
                continue;
            }
            foreach (string value in new[] { "", "{", "null", "[]", "1", "\"x\"", "{}" })
                yield return EditMetadata(file, $"{what} is '{value}'", m => m[metadataKey] = value);
            foreach (var (key, value) in inner.ToArray())
            {
                yield return EditInner(file, metadataKey, $"{what} {key} removed", c => c.Remove(key));
                string[] lies = value?.GetValueKind() switch
                {
                    JsonValueKind.Number => NumberLies,
                    JsonValueKind.String => EnumLies,
                    _ => ["1", "\"yes\"", "[]", "2.5"],
                };
                foreach (string lie in lies)
                    yield return EditInner(file, metadataKey, $"{what} {key} = {lie}", c => c[key] = JsonNode.Parse(lie));
                if (value is JsonArray { Count: > 0 } array)
                {
                    // A list (a vocabulary's tokens): one element lost, repeated, emptied, null, or of another type.
                    yield return EditInner(file, metadataKey, $"{what} {key} loses its first element", c => c[key]!.AsArray().RemoveAt(0));
                    yield return EditInner(file, metadataKey, $"{what} {key} repeats its first element", c => c[key]!.AsArray().Add(array[0]!.DeepClone()));
                    foreach (string lie in new[] { "\"\"", "null", "1", "[]", "\"two\"" })
                        yield return EditInner(file, metadataKey, $"{what} {key} first element = {lie}", c => c[key]!.AsArray()[0] = JsonNode.Parse(lie));
                }
            }
            yield return EditInner(file, metadataKey, $"{what} gains a member", c => c["Unknown"] = 1);
        }
        var configuration = JsonNode.Parse(header.Metadata[configurationKey]!.GetValue<string>())!.AsObject();
        yield return EditInner(file, configurationKey, "configuration with 2^31 - 1 layers", c => c["Layers"] = int.MaxValue);
        yield return EditInner(file, configurationKey, "configuration with 2^31 - 1 layers in both directions", c =>
        {
            c["Layers"] = int.MaxValue;
            c["Bidirectional"] = true;
        });
        yield return EditInner(file, configurationKey, "configuration with 100,000 layers", c => c["Layers"] = 100_000);
        yield return EditInner(file, configurationKey, "configuration with H = 50,000", c => c["HiddenSize"] = 50_000);
        yield return EditInner(file, configurationKey, "configuration with H = 2^31 - 1", c => c["HiddenSize"] = int.MaxValue);
        // Sizes whose weights would not fit in memory, for each size the configuration has (a kind has its own: a
        // sequence-to-sequence model's two vocabularies, a forecaster's model reads 1 + K features).
        foreach (var (key, what) in new[]
        {
            ("VocabularySize", "a vocabulary"), ("OutputSize", "outputs"), ("FeaturesPerStep", "features per step"), ("EmbeddingSize", "an embedding"),
            ("SourceVocabularySize", "a source vocabulary"), ("TargetVocabularySize", "a target vocabulary"),
        })
            if (configuration.ContainsKey(key))
            {
                yield return EditInner(file, configurationKey, $"configuration with {what} of 2^31 - 1", c => c[key] = int.MaxValue);
                yield return EditInner(file, configurationKey, $"configuration with {what} of 100,000", c => c[key] = 100_000);
            }
        yield return EditMetadata(file, "a configuration key repeated", m =>
        {
            var members = JsonNode.Parse(m[configurationKey]!.GetValue<string>())!.AsObject().Select(c => (c.Key, Text(c.Value))).ToList();
            members.Add((members[0].Key, "12345"));
            m[configurationKey] = ObjectText(members);
        });
    }

    /// <summary>
    /// Each tensor's lies: its shape, dtype and offsets; its entry replaced, removed (with or without its data), repeated and
    /// renamed. With <paramref name="checksummed"/> false the file has no checksum list, and the lies that describe another
    /// valid file of the same tensors (two tensors of one size swapping places) are left out, as nothing could tell them.
    /// </summary>
    private static IEnumerable<Mutant> TensorLies(byte[] file, bool checksummed)
    {
        var header = new Header(Split(file).Header);
        string[] tensors = [.. header.TensorNames];
        for (int t = 0; t < tensors.Length; t++)
        {
            string tensor = tensors[t];
            var entry = JsonNode.Parse(header[tensor])!.AsObject();
            int[] shape = [.. entry["shape"]!.AsArray().Select(d => d!.GetValue<int>())];
            var (begin, end) = Offsets(header, tensor);

            foreach (string lie in ShapeLies)
                yield return EditTensor(file, tensor, $"{tensor} shape {lie}", e => e["shape"] = JsonNode.Parse(lie));
            yield return EditTensor(file, tensor, $"{tensor} shape first dimension + 1", e => e["shape"] = new JsonArray([.. shape.Select((d, i) => (JsonNode)(i == 0 ? d + 1 : d))]));
            yield return EditTensor(file, tensor, $"{tensor} shape reversed", e => e["shape"] = new JsonArray([.. Enumerable.Reverse(shape).Select(d => (JsonNode)d)]));
            yield return EditTensor(file, tensor, $"{tensor} shape flattened", e => e["shape"] = new JsonArray(shape.Aggregate(1, (p, d) => p * d)));
            yield return EditTensor(file, tensor, $"{tensor} shape with a leading 1", e => e["shape"] = new JsonArray([1, .. shape.Select(d => (JsonNode)d)]));
            yield return EditTensor(file, tensor, $"{tensor} shape missing", e => e.Remove("shape"));

            foreach (string lie in DtypeLies)
                yield return EditTensor(file, tensor, $"{tensor} dtype {lie}", e => e["dtype"] = JsonNode.Parse(lie));
            yield return EditTensor(file, tensor, $"{tensor} dtype missing", e => e.Remove("dtype"));
            // Lies the byte count cannot catch: the same bytes read as half-precision pairs or as integers.
            yield return EditTensor(file, tensor, $"{tensor} dtype F16 with the last dimension doubled", e =>
            {
                e["dtype"] = "F16";
                e["shape"] = new JsonArray([.. shape.Select((d, i) => (JsonNode)(i == shape.Length - 1 ? 2 * d : d))]);
            });

            foreach (string lie in OffsetLies)
                yield return EditTensor(file, tensor, $"{tensor} data_offsets {lie}", e => e["data_offsets"] = JsonNode.Parse(lie));
            yield return EditTensor(file, tensor, $"{tensor} data_offsets shifted by 4", e => e["data_offsets"] = new JsonArray(begin + 4, end + 4));
            yield return EditTensor(file, tensor, $"{tensor} data_offsets end + 4", e => e["data_offsets"] = new JsonArray(begin, end + 4));
            yield return EditTensor(file, tensor, $"{tensor} data_offsets reversed", e => e["data_offsets"] = new JsonArray(end, begin));
            yield return EditTensor(file, tensor, $"{tensor} data_offsets missing", e => e.Remove("data_offsets"));
            yield return EditTensor(file, tensor, $"{tensor} has an extra member", e => e["extra"] = 1);
            if (checksummed && t + 1 < tensors.Length)
            {
                // The two tensors' places swapped: a consistent layout whose data no longer matches the names.
                string next = tensors[t + 1];
                var (nextBegin, nextEnd) = Offsets(header, next);
                if (nextEnd - nextBegin == end - begin)
                    yield return Edit(file, $"{tensor} and {next} swap data_offsets", h =>
                    {
                        var a = JsonNode.Parse(h[tensor])!.AsObject();
                        var b = JsonNode.Parse(h[next])!.AsObject();
                        (a["data_offsets"], b["data_offsets"]) = (new JsonArray(nextBegin, nextEnd), new JsonArray(begin, end));
                        h[tensor] = Text(a);
                        h[next] = Text(b);
                    });
            }

            foreach (string value in new[] { "null", "[]", "\"x\"", "1", "{}" })
                yield return Edit(file, $"{tensor} entry is {value}", h => h[tensor] = value);
            yield return Edit(file, $"{tensor} entry removed, its data left", h => h.Remove(tensor));
            yield return RemoveTensor(file, tensor, alsoItsChecksum: false);
            if (checksummed) yield return RemoveTensor(file, tensor, alsoItsChecksum: true);
            yield return Edit(file, $"{tensor} entry repeated", h => h.Members.Insert(0, (tensor, h[tensor])));
            if (checksummed) yield return Edit(file, $"{tensor} renamed with its checksum", h =>
            {
                string entryText = h[tensor];
                int at = h.Members.FindIndex(m => m.Key == tensor);
                h.Members[at] = (tensor + ".renamed", entryText);
                var metadata = h.Metadata;
                var checksums = JsonNode.Parse(metadata["checksums_xxh3_64"]!.GetValue<string>())!.AsObject();
                var value = checksums[tensor]!.GetValue<string>();
                checksums.Remove(tensor);
                checksums[tensor + ".renamed"] = value;
                metadata["checksums_xxh3_64"] = Text(checksums);
                h["__metadata__"] = Text(metadata);
            });
            yield return Edit(file, $"{tensor} renamed __metadata__", h =>
            {
                int at = h.Members.FindIndex(m => m.Key == tensor);
                h.Members[at] = ("__metadata__", h[tensor]);
            });
        }
    }

    /// <summary>
    /// One random mutation of any kind (byte flips, overwritten runs, inserted and deleted bytes, truncation, a header lie),
    /// then with probability 1/3 another on top, up to <paramref name="maxDepth"/>. Header lies need a well-formed file, so
    /// after an earlier mutation broke it they fall back to byte mutations. Nothing is stacked on a file whose checksum list a
    /// lie removed: such a file reads unchecked, as older files and PyTorch's do, so damaged data in it is a valid other model.
    /// </summary>
    public static Mutant Random(byte[] file, Random random, IReadOnlyList<Mutant> headerLies, int maxDepth = 4)
    {
        var names = new List<string>();
        byte[] bytes = file;
        int depth = 0;
        do
        {
            var next = RandomOnce(bytes, random, depth == 0 ? headerLies : null);
            names.Add(next.Name);
            bytes = next.Bytes;
        }
        while (++depth < maxDepth && random.Next(3) == 0 && Checksummed(bytes, file));
        return new(string.Join(" + ", names), bytes);
    }

    /// <summary>Whether <paramref name="bytes"/> still names the checksum list, when <paramref name="original"/> did.</summary>
    private static bool Checksummed(byte[] bytes, byte[] original) =>
        bytes.AsSpan().IndexOf("\"checksums_xxh3_64\""u8) >= 0 || original.AsSpan().IndexOf("\"checksums_xxh3_64\""u8) < 0;

    private static Mutant RandomOnce(byte[] file, Random random, IReadOnlyList<Mutant>? headerLies)
    {
        int kind = random.Next(headerLies is null ? 6 : 8);
        if (file.Length == 0) return new("left empty", file);
        switch (kind)
        {
            case 0:
            case 1:
                return Flip(file, random.Next(file.Length), (byte)random.Next(1, 256));
            case 2:
            {
                // A flip in the header, where most of the structure is.
                int headerEnd = (int)Math.Min((ulong)file.Length, file.Length >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(file) + 8 : (ulong)file.Length);
                return Flip(file, random.Next(Math.Max(1, headerEnd)), (byte)(1 << random.Next(8)));
            }
            case 3:
            {
                int at = random.Next(file.Length), count = Math.Min(file.Length - at, 1 + random.Next(16));
                byte[] bytes = (byte[])file.Clone();
                random.NextBytes(bytes.AsSpan(at, count));
                return new($"{count} bytes at {at} overwritten", bytes);
            }
            case 4:
            {
                int at = random.Next(file.Length + 1), count = 1 + random.Next(16);
                byte[] inserted = new byte[count];
                random.NextBytes(inserted);
                if (random.Next(2) == 0) inserted.AsSpan().Fill((byte)"0{}[],\" 9"[random.Next(9)]);
                return new($"{count} bytes inserted at {at}", [.. file.AsSpan(0, at), .. inserted, .. file.AsSpan(at)]);
            }
            case 5:
            {
                if (random.Next(2) == 0) return Truncate(file, random.Next(file.Length));
                int at = random.Next(file.Length), count = Math.Min(file.Length - at, 1 + random.Next(16));
                return new($"{count} bytes at {at} deleted", [.. file.AsSpan(0, at), .. file.AsSpan(at + count)]);
            }
            default:
                return headerLies![random.Next(headerLies.Count)];
        }
    }

    // ---------------------------------------------------------------------------------------------------------------------
    // Saved ML.NET models: a zip of entries.

    /// <summary>A zip's entries, in order, with their bytes.</summary>
    public static List<(string Name, byte[] Bytes)> Entries(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        var entries = new List<(string, byte[])>();
        foreach (var entry in archive.Entries)
        {
            using var stream = entry.Open();
            var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            entries.Add((entry.FullName, buffer.ToArray()));
        }
        return entries;
    }

    /// <summary>A zip of the given entries (names may repeat), deflated.</summary>
    public static byte[] Zip(IEnumerable<(string Name, byte[] Bytes)> entries)
    {
        var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes) in entries)
            {
                using var stream = archive.CreateEntry(name, CompressionLevel.Fastest).Open();
                stream.Write(bytes);
            }
        return buffer.ToArray();
    }

    /// <summary>
    /// Each entry of a saved model renamed, removed and duplicated (before itself and at the end); its bytes truncated to
    /// none, half and one short, flipped at its first and last byte and at <paramref name="flipsPerEntry"/> seeded places, and grown by a megabyte of zeros
    /// (a deflated entry far larger than its zip); an entry the model does not know added; the zip itself truncated and
    /// flipped at seeded places.
    /// </summary>
    public static IEnumerable<Mutant> ZipLies(byte[] zip, int flipsPerEntry, int seed)
    {
        var random = new Random(seed);
        var entries = Entries(zip);
        for (int e = 0; e < entries.Count; e++)
        {
            var (name, bytes) = entries[e];
            int at = e;
            List<(string, byte[])> With(params (string, byte[])[] replacement) => [.. entries.Take(at), .. replacement, .. entries.Skip(at + 1)];
            yield return new($"{name} renamed", Zip(With((name + ".renamed", bytes))));
            yield return new($"{name} renamed in upper case", Zip(With((name.ToUpperInvariant(), bytes))));
            yield return new($"{name} moved into another folder", Zip(With(("Other/" + name, bytes))));
            yield return new($"{name} removed", Zip(With()));
            yield return new($"{name} duplicated", Zip(With((name, bytes), (name, bytes))));
            yield return new($"{name} duplicated with other bytes first", Zip(With((name, [.. Enumerable.Reverse(bytes)]), (name, bytes))));
            yield return new($"{name} duplicated with other bytes last", Zip(With((name, bytes), (name, [.. Enumerable.Reverse(bytes)]))));
            yield return new($"{name} duplicated at the end", Zip([.. entries, (name, bytes)]));
            yield return new($"{name} emptied", Zip(With((name, []))));
            yield return new($"{name} cut to half", Zip(With((name, bytes[..(bytes.Length / 2)]))));
            if (bytes.Length > 0) yield return new($"{name} one byte short", Zip(With((name, bytes[..^1]))));
            yield return new($"{name} with a megabyte of zeros appended", Zip(With((name, [.. bytes, .. new byte[1 << 20]]))));
            if (bytes.Length > 0)
            {
                // The first and the last byte: a header, and the last data a loader reads (a model file's last tensor).
                yield return new($"{name}: first byte flipped", Zip(With((name, Flip(bytes, 0, 0x10).Bytes))));
                yield return new($"{name}: last byte flipped", Zip(With((name, Flip(bytes, bytes.Length - 1, 0x10).Bytes))));
            }
            for (int k = 0; k < flipsPerEntry && bytes.Length > 0; k++)
            {
                var flipped = Flip(bytes, random.Next(bytes.Length), (byte)random.Next(1, 256));
                yield return new($"{name}: {flipped.Name}", Zip(With((name, flipped.Bytes))));
            }
        }
        yield return new("an unknown entry added", Zip([.. entries, ("Unknown/Model.key", [1, 2, 3])]));
        yield return new("every entry removed", Zip([]));
        yield return new("entries in reverse order", Zip(Enumerable.Reverse(entries)));
        for (int k = 0; k < flipsPerEntry; k++)
        {
            yield return Truncate(zip, random.Next(zip.Length));
            yield return Flip(zip, random.Next(zip.Length), (byte)random.Next(1, 256));
        }
    }
}
