using Mono.Cecil;
using MlNet.Rnn.Build;

namespace MlNet.Rnn.Tests.Build;

/// <summary>
/// <c>src/MlNet.Rnn/build/MlNetInternals.txt</c> lists exactly the ML.NET internals the built MlNet.Rnn.dll uses (so the
/// build-time check that they still exist checks all of them), and that check names an internal a version lacks.
/// </summary>
public sealed class MlNetInternalsTests
{
    private static readonly HashSet<string> s_publicized = ["Microsoft.ML.Core", "Microsoft.ML.Data"];

    private static string ListPath()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "MlNet.Rnn.sln"))) root = root.Parent;
        Assert.NotNull(root);
        return Path.Combine(root!.FullName, "src", "MlNet.Rnn", "build", "MlNetInternals.txt");
    }

    /// <summary>What MlNet.Rnn.dll refers to that the real ML.NET assemblies (the ones next to the tests) keep internal.</summary>
    private static SortedSet<string> Used()
    {
        using var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(AppContext.BaseDirectory);
        using var module = ModuleDefinition.ReadModule(typeof(RecurrentBinaryTrainer).Assembly.Location, new ReaderParameters { AssemblyResolver = resolver });
        return MlNetInternals.UsedBy(module, s_publicized);
    }

    [Fact]
    public void TheListIsExactlyTheInternalsMlNetRnnUses()
    {
        string path = ListPath();
        var used = Used();
        if (Environment.GetEnvironmentVariable("MLNET_RNN_WRITE_INTERNALS") == "1")
            File.WriteAllLines(path, [.. File.ReadAllLines(path).TakeWhile(line => line.StartsWith('#')), .. used]);
        var listed = MlNetInternals.Read(path).Select(entry => $"{entry.Assembly}: {entry.Name}").ToHashSet();

        Assert.DoesNotContain(used, line => line.Contains(": unresolved ", StringComparison.Ordinal));
        Assert.True(used.Count > 20, $"only {used.Count} internals found: is the resolver finding the real ML.NET assemblies?");
        var unlisted = used.Where(line => !listed.Contains(line)).ToArray();
        var stale = listed.Where(line => !used.Contains(line)).ToArray();
        Assert.True(unlisted.Length == 0 && stale.Length == 0,
            $"MlNetInternals.txt is out of date (MLNET_RNN_WRITE_INTERNALS=1 dotnet test --filter MlNetInternalsTests rewrites it).\n" +
            $"Used but not listed:\n  {string.Join("\n  ", unlisted)}\nListed but not used:\n  {string.Join("\n  ", stale)}");
    }

    [Fact]
    public void TheBuildCheck_NamesEveryListedInternalAnAssemblyLacks_AndOnlyThose()
    {
        var entries = MlNetInternals.Read(ListPath());
        using var core = AssemblyDefinition.ReadAssembly(Path.Combine(AppContext.BaseDirectory, "Microsoft.ML.Core.dll"));
        Assert.Empty(MlNetInternals.Missing(core, entries));

        var coreEntry = entries.First(entry => entry.Assembly == "Microsoft.ML.Core");
        (string, string)[] doctored = [.. entries, ("Microsoft.ML.Core", coreEntry.Name + "Gone"), ("Microsoft.ML.Data", "Microsoft.ML.Data.Gone")];
        Assert.Equal([coreEntry.Name + "Gone"], MlNetInternals.Missing(core, doctored));
    }
}
