using System.Text.Json;

namespace MlNet.Rnn.Core.Tests.Parity;

/// <summary>
/// One PyTorch reference fixture (Parity/Fixtures/&lt;case&gt;.json), written by
/// tests/MlNet.Rnn.Parity.Fixtures (TorchSharp 0.107.0, libtorch 2.10.0 CPU, float32).
/// </summary>
/// <remarks>
/// Kind "rnn": a torch.nn.RNN/LSTM/GRU forward and backward. Tensors: "input" [T,B,I], "h0" [L*D,B,H],
/// "c0" (LSTM), parameters under their PyTorch names ("weight_ih_l0", "bias_hh_l1_reverse", ...),
/// "output" [T,B,D*H] (zero at padded steps), "h_n", "c_n", the upstream gradients "grad_output",
/// "grad_h_n", "grad_c_n" (loss = sum(output*grad_output) + sum(h_n*grad_h_n) [+ sum(c_n*grad_c_n)]),
/// and the resulting gradients "grad.input", "grad.h0", "grad.c0", "grad.&lt;parameter&gt;".
/// Kind "adam_training": a 1-layer LSTM + Linear(H,1) head on output[T-1], mean squared error against
/// "target" [B,1], zero initial state, Adam (see <see cref="Adam"/>); initial parameters under their names
/// (plus "head.weight", "head.bias"), "input", "losses" [steps] (loss before each step), "final.&lt;name&gt;".
/// All tensors are flat row-major float32.
/// </remarks>
public sealed class TorchFixture
{
    private readonly Dictionary<string, (int[] Shape, float[] Data)> _tensors;

    private TorchFixture(
        string caseName,
        string kind,
        string mode,
        int inputSize,
        int hiddenSize,
        int numLayers,
        bool bidirectional,
        int seqLen,
        int batch,
        int[]? lengths,
        AdamSettings? adam,
        Dictionary<string, (int[] Shape, float[] Data)> tensors)
    {
        Case = caseName;
        Kind = kind;
        Mode = mode;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Bidirectional = bidirectional;
        SeqLen = seqLen;
        Batch = batch;
        Lengths = lengths;
        Adam = adam;
        _tensors = tensors;
    }

    /// <summary>Case name (the file name without ".json").</summary>
    public string Case { get; }

    /// <summary>"rnn" or "adam_training".</summary>
    public string Kind { get; }

    /// <summary>"RNN_TANH", "RNN_RELU", "LSTM" or "GRU".</summary>
    public string Mode { get; }

    public int InputSize { get; }

    public int HiddenSize { get; }

    public int NumLayers { get; }

    public bool Bidirectional { get; }

    /// <summary>1 or 2.</summary>
    public int NumDirections => Bidirectional ? 2 : 1;

    /// <summary>T (steps, the padded length for variable-length cases).</summary>
    public int SeqLen { get; }

    /// <summary>B.</summary>
    public int Batch { get; }

    /// <summary>Per-sample valid lengths (deliberately unsorted), or null when every sequence has <see cref="SeqLen"/> steps.</summary>
    public int[]? Lengths { get; }

    /// <summary>The optimizer settings of an "adam_training" fixture; null otherwise.</summary>
    public AdamSettings? Adam { get; }

    /// <summary>Names of all tensors in the fixture.</summary>
    public IReadOnlyCollection<string> TensorNames => _tensors.Keys;

    /// <summary>The folder holding the fixture files: tests/MlNet.Rnn.Core.Tests/Parity/Fixtures under the
    /// directory containing MlNet.Rnn.sln, found by walking up from <see cref="AppContext.BaseDirectory"/>.</summary>
    public static string FixturesDirectory => LazyDirectory.Value;

    private static readonly Lazy<string> LazyDirectory = new(FindFixturesDirectory);

    public bool Has(string name) => _tensors.ContainsKey(name);

    /// <summary>The tensor's data, flat row-major (a fresh copy).</summary>
    public float[] Tensor(string name) => (float[])Get(name).Data.Clone();

    /// <summary>The tensor's shape (a fresh copy).</summary>
    public int[] Shape(string name) => (int[])Get(name).Shape.Clone();

    /// <summary>Names of all fixtures (file names without ".json"), sorted.</summary>
    public static IEnumerable<string> All() =>
        Directory.EnumerateFiles(FixturesDirectory, "*.json")
            .Select(f => Path.GetFileNameWithoutExtension(f))
            .Order(StringComparer.Ordinal)
            .ToArray();

    /// <summary>Names of the fixtures of one kind ("rnn" or "adam_training"), sorted.</summary>
    public static IEnumerable<string> All(string kind) => All().Where(n => Load(n).Kind == kind).ToArray();

    /// <summary>Loads Fixtures/&lt;caseName&gt;.json.</summary>
    public static TorchFixture Load(string caseName)
    {
        var path = Path.Combine(FixturesDirectory, caseName + ".json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No fixture '{caseName}' in {FixturesDirectory}.", path);
        }

        return Parse(File.ReadAllBytes(path));
    }

    /// <summary>Parses fixture JSON.</summary>
    public static TorchFixture Parse(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        using var doc = JsonDocument.ParseValue(ref reader);
        var root = doc.RootElement;

        int[]? lengths = null;
        if (root.TryGetProperty("lengths", out var l) && l.ValueKind == JsonValueKind.Array)
        {
            lengths = l.EnumerateArray().Select(e => e.GetInt32()).ToArray();
        }

        AdamSettings? adam = null;
        if (root.TryGetProperty("training", out var t) && t.ValueKind == JsonValueKind.Object)
        {
            adam = new AdamSettings(
                t.GetProperty("lr").GetDouble(),
                t.GetProperty("beta1").GetDouble(),
                t.GetProperty("beta2").GetDouble(),
                t.GetProperty("eps").GetDouble(),
                t.GetProperty("weight_decay").GetDouble(),
                t.GetProperty("steps").GetInt32());
        }

        var tensors = new Dictionary<string, (int[] Shape, float[] Data)>(StringComparer.Ordinal);
        foreach (var p in root.GetProperty("tensors").EnumerateObject())
        {
            var shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var dataElement = p.Value.GetProperty("data");
            var data = new float[dataElement.GetArrayLength()];
            var i = 0;
            foreach (var e in dataElement.EnumerateArray())
            {
                data[i++] = e.GetSingle();
            }

            var count = shape.Aggregate(1L, (a, b) => a * b);
            if (count != data.Length)
            {
                throw new InvalidDataException($"Tensor '{p.Name}': shape [{string.Join(",", shape)}] does not match {data.Length} values.");
            }

            tensors[p.Name] = (shape, data);
        }

        return new TorchFixture(
            root.GetProperty("case").GetString() ?? "",
            root.TryGetProperty("kind", out var k) ? k.GetString() ?? "rnn" : "rnn",
            root.GetProperty("mode").GetString() ?? "",
            root.GetProperty("input_size").GetInt32(),
            root.GetProperty("hidden_size").GetInt32(),
            root.GetProperty("num_layers").GetInt32(),
            root.GetProperty("bidirectional").GetBoolean(),
            root.GetProperty("seq_len").GetInt32(),
            root.GetProperty("batch").GetInt32(),
            lengths,
            adam,
            tensors);
    }

    public override string ToString() => Case;

    private (int[] Shape, float[] Data) Get(string name) =>
        _tensors.TryGetValue(name, out var v)
            ? v
            : throw new KeyNotFoundException($"Fixture '{Case}' has no tensor '{name}'.");

    private static string FindFixturesDirectory()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "MlNet.Rnn.sln")))
                {
                    return Path.Combine(dir.FullName, "tests", "MlNet.Rnn.Core.Tests", "Parity", "Fixtures");
                }
            }
        }

        throw new DirectoryNotFoundException($"MlNet.Rnn.sln not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>torch.optim.Adam settings of an "adam_training" fixture.</summary>
    public sealed record AdamSettings(double Lr, double Beta1, double Beta2, double Eps, double WeightDecay, int Steps);
}
