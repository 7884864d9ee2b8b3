using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;

namespace MlNet.Rnn.Core.Persistence;

/// <summary>
/// Reads and validates a safetensors file as the reference implementation does: an 8-byte little-endian header
/// length N (at most 100 MB), N bytes of UTF-8 JSON (an object: <c>__metadata__</c> with string values, and per
/// tensor <c>dtype</c>, <c>shape</c>, <c>data_offsets</c> [begin, end) relative to the data), then the data, which
/// the tensors must tile exactly: sorted by offset, each begins where the previous ends, each spans
/// elements × dtype size bytes, and the last ends at the end of the file. When the metadata lists checksums
/// (<see cref="ModelFile.ChecksumsKey"/>), every tensor's bytes must match theirs. Every violation is an
/// <see cref="InvalidDataException"/> naming the source and the problem; nothing is returned half-read.
/// </summary>
internal static class SafetensorsReader
{
    /// <summary>The header key of the text metadata.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The reference implementation's limit on the header length.</summary>
    public const int MaxHeaderLength = 100_000_000;

    private const int ChunkBytes = 1 << 16;

    private sealed record Entry(string Name, string DataType, int[] Shape, int Length, ulong Begin, ulong End);

    /// <param name="stream">The file, from its current position to its end; need not be seekable.</param>
    /// <param name="source">What to call it in messages, or null.</param>
    /// <param name="requireModelFormat">Whether to refuse files that are not MlNet.Rnn model files.</param>
    /// <param name="skip">Tensors for which this is true are passed over unread (not allocated, not checked against
    /// their checksum) and left out of the contents.</param>
    public static ModelFileContents Read(Stream stream, string? source, bool requireModelFormat, Func<string, bool>? skip = null)
    {
        string where = source ?? "The model file";
        long available = stream.CanSeek ? stream.Length - stream.Position : -1;

        Span<byte> prefix = stackalloc byte[8];
        int prefixRead = ReadAtMost(stream, prefix);
        if (prefixRead < 8)
            throw Corrupt(where, $"is truncated: it holds {prefixRead} bytes, but a safetensors file starts with an 8-byte header length.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (available >= 0 && headerLength > (ulong)(available - 8))
            throw Corrupt(where, $"is truncated or not a safetensors file: its header length {headerLength} runs past the end of the file ({available - 8} bytes follow the length).");
        if (headerLength > MaxHeaderLength)
            throw Corrupt(where, $"is not a safetensors file: its header length {headerLength} exceeds the {MaxHeaderLength}-byte limit.");
        var header = ReadHeaderBytes(stream, (int)headerLength, lengthChecked: available >= 0, out int headerRead);
        if (headerRead < (int)headerLength)
            throw Corrupt(where, $"is truncated: its header length is {headerLength} bytes, but only {headerRead} follow the length.");

        var (metadata, entries) = ParseHeader(header, where, requireModelFormat);
        if (metadata.TryGetValue(ModelFile.MetadataChecksumKey, out string? recordedMetadata))
        {
            if (recordedMetadata.Length != 16 || recordedMetadata.AsSpan().ContainsAnyExcept("0123456789abcdef"))
                throw Corrupt(where, $"has {ModelFile.MetadataChecksumKey} '{recordedMetadata}'; a checksum is 16 lowercase hex digits.");
            string actualMetadata = TensorChecksums.Format(TensorChecksums.OfMetadata(metadata));
            if (actualMetadata != recordedMetadata)
                throw Corrupt(where, $"is damaged: its {MetadataKey} does not match its checksum (XXH3 {actualMetadata}, recorded {recordedMetadata}). " +
                    "Restore the file from a copy, or train and save the model again.");
        }
        ulong dataLength = entries.Count == 0 ? 0 : entries[^1].End;
        if (available >= 0)
        {
            ulong dataAvailable = (ulong)(available - 8) - headerLength;
            if (dataLength > dataAvailable)
                throw Corrupt(where, $"is truncated: its header describes {dataLength} bytes of tensor data, but only {dataAvailable} follow the header.");
            if (dataLength < dataAvailable)
                throw Corrupt(where, $"holds {dataAvailable - dataLength} bytes after the last tensor's data; the header describes {dataLength} bytes of tensor data.");
        }

        var checksums = metadata.TryGetValue(ModelFile.ChecksumsKey, out string? listed)
            ? TensorChecksums.Decode(listed, entries.Select(entry => entry.Name), (problem, inner) => Corrupt(where, problem, inner))
            : null;
        if (checksums is null && metadata.Keys.FirstOrDefault(key => TensorChecksums.MentionsAChecksumOf(metadata[key], entries.Select(entry => entry.Name))) is string damaged)
            throw Corrupt(where, $"has no {ModelFile.ChecksumsKey}, but its {MetadataKey} entry '{damaged}' lists tensor checksums: the header is damaged. " +
                "Restore the file from a copy, or train and save the model again.");
        var tensors = new List<ModelFileTensor>(entries.Count);
        byte[]? chunk = null;
        var hash = new XxHash3();
        foreach (var entry in entries)
        {
            if (skip?.Invoke(entry.Name) == true)
            {
                Skip(stream, entry, where, ref chunk);
                continue;
            }
            hash.Reset();
            var data = ReadData(stream, entry, where, available >= 0, checksums is null ? null : hash, ref chunk);
            if (checksums is not null && hash.GetCurrentHashAsUInt64() is var actual && actual != checksums[entry.Name])
                throw Corrupt(where, $"is damaged: the data of tensor '{entry.Name}' does not match its checksum (XXH3 {TensorChecksums.Format(actual)}, " +
                    $"recorded {TensorChecksums.Format(checksums[entry.Name])}). Restore the file from a copy, or train and save the model again.");
            tensors.Add(new ModelFileTensor(entry.Name, entry.Shape, data, entry.DataType));
        }
        if (available < 0 && stream.ReadByte() >= 0)
            throw Corrupt(where, $"holds bytes after the last tensor's data; the header describes {dataLength} bytes of tensor data.");
        return new ModelFileContents(metadata, tensors, source);
    }

    private static (Dictionary<string, string> Metadata, List<Entry> Entries) ParseHeader(byte[] header, string where, bool requireModelFormat)
    {
        if (!Utf8.IsValid(header)) throw Corrupt(where, "has a header that is not valid UTF-8 text.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException exception)
        {
            throw Corrupt(where, $"has a header that is not valid JSON ({exception.Message})", exception);
        }
        using (document)
        {
            try
            {
                return ReadHeader(document.RootElement, where, requireModelFormat);
            }
            catch (InvalidOperationException exception)
            {
                // System.Text.Json refuses to decode a string holding an escaped lone surrogate ("\uD800").
                throw Corrupt(where, $"has a header that is not valid JSON ({exception.Message})", exception);
            }
        }
    }

    private static (Dictionary<string, string> Metadata, List<Entry> Entries) ReadHeader(JsonElement root, string where, bool requireModelFormat)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw Corrupt(where, $"has a header that is a JSON {root.ValueKind}, not the object of tensors a safetensors header is.");

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (!names.Add(property.Name)) throw Corrupt(where, $"names '{property.Name}' twice in its header.");
            if (property.Name == MetadataKey) ReadMetadata(property.Value, metadata, where);
        }
        CheckFormat(metadata, where, requireModelFormat);

        var entries = new List<Entry>();
        foreach (var property in root.EnumerateObject())
            if (property.Name != MetadataKey) entries.Add(ReadEntry(property.Name, property.Value, where));

        // Stable sort: zero-length tensors at the same offset keep their header order.
        var ordered = entries.Select((entry, index) => (entry, index)).OrderBy(x => x.entry.Begin).ThenBy(x => x.entry.End).ThenBy(x => x.index)
            .Select(x => x.entry).ToList();
        ulong expected = 0;
        string? previous = null;
        foreach (var entry in ordered)
        {
            if (entry.Begin > expected)
                throw Corrupt(where, $"leaves a gap in its data: tensor '{entry.Name}' begins at byte {entry.Begin}, but " +
                    (previous is null ? "the data starts at byte 0." : $"the previous tensor '{previous}' ends at byte {expected}."));
            if (entry.Begin < expected)
                throw Corrupt(where, $"has overlapping tensors: '{entry.Name}' begins at byte {entry.Begin}, before the previous tensor '{previous}' ends at byte {expected}.");
            expected = entry.End;
            previous = entry.Name;
        }
        return (metadata, ordered);
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string where)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
            throw Corrupt(where, $"has a {MetadataKey} that is a JSON {value.ValueKind}; it must be an object of strings.");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Corrupt(where, $"has {MetadataKey} entry '{item.Name}' that is a JSON {item.Value.ValueKind}; every metadata value must be a string.");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw Corrupt(where, $"names {MetadataKey} entry '{item.Name}' twice.");
        }
    }

    private static void CheckFormat(Dictionary<string, string> metadata, string where, bool requireModelFormat)
    {
        metadata.TryGetValue(ModelFile.FormatKey, out string? format);
        if (format == ModelFile.FormatName)
        {
            if (!metadata.TryGetValue(ModelFile.FormatVersionKey, out string? text))
                throw Corrupt(where, $"says it is an {ModelFile.FormatName} model file but has no {ModelFile.FormatVersionKey}.");
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int version) || version < 1)
                throw Corrupt(where, $"has {ModelFile.FormatVersionKey} '{text}'; it must be a whole number from 1.");
            if (version > ModelFile.FormatVersion)
                throw Corrupt(where, $"was written by a newer {ModelFile.FormatName} (format version {version}); " +
                    $"this version reads up to {ModelFile.FormatVersion}: update the package.");
            return;
        }
        if (!requireModelFormat) return;
        throw Corrupt(where, format is null
            ? $"is not an {ModelFile.FormatName} model file: its header has no {MetadataKey} \"{ModelFile.FormatKey}\" (a plain safetensors file, " +
              "e.g. saved from PyTorch); read it without requiring the model format and copy its weights with ModelFile.LoadInto."
            : $"is not an {ModelFile.FormatName} model file: its {MetadataKey} \"{ModelFile.FormatKey}\" is '{format}', expected '{ModelFile.FormatName}'.");
    }

    private static Entry ReadEntry(string name, JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Corrupt(where, $"describes tensor '{name}' with a JSON {value.ValueKind}; it must be an object with dtype, shape and data_offsets.");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Corrupt(where, $"gives tensor '{name}' no dtype string.");
        string dataType = dtypeElement.GetString()!;
        int size = SafetensorsDataType.SizeOf(dataType);
        if (size == 0)
            throw Corrupt(where, $"has tensor '{name}' of dtype '{dataType}', which this version does not read; it reads {SafetensorsDataType.Supported}.");

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Corrupt(where, $"gives tensor '{name}' no shape array.");
        var shape = new int[shapeElement.GetArrayLength()];
        ulong elements = 1;
        int d = 0;
        foreach (var dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetUInt64(out ulong extent) || extent > int.MaxValue)
                throw Corrupt(where, $"gives tensor '{name}' shape {shapeElement.GetRawText()}; every dimension must be a whole number from 0 to {int.MaxValue}.");
            shape[d++] = (int)extent;
            elements = elements * extent;
            if (elements > (ulong)Array.MaxLength)
                throw Corrupt(where, $"gives tensor '{name}' shape {shapeElement.GetRawText()}, more than the {Array.MaxLength} elements an array can hold.");
        }

        if (!value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2 ||
            offsetsElement[0].ValueKind != JsonValueKind.Number || !offsetsElement[0].TryGetUInt64(out ulong begin) ||
            offsetsElement[1].ValueKind != JsonValueKind.Number || !offsetsElement[1].TryGetUInt64(out ulong end))
            throw Corrupt(where, $"gives tensor '{name}' data_offsets {(offsetsElement.ValueKind == JsonValueKind.Undefined ? "(none)" : offsetsElement.GetRawText())}; " +
                "they must be [begin, end], two whole byte offsets.");
        if (end < begin)
            throw Corrupt(where, $"gives tensor '{name}' data_offsets [{begin}, {end}], which end before they begin.");
        ulong bytes = elements * (ulong)size;
        if (end - begin != bytes)
            throw Corrupt(where, $"gives tensor '{name}' shape {ModelFile.FormatShape(shape)} {dataType} = {bytes} bytes, but its data_offsets [{begin}, {end}] span {end - begin}.");
        return new Entry(name, dataType, shape, (int)elements, begin, end);
    }

    /// <summary>
    /// Reads the header's <paramref name="length"/> bytes, or as many as the stream holds (<paramref name="read"/>). When the
    /// stream's length was checked against it, the buffer is allocated whole; otherwise it grows (doubling, from
    /// <see cref="ChunkBytes"/>) as the bytes arrive, so a length that claims more than the stream holds costs about the bytes present.
    /// </summary>
    private static byte[] ReadHeaderBytes(Stream stream, int length, bool lengthChecked, out int read)
    {
        var buffer = new byte[lengthChecked ? length : Math.Min(length, ChunkBytes)];
        read = 0;
        while (true)
        {
            read += ReadAtMost(stream, buffer.AsSpan(read));
            if (read < buffer.Length || buffer.Length == length) return buffer;
            Array.Resize(ref buffer, (int)Math.Min(length, 2L * buffer.Length));
        }
    }

    /// <summary>Elements allocated for a tensor before its bytes arrive, when the stream's length is unknown.</summary>
    private const int FirstAllocation = 1 << 20;

    /// <summary>
    /// Reads one tensor's data as float. When the stream's length was checked against the header, the array is allocated
    /// whole; otherwise it grows (doubling, from <see cref="FirstAllocation"/> elements) as the bytes arrive, so a header
    /// that claims more than the stream holds costs at most twice the bytes present.
    /// </summary>
    private static float[] ReadData(Stream stream, Entry entry, string where, bool lengthChecked, XxHash3? hash, ref byte[]? chunk)
    {
        int size = SafetensorsDataType.SizeOf(entry.DataType);
        bool raw = entry.DataType == SafetensorsDataType.Float32;
        var data = new float[lengthChecked ? entry.Length : Math.Min(entry.Length, FirstAllocation)];
        int piece = raw ? FirstAllocation : ChunkBytes / size;
        for (int start = 0; start < entry.Length; start += piece)
        {
            int count = Math.Min(piece, entry.Length - start);
            if (start + count > data.Length) Array.Resize(ref data, (int)Math.Min(entry.Length, 2L * data.Length));   // pieces never exceed the first allocation
            Span<float> values = data.AsSpan(start, count);
            if (raw)
            {
                Span<byte> bytes = MemoryMarshal.AsBytes(values);
                if (ReadAtMost(stream, bytes) < bytes.Length) throw TruncatedData(where, entry);
                hash?.Append(bytes);
                if (!BitConverter.IsLittleEndian)
                {
                    Span<int> bits = MemoryMarshal.Cast<float, int>(values);
                    BinaryPrimitives.ReverseEndianness(bits, bits);
                }
                continue;
            }
            chunk ??= new byte[ChunkBytes];
            Span<byte> encoded = chunk.AsSpan(0, count * size);
            if (ReadAtMost(stream, encoded) < encoded.Length) throw TruncatedData(where, entry);
            hash?.Append(encoded);
            int inexact = SafetensorsDataType.Convert(entry.DataType, encoded, values);
            if (inexact >= 0)
                throw Corrupt(where, $"has tensor '{entry.Name}' ({entry.DataType}) holding {SafetensorsDataType.IntegerAt(entry.DataType, encoded, inexact)} " +
                    $"at index {start + inexact}; integer tensors are read as float and must stay within ±2^24 to be exact.");
        }
        return data;
    }

    /// <summary>Passes over one tensor's data: a seek where the stream can, else reads into one reused chunk.</summary>
    private static void Skip(Stream stream, Entry entry, string where, ref byte[]? chunk)
    {
        ulong remaining = entry.End - entry.Begin;
        if (stream.CanSeek)
        {
            stream.Seek((long)remaining, SeekOrigin.Current);   // the stream's length was checked against the header
            return;
        }
        chunk ??= new byte[ChunkBytes];
        while (remaining > 0)
        {
            int read = stream.Read(chunk, 0, (int)Math.Min(remaining, (ulong)chunk.Length));
            if (read == 0) throw TruncatedData(where, entry);
            remaining -= (ulong)read;
        }
    }

    private static InvalidDataException TruncatedData(string where, Entry entry) =>
        Corrupt(where, $"is truncated: the data of tensor '{entry.Name}' (bytes {entry.Begin} to {entry.End} of the data) is cut short.");

    private static InvalidDataException Corrupt(string where, string problem, Exception? inner = null) => new($"{where} {problem}", inner);

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the bytes read.</summary>
    private static int ReadAtMost(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer[total..]);
            if (read == 0) break;
            total += read;
        }
        return total;
    }
}
