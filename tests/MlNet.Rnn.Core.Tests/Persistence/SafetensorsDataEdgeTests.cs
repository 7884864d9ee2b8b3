using System.Buffers.Binary;
using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// The reader on tensor data beside F32: integers read exactly up to ±2²⁴ inclusive and refused one past it, naming the
/// value and its index in the whole tensor (also beyond the first 64 KB the reader converts at a time); tensors of other
/// dtypes larger than one such piece read whole, at a cost of about their floats; data cut short on a forward-only
/// stream is an error for a converted tensor and for a skipped one.
/// </summary>
public sealed class SafetensorsDataEdgeTests
{
    private static byte[] Integers(string dtype, params long[] values)
    {
        int size = dtype == "I64" ? 8 : 4;
        var data = new byte[size * values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            if (size == 8) BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8 * i), values[i]);
            else BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(4 * i), checked((int)values[i]));
        }
        return SafetensorsBytes.File($$$"""{"t":{"dtype":"{{{dtype}}}","shape":[{{{values.Length}}}],"data_offsets":[0,{{{data.Length}}}]}}""", data);
    }

    [Theory]
    [InlineData("I64")]
    [InlineData("I32")]
    public void Integers_UpToTwoToThe24_ReadExactly_AndOnePastIsRefused(string dtype)
    {
        const long limit = 1L << 24;
        Assert.Equal([limit, -limit, 0f], ModelFile.Read(new MemoryStream(Integers(dtype, limit, -limit, 0))).Tensors[0].Data);
        foreach (long value in new[] { limit + 1, -limit - 1 })
        {
            var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(Integers(dtype, 3, value)), source: "m.safetensors"));
            Assert.Equal($"m.safetensors has tensor 't' ({dtype}) holding {value} at index 1; integer tensors are read as float and must stay within ±2^24 to be exact.", error.Message);
        }
    }

    [Fact]
    public void ALargeInteger_DeepInABigI64Tensor_IsNamedWithItsValueAndIndex()
    {
        var values = new long[8200];   // more than the 8192 eight-byte elements of one 64 KB piece
        values[8194] = 1L << 40;
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(Integers("I64", values)), source: "m.safetensors"));
        Assert.Equal("m.safetensors has tensor 't' (I64) holding 1099511627776 at index 8194; integer tensors are read as float and must stay within ±2^24 to be exact.", error.Message);
    }

    [Fact]
    public void AnF64TensorLargerThanOnePiece_ReadsWhole()
    {
        const int count = 8193;
        var data = new byte[8 * count];
        for (int i = 0; i < count; i++) BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8 * i), i + 0.5);
        byte[] file = SafetensorsBytes.File($$$"""{"d":{"dtype":"F64","shape":[{{{count}}}],"data_offsets":[0,{{{data.Length}}}]}}""", data);
        Assert.Equal(Enumerable.Range(0, count).Select(i => i + 0.5f), ModelFile.Read(new SafetensorsBytes.ForwardOnlyStream(file, maxRead: 1 << 16))["d"].Data);
    }

    [Fact]
    public void ReadingAHalfPrecisionTensor_CostsAboutItsFloats()
    {
        const int count = 1 << 20;   // 2 MB stored, 4 MB as float
        var data = new byte[2 * count];
        for (int i = 0; i < count; i++) BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2 * i), (Half)(i % 1000));
        byte[] file = SafetensorsBytes.File($$$"""{"h":{"dtype":"F16","shape":[{{{count}}}],"data_offsets":[0,{{{data.Length}}}]}}""", data);

        ModelFile.Read(new MemoryStream(file));   // the first call pays for JIT compilation
        long before = GC.GetAllocatedBytesForCurrentThread();
        var contents = ModelFile.Read(new MemoryStream(file));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(999f, contents["h"].Data[999]);
        Assert.True(allocated < 4L * count + (1 << 19), $"Reading {count:N0} F16 values allocated {allocated:N0} bytes; their floats take {4L * count:N0}.");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DataCutShort_OnAForwardOnlyStream_IsRefused_ForAConvertedTensorAndASkippedOne(bool skipped)
    {
        byte[] file = SafetensorsBytes.File("""{"optimizer.h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}""", new byte[3]);
        var error = Assert.Throws<InvalidDataException>(() =>
            ModelFile.Read(new SafetensorsBytes.ForwardOnlyStream(file), source: "m.safetensors", skipPrefixes: skipped ? ["optimizer."] : null));
        Assert.Equal("m.safetensors is truncated: the data of tensor 'optimizer.h' (bytes 0 to 8 of the data) is cut short.", error.Message);
    }
}
