using Microsoft.ML;

namespace MlNet.Rnn.Tests.SequenceToSequence;

/// <summary>
/// The temporary files a sequence-to-sequence fit spills its pairs to when they outgrow TrainingDataMemoryMegabytes (one for
/// the training pairs, one for the pairs held out to decide when to stop): written out whole before the fit's first line (so
/// the megabytes it reports are the files' and training reads them as they are), and closed when the fit ends, however it
/// ends: cancelled while training, or failing on a bad row after both files were made. TMPDIR points at a folder of the
/// test's own (<see cref="TemporaryFolder"/>), so these tests run alone.
/// </summary>
[Collection(TemporaryFolder.Alone)]
public sealed class SequenceToSequenceSpillTests
{
    /// <summary>
    /// 2,400 pairs of 100 source and 100 target tokens: about 2 MB of pairs, half of them held out, so each of the two caches,
    /// with half of a 1 MB budget, spills to a file. <paramref name="beforeLastRow"/> runs as the last row is read.
    /// </summary>
    private static IDataView Pairs(MLContext mlContext, bool lastTargetEmpty = false, Action? beforeLastRow = null)
    {
        string[] tokens = ["a", "b", "c", "d"];
        IEnumerable<TokenPair> Rows()
        {
            var random = new Random(3);
            for (int row = 0; row < 2400; row++)
            {
                var pair = new TokenPair
                {
                    Source = [.. Enumerable.Range(0, 100).Select(_ => tokens[random.Next(4)])],
                    Target = [.. Enumerable.Range(0, 100).Select(_ => tokens[random.Next(4)])],
                };
                if (row == 2399)
                {
                    if (lastTargetEmpty) pair.Target = [];
                    beforeLastRow?.Invoke();
                }
                yield return pair;
            }
        }
        var keys = mlContext.Data.LoadFromEnumerable([new TokenPair { Source = tokens, Target = tokens }]);
        return mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(TokenPair.Source))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TokenPair.Target)))
            .Fit(keys).Transform(mlContext.Data.LoadFromEnumerable(Rows()));
    }

    private static SequenceToSequenceTrainer.Options Options(RecordingLogger logger, CancellationToken cancellation = default) => new()
    {
        EmbeddingSize = 2, HiddenSize = 2, BatchSize = 64, Seed = 1, MaxDegreeOfParallelism = 1,
        NumberOfEpochs = null, ValidationFraction = 0.5f, TrainingDataMemoryMegabytes = 1, Logger = logger, CancellationToken = cancellation,
    };

    [Fact]
    public void BothFilesAreWrittenOutBeforeTheFirstLine_AndClosedWhenACancelledFitEnds()
    {
        using var temp = new TemporaryFolder();
        var mlContext = new MLContext(seed: 1);
        using var watch = new SpillWatch(temp, "Lstm sequence-to-sequence");

        Assert.ThrowsAny<OperationCanceledException>(() => mlContext.SequenceToSequence.Trainers.Lstm(Options(watch.Logger, watch.Cancellation)).Fit(Pairs(mlContext)));

        string start = Assert.Single(watch.Logger.Messages, m => m.StartsWith("Lstm sequence-to-sequence", StringComparison.Ordinal));
        Assert.Contains("(held out: ValidationFraction 0.5 of the training pairs)", start);
        Assert.Contains(" (over TrainingDataMemoryMegabytes: read a part at a time from ", start);
        if (OperatingSystem.IsLinux())
        {
            // The training pairs' file and the held-out pairs' file, neither written to once training starts: epoch 1 read
            // every training pair and every held-out pair from them.
            Assert.Equal(2, watch.AtStart.Length);
            Assert.All(watch.AtStart, file => Assert.True(file.Length > 0, $"{file.File} is empty"));
            Assert.Equal(watch.AtStart, watch.AtEpoch1);
        }
        Assert.Empty(temp.OpenFiles());
    }

    [Fact]
    public void AFitThatFailsOnARowAfterBothFilesWereMade_LeavesNoFileOpen()
    {
        using var temp = new TemporaryFolder();
        var mlContext = new MLContext(seed: 1);
        var trainer = mlContext.SequenceToSequence.Trainers.Lstm(Options(new RecordingLogger()));
        int openBeforeLastRow = 0;

        // ML.NET may read the rows on a thread of its own, ahead of the trainer: the last row waits (up to a minute) for the
        // trainer to have made both files from the rows before it.
        var error = Assert.ThrowsAny<InvalidOperationException>(() => trainer.Fit(Pairs(mlContext, lastTargetEmpty: true,
            beforeLastRow: () => SpinWait.SpinUntil(() => (openBeforeLastRow = temp.OpenFiles().Length) == 2 || !OperatingSystem.IsLinux(), TimeSpan.FromMinutes(1)))));

        Assert.StartsWith("The training data: Row 2399: column 'Label' (target) is an empty sequence", error.Message);
        if (OperatingSystem.IsLinux()) Assert.Equal(2, openBeforeLastRow);   // the training pairs' file and the held-out pairs'
        Assert.Empty(temp.OpenFiles());
    }
}
