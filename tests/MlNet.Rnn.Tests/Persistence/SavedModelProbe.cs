using System.Diagnostics;
using Microsoft.ML;

namespace MlNet.Rnn.Tests.Persistence;

/// <summary>
/// Loads a saved model in a process of its own and scores rows with it, touching no MlNet.Rnn type: ML.NET must find the
/// loader by the assembly name written in the model file and its <c>[LoadableClass]</c> attribute, as a user's
/// application would. Rows travel in ML.NET's binary data format, and so do the scored columns, so a comparison is bit for bit.
/// </summary>
public static class SavedModelProbe
{
    /// <summary>The first argument that selects this probe.</summary>
    public const string Command = "score-saved-model";

    /// <summary>Printed when MlNet.Rnn was loaded before the model was, which would make the test prove less.</summary>
    public const string LoadedTooEarly = "MlNet.Rnn was loaded before the model";

    /// <summary>The columns a probe writes back, those the scored data has.</summary>
    public static readonly string[] ScoredColumns = ["Score", "Probability", "PredictedLabel", "PredictedClass", "Hidden", "Forecast", "ForecastLower", "ForecastUpper",
        "LogLikelihood", "TokenCount", "BitsPerToken", "Perplexity"];

    /// <summary>Arguments: model.zip rows.idv scored.idv.</summary>
    public static int Run(ReadOnlySpan<string> args)
    {
        if (args.Length != 3) { Console.Error.WriteLine("expected <model.zip> <rows.idv> <scored.idv>"); return 2; }
        if (AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "MlNet.Rnn")) { Console.Error.WriteLine(LoadedTooEarly); return 3; }
        var mlContext = new MLContext(seed: 0);
        ITransformer model = mlContext.Model.Load(args[0], out _);
        var scored = model.Transform(mlContext.Data.LoadFromBinary(args[1]));
        Save(mlContext, scored, args[2]);
        return 0;
    }

    /// <summary>Writes the scored columns of <paramref name="scored"/> to <paramref name="path"/>.</summary>
    public static void Save(MLContext mlContext, IDataView scored, string path)
    {
        var present = ScoredColumns.Where(name => scored.Schema.GetColumnOrNull(name) is not null).ToArray();
        using var stream = File.Create(path);
        mlContext.Data.SaveAsBinary(mlContext.Transforms.SelectColumns(present).Fit(scored).Transform(scored), stream);
    }

    /// <summary>Saves <paramref name="rows"/>, runs <see cref="Run"/> in a new <c>dotnet</c> process on this very test assembly and returns what it scored.</summary>
    public static IDataView ScoreInFreshProcess(MLContext mlContext, string modelPath, IDataView rows, string folder)
    {
        string rowsPath = Path.Combine(folder, "rows.idv"), scoredPath = Path.Combine(folder, "scored.idv");
        using (var stream = File.Create(rowsPath)) mlContext.Data.SaveAsBinary(rows, stream);
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { typeof(SavedModelProbe).Assembly.Location, Command, modelPath, rowsPath, scoredPath })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2))) { process.Kill(entireProcessTree: true); throw new TimeoutException("The probe process did not finish in 2 minutes."); }
        Assert.True(process.ExitCode == 0, $"probe exited with {process.ExitCode}:\n{output.Result}\n{error}");
        return mlContext.Data.LoadFromBinary(scoredPath);
    }

    // The dotnet host that runs this test process (DOTNET_HOST_PATH when the SDK set it), else the one on PATH.
    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
        string? process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet") return process;
        return "dotnet";
    }
}
