using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace MlNet.Rnn.Core.Persistence;

/// <summary>
/// The checksum of every tensor of a model file, in its <c>__metadata__</c> under <see cref="ModelFile.ChecksumsKey"/>: a
/// JSON object from tensor name to the XXH3 64-bit hash of the tensor's data bytes as stored (little-endian), 16 lowercase
/// hex digits. Written on save, verified on read, so a damaged byte anywhere in the data is an error naming its tensor;
/// files without it (older ones, or saved by PyTorch) are read without the check.
/// </summary>
internal static class TensorChecksums
{
    /// <summary>The hash of <paramref name="values"/> as a model file stores them (little-endian F32).</summary>
    public static ulong Of(ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian) return XxHash3.HashToUInt64(MemoryMarshal.AsBytes(values));
        var hash = new XxHash3();
        Span<byte> buffer = stackalloc byte[1024];
        for (int start = 0; start < values.Length; start += buffer.Length / sizeof(float))
        {
            int count = Math.Min(buffer.Length / sizeof(float), values.Length - start);
            for (int j = 0; j < count; j++) BinaryPrimitives.WriteSingleLittleEndian(buffer[(j * sizeof(float))..], values[start + j]);
            hash.Append(buffer[..(count * sizeof(float))]);
        }
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>The metadata value: the checksums in the given (file) order.</summary>
    public static string Encode(IEnumerable<(string Name, ulong Hash)> checksums)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (name, hash) in checksums) json.WriteString(name, Format(hash));
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// Reads the metadata value back; <paramref name="names"/> are the file's tensors, each of which must have exactly one
    /// checksum. Throws <see cref="InvalidDataException"/> (via <paramref name="corrupt"/>) naming what is wrong.
    /// </summary>
    public static Dictionary<string, ulong> Decode(string value, IEnumerable<string> names, Func<string, Exception?, InvalidDataException> corrupt)
    {
        var checksums = new Dictionary<string, ulong>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(value);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw corrupt($"has {ModelFile.ChecksumsKey} that is a JSON {document.RootElement.ValueKind}, not an object of tensor checksums.", null);
            foreach (var item in document.RootElement.EnumerateObject())
            {
                if (item.Value.ValueKind != JsonValueKind.String || item.Value.GetString() is not { Length: 16 } text
                    || !ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong hash))
                    throw corrupt($"has checksum {item.Value.GetRawText()} for tensor '{item.Name}'; a checksum is 16 hex digits.", null);
                if (!checksums.TryAdd(item.Name, hash)) throw corrupt($"lists a checksum for tensor '{item.Name}' twice.", null);
            }
        }
        catch (JsonException exception)
        {
            throw corrupt($"has {ModelFile.ChecksumsKey} that is not valid JSON ({exception.Message}).", exception);
        }
        var tensors = names.ToHashSet(StringComparer.Ordinal);
        if (tensors.FirstOrDefault(name => !checksums.ContainsKey(name)) is string unlisted)
            throw corrupt($"has no checksum for tensor '{unlisted}' although it lists checksums: the header is damaged.", null);
        if (checksums.Keys.FirstOrDefault(name => !tensors.Contains(name)) is string stray)
            throw corrupt($"lists a checksum for tensor '{stray}', which the file does not hold: the header is damaged.", null);
        return checksums;
    }

    /// <summary>
    /// Whether <paramref name="value"/> holds a checksum-list member for one of the tensors <paramref name="names"/>:
    /// <c>"name":"</c> and 16 hex digits, read as text, so a list whose JSON is damaged as well still shows. In a file without
    /// <see cref="ModelFile.ChecksumsKey"/>, such a value under another key is the list under a damaged key, which must not
    /// turn the check off.
    /// </summary>
    public static bool MentionsAChecksumOf(string value, IEnumerable<string> names)
    {
        foreach (string name in names)
        {
            string member = JsonSerializer.Serialize(name) + ":\"";
            for (int at = value.IndexOf(member, StringComparison.Ordinal); at >= 0; at = value.IndexOf(member, at + 1, StringComparison.Ordinal))
            {
                var digits = value.AsSpan(at + member.Length);
                if (digits.Length >= 17 && digits[16] == '"' && !digits[..16].ContainsAnyExcept("0123456789abcdefABCDEF")) return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The hash of a file's metadata (<see cref="ModelFile.MetadataChecksumKey"/>): every entry but that one, in ordinal key
    /// order, as UTF-8 key, a zero byte, UTF-8 value, a zero byte; so the entries' order in the header does not matter.
    /// </summary>
    public static ulong OfMetadata(IEnumerable<KeyValuePair<string, string>> metadata)
    {
        var hash = new XxHash3();
        byte[] zero = [0];
        foreach (var (key, value) in metadata.Where(entry => entry.Key != ModelFile.MetadataChecksumKey).OrderBy(entry => entry.Key, StringComparer.Ordinal))
        {
            hash.Append(System.Text.Encoding.UTF8.GetBytes(key));
            hash.Append(zero);
            hash.Append(System.Text.Encoding.UTF8.GetBytes(value));
            hash.Append(zero);
        }
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>16 lowercase hex digits.</summary>
    public static string Format(ulong hash) => hash.ToString("x16", CultureInfo.InvariantCulture);
}
