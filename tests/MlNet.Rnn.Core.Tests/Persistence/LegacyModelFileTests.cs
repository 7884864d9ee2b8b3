// Legacy model files: Persistence/LegacyFixtures holds model files written by MlNet.Rnn as it was on 2026-12 (format_version 1,
// before the refactor to one parameter buffer per model), each beside "<file>.expected.json" with the inputs it was scored on
// and the outputs it gave then. These tests load each committed file with today's public Load API and must get the same
// outputs: floats within 1e-5 relative + 1e-6 absolute (a refactor may reorder a float sum), ids, tags and texts exactly.
// Each file was bit-exact on reload when written ("bitExactOnReloadWhenWritten"); the test output says whether it still is.
//
// The point is that files users already have keep loading. When a test here fails, fix the loader (map the old names, read
// the old layout), never the fixture. Regenerate only when the file format changes on purpose AND files of the old format
// are deliberately no longer supported; otherwise add fixtures of the new format beside these. To regenerate (trains the
// tiny models with fixed seeds, saves, reloads, writes the JSON; then commit the folder):
//
//   MLNET_RNN_WRITE_LEGACY_FIXTURES=1 dotnet test tests/MlNet.Rnn.Core.Tests -c Release --filter FullyQualifiedName~LegacyModelFileTests
//
// The cases (models, training, inputs, scoring calls) are in LegacyModelFileCases.cs; the file format of the JSON in LegacyFixture.cs.

using Xunit.Abstractions;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>The legacy fixture folder of this project, regenerated first when <see cref="LegacyFixtureFolder.RegenerateVariable"/> is 1.</summary>
public sealed class CoreLegacyFixtures
{
    /// <summary>Resolves the folder (and regenerates when asked).</summary>
    public CoreLegacyFixtures() => Folder = LegacyFixtureFolder.Resolve("MlNet.Rnn.Core.Tests", LegacyModelFileCases.All, Log.Add);

    /// <summary>The folder the tests read.</summary>
    public string Folder { get; }

    /// <summary>What regenerating wrote.</summary>
    public List<string> Log { get; } = [];
}

/// <summary>
/// Model files written before the model internals changed (a <see cref="Models.SequenceModel"/> of floats and of tokens, two
/// sequence-to-sequence models, a language model, a tagger and a forecaster) still load with today's public Load API and
/// score their recorded inputs as they did when they were written.
/// </summary>
public sealed class LegacyModelFileTests(CoreLegacyFixtures fixtures, ITestOutputHelper output) : IClassFixture<CoreLegacyFixtures>
{
    /// <summary>Every committed model file.</summary>
    public static TheoryData<string> Files => [.. LegacyModelFileCases.All.Select(c => c.FileName)];

    [Theory]
    [MemberData(nameof(Files))]
    public void AModelFileWrittenBeforeLoadsAndGivesTheOutputsItGaveThen(string file)
    {
        var agreement = LegacyModelFileCases.Named(file).Check(fixtures.Folder);
        output.WriteLine($"{file}: {agreement}");
        Assert.True(agreement.Values > 0, $"{file} compared no value.");
    }

    [Fact]
    public void TheFixtureFolderHoldsEveryCaseAndNothingElse_EachFileSmall()
    {
        foreach (string line in fixtures.Log) output.WriteLine(line);
        var expected = LegacyModelFileCases.All.SelectMany(c => new[] { c.FileName, c.ExpectationFileName }).Order(StringComparer.Ordinal);
        var present = Directory.EnumerateFiles(fixtures.Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(expected, present);
        foreach (var file in Directory.EnumerateFiles(fixtures.Folder))
            Assert.True(new FileInfo(file).Length < 50_000, $"{file} has {new FileInfo(file).Length} bytes; fixtures stay below 50 KB.");
    }
}
