using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Tests.Trainers;

/// <summary>
/// The temporary files a sequence trainer's fit spills its rows to when they outgrow TrainingDataMemoryMegabytes (one for the
/// training rows, one for the rows held out to decide when to stop, or for the validation data): written out whole before
/// the fit's first line, which names the held-out share and the megabytes on disk, and closed when the fit ends, however it
/// ends: cancelled while training, failing on a bad row after both files were made, or refusing its validation data after
/// the training file was made (or its training data after the validation file was). TMPDIR points at a folder of the test's
/// own (<see cref="TemporaryFolder"/>), so these tests run alone.
/// </summary>
[Collection(TemporaryFolder.Alone)]
public sealed class SequenceTrainerSpillTests
{
    private sealed class SpillRow
    {
        public bool Label { get; set; }

        [VectorType(200)]
        public float[] Features { get; set; } = [];

        /// <summary>A label ML.NET reads as missing when NaN (the regression label of <see cref="RegressionRows"/>).</summary>
        public float Value { get; set; }
    }

    /// <summary>
    /// 2,400 rows of 200 one-feature steps: about 1.9 MB, over a 1 MB budget however it is shared. <paramref name="lastRow"/>
    /// may change the last row, and runs as it is read.
    /// </summary>
    private static IDataView Rows(MLContext mlContext, int count = 2400, Action<SpillRow>? lastRow = null)
    {
        IEnumerable<SpillRow> Generate()
        {
            var random = new Random(4);
            for (int row = 0; row < count; row++)
            {
                var spill = new SpillRow { Features = [.. Enumerable.Range(0, 200).Select(_ => random.NextSingle())], Value = row };
                spill.Label = spill.Features[^1] > 0.5f;
                if (row == count - 1) lastRow?.Invoke(spill);
                yield return spill;
            }
        }
        return mlContext.Data.LoadFromEnumerable(Generate());
    }

    private static RecurrentBinaryTrainer.Options Options(RecordingLogger logger, CancellationToken cancellation = default) => new()
    {
        HiddenSize = 2, BatchSize = 64, Seed = 1, MaxDegreeOfParallelism = 1, NumberOfEpochs = null, ValidationFraction = 0.5f,
        TrainingDataMemoryMegabytes = 1, Logger = logger, CancellationToken = cancellation,
    };

    [Fact]
    public void BothFilesAreWrittenOutBeforeTheFirstLine_WhichNamesThem_AndClosedWhenACancelledFitEnds()
    {
        using var temp = new TemporaryFolder();
        var mlContext = new MLContext(seed: 1);
        using var watch = new SpillWatch(temp, "Lstm BinaryClassification");

        Assert.ThrowsAny<OperationCanceledException>(() => mlContext.BinaryClassification.Trainers.Lstm(Options(watch.Logger, watch.Cancellation)).Fit(Rows(mlContext)));

        string start = Assert.Single(watch.Logger.Messages, m => m.StartsWith("Lstm BinaryClassification", StringComparison.Ordinal));
        Assert.Contains(" validation rows (held out: ValidationFraction 0.5 of the training rows) (over TrainingDataMemoryMegabytes: read a part at a time from ", start);
        if (OperatingSystem.IsLinux())
        {
            // The training rows' file and the held-out rows', neither written to once training starts; the line counts the
            // megabytes of both (about 0.9 each: 1 MB together, 0 alone).
            Assert.Equal(2, watch.AtStart.Length);
            Assert.All(watch.AtStart, file => Assert.True(file.Length > 0, $"{file.File} is empty"));
            Assert.Equal(watch.AtStart, watch.AtEpoch1);
            Assert.Contains($" from {watch.AtStart.Sum(file => file.Length) >> 20} MB in ", start);
        }
        Assert.Empty(temp.OpenFiles());
    }

    [Fact]
    public void AFitThatFailsOnARowAfterBothFilesWereMade_LeavesNoFileOpen()
    {
        using var temp = new TemporaryFolder();
        var mlContext = new MLContext(seed: 1);
        int openBeforeLastRow = 0;
        // ML.NET may read the rows on a thread of its own, ahead of the trainer: the last row waits (up to a minute) for the
        // trainer to have made both files from the rows before it.
        var rows = Rows(mlContext, lastRow: row =>
        {
            row.Features[7] = float.NaN;
            SpinWait.SpinUntil(() => (openBeforeLastRow = temp.OpenFiles().Length) == 2 || !OperatingSystem.IsLinux(), TimeSpan.FromMinutes(1));
        });

        var error = Assert.ThrowsAny<InvalidOperationException>(() => mlContext.BinaryClassification.Trainers.Lstm(Options(new RecordingLogger())).Fit(rows));

        Assert.StartsWith("Row 2399 of column 'Features': step 7, feature 0 is NaN", error.Message);
        if (OperatingSystem.IsLinux()) Assert.Equal(2, openBeforeLastRow);
        Assert.Empty(temp.OpenFiles());
    }

    [Fact]
    public void ValidationDataRefusedAfterTheTrainingFileWasMade_LeavesNoFileOpen()
    {
        using var temp = new TemporaryFolder();
        var mlContext = new MLContext(seed: 1);
        var options = Options(new RecordingLogger());
        options.NumberOfEpochs = 1;
        // The validation rows' label is a float, the training rows' a Boolean: refused once the training rows are stored.
        var validation = mlContext.Transforms.CopyColumns("Label", nameof(SpillRow.Value)).Fit(Rows(mlContext, 10)).Transform(Rows(mlContext, 10));

        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => mlContext.BinaryClassification.Trainers.Lstm(options).Fit(Rows(mlContext), validation));

        Assert.Empty(temp.OpenFiles());
    }

    [Fact]
    public void TrainingDataWithNoUsableRow_RefusedAfterTheValidationFileWasMade_LeavesNoFileOpen()
    {
        using var temp = new TemporaryFolder();
        var mlContext = new MLContext(seed: 1);
        var options = new RecurrentRegressionTrainer.Options
        {
            LabelColumnName = nameof(SpillRow.Value), HiddenSize = 2, Seed = 1, NumberOfEpochs = 1, TrainingDataMemoryMegabytes = 1,
        };
        // Every training label is missing (NaN); the validation rows' 1.9 MB spill to a file first.
        var training = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 4).Select(_ => new SpillRow { Features = new float[200], Value = float.NaN }));

        var error = Assert.ThrowsAny<InvalidOperationException>(() => mlContext.Regression.Trainers.Lstm(options).Fit(training, Rows(mlContext)));

        Assert.Contains("The training data has no usable row in column 'Features'", error.Message);
        Assert.Empty(temp.OpenFiles());
    }

    /// <summary>
    /// The fit's line names where its rows are: the megabytes of both caches on disk, in the training cache's file, or the
    /// validation cache's when only that one spilled; nothing when both are in memory.
    /// </summary>
    [Fact]
    public void TheStorageLine_CountsBothCachesAndNamesTheFileOfTheOneThatSpilled()
    {
        using var temp = new TemporaryFolder();
        SequenceCache Cache(long budget, int rows)
        {
            var cache = new SequenceCache(1, 1, perStepTargets: false, budget, seed: 1);
            var steps = new float[1000];
            for (int row = 0; row < rows; row++) cache.Add(steps, [row % 2]);
            cache.Complete();
            return cache;
        }
        // 300 and 700 rows of 4,000 bytes of steps: about 1.2 and 2.8 MB.
        using var inMemory = Cache(64L << 20, 300);
        using var small = Cache(1 << 20, 300);
        using var large = Cache(1 << 20, 700);
        Assert.True(small.Spilled && large.Spilled && !inMemory.Spilled);

        Assert.Equal("", TrainingDataStorage.Describe(inMemory, null));
        Assert.Equal($" (over TrainingDataMemoryMegabytes: read a part at a time from {large.BytesOnDisk >> 20} MB in {large.FilePath})",
            TrainingDataStorage.Describe(inMemory, large));
        Assert.Equal($" (over TrainingDataMemoryMegabytes: read a part at a time from {(small.BytesOnDisk + large.BytesOnDisk) >> 20} MB in {small.FilePath})",
            TrainingDataStorage.Describe(small, large));
        // Both caches count: together more whole megabytes than the larger alone.
        Assert.True((small.BytesOnDisk + large.BytesOnDisk) >> 20 > large.BytesOnDisk >> 20);
    }
}
