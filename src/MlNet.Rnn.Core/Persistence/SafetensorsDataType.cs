using System.Buffers.Binary;

namespace MlNet.Rnn.Core.Persistence;

/// <summary>
/// The safetensors element types a model file may hold, and their conversion to float. We write F32; on reading we
/// also accept F64, F16 and BF16 (rounded to the nearest float) and I64, I32 (integers of magnitude ≤ 2²⁴, which a
/// float holds exactly). Every value is little-endian, as the format prescribes.
/// </summary>
internal static class SafetensorsDataType
{
    /// <summary>The dtype we write.</summary>
    public const string Float32 = "F32";

    /// <summary>The largest integer magnitude below which every integer is exactly a float: 2²⁴.</summary>
    private const long ExactFloatIntegerLimit = 1L << 24;

    /// <summary>The dtypes <see cref="Convert"/> reads, for error messages.</summary>
    public const string Supported = "F32, F64, F16, BF16, I64, I32";

    /// <summary>Bytes per element of a dtype we read, or 0 when we do not read it.</summary>
    public static int SizeOf(string dataType) => dataType switch
    {
        "F32" or "I32" => 4,
        "F64" or "I64" => 8,
        "F16" or "BF16" => 2,
        _ => 0,
    };

    /// <summary>
    /// Converts little-endian elements of <paramref name="dataType"/> in <paramref name="bytes"/> to
    /// <paramref name="destination"/> (one float per element). Returns the index of the first integer element a float
    /// cannot hold exactly, or −1. Not for F32, which the reader reads in place.
    /// </summary>
    public static int Convert(string dataType, ReadOnlySpan<byte> bytes, Span<float> destination)
    {
        switch (dataType)
        {
            case "F64":
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]);
                return -1;
            case "F16":
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]);
                return -1;
            case "BF16":
                // bfloat16 is the upper half of a float32.
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16);
                return -1;
            case "I64":
                for (int i = 0; i < destination.Length; i++)
                {
                    long value = BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]);
                    if (value > ExactFloatIntegerLimit || value < -ExactFloatIntegerLimit) return i;
                    destination[i] = value;
                }
                return -1;
            case "I32":
                for (int i = 0; i < destination.Length; i++)
                {
                    int value = BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]);
                    if (value > ExactFloatIntegerLimit || value < -ExactFloatIntegerLimit) return i;
                    destination[i] = value;
                }
                return -1;
            default:
                throw new ArgumentOutOfRangeException(nameof(dataType), dataType, $"Only {Supported} are read.");
        }
    }

    /// <summary>The integer element at <paramref name="index"/> (for the message about a value too large for a float).</summary>
    public static long IntegerAt(string dataType, ReadOnlySpan<byte> bytes, int index) => dataType == "I64"
        ? BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * index)..])
        : BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * index)..]);
}
