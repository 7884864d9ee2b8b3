using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// <see cref="SequenceCache"/>'s budget at its edges and its file. The cache spills only examples it holds: a first example
/// larger than the whole budget stays in memory, and the next spills. Buffers that would hold exactly the budget stay in
/// memory; one byte less spills. A part is written out once it holds <c>budget / (2·16)</c> bytes: examples of exactly that
/// size are a part each, spread at the spill or added after it, in the order added. The file is
/// <c>mlnet-rnn-cache-{guid}.bin</c> in the folder given; disposing the cache closes it (on Linux no handle of the process is
/// left on it, so its space is freed) and its parts go with it.
/// </summary>
public sealed class SequenceCacheContractTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-cache-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>The targets of the process's open handles that point at <paramref name="path"/> (Linux only).</summary>
    private static IEnumerable<string?> HandlesOn(string path) =>
        Directory.GetFiles("/proc/self/fd").Select(fd => new FileInfo(fd).LinkTarget).Where(target => target?.StartsWith(path, StringComparison.Ordinal) == true);

    [Fact]
    public void AFirstExampleLargerThanTheBudget_StaysInMemory_AndTheNextSpills_APartEach()
    {
        using var cache = new SequenceCache(2, 1, false, memoryBudget: 1, seed: 1);
        cache.Add([1, 2, 3, 4], [5f]);
        Assert.False(cache.Spilled);
        Assert.Null(cache.FilePath);
        Assert.Equal(1, cache.PartSize(0));

        cache.Add([6, 7], [8f], weight: 2);
        Assert.True(cache.Spilled);
        // Parts of budget / 32 = 0 bytes: each example is written out as soon as it lands in one, in the order added.
        Assert.Equal(2, cache.PartCount);
        var buffer = new SequenceDataset(2, 1);
        var first = cache.ReadPart(0, buffer);
        Assert.Equal((1, 0L), (first.Count, first.NumberOf(0)));
        Assert.Equal([1f, 2f, 3f, 4f], first.ValuesOf(0).ToArray());
        Assert.Equal([5f], first.TargetOf(0).ToArray());
        var second = cache.ReadPart(1, buffer);
        Assert.Equal((1, 1L), (second.Count, second.NumberOf(0)));
        Assert.Equal([6f, 7f], second.ValuesOf(0).ToArray());
        Assert.Equal(2f, second.WeightOf(0));
    }

    [Fact]
    public void BuffersOfExactlyTheBudget_StayInMemory_AndOneByteLessSpills()
    {
        // Two one-step examples of one feature: step and target buffers of 2 floats each, and 32 bytes per example.
        var probe = new SequenceDataset(1, 1);
        probe.Add([0f], [0f]);
        const long budget = 4 * (2 + 2) + 2 * 32;
        Assert.Equal(budget, probe.BytesAfterAdding(1, 1));

        using var exact = new SequenceCache(1, 1, false, budget, seed: 1);
        exact.Add([0f], [0f]);
        exact.Add([1f], [1f]);
        Assert.False(exact.Spilled);
        Assert.Equal(2, exact.PartSize(0));

        using var under = new SequenceCache(1, 1, false, budget - 1, seed: 1);
        under.Add([0f], [0f]);
        Assert.False(under.Spilled);
        under.Add([1f], [1f]);
        Assert.True(under.Spilled);
        Assert.Equal(2, under.ExampleCount);
    }

    [Fact]
    public void ExamplesOfExactlyAPartsBytes_AreAPartEach_WhetherSpreadAtTheSpillOrAddedAfterIt()
    {
        // A one-step example of one feature and one target takes 4·(1 + 1) + 32 = 40 bytes; a budget of 32 of them makes
        // parts of budget / (2·16) = 40 bytes. Its buffers hold 32 examples (1280 bytes); the 33rd spills them.
        const long budget = 32 * 40;
        Assert.Equal(40, SequenceCache.PartBytesFor(budget));
        using var cache = new SequenceCache(1, 1, false, budget, seed: 3);
        for (int i = 0; i < 64; i++) cache.Add([i], [i % 2]);
        Assert.True(cache.Spilled);

        Assert.Equal(64, cache.PartCount);
        var buffer = new SequenceDataset(1, 1);
        for (int p = 0; p < 64; p++)
        {
            Assert.Equal(1, cache.PartSize(p));
            var part = cache.ReadPart(p, buffer);
            Assert.Equal((1, (long)p), (part.Count, part.NumberOf(0)));
            Assert.Equal([(float)p], part.ValuesOf(0).ToArray());
        }
        // Each part on disk: 3 counts (8 bytes each), a length, a weight, a number (8 bytes), a step value and a target.
        Assert.Equal(64 * (3 * 8 + 4 + 4 + 8 + 4 + 4), cache.BytesOnDisk);
    }

    [Fact]
    public void ASpilledCachesFile_IsNamedForIt_InTheFolderGiven()
    {
        using var cache = new SequenceCache(1, 1, false, memoryBudget: 1, seed: 1, directory: _folder);
        cache.Add([1f], [0f]);
        cache.Add([2f], [1f]);
        Assert.True(cache.Spilled);
        string path = cache.FilePath!;
        Assert.Equal(_folder, Path.GetDirectoryName(path));
        Assert.Matches(@"^mlnet-rnn-cache-[0-9a-f]{32}\.bin$", Path.GetFileName(path));
        // On Unix it has no name from the moment it is open; Windows deletes it when its handle closes.
        Assert.Equal(OperatingSystem.IsWindows(), File.Exists(path));
    }

    [Fact]
    public void Disposing_ClosesTheFile_AndLeavesNoPartToRead()
    {
        var cache = new SequenceCache(1, 1, false, memoryBudget: 1, seed: 1, directory: _folder);
        cache.Add([1f], [0f]);
        cache.Add([2f], [1f]);
        Assert.Equal(2, cache.PartCount);
        Assert.Equal([2f], cache.ReadPart(1, new SequenceDataset(1, 1)).ValuesOf(0).ToArray());
        string path = cache.FilePath!;
        // On Linux an unlinked file's space is freed when its last handle closes: the cache holds one until disposed.
        if (OperatingSystem.IsLinux()) Assert.Single(HandlesOn(path));

        cache.Dispose();
        Assert.False(File.Exists(path), $"{path} outlived the cache");
        if (OperatingSystem.IsLinux()) Assert.Empty(HandlesOn(path));
        Assert.Empty(Directory.GetFileSystemEntries(_folder));
        // The parts went with the file.
        Assert.Equal(0, cache.PartCount);
    }
}
