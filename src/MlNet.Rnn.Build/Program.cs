// Publicizer: writes a copy of each input assembly with its internal surface made public, for MlNet.Rnn to compile
// against (ARCHITECTURE.md, "Compiling against ML.NET's internals"), after checking that every internal MlNet.Rnn uses
// (the list, MlNetInternals.txt) is still there.
// Usage: MlNet.Rnn.Build [--internals <list.txt>] <input.dll> <output.dll> [<input.dll> <output.dll> …]
// The copies are for the compiler only; the real, unmodified assemblies are what MlNet.Rnn ships with and runs on.
using System.Diagnostics;
using System.Reflection;
using Mono.Cecil;
using MlNet.Rnn.Build;

string? listPath = null;
if (args is ["--internals", var list, ..])
{
    listPath = list;
    args = args[2..];
}
if (args.Length == 0 || args.Length % 2 != 0)
{
    Console.Error.WriteLine("usage: MlNet.Rnn.Build [--internals <list.txt>] <input.dll> <output.dll> [<input.dll> <output.dll> …] (pairs of paths)");
    return 2;
}

try
{
    var entries = listPath is null ? [] : MlNetInternals.Read(listPath);
    int missing = 0;
    for (int i = 0; i < args.Length; i += 2)
    {
        using var assembly = AssemblyDefinition.ReadAssembly(new MemoryStream(File.ReadAllBytes(args[i])));
        string version = assembly.CustomAttributes.FirstOrDefault(a => a.AttributeType.FullName == typeof(AssemblyInformationalVersionAttribute).FullName)
            ?.ConstructorArguments[0].Value as string ?? assembly.Name.Version.ToString();
        foreach (string name in MlNetInternals.Missing(assembly, entries))
        {
            // MSBuild shows "error" lines from an Exec'd tool as build errors.
            Console.Error.WriteLine($"error MLNETRNN005: {assembly.Name.Name} {version} has no {name}, an internal MlNet.Rnn uses " +
                $"({listPath}). This ML.NET version is not supported: port MlNet.Rnn to it before widening the Microsoft.ML range.");
            missing++;
        }
    }
    if (missing > 0) return 1;
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
    Console.Error.WriteLine($"error MLNETRNN001: publicizing failed: {exception.Message}");
    return 1;
}
