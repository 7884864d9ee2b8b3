using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// What <see cref="SequenceDataset"/> refuses of the parts a cache writes and reads back, and of the sets a window gathers:
/// a part written at any offset (one of a one-step example, an empty one) reads back as it was, over what the buffer held; a
/// part whose header declares a count, step values or targets below 0 or past <see cref="Array.MaxLength"/>, whose lengths
/// are below 1, or whose declared step values or targets are not what its lengths make (one wrong and the other right, or
/// at <see cref="Array.MaxLength"/> itself) is refused as an <see cref="InvalidDataException"/> saying what it declares,
/// before any step is read; a file that ends inside a part is refused naming the cached part, the byte it ends at and the
/// bytes missing; and <c>AddAll</c> refuses a set of another shape (features, target width or per-step targets) by name,
/// adding nothing.
/// </summary>
public sealed class SequenceDatasetChecksTests
{
    /// <summary>Where the part is written: past the start of the file, as a cache's later parts are.</summary>
    private const long At = 16;

    // The part's layout from At: counts (3 longs), lengths (ints), weights (floats), numbers (longs), steps, targets.
    private const long Count = At, Values = At + 8, Targets = At + 16, Lengths = At + 24;

    /// <summary>Two numeric examples of 2 features, 2 steps and 1 (6 step values), one target each, numbered 7 and 8.</summary>
    private static SequenceDataset Part()
    {
        var part = new SequenceDataset(2, 1) { FirstExampleNumber = 7 };
        part.Add([1, 2, 3, 4], [5], weight: 2);
        part.Add([6, 7], [8], weight: 0.5f);
        return part;
    }

    /// <summary>A temporary file holding <see cref="Part"/> at <see cref="At"/>, as the cache writes it.</summary>
    private static FileStream Written()
    {
        var file = TemporaryFile.Create(null, "mlnet-rnn-test");
        Assert.Equal(88, Part().WriteTo(file.SafeFileHandle, At));
        return file;
    }

    private static void Patch(FileStream file, long offset, long value) => RandomAccess.Write(file.SafeFileHandle, BitConverter.GetBytes(value), offset);

    private static void Patch(FileStream file, long offset, int value) => RandomAccess.Write(file.SafeFileHandle, BitConverter.GetBytes(value), offset);

    /// <summary>Reading the part is refused with <paramref name="message"/> after "A cached part at byte 16 ", where the part starts.</summary>
    private static void AssertRefused(FileStream file, string message)
    {
        var buffer = new SequenceDataset(2, 1);
        var error = Assert.Throws<InvalidDataException>(() => buffer.ReadFrom(file.SafeFileHandle, At));
        Assert.Equal($"A cached part at byte {At} {message}", error.Message);
    }

    [Fact]
    public void APartWritten_IsReadBackAsItWas_OverWhatTheBufferHeld_AnEmptyPartToo()
    {
        using var file = Written();
        var buffer = new SequenceDataset(2, 1);
        buffer.Add([9, 9, 9, 9, 9, 9], [9]);
        buffer.ReadFrom(file.SafeFileHandle, At);
        Assert.Equal((2, 6L, 2L), (buffer.Count, buffer.ValueCount, buffer.TargetCount));
        Assert.Equal([2, 1], new[] { buffer.LengthOf(0), buffer.LengthOf(1) });
        Assert.Equal([2f, 0.5f], new[] { buffer.WeightOf(0), buffer.WeightOf(1) });
        Assert.Equal([7L, 8L], new[] { buffer.NumberOf(0), buffer.NumberOf(1) });
        Assert.Equal([1f, 2, 3, 4], buffer.ValuesOf(0).ToArray());
        Assert.Equal([6f, 7], buffer.ValuesOf(1).ToArray());
        Assert.Equal([5f], buffer.TargetOf(0).ToArray());
        Assert.Equal([8f], buffer.TargetOf(1).ToArray());

        // An empty part: 24 bytes of zero counts, read back as no example.
        Assert.Equal(24, new SequenceDataset(2, 1).WriteTo(file.SafeFileHandle, 200));
        buffer.ReadFrom(file.SafeFileHandle, 200);
        Assert.Equal((0, 0L, 0L), (buffer.Count, buffer.ValueCount, buffer.TargetCount));
    }

    [Theory]
    [InlineData(Count, -1L, "declares -1 examples, 6 step values and 2 targets.")]
    [InlineData(Count, long.MaxValue, "declares 9223372036854775807 examples, 6 step values and 2 targets.")]
    [InlineData(Values, -1L, "declares 2 examples, -1 step values and 2 targets.")]
    [InlineData(Values, 2147483592L, "declares 2 examples, 2147483592 step values and 2 targets.")]
    [InlineData(Targets, -1L, "declares 2 examples, 6 step values and -1 targets.")]
    [InlineData(Targets, 2147483592L, "declares 2 examples, 6 step values and 2147483592 targets.")]
    public void ACountBelowZeroOrPastTheLargestArray_IsRefused_SayingWhatThePartDeclares(long field, long value, string message)
    {
        using var file = Written();
        Patch(file, field, value);
        AssertRefused(file, message);
    }

    [Theory]
    [InlineData(Values, 5L, "declares 5 step values and 2 targets; its lengths make 6 and 2.")]
    [InlineData(Targets, 3L, "declares 6 step values and 3 targets; its lengths make 6 and 2.")]
    [InlineData(Values, 2147483591L, "declares 2147483591 step values and 2 targets; its lengths make 6 and 2.")]
    [InlineData(Targets, 2147483591L, "declares 6 step values and 2147483591 targets; its lengths make 6 and 2.")]
    public void StepValuesOrTargetsOtherThanTheLengthsMake_AreRefused_EvenAtTheLargestArray(long field, long value, string message)
    {
        using var file = Written();
        Patch(file, field, value);
        AssertRefused(file, message);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(0, -2)]
    public void ALengthBelowOne_IsRefused(int example, int length)
    {
        using var file = Written();
        Patch(file, Lengths + 4 * example, length);
        AssertRefused(file, $"holds an example of {length} steps.");
    }

    [Fact]
    public void AFileEndingInsideAPart_IsRefused_NamingTheByteAndTheBytesMissing()
    {
        using var file = Written();
        // The part ends at 16 + 88 = 104 with its 2 targets (8 bytes): the file now ends where they start.
        file.SetLength(At + 80);
        var error = Assert.Throws<InvalidDataException>(() => new SequenceDataset(2, 1).ReadFrom(file.SafeFileHandle, At));
        Assert.Equal("A cached part ends at byte 96, 8 bytes before what was written there.", error.Message);
    }

    [Fact]
    public void AddAll_RefusesASetOfAnotherShape_ByName_AddingNothing()
    {
        var window = new SequenceDataset(2, 1);
        window.Add([1, 2], [3]);
        foreach (var other in new[] { new SequenceDataset(3, 1), new SequenceDataset(2, 2), new SequenceDataset(2, 1, perStepTargets: true) })
        {
            var error = Assert.Throws<ArgumentException>(() => window.AddAll(other));
            Assert.Equal("other", error.ParamName);
            Assert.Equal("The data sets' shapes differ. (Parameter 'other')", error.Message);
        }
        Assert.Equal((1, 2L, 1L), (window.Count, window.ValueCount, window.TargetCount));
    }
}
