using System.Globalization;
using System.Runtime.CompilerServices;

namespace MlNet.Rnn.Core.Tests;

/// <summary>
/// Both test suites run in the invariant culture, whatever the machine's locale (the ML.NET tests compile this file too):
/// tests compare whole messages and log lines holding numbers, which the product and .NET's own "Actual value was …"
/// format in the current culture, so under sv-SE 25 core and 4 ML.NET tests failed although nothing was wrong.
/// </summary>
internal static class InvariantCulture
{
#pragma warning disable CA2255 // a test assembly, not a library: the setting is meant for every test in it
    [ModuleInitializer]
    internal static void Set()
#pragma warning restore CA2255
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
    }
}
