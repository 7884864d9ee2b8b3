using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MlNet.Rnn.Core.Persistence;

/// <summary>
/// Writes a safetensors file: an 8-byte little-endian length N, N bytes of UTF-8 JSON header padded with spaces to a
/// multiple of 8 (as the reference implementation pads, so the data starts 8-aligned), then every tensor's
/// little-endian F32 data, contiguous in the given order. The header names each tensor with its dtype, shape and
/// <c>data_offsets</c> [begin, end) relative to the start of the data; <c>__metadata__</c> comes first.
/// </summary>
internal static class SafetensorsWriter
{
    /// <summary>Hands out the data of tensor <paramref name="index"/> when it is written.</summary>
    public delegate ReadOnlySpan<float> TensorData(int index);

    /// <summary>
    /// Writes the header built from <paramref name="metadata"/> (in the given order) and <paramref name="layout"/>, then
    /// the data <paramref name="data"/> hands out. Arguments must be validated already: nothing here throws on content.
    /// </summary>
    public static void Write(Stream stream, IReadOnlyList<KeyValuePair<string, string>> metadata,
        IReadOnlyList<(string Name, int[] Shape, long Length)> layout, TensorData data)
    {
        byte[] header = Header(metadata, layout);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        byte[]? swapped = null;
        for (int i = 0; i < layout.Count; i++)
        {
            ReadOnlySpan<float> values = data(i);
            if (BitConverter.IsLittleEndian)
            {
                stream.Write(MemoryMarshal.AsBytes(values));
                continue;
            }
            swapped ??= new byte[4096 * sizeof(float)];
            for (int start = 0; start < values.Length; start += 4096)
            {
                int count = Math.Min(4096, values.Length - start);
                for (int j = 0; j < count; j++) BinaryPrimitives.WriteSingleLittleEndian(swapped.AsSpan(4 * j), values[start + j]);
                stream.Write(swapped, 0, 4 * count);
            }
        }
    }

    /// <summary>The header JSON, compact, padded with spaces to a multiple of 8 bytes.</summary>
    internal static byte[] Header(IReadOnlyList<KeyValuePair<string, string>> metadata, IReadOnlyList<(string Name, int[] Shape, long Length)> layout)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps non-ASCII names and the configuration JSON readable; the output is still valid JSON.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata.Count > 0)
            {
                json.WriteStartObject(SafetensorsReader.MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, shape, length) in layout)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", SafetensorsDataType.Float32);
                json.WriteStartArray("shape");
                foreach (int dimension in shape) json.WriteNumberValue(dimension);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + length * sizeof(float));
                json.WriteEndArray();
                json.WriteEndObject();
                offset += length * sizeof(float);
            }
            json.WriteEndObject();
        }
        int padding = (8 - buffer.WrittenCount % 8) % 8;
        buffer.GetSpan(padding)[..padding].Fill((byte)' ');
        buffer.Advance(padding);
        return buffer.WrittenSpan.ToArray();
    }
}
