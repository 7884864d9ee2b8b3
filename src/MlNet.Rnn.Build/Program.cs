// Publicizer: writes a copy of each input assembly with its internal surface made public, for MlNet.Rnn to compile
// against (ARCHITECTURE.md, "Compiling against ML.NET's internals").
// Usage: MlNet.Rnn.Build <input.dll> <output.dll> [<input.dll> <output.dll> …]
// The copies are for the compiler only; the real, unmodified assemblies are what MlNet.Rnn ships with and runs on.
using System.Diagnostics;
using MlNet.Rnn.Build;

if (args.Length == 0 || args.Length % 2 != 0)
{
    Console.Error.WriteLine("usage: MlNet.Rnn.Build <input.dll> <output.dll> [<input.dll> <output.dll> …] (pairs of paths)");
    return 2;
}

try
{
    for (int i = 0; i < args.Length; i += 2)
    {
        var clock = Stopwatch.StartNew();
        var counts = AssemblyPublicizer.Publicize(args[i], args[i + 1]);
        Console.WriteLine($"publicized {Path.GetFileName(args[i])}: {counts.Types} types, {counts.Members} members made visible " +
            $"→ {args[i + 1]} ({clock.ElapsedMilliseconds} ms)");
    }
    return 0;
}
catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or BadImageFormatException
    or Mono.Cecil.AssemblyResolutionException or InvalidOperationException)
{
    // MSBuild shows "error" lines from an Exec'd tool as build errors.
    Console.Error.WriteLine($"error MLNETRNN001: publicizing failed: {exception.Message}");
    return 1;
}
