using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests.Persistence;

/// <summary>
/// Loads a saved model in a process of its own and scores rows with it, touching no MlNet.Rnn type: ML.NET must find the
/// loader by the assembly name written in the model file and its <c>[LoadableClass]</c> attribute, as a user's
/// application would. Rows and scores travel as raw little-endian floats, so a comparison is bit for bit.
/// </summary>
public static class SavedModelProbe
{
    /// <summary>The first argument that selects this probe.</summary>
    public const string Command = "score-saved-model";

    /// <summary>Printed when MlNet.Rnn was loaded before the model was, which would make the test prove less.</summary>
    public const string LoadedTooEarly = "MlNet.Rnn was loaded before the model";

    /// <summary>Scores file: int rows, then per row Score and Probability.</summary>
    public static int Run(ReadOnlySpan<string> args)
    {
        if (args.Length != 3) { Console.Error.WriteLine("expected <model.zip> <rows.bin> <scores.bin>"); return 2; }
        if (AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "MlNet.Rnn")) { Console.Error.WriteLine(LoadedTooEarly); return 3; }
        var rows = SequenceRows.Read(args[1]);
        var mlContext = new MLContext(seed: 0);
        ITransformer model = mlContext.Model.Load(args[0], out _);
        var scored = model.Transform(SequenceRows.ToDataView(mlContext, rows));
        float[] scores = scored.GetColumn<float>("Score").ToArray();
        float[] probabilities = scored.GetColumn<float>("Probability").ToArray();
        using var writer = new BinaryWriter(File.Create(args[2]));
        writer.Write(scores.Length);
        for (int i = 0; i < scores.Length; i++) { writer.Write(scores[i]); writer.Write(probabilities[i]); }
        return 0;
    }

    /// <summary>Runs <see cref="Run"/> in a new <c>dotnet</c> process on this very test assembly; returns (Score, Probability) per row.</summary>
    public static (float Score, float Probability)[] ScoreInFreshProcess(string modelPath, IReadOnlyList<SequenceRow> rows, string folder)
    {
        string rowsPath = Path.Combine(folder, "rows.bin"), scoresPath = Path.Combine(folder, "scores.bin");
        SequenceRows.Write(rowsPath, rows);
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { typeof(SavedModelProbe).Assembly.Location, Command, modelPath, rowsPath, scoresPath })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2))) { process.Kill(entireProcessTree: true); throw new TimeoutException("The probe process did not finish in 2 minutes."); }
        Assert.True(process.ExitCode == 0, $"probe exited with {process.ExitCode}:\n{output.Result}\n{error}");
        using var reader = new BinaryReader(File.OpenRead(scoresPath));
        var result = new (float, float)[reader.ReadInt32()];
        for (int i = 0; i < result.Length; i++) result[i] = (reader.ReadSingle(), reader.ReadSingle());
        return result;
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
