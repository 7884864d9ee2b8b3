using System.Buffers.Binary;
using System.Text;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>Builds safetensors bytes by hand (independently of our writer) and compares parameter sets bit for bit.</summary>
internal static class SafetensorsBytes
{
    /// <summary>8-byte little-endian length, the header text as UTF-8 (unpadded unless it already is), then the data.</summary>
    public static byte[] File(string headerJson, ReadOnlySpan<byte> data) => File(Encoding.UTF8.GetBytes(headerJson), data);

    public static byte[] File(byte[] header, ReadOnlySpan<byte> data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes.AsSpan(8 + header.Length));
        return bytes;
    }

    /// <summary>Little-endian float32 bytes.</summary>
    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    /// <summary>The bit patterns of every value, so NaN payloads and −0 count as differences.</summary>
    public static int[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new int[values.Length];
        for (int i = 0; i < values.Length; i++) bits[i] = BitConverter.SingleToInt32Bits(values[i]);
        return bits;
    }

    /// <summary>A stream that cannot seek, as a network or pipe stream; it returns at most <paramref name="maxRead"/> bytes per read.</summary>
    public sealed class ForwardOnlyStream(byte[] bytes, int maxRead = 5) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        // Short reads on purpose (5 bytes at a time by default), so callers must loop.
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, maxRead));
        public override int Read(Span<byte> buffer) => _inner.Read(buffer[..Math.Min(buffer.Length, maxRead)]);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A temporary folder, deleted on dispose.</summary>
    public sealed class TemporaryFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("mlnet-rnn-persistence-").FullName;
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    /// <summary>Every value of a parameter set, copied.</summary>
    public static float[] Snapshot(ParameterSet parameters) => parameters.Values.ToArray();
}
