// MlNet.Rnn compiles against publicized copies of these assemblies (build/PublicizeReferences.targets) and runs against
// the real ones; this attribute tells CoreCLR to skip the access checks that the real ones would fail. Without it every
// use of an internal fails at type load, and ML.NET's scan for [LoadableClass] silently finds no loader in this assembly.
// Every assembly listed in @(MlNetRnnPublicize) in MlNet.Rnn.csproj needs a line here.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]

namespace System.Runtime.CompilerServices;

/// <summary>
/// Read by the runtime (not the compiler): code in the declaring assembly may use non-public members of the named assembly.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class IgnoresAccessChecksToAttribute(string assemblyName) : Attribute
{
    /// <summary>The simple name of the assembly whose access checks are skipped.</summary>
    public string AssemblyName { get; } = assemblyName;
}
