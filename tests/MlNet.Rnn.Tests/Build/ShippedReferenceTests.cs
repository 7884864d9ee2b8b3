using System.Reflection;
using System.Reflection.PortableExecutable;
using Microsoft.ML;

namespace MlNet.Rnn.Tests.Build;

/// <summary>
/// MlNet.Rnn compiles against publicized ML.NET copies but must ship and run on the real assemblies: the ones next to
/// the tests are strong-name signed and keep their internals internal, and MlNet.Rnn refers to them by their real identity.
/// </summary>
public sealed class ShippedReferenceTests
{
    [Theory]
    [InlineData("Microsoft.ML.Core")]
    [InlineData("Microsoft.ML.Data")]
    public void TheMLNetAssemblyThatRunsIsTheSignedOriginal(string name)
    {
        var assembly = Assembly.Load(name);
        using var pe = new PEReader(File.OpenRead(assembly.Location));
        Assert.True(pe.PEHeaders.CorHeader!.Flags.HasFlag(CorFlags.StrongNameSigned), $"{assembly.Location} is not strong-name signed");
        Assert.NotEmpty(assembly.GetName().GetPublicKeyToken()!);
        Assert.False(assembly.Location.Contains("publicized", StringComparison.OrdinalIgnoreCase), assembly.Location);
    }

    [Fact]
    public void MLNetInternalsAreStillInternalAtRunTime()
    {
        var loadContext = typeof(MLContext).Assembly.GetType("Microsoft.ML.ModelLoadContext") ?? Assembly.Load("Microsoft.ML.Core").GetType("Microsoft.ML.ModelLoadContext")!;
        Assert.Null(loadContext.GetProperty("Reader", BindingFlags.Public | BindingFlags.Instance));
        Assert.False(Assembly.Load("Microsoft.ML.Data").GetType("Microsoft.ML.Data.CatalogUtils")!.IsPublic);
    }

    [Fact]
    public void MlNetRnnReferencesTheRealIdentities()
    {
        var references = typeof(RecurrentBinaryTrainer).Assembly.GetReferencedAssemblies().ToDictionary(a => a.Name!);
        foreach (string name in new[] { "Microsoft.ML.Core", "Microsoft.ML.Data" })
            Assert.Equal(Assembly.Load(name).GetName().GetPublicKeyToken(), references[name].GetPublicKeyToken());
    }
}
