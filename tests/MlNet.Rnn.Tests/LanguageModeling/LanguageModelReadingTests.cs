using Microsoft.ML;
using MlNet.Rnn.Core.Layers;

namespace MlNet.Rnn.Tests.LanguageModeling;

/// <summary>
/// How the language-model trainer and transformer read rows: a fit cancelled before it starts stops at the first row it
/// reads, not after reading the data; the scored view can be shuffled and split into parallel cursors (each row is scored
/// alone), as its input can; scoring one text at int8 keeps its workspace for the next call; the fit's first line says
/// how many megabytes of ids went to disk when the token stores outgrow TrainingDataMemoryMegabytes, counting both stores.
/// </summary>
public sealed class LanguageModelReadingTests
{
    /// <summary>Rows "ab", "ba", … that count how many were taken from the enumeration.</summary>
    private sealed class CountedRows(int count)
    {
        public int Taken { get; private set; }

        public IEnumerable<TextRow> Rows()
        {
            for (int i = 0; i < count; i++)
            {
                Taken++;
                yield return new TextRow { Text = i % 2 == 0 ? "ab" : "ba" };
            }
        }
    }

    [Fact]
    public void AFitCancelledBeforeItStarts_StopsAtTheFirstRowItReads()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = new CountedRows(3000);
        var data = mlContext.Data.LoadFromEnumerable(rows.Rows());
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        var options = LanguageModelRefusalTests.TinyOptions();
        options.CancellationToken = cancellation.Token;

        Assert.ThrowsAny<OperationCanceledException>(() => mlContext.LanguageModeling.Trainers.Gru(options).Fit(data));
        // The check comes every 1,024 rows, from the first: one row was taken, not the 3,000.
        Assert.Equal(1, rows.Taken);
    }

    [Fact]
    public void ScoringOneTextAtInt8_KeepsItsWorkspaceForTheNextCall()
    {
        var fixture = new TinyLanguageModel();
        var int8 = fixture.MLContext.Model.WithInferencePrecision(fixture.Model, InferencePrecision.Int8);
        const string text = "abababab";
        int8.Score(text);   // JIT, and the workspace made once
        long before = GC.GetAllocatedBytesForCurrentThread();
        var first = int8.Model.CreateWorkspace(1, InferencePrecision.Int8);
        long workspace = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(first);

        before = GC.GetAllocatedBytesForCurrentThread();
        int8.Score(text);
        long call = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(call < workspace, $"A second Score allocated {call:N0} bytes; a new workspace takes {workspace:N0}.");
    }

    /// <summary>Rows of 1,000 characters: 300 of them hold 1.2 MB of ids, past a 1 MB budget.</summary>
    private static IDataView LongRows(MLContext mlContext, int count) => mlContext.Data.LoadFromEnumerable(
        Enumerable.Range(0, count).Select(i => new TextRow { Text = string.Concat(Enumerable.Repeat(i % 2 == 0 ? "abcd" : "dcba", 250)) }));

    [Theory]
    [InlineData(300, "2 MB")]   // both stores on disk: 1.2 MB + 1.2 MB
    [InlineData(10, "1 MB")]    // only the validation store on disk
    public void TheFitsFirstLine_SaysHowManyMegabytesOfIdsWentToDisk_CountingBothStores(int trainingRows, string onDisk)
    {
        var mlContext = new MLContext(seed: 1);
        var logger = new RecordingLogger();
        var options = LanguageModelRefusalTests.TinyOptions();
        options.TrainingDataMemoryMegabytes = 1;
        options.BatchSize = 64;
        options.ChunkSteps = 64;
        options.ValidationStreams = 4;
        options.Logger = logger;
        mlContext.LanguageModeling.Trainers.Gru(options).Fit(LongRows(mlContext, trainingRows), LongRows(mlContext, 300));

        string first = Assert.Single(logger.Messages, message => message.StartsWith("Gru language model (Characters): ", StringComparison.Ordinal));
        Assert.Contains($" (over TrainingDataMemoryMegabytes: read a chunk at a time from {onDisk} in ", first);
    }

    [Fact]
    public void AFitCancelledWhileItsRowsAreStored_StopsWithTheCancellation()
    {
        // The trainer reads the rows twice: once for the vocabulary, once into the token store. Cancelling as the second
        // pass starts stops the fit there, with the cancellation, not with a store half made.
        var mlContext = new MLContext(seed: 1);
        using var cancellation = new CancellationTokenSource();
        int passes = 0;
        IEnumerable<TextRow> Rows()
        {
            if (++passes == 2) cancellation.Cancel();
            for (int i = 0; i < 20; i++) yield return new TextRow { Text = "abab" };
        }
        var options = LanguageModelRefusalTests.TinyOptions();
        options.CancellationToken = cancellation.Token;

        Assert.ThrowsAny<OperationCanceledException>(() => mlContext.LanguageModeling.Trainers.Gru(options).Fit(mlContext.Data.LoadFromEnumerable(Rows())));
        Assert.Equal(2, passes);
    }

    [Fact]
    public void TheScoredView_CanBeShuffledAndSplit_AsItsInputCan()
    {
        var fixture = new TinyLanguageModel();
        var input = fixture.MLContext.Data.Cache(fixture.MLContext.Data.LoadFromEnumerable(
            Enumerable.Range(0, 40).Select(i => new TextRow { Text = i % 2 == 0 ? "ab" : "ba" })));
        Assert.True(input.CanShuffle);
        var scored = fixture.Model.Transform(input);
        Assert.True(scored.CanShuffle);
        var cursors = scored.GetRowCursorSet(scored.Schema, n: 2);
        Assert.Equal(2, cursors.Length);
        foreach (var cursor in cursors) cursor.Dispose();
    }
}
