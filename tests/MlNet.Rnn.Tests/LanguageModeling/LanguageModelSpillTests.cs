using Microsoft.ML;

namespace MlNet.Rnn.Tests.LanguageModeling;

/// <summary>
/// The temporary file a language-model fit spills its ids to when they outgrow TrainingDataMemoryMegabytes: written out whole
/// before the fit's first line (so the megabytes it reports are the file's and training reads it as it is), and closed when
/// the fit ends, however it ends: cancelled while training, or failing while the rows are stored after the file was made.
/// TMPDIR points at a folder of the test's own (<see cref="TemporaryFolder"/>), so these tests run alone.
/// </summary>
[Collection(TemporaryFolder.Alone)]
public sealed class LanguageModelSpillTests
{
    /// <summary>
    /// 450 rows of 1,000 characters: 1.7 MB of ids, over a 1 MB budget, so the store spills to a file and ends with ids the
    /// array still holds. On the second pass (the store's; the first builds the vocabulary) <paramref name="onLastRow"/> runs
    /// before the last row, which it may replace by throwing.
    /// </summary>
    private static IEnumerable<TextRow> Rows(Action? onLastRow = null)
    {
        int passes = 0;
        return Pass();

        IEnumerable<TextRow> Pass()
        {
            passes++;
            for (int i = 0; i < 450; i++)
            {
                if (i == 449 && passes == 2) onLastRow?.Invoke();
                yield return new TextRow { Text = string.Concat(Enumerable.Repeat(i % 2 == 0 ? "abcd" : "dcba", 250)) };
            }
        }
    }

    private static LanguageModelTrainer.Options Options(RecordingLogger logger, CancellationToken cancellation = default)
    {
        var options = LanguageModelRefusalTests.TinyOptions();
        options.TrainingDataMemoryMegabytes = 1;
        options.BatchSize = 64;
        options.ChunkSteps = 64;
        options.NumberOfEpochs = 2;   // cancelled at epoch 1
        options.Logger = logger;
        options.CancellationToken = cancellation;
        return options;
    }

    [Fact]
    public void TheFileIsWrittenOutBeforeTheFirstLine_AndClosedWhenACancelledFitEnds()
    {
        using var temp = new TemporaryFolder();
        var mlContext = new MLContext(seed: 1);
        using var watch = new SpillWatch(temp, "Gru language model");

        Assert.ThrowsAny<OperationCanceledException>(() =>
            mlContext.LanguageModeling.Trainers.Gru(Options(watch.Logger, watch.Cancellation)).Fit(mlContext.Data.LoadFromEnumerable(Rows())));

        string start = Assert.Single(watch.Logger.Messages, m => m.StartsWith("Gru language model", StringComparison.Ordinal));
        Assert.Contains(" (over TrainingDataMemoryMegabytes: read a chunk at a time from 1 MB in ", start);
        if (OperatingSystem.IsLinux())
        {
            // 450 documents of 1,002 ids (start and end included), 4 bytes each, all in the file when training starts, and
            // nothing written to it once training has started.
            var file = Assert.Single(watch.AtStart);
            Assert.Equal(450L * 1002 * sizeof(int), file.Length);
            Assert.Equal(watch.AtStart, watch.AtEpoch1);
        }
        Assert.Empty(temp.OpenFiles());
    }

    [Fact]
    public void AFitWhoseRowsFailAfterTheFileWasMade_LeavesNoFileOpen()
    {
        using var temp = new TemporaryFolder();
        var mlContext = new MLContext(seed: 1);
        int openBeforeLastRow = 0;
        var rows = Rows(() =>
        {
            // Should ML.NET read the rows ahead of the trainer, the last row waits (up to a minute) for the file.
            SpinWait.SpinUntil(() => (openBeforeLastRow = temp.OpenFiles().Length) == 1 || !OperatingSystem.IsLinux(), TimeSpan.FromMinutes(1));
            throw new IOException("The rows' source failed.");
        });

        var error = Assert.ThrowsAny<Exception>(() => mlContext.LanguageModeling.Trainers.Gru(Options(new RecordingLogger())).Fit(mlContext.Data.LoadFromEnumerable(rows)));

        Assert.Contains("The rows' source failed.", error.ToString());
        if (OperatingSystem.IsLinux()) Assert.Equal(1, openBeforeLastRow);
        Assert.Empty(temp.OpenFiles());
    }
}
