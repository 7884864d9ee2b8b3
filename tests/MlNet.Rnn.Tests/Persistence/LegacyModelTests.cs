// Legacy ML.NET models: Persistence/LegacyFixtures holds zips written by mlContext.Model.Save with MlNet.Rnn as it was on
// 2026-12 (before the refactor to one parameter buffer per model and one ML.NET trainer base), one per task catalog, each
// beside "<zip>.expected.json" with the rows it was scored on and the columns it gave then. These tests load each committed
// zip with mlContext.Model.Load, Transform the stored rows and must get the same columns: floats within 1e-5 relative +
// 1e-6 absolute (a refactor may reorder a float sum), keys, labels and texts exactly. Each zip was bit-exact on reload when
// written ("bitExactOnReloadWhenWritten"); the test output says whether it still is. Loading in a fresh process, where
// ML.NET must find MlNet.Rnn by the assembly name in the zip, is SavedModelProbe's job.
//
// The point is that models users already have keep loading. When a test here fails, fix the loader (read the old streams,
// map the old tensor names), never the fixture. Regenerate only when the saved format changes on purpose AND models of the
// old format are deliberately no longer supported; otherwise add fixtures of the new format beside these. To regenerate
// (trains the tiny pipelines with fixed seeds, saves, reloads, writes the JSON; then commit the folder):
//
//   MLNET_RNN_WRITE_LEGACY_FIXTURES=1 dotnet test tests/MlNet.Rnn.Tests -c Release --filter FullyQualifiedName~LegacyModelTests
//
// The cases (pipelines, training, rows, columns) are in LegacyModelCases.cs; the JSON format in
// tests/MlNet.Rnn.Core.Tests/Persistence/LegacyFixture.cs, shared with the core's LegacyModelFileTests.

using MlNet.Rnn.Core.Tests.Persistence;
using Xunit.Abstractions;

namespace MlNet.Rnn.Tests.Persistence;

/// <summary>The legacy fixture folder of this project, regenerated first when <see cref="LegacyFixtureFolder.RegenerateVariable"/> is 1.</summary>
public sealed class MLNetLegacyFixtures
{
    /// <summary>Resolves the folder (and regenerates when asked).</summary>
    public MLNetLegacyFixtures() => Folder = LegacyFixtureFolder.Resolve("MlNet.Rnn.Tests", LegacyModelCases.All, Log.Add);

    /// <summary>The folder the tests read.</summary>
    public string Folder { get; }

    /// <summary>What regenerating wrote.</summary>
    public List<string> Log { get; } = [];
}

/// <summary>
/// ML.NET models saved before the model internals changed (binary over tokens, multiclass, regression over variable-length
/// floats, tagging, sequence to sequence, language modeling, forecasting) still load with <c>mlContext.Model.Load</c> and
/// score their recorded rows as they did when they were saved.
/// </summary>
public sealed class LegacyModelTests(MLNetLegacyFixtures fixtures, ITestOutputHelper output) : IClassFixture<MLNetLegacyFixtures>
{
    /// <summary>Every committed zip.</summary>
    public static TheoryData<string> Files => [.. LegacyModelCases.All.Select(c => c.FileName)];

    [Theory]
    [MemberData(nameof(Files))]
    public void AModelSavedBeforeLoadsAndScoresItsRowsAsItDidThen(string file)
    {
        var agreement = LegacyModelCases.Named(file).Check(fixtures.Folder);
        output.WriteLine($"{file}: {agreement}");
        Assert.True(agreement.Values > 0, $"{file} compared no value.");
    }

    [Fact]
    public void TheFixtureFolderHoldsEveryCaseAndNothingElse_EachFileSmall()
    {
        foreach (string line in fixtures.Log) output.WriteLine(line);
        var expected = LegacyModelCases.All.SelectMany(c => new[] { c.FileName, c.ExpectationFileName }).Order(StringComparer.Ordinal);
        var present = Directory.EnumerateFiles(fixtures.Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(expected, present);
        foreach (var file in Directory.EnumerateFiles(fixtures.Folder))
            Assert.True(new FileInfo(file).Length < 50_000, $"{file} has {new FileInfo(file).Length} bytes; fixtures stay below 50 KB.");
    }
}
