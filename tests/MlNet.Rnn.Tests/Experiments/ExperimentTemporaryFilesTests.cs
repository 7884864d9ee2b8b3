using Microsoft.Extensions.Logging;
using Microsoft.ML;
using MlNet.Rnn.Experiments;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>
/// What an experiment leaves in the temporary folder: during the search one folder of its own, named mlnet-rnn-experiment-…,
/// beside the file its rows spilled to; when <c>Execute</c> returns (here: throws, cancelled before any run), nothing, and no
/// handle of the process open on any of it. The test points TMPDIR (Unix) at a folder of its own, so it runs alone.
/// </summary>
[Collection(Name)]
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ExperimentTemporaryFilesTests
{
    private const string Name = "Experiment temporary files, alone: moves TMPDIR";

    /// <summary>Calls <paramref name="onStart"/> when the experiment logs its first line (the search's folder then exists).</summary>
    private sealed class StartLogger(Action onStart) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (formatter(state, exception).Contains("experiment: budget", StringComparison.Ordinal)) onStart();
        }
    }

    /// <summary>The files of the process's open handles inside <paramref name="folder"/> (on Linux; elsewhere none are seen).</summary>
    private static string[] OpenIn(string folder) => !OperatingSystem.IsLinux() ? [] :
        [.. Directory.GetFiles("/proc/self/fd").Select(fd => new FileInfo(fd).LinkTarget).OfType<string>().Where(target => target.StartsWith(folder, StringComparison.Ordinal))];

    [Fact]
    public void TheSearchsFolderAndTheFileItsRowsSpilledToAreGoneWhenExecuteEnds()
    {
        string temp = Directory.CreateTempSubdirectory("mlnet-rnn-tests-tmpdir-").FullName;
        string? tmpdir = Environment.GetEnvironmentVariable("TMPDIR");
        Environment.SetEnvironmentVariable("TMPDIR", temp);
        try
        {
            Assert.Equal(temp + Path.DirectorySeparatorChar, Path.GetTempPath());
            var mlContext = new MLContext(seed: 1);
            // 400 rows of 800 steps: 1.3 MB, over a 1 MB TrainingDataMemoryMegabytes, so the training rows go to a temporary file.
            var train = Synthetic.ToDataView(mlContext, Synthetic.Rows(400, 800, 1, seed: 1));
            var validation = Synthetic.ToDataView(mlContext, Synthetic.Rows(20, 800, 1, seed: 2));
            string[] folders = [], open = [];
            var settings = new RecurrentExperimentSettings<RecurrentBinaryTrainer.Options>
            {
                MaxExperimentTimeInSeconds = 600, Seed = 7, MaxTrials = 1,
                Logger = new StartLogger(() => (folders, open) = (Directory.GetDirectories(temp), OpenIn(temp))),
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
            Assert.Empty(Directory.GetFileSystemEntries(temp));
            Assert.Empty(OpenIn(temp));
        }
        finally
        {
            Environment.SetEnvironmentVariable("TMPDIR", tmpdir);
            Directory.Delete(temp, recursive: true);
        }
    }
}
