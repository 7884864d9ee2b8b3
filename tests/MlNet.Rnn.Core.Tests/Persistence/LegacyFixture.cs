using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MlNet.Rnn.Core.Tests.Persistence;

// Shared by tests/MlNet.Rnn.Core.Tests and tests/MlNet.Rnn.Tests (linked into the latter with <Compile Include>): the
// legacy model fixtures, a model file written by an earlier MlNet.Rnn beside "<file>.expected.json", which holds the
// inputs it was scored on and what it gave then.

/// <summary>
/// One named output of a model on a fixture's inputs, row by row (one row per input sequence, text or pair), of exactly
/// one kind: 32-bit floats, 64-bit floats, integers (ids, keys, tags, booleans as 0/1) or texts.
/// </summary>
public sealed record LegacyOutput
{
    /// <summary>What the values are, e.g. <c>logits</c> or the ML.NET column name.</summary>
    public required string Name { get; init; }

    /// <summary>32-bit float rows (written by System.Text.Json in the shortest form that reads back to the same bits).</summary>
    public float[][]? Float32 { get; init; }

    /// <summary>64-bit float rows (same round trip).</summary>
    public double[][]? Float64 { get; init; }

    /// <summary>Integer rows, compared exactly.</summary>
    public long[][]? Integers { get; init; }

    /// <summary>Text rows, compared exactly.</summary>
    public string[][]? Texts { get; init; }

    /// <summary>Float rows.</summary>
    public static LegacyOutput Floats(string name, IEnumerable<float[]> rows) => new() { Name = name, Float32 = [.. rows] };

    /// <summary>Double rows.</summary>
    public static LegacyOutput Doubles(string name, IEnumerable<double[]> rows) => new() { Name = name, Float64 = [.. rows] };

    /// <summary>Integer rows.</summary>
    public static LegacyOutput Ints(string name, IEnumerable<long[]> rows) => new() { Name = name, Integers = [.. rows] };

    /// <summary>Text rows.</summary>
    public static LegacyOutput Strings(string name, IEnumerable<string[]> rows) => new() { Name = name, Texts = [.. rows] };

    internal int Kinds => (Float32 is null ? 0 : 1) + (Float64 is null ? 0 : 1) + (Integers is null ? 0 : 1) + (Texts is null ? 0 : 1);
}

/// <summary>What "&lt;model file&gt;.expected.json" holds.</summary>
/// <typeparam name="TInputs">The fixture's input record (sequences, texts, rows), stored as JSON.</typeparam>
public sealed record LegacyExpectation<TInputs>
{
    /// <summary>The model file, in the same folder.</summary>
    public required string ModelFile { get; init; }

    /// <summary>The model and how it was trained.</summary>
    public required string Description { get; init; }

    /// <summary>
    /// Whether, when the fixture was written, the file loaded back gave exactly the bits the trained model in memory gave on
    /// the inputs (so a reader knows whether "identical" meant bit-identical at the time).
    /// </summary>
    public required bool BitExactOnReloadWhenWritten { get; init; }

    /// <summary>What the model is scored on.</summary>
    public required TInputs Inputs { get; init; }

    /// <summary>What the loaded model gave on <see cref="Inputs"/> when the fixture was written.</summary>
    public required LegacyOutput[] Outputs { get; init; }
}

/// <summary>How far a check of outputs got: values compared, how many to the bit, the largest relative deviation.</summary>
public readonly record struct LegacyAgreement(int Values, int BitExact, double MaxRelativeDeviation)
{
    /// <summary>Whether every value matched to the bit.</summary>
    public bool IsBitExact => Values == BitExact;

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Values} values, {BitExact} bit-exact, largest relative deviation {MaxRelativeDeviation:G3}");
}

/// <summary>
/// Compares outputs: floats within <see cref="Relative"/>·|expected| + <see cref="Absolute"/> (a refactor may legitimately
/// reorder a float sum, which moves the last bits), everything else exactly.
/// </summary>
public static class LegacyComparison
{
    /// <summary>Relative tolerance on floats.</summary>
    public const double Relative = 1e-5;

    /// <summary>Absolute tolerance on floats.</summary>
    public const double Absolute = 1e-6;

    /// <summary>The agreement of <paramref name="actual"/> with <paramref name="expected"/>, or every difference beyond tolerance as an exception.</summary>
    /// <exception cref="Xunit.Sdk.XunitException">An output is missing, of another kind or shape, or differs beyond tolerance.</exception>
    public static LegacyAgreement AssertClose(IReadOnlyList<LegacyOutput> expected, IReadOnlyList<LegacyOutput> actual, string fixture)
    {
        var problems = new List<string>();
        int values = 0, bitExact = 0;
        double maxRelative = 0;
        if (!expected.Select(o => o.Name).SequenceEqual(actual.Select(o => o.Name)))
            problems.Add($"outputs [{string.Join(", ", actual.Select(o => o.Name))}], expected [{string.Join(", ", expected.Select(o => o.Name))}]");
        foreach (var want in expected)
        {
            var got = actual.FirstOrDefault(o => o.Name == want.Name);
            if (got is null) continue;
            if (want.Kinds != 1 || got.Kinds != 1)
            {
                problems.Add($"{want.Name}: an output holds exactly one kind of value");
                continue;
            }
            if (want.Float32 is not null)
                CompareRows(want.Name, want.Float32, got.Float32, (e, a) => (e, a, BitConverter.SingleToInt32Bits(e) == BitConverter.SingleToInt32Bits(a)));
            else if (want.Float64 is not null)
                CompareRows(want.Name, want.Float64, got.Float64, (e, a) => (e, a, BitConverter.DoubleToInt64Bits(e) == BitConverter.DoubleToInt64Bits(a)));
            else if (want.Integers is not null)
                CompareExact(want.Name, want.Integers, got.Integers);
            else
                CompareExact(want.Name, want.Texts!, got.Texts);
        }
        if (problems.Count > 0)
            throw new Xunit.Sdk.XunitException($"{fixture}: the model file no longer gives the outputs it gave when it was written " +
                $"(tolerance {Relative:G1} relative + {Absolute:G1} absolute on floats, exact otherwise):{Environment.NewLine}  " +
                string.Join(Environment.NewLine + "  ", problems.Take(20)) + (problems.Count > 20 ? $"{Environment.NewLine}  … {problems.Count - 20} more" : ""));
        return new LegacyAgreement(values, bitExact, maxRelative);

        void CompareRows<T>(string name, T[][] want, T[][]? got, Func<T, T, (double Expected, double Actual, bool SameBits)> read)
        {
            if (got is null || got.Length != want.Length)
            {
                problems.Add($"{name}: {(got is null ? "another kind of value" : $"{got.Length} rows")}, expected {want.Length} rows");
                return;
            }
            for (int r = 0; r < want.Length; r++)
            {
                if (got[r].Length != want[r].Length)
                {
                    problems.Add($"{name}[{r}]: {got[r].Length} values, expected {want[r].Length}");
                    continue;
                }
                for (int i = 0; i < want[r].Length; i++)
                {
                    var (e, a, same) = read(want[r][i], got[r][i]);
                    values++;
                    if (same) { bitExact++; continue; }
                    double deviation = Math.Abs(a - e);
                    if (double.IsNaN(deviation)) deviation = double.PositiveInfinity;
                    maxRelative = Math.Max(maxRelative, deviation / Math.Max(Math.Abs(e), double.Epsilon));
                    if (!(deviation <= Absolute + Relative * Math.Abs(e)))
                        problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name}[{r}][{i}] = {a:R}, expected {e:R} (off by {deviation:G3})"));
                }
            }
        }

        void CompareExact<T>(string name, T[][] want, T[][]? got)
        {
            if (got is null || got.Length != want.Length)
            {
                problems.Add($"{name}: {(got is null ? "another kind of value" : $"{got.Length} rows")}, expected {want.Length} rows");
                return;
            }
            for (int r = 0; r < want.Length; r++)
            {
                values += want[r].Length;
                if (got[r].SequenceEqual(want[r])) bitExact += want[r].Length;
                else problems.Add($"{name}[{r}] = [{string.Join(", ", got[r])}], expected [{string.Join(", ", want[r])}]");
            }
        }
    }
}

/// <summary>A legacy fixture: its names, and how to write it (today) and check it (at any later time).</summary>
public abstract class LegacyCase
{
    /// <summary>The model file's name in the fixture folder, e.g. <c>tagger.safetensors</c>.</summary>
    public abstract string FileName { get; }

    /// <summary>The name of the file of inputs and outputs beside it.</summary>
    public string ExpectationFileName => FileName + ".expected.json";

    /// <summary>Trains the model, saves it into <paramref name="folder"/>, loads it back, scores the inputs and writes the expectation.</summary>
    public abstract LegacyAgreement Write(string folder);

    /// <summary>Loads the committed model file with today's API, scores the stored inputs and compares with the stored outputs.</summary>
    public abstract LegacyAgreement Check(string folder);

    /// <inheritdoc/>
    public override string ToString() => FileName;
}

/// <summary>A legacy fixture of a model type <typeparamref name="TModel"/> scored on <typeparamref name="TInputs"/>.</summary>
/// <param name="fileName">The model file's name.</param>
/// <param name="description">The model and how it was trained.</param>
/// <param name="train">Trains the tiny model (fixed seeds); only the generator calls it.</param>
/// <param name="save">Saves a model to a path with the public API of the day it was written.</param>
/// <param name="load">Loads a model from a path with today's public API.</param>
/// <param name="inputs">The inputs to score; only the generator calls it (later they come from the JSON).</param>
/// <param name="score">Today's public scoring API on the inputs; must be deterministic.</param>
public sealed class LegacyCase<TModel, TInputs>(
    string fileName, string description, Func<TModel> train, Action<TModel, string> save, Func<string, TModel> load, Func<TInputs> inputs,
    Func<TModel, TInputs, LegacyOutput[]> score) : LegacyCase
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <inheritdoc/>
    public override string FileName => fileName;

    /// <inheritdoc/>
    public override LegacyAgreement Write(string folder)
    {
        TModel trained = train();
        string path = Path.Combine(folder, fileName);
        save(trained, path);
        TInputs input = inputs();
        LegacyOutput[] fromTrained = score(trained, input);
        LegacyOutput[] fromLoaded = score(load(path), input);
        foreach (double value in fromLoaded.SelectMany(o => (IEnumerable<double>?)o.Float32?.SelectMany(r => r.Select(v => (double)v)) ?? o.Float64?.SelectMany(r => r) ?? []))
            if (!double.IsFinite(value)) throw new InvalidOperationException($"{fileName}: an output is {value}; a fixture needs finite outputs.");
        var reload = LegacyComparison.AssertClose(fromTrained, fromLoaded, $"{fileName} (trained model against the file saved from it)");
        var expectation = new LegacyExpectation<TInputs>
        {
            ModelFile = fileName, Description = description, BitExactOnReloadWhenWritten = reload.IsBitExact, Inputs = input, Outputs = fromLoaded,
        };
        string jsonPath = Path.Combine(folder, ExpectationFileName);
        File.WriteAllText(jsonPath, JsonSerializer.Serialize(expectation, s_json) + "\n", new UTF8Encoding(false));
        var readBack = Read(jsonPath);
        if (!LegacyComparison.AssertClose(fromLoaded, readBack.Outputs, $"{jsonPath} read back").IsBitExact)
            throw new InvalidOperationException($"{jsonPath}: the outputs did not read back to the same bits.");
        var check = Check(folder);
        if (!check.IsBitExact)
            throw new InvalidOperationException($"{fileName}: scoring the inputs read back from {jsonPath} did not repeat the outputs to the bit ({check}).");
        return check;
    }

    /// <inheritdoc/>
    public override LegacyAgreement Check(string folder)
    {
        var expectation = Read(Path.Combine(folder, ExpectationFileName));
        Assert.Equal(fileName, expectation.ModelFile);
        TModel loaded = load(Path.Combine(folder, fileName));
        return LegacyComparison.AssertClose(expectation.Outputs, score(loaded, expectation.Inputs), fileName);
    }

    private static LegacyExpectation<TInputs> Read(string path) =>
        JsonSerializer.Deserialize<LegacyExpectation<TInputs>>(File.ReadAllBytes(path), s_json)
        ?? throw new InvalidDataException($"{path} is empty.");
}

/// <summary>
/// The folder the legacy fixtures are read from: the copy in the test output (<c>Persistence/LegacyFixtures</c>), or, when
/// the environment variable <see cref="RegenerateVariable"/> is <c>1</c>, the source folder, after writing every fixture
/// into it anew.
/// </summary>
public static class LegacyFixtureFolder
{
    /// <summary>Set to <c>1</c> to regenerate the fixtures (see the header of the test classes for when that is right).</summary>
    public const string RegenerateVariable = "MLNET_RNN_WRITE_LEGACY_FIXTURES";

    /// <summary>The folder inside a test project.</summary>
    public const string RelativeFolder = "Persistence/LegacyFixtures";

    /// <summary>Whether this run regenerates the fixtures.</summary>
    public static bool Regenerating => Environment.GetEnvironmentVariable(RegenerateVariable) == "1";

    /// <summary>
    /// The folder to check: the output copy, or (regenerating) <c>tests/&lt;testProject&gt;/Persistence/LegacyFixtures</c> under the
    /// directory holding MlNet.Rnn.sln, after every case wrote itself there.
    /// </summary>
    public static string Resolve(string testProject, IEnumerable<LegacyCase> cases, Action<string>? log = null)
    {
        if (!Regenerating) return Path.Combine(AppContext.BaseDirectory, RelativeFolder);
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "MlNet.Rnn.sln"))) root = root.Parent;
        if (root is null) throw new DirectoryNotFoundException($"No MlNet.Rnn.sln above {AppContext.BaseDirectory}; regenerate from a checkout.");
        string folder = Path.Combine(root.FullName, "tests", testProject, RelativeFolder);
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.EnumerateFiles(folder)) File.Delete(file);
        foreach (var fixture in cases)
        {
            var agreement = fixture.Write(folder);
            log?.Invoke($"wrote {fixture.FileName} ({new FileInfo(Path.Combine(folder, fixture.FileName)).Length} bytes): {agreement}");
        }
        return folder;
    }
}
