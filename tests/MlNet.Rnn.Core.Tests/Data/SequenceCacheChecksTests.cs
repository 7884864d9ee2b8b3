using MlNet.Rnn.Core.Data;
using Microsoft.Win32.SafeHandles;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// What <see cref="SequenceCache"/> refuses, each named and with the whole message: a memory budget of 0 or below; in memory,
/// a part other than 0 (its one part, whose size and summary are the data set's and which reads back as the data set itself),
/// and, once a part has been read, another example (reading completes the cache); spilled, a part number below 0 or at the
/// part count (for its size, its summary and its data alike), a null buffer, a buffer of another shape than the cache's
/// (other features, target width or per-step targets; left as it was), and a part the file no longer holds as it was written
/// (on Linux, where a test reaches the unlinked file through the process's handle on it).
/// </summary>
public sealed class SequenceCacheChecksTests
{
    /// <summary>200 examples of 2 to 6 steps of 3 features over a 4 KiB budget: parts of 128 bytes, two or more examples each.</summary>
    private static SequenceCache Spilled()
    {
        var cache = new SequenceCache(3, 1, false, memoryBudget: 4 << 10, seed: 1);
        for (int i = 0; i < 200; i++)
            cache.Add([.. Enumerable.Range(0, 3 * (2 + i % 5)).Select(v => (float)(i + v))], [i % 2]);
        Assert.True(cache.Spilled);
        return cache;
    }

    [Fact]
    public void AMemoryBudgetOfZeroOrBelow_IsRefused()
    {
        foreach (long budget in new long[] { 0, -1 })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceCache(3, 1, false, budget, seed: 1));
            Assert.Equal("memoryBudget", error.ParamName);
            Assert.Equal($"memoryBudget ('{budget}') must be a non-negative and non-zero value. (Parameter 'memoryBudget'){Environment.NewLine}Actual value was {budget}.",
                error.Message);
        }
    }

    [Fact]
    public void InMemory_ItsOnePartIsTheDataSet_ReadingItCompletesTheCache_AndAnyOtherPartIsRefused()
    {
        using var cache = new SequenceCache(3, 1, false, memoryBudget: 1 << 20, seed: 1);
        cache.Add([1, 2, 3, 4, 5, 6], [1f]);
        cache.Add([7, 8, 9], [0f], weight: 2);
        Assert.False(cache.Spilled);
        Assert.Equal(2, cache.PartSize(0));
        Assert.Equal(new SequenceSummary(2, -1, 0f, 1f, true), cache.PartSummary(0));

        var buffer = new SequenceDataset(3, 1);
        var part = cache.ReadPart(0, buffer);
        Assert.NotSame(buffer, part);
        Assert.Equal(0, buffer.Count);
        Assert.Equal(2, part.Count);
        Assert.Equal([7f, 8f, 9f], part.ValuesOf(1).ToArray());
        Assert.Equal(2f, part.WeightOf(1));
        // Reading the part completed the cache: a later example would not be in what was read.
        var late = Assert.Throws<InvalidOperationException>(() => cache.Add([1, 2, 3], [0f]));
        Assert.Equal("The cache is complete (it has been read); add every example before reading.", late.Message);
        Assert.Equal(2, cache.ExampleCount);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => cache.ReadPart(1, buffer));
        Assert.Equal("part", error.ParamName);
        Assert.Equal($"part ('1') must be equal to '0'. (Parameter 'part'){Environment.NewLine}Actual value was 1.", error.Message);
    }

    [Fact]
    public void Spilled_APartNumberBelowZeroOrAtThePartCount_IsRefused_ForItsSizeSummaryAndData()
    {
        using var cache = Spilled();
        int count = cache.PartCount;
        Assert.True(count > 2, $"{count} parts");
        string below = $"part ('-1') must be a non-negative value. (Parameter 'part'){Environment.NewLine}Actual value was -1.";
        string past = $"part ('{count}') must be less than '{count}'. (Parameter 'part'){Environment.NewLine}Actual value was {count}.";
        var buffer = new SequenceDataset(3, 1);
        foreach (var (read, message) in new (Action, string)[]
        {
            (() => cache.PartSize(-1), below), (() => cache.PartSize(count), past),
            (() => cache.PartSummary(-1), below), (() => cache.PartSummary(count), past),
            (() => cache.ReadPart(-1, buffer), below), (() => cache.ReadPart(count, buffer), past),
        })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(read);
            Assert.Equal("part", error.ParamName);
            Assert.Equal(message, error.Message);
        }
        Assert.Equal(0, buffer.Count);
        Assert.Equal(cache.PartSize(count - 1), cache.ReadPart(count - 1, buffer).Count);
    }

    [Fact]
    public void Spilled_ANullBufferOrOneOfAnotherShape_IsRefused_AndLeftAsItWas()
    {
        using var cache = Spilled();
        var none = Assert.Throws<ArgumentNullException>(() => cache.ReadPart(0, null!));
        Assert.Equal("buffer", none.ParamName);
        Assert.Equal("Value cannot be null. (Parameter 'buffer')", none.Message);

        var features = new SequenceDataset(2, 1);
        features.Add([1, 2], [0f]);
        var width = new SequenceDataset(3, 2);
        width.Add([1, 2, 3], [0f, 1f]);
        var perStep = new SequenceDataset(3, 1, perStepTargets: true);
        perStep.Add([1, 2, 3], [0f]);
        foreach (var buffer in new[] { features, width, perStep })
        {
            var error = Assert.Throws<ArgumentException>(() => cache.ReadPart(0, buffer));
            Assert.Equal("buffer", error.ParamName);
            Assert.Equal("The buffer's shape differs from the cache's; make it with the cache's FeaturesPerStep, TargetWidth and PerStepTargets. (Parameter 'buffer')",
                error.Message);
            Assert.Equal(1, buffer.Count);
            Assert.Equal([1f, 2f], buffer.ValuesOf(0)[..2].ToArray());
        }
    }

    [Fact]
    public void ASpilledPartTheFileNoLongerHoldsAsWritten_IsInvalidData_NamingTheFileAndThePart()
    {
        // On Unix the file has no name once open, and the cache shares its handle with no one: only Linux's /proc/self/fd
        // lets a test reach it, to overwrite a part as a damaged disk or another writer would.
        if (!OperatingSystem.IsLinux()) return;
        using var cache = Spilled();
        int written = cache.PartSize(0);
        Assert.True(written > 1, $"part 0 holds {written} examples");
        string path = cache.FilePath!;
        string fd = Assert.Single(Directory.GetFiles("/proc/self/fd"), fd => new FileInfo(fd).LinkTarget?.StartsWith(path, StringComparison.Ordinal) == true);
        using (var handle = new SafeFileHandle(int.Parse(Path.GetFileName(fd), System.Globalization.CultureInfo.InvariantCulture), ownsHandle: false))
        {
            // A well-formed part of one example where part 0, the file's first, was written.
            var one = new SequenceDataset(3, 1);
            one.Add([1, 2, 3], [0f]);
            one.WriteTo(handle, 0);
        }
        var error = Assert.Throws<InvalidDataException>(() => cache.ReadPart(0, new SequenceDataset(3, 1)));
        Assert.Equal($"{path}: part 0 holds 1 examples; {written} were written.", error.Message);
    }
}
