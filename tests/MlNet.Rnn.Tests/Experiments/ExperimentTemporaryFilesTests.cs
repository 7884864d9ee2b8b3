using Microsoft.ML;
using MlNet.Rnn.Experiments;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>
/// What an experiment leaves in the temporary folder: during the search one folder of its own, named mlnet-rnn-experiment-…,
/// beside the file its rows spilled to; when <c>Execute</c> returns (here: throws, cancelled before any run), nothing, and no
/// handle of the process open on any of it. The test points TMPDIR (Unix) at a folder of its own, so it runs alone.
/// </summary>
[Collection(TemporaryFolder.Alone)]
public sealed class ExperimentTemporaryFilesTests
{
    [Fact]
    public void TheSearchsFolderAndTheFileItsRowsSpilledToAreGoneWhenExecuteEnds()
    {
        using var temp = new TemporaryFolder();
        var mlContext = new MLContext(seed: 1);
        // 400 rows of 800 steps: 1.3 MB, over a 1 MB TrainingDataMemoryMegabytes, so the training rows go to a temporary file.
        var train = Synthetic.ToDataView(mlContext, Synthetic.Rows(400, 800, 1, seed: 1));
        var validation = Synthetic.ToDataView(mlContext, Synthetic.Rows(20, 800, 1, seed: 2));
        string[] folders = [];
        (string File, long Length)[] open = [];
        var settings = new RecurrentExperimentSettings<RecurrentBinaryTrainer.Options>
        {
            MaxExperimentTimeInSeconds = 600, Seed = 7, MaxTrials = 1,
            // The experiment's first line: the search's folder exists.
            Logger = new RecordingLogger((_, line) =>
            {
                if (line.Contains("experiment: budget", StringComparison.Ordinal)) (folders, open) = (Directory.GetDirectories(temp.Path), temp.OpenFiles());
            }),
            TrainerOptions = new() { NumberOfEpochs = 1, MaxDegreeOfParallelism = 1, TrainingDataMemoryMegabytes = 1 },
            SearchSpace = new() { HiddenSizes = [4], NumbersOfLayers = [1], BatchSizes = [32] },
        };
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(settings)
            .Execute(train, validation, cancellationToken: cancelled.Token));

        string folder = Assert.Single(folders);
        Assert.StartsWith("mlnet-rnn-experiment-", Path.GetFileName(folder));
        if (OperatingSystem.IsLinux()) Assert.NotEmpty(open); // the spilled rows' file
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
        Assert.Empty(temp.OpenFiles());
    }
}
