using MlNet.Rnn.Tests.Persistence;

namespace MlNet.Rnn.Tests;

/// <summary>
/// Entry point of the test assembly when run as a program (<c>dotnet MlNet.Rnn.Tests.dll …</c>): the fresh process in
/// which <see cref="SavedModelProbe"/> loads a model saved by a test. xunit never calls it.
/// </summary>
public static class Program
{
    /// <summary>Runs a probe named by the first argument.</summary>
    public static int Main(string[] args) =>
        args.Length > 0 && args[0] == SavedModelProbe.Command
            ? SavedModelProbe.Run(args.AsSpan(1))
            : Usage();

    private static int Usage()
    {
        Console.Error.WriteLine($"usage: dotnet MlNet.Rnn.Tests.dll {SavedModelProbe.Command} <model.zip> <rows.idv> <scored.idv>");
        return 2;
    }
}
