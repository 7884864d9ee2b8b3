using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>Save → load gives bit-identical parameters and identical outputs; checkpoints carry extra tensors and metadata.</summary>
public sealed class ModelFileRoundTripTests
{
    private const string Configuration = """{"cell":"LSTM","input_size":3,"hidden_size":4,"layers":2,"bidirectional":true}""";

    private static RecurrentNetworkOptions LstmOptions => new()
    {
        InputSize = 3, HiddenSize = 4, Layers = 2, Bidirectional = true, LearnedInitialState = true, MaxDegreeOfParallelism = 1,
    };

    /// <summary>A 2-layer bidirectional LSTM with learned initial states, every parameter (h0/c0 included) random.</summary>
    private static RecurrentNetwork<LstmCell> TrainedLstm(int seed)
    {
        var network = new RecurrentNetwork<LstmCell>(LstmOptions);
        network.Initialize(new Random(seed));
        NetworkFactory.Randomize(network.Parameters, new Random(seed + 1000), 0.5);
        return network;
    }

    private static float[] Run(IRecurrentNetwork network, out float[] finalHidden, out float[] finalCell)
    {
        const int T = 5, B = 3;
        int[] lengths = [5, 2, 4];
        var input = NetworkFactory.RandomFloats(new Random(7), T * B * network.Options.InputSize);
        var output = new float[T * B * network.OutputSize];
        finalHidden = new float[network.StateCount * B * network.Options.HiddenSize];
        finalCell = new float[finalHidden.Length];
        network.Forward(input, B, lengths, output, finalHidden, network.HasCellState ? finalCell : default);
        return output;
    }

    [Fact]
    public void SaveThenLoad_LstmTwoLayersBidirectional_BitIdenticalParametersAndOutputs()
    {
        using var folder = new SafetensorsBytes.TemporaryFolder();
        string path = folder.File("lstm.safetensors");
        var saved = TrainedLstm(seed: 1);
        ModelFile.Save(path, saved.Parameters, Configuration, new Dictionary<string, string> { ["note"] = "round trip" });

        var loaded = new RecurrentNetwork<LstmCell>(LstmOptions);
        loaded.Initialize(new Random(2));
        Assert.NotEqual(SafetensorsBytes.Bits(saved.Parameters.Values), SafetensorsBytes.Bits(loaded.Parameters.Values));
        var contents = ModelFile.Load(path, loaded.Parameters);

        Assert.Equal(SafetensorsBytes.Bits(saved.Parameters.Values), SafetensorsBytes.Bits(loaded.Parameters.Values));
        Assert.True(contents.IsModelFile);
        Assert.Equal(1, contents.FormatVersion);
        Assert.Equal(Configuration, contents.Configuration);
        Assert.Equal("round trip", contents.Metadata["note"]);
        Assert.Equal(saved.Parameters.Tensors.Select(t => t.Name), contents.Tensors.Select(t => t.Name));
        Assert.All(contents.Tensors, t => Assert.Equal("F32", t.DataType));
        Assert.Contains(contents.Tensors, t => t.Name == "bias_hh_l1_reverse");
        Assert.Contains(contents.Tensors, t => t.Name == "c0_l1_reverse");

        var expected = Run(saved, out var expectedHidden, out var expectedCell);
        var actual = Run(loaded, out var actualHidden, out var actualCell);
        Assert.Equal(SafetensorsBytes.Bits(expected), SafetensorsBytes.Bits(actual));
        Assert.Equal(SafetensorsBytes.Bits(expectedHidden), SafetensorsBytes.Bits(actualHidden));
        Assert.Equal(SafetensorsBytes.Bits(expectedCell), SafetensorsBytes.Bits(actualCell));
    }

    [Theory]
    [InlineData("RNN_TANH")]
    [InlineData("GRU")]
    [InlineData("LSTM")]
    public void SaveThenLoad_EveryCell_ThroughStreams(string mode)
    {
        var options = new RecurrentNetworkOptions { InputSize = 2, HiddenSize = 3, Layers = 2, MaxDegreeOfParallelism = 1 };
        var saved = NetworkFactory.Create(mode, options);
        saved.Initialize(new Random(3));
        var stream = new MemoryStream();
        ModelFile.Save(stream, saved.Parameters, "{}");

        var loaded = NetworkFactory.Create(mode, options);
        var names = ModelFile.LoadInto(loaded.Parameters, ModelFile.Read(new MemoryStream(stream.ToArray()), requireModelFormat: true));

        Assert.Equal(saved.Parameters.Tensors.Select(t => t.Name), names);
        Assert.Equal(SafetensorsBytes.Bits(saved.Parameters.Values), SafetensorsBytes.Bits(loaded.Parameters.Values));
        Assert.Equal(Run(saved, out _, out _), Run(loaded, out _, out _));
    }

    [Fact]
    public void Checkpoint_ExtraTensorsAndMetadata_RoundTrip_AndLoadIntoIgnoresThemByPrefix()
    {
        var network = TrainedLstm(seed: 4);
        var parameters = network.Parameters;
        var moments = new float[parameters.Count];
        var squares = new float[parameters.Count];
        NetworkFactory.RandomFloats(new Random(5), moments.Length).CopyTo(moments, 0);
        NetworkFactory.RandomFloats(new Random(6), squares.Length).CopyTo(squares, 0);
        var optimizer = new List<(string Name, int[] Shape, ReadOnlyMemory<float> Data)>
        {
            ("optimizer.m", [parameters.Count], moments),
            ("optimizer.v", [parameters.Count], squares),
            ("optimizer.step", [], new float[] { 120 }),
            ("optimizer.empty", [0, 3], Array.Empty<float>()),
        };
        var trainer = new Dictionary<string, string>
        {
            ["trainer.epoch"] = "3",
            ["trainer.learning_rate"] = "0.001",
            ["trainer.note"] = "ünïcode \"quoted\" \\ \n<tag> +",
        };
        var stream = new MemoryStream();
        ModelFile.Save(stream, parameters, "{}", trainer, optimizer);

        var contents = ModelFile.Read(new MemoryStream(stream.ToArray()));
        foreach (var (key, value) in trainer) Assert.Equal(value, contents.Metadata[key]);
        Assert.Equal(parameters.Tensors.Select(t => t.Name).Concat(optimizer.Select(t => t.Name)), contents.Tensors.Select(t => t.Name));
        Assert.Equal(SafetensorsBytes.Bits(moments), SafetensorsBytes.Bits(contents["optimizer.m"].Data));
        Assert.Equal(SafetensorsBytes.Bits(squares), SafetensorsBytes.Bits(contents["optimizer.v"].Data));
        Assert.Equal([120f], contents["optimizer.step"].Data);
        Assert.Empty(contents["optimizer.step"].Shape);
        Assert.Equal([0, 3], contents["optimizer.empty"].Shape);

        var restored = new RecurrentNetwork<LstmCell>(LstmOptions);
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.LoadInto(restored.Parameters, contents));
        Assert.Contains("not in the model (4): optimizer.m, optimizer.v, optimizer.step, optimizer.empty", error.Message);
        Assert.All(SafetensorsBytes.Snapshot(restored.Parameters), value => Assert.Equal(0f, value));

        ModelFile.LoadInto(restored.Parameters, contents, ignorePrefixes: ["optimizer."]);
        Assert.Equal(SafetensorsBytes.Bits(parameters.Values), SafetensorsBytes.Bits(restored.Parameters.Values));
    }

    [Fact]
    public void Write_ArbitraryTensors_RoundTripThroughAForwardOnlyStream()
    {
        var tensors = new List<(string Name, int[] Shape, ReadOnlyMemory<float> Data)>
        {
            ("scalar", [], new float[] { -0f }),
            ("wörter.embedding", [2, 3], new float[] { 1, float.Epsilon, -3.4e38f, float.NaN, float.PositiveInfinity, 6 }),
            ("empty", [4, 0], Array.Empty<float>()),
            ("last", [1, 1, 1], new float[] { 0.1f }),
        };
        var stream = new MemoryStream();
        ModelFile.Write(stream, new Dictionary<string, string>(), tensors);

        var contents = ModelFile.Read(new SafetensorsBytes.ForwardOnlyStream(stream.ToArray()), requireModelFormat: true);
        Assert.Equal(tensors.Select(t => t.Name), contents.Tensors.Select(t => t.Name));
        foreach (var (name, shape, data) in tensors)
        {
            Assert.Equal(shape, contents[name].Shape);
            Assert.Equal(SafetensorsBytes.Bits(data.Span), SafetensorsBytes.Bits(contents[name].Data));
        }
        Assert.Equal(new[] { "format", "format_version", "checksums_xxh3_64", "metadata_xxh3_64" }, contents.Metadata.Keys);
        Assert.Null(contents.Configuration);
    }

    [Fact]
    public void Save_ToAPath_ReplacesAtomically_AndAFailedSaveLeavesTheOldFile()
    {
        using var folder = new SafetensorsBytes.TemporaryFolder();
        string path = folder.File("model.safetensors");
        var first = TrainedLstm(seed: 8);
        var second = TrainedLstm(seed: 9);
        ModelFile.Save(path, first.Parameters, Configuration);
        byte[] before = File.ReadAllBytes(path);

        Assert.Throws<ArgumentException>(() => ModelFile.Save(path, second.Parameters, "{not json"));
        Assert.Throws<ArgumentException>(() => ModelFile.Save(path, second.Parameters, "{}", extraTensors: [("weight_ih_l0", [1], new float[1])]));
        Assert.Throws<ArgumentException>(() => ModelFile.Write(path, new Dictionary<string, string>(), [("x", [2, 2], new float[3])]));
        Assert.Equal(before, File.ReadAllBytes(path));

        ModelFile.Save(path, second.Parameters, Configuration);
        var loaded = new RecurrentNetwork<LstmCell>(LstmOptions);
        ModelFile.Load(path, loaded.Parameters);
        Assert.Equal(SafetensorsBytes.Bits(second.Parameters.Values), SafetensorsBytes.Bits(loaded.Parameters.Values));
        Assert.Equal(["model.safetensors"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Write_RejectsBadArgumentsBeforeWritingAnything()
    {
        var none = new Dictionary<string, string>();
        void Rejects(string expected, IReadOnlyDictionary<string, string> metadata, params (string, int[], ReadOnlyMemory<float>)[] tensors)
        {
            var stream = new MemoryStream();
            var error = Assert.Throws<ArgumentException>(() => ModelFile.Write(stream, metadata, tensors));
            Assert.Contains(expected, error.Message);
            Assert.Equal(0, stream.Length);
        }
        Rejects("Two tensors are named 'a'", none, ("a", [1], new float[1]), ("a", [1], new float[1]));
        Rejects("empty name", none, ("", [1], new float[1]));
        Rejects("'__metadata__' is the safetensors metadata key", none, ("__metadata__", [1], new float[1]));
        Rejects("dimensions cannot be negative", none, ("a", [2, -1], new float[1]));
        Rejects("has shape [2, 3] = 6 elements but 5 values", none, ("a", [2, 3], new float[5]));
        Rejects("Metadata 'format' is 'pt'", new Dictionary<string, string> { ["format"] = "pt" });
        Rejects("Metadata 'format_version' is '2'", new Dictionary<string, string> { ["format_version"] = "2" });

        var parameters = new ParameterSet();
        parameters.Add("w", 2);
        var error = Assert.Throws<ArgumentException>(() =>
            ModelFile.Save(new MemoryStream(), parameters, "{}", new Dictionary<string, string> { ["configuration"] = "{}" }));
        Assert.Contains("extraMetadata sets 'configuration'", error.Message);
    }

    [Fact]
    public void Write_AcceptsOurOwnIdentityInTheMetadata_SoReadMetadataCanBeWrittenBack()
    {
        var first = new MemoryStream();
        ModelFile.Write(first, new Dictionary<string, string> { ["a"] = "1" }, [("x", [1], new float[] { 2 })]);
        var contents = ModelFile.Read(new MemoryStream(first.ToArray()));
        var second = new MemoryStream();
        ModelFile.Write(second, contents.Metadata, contents.Tensors.Select(t => (t.Name, t.Shape, (ReadOnlyMemory<float>)t.Data)));
        Assert.Equal(first.ToArray(), second.ToArray());
    }

    [Fact]
    public void LoadInto_PlainSafetensorsWithoutOurMetadata_Loads_ButRequiringOurFormatRefusesIt()
    {
        var parameters = new ParameterSet();
        parameters.Add("weight", 2, 2);
        parameters.Add("bias", 2);
        byte[] file = SafetensorsBytes.File(
            """{"bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""",
            SafetensorsBytes.Floats(1, 2, 3, 4, 5, 6));

        var contents = ModelFile.Read(new MemoryStream(file));
        Assert.False(contents.IsModelFile);
        Assert.Null(contents.FormatVersion);
        Assert.Equal(["weight", "bias"], contents.Tensors.Select(t => t.Name));
        ModelFile.LoadInto(parameters, contents);
        Assert.Equal([1f, 2, 3, 4, 5, 6], SafetensorsBytes.Snapshot(parameters));

        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(file), requireModelFormat: true, source: "torch.safetensors"));
        Assert.StartsWith("torch.safetensors is not an MlNet.Rnn model file: its header has no __metadata__ \"format\"", error.Message);
    }

    [Fact]
    public void LoadInto_WithoutRequireAll_KeepsTheValuesOfMissingParameters()
    {
        var source = new RecurrentNetwork<LstmCell>(LstmOptions with { LearnedInitialState = false });
        source.Initialize(new Random(10));
        var stream = new MemoryStream();
        ModelFile.Save(stream, source.Parameters, "{}");
        var target = TrainedLstm(seed: 11);
        var h0 = target.Parameters.ValuesOf(target.Parameters["h0_l0"]).ToArray();

        var contents = ModelFile.Read(new MemoryStream(stream.ToArray()));
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.LoadInto(target.Parameters, contents));
        Assert.Contains("missing from the file (8): h0_l0, c0_l0, h0_l0_reverse, c0_l0_reverse, h0_l1, c0_l1, h0_l1_reverse, c0_l1_reverse", error.Message);

        var loaded = ModelFile.LoadInto(target.Parameters, contents, requireAll: false);
        Assert.Equal(16, loaded.Count);
        Assert.Equal(h0, target.Parameters.ValuesOf(target.Parameters["h0_l0"]).ToArray());
        Assert.Equal(source.Parameters.ValuesOf(source.Parameters["weight_hh_l1_reverse"]).ToArray(),
            target.Parameters.ValuesOf(target.Parameters["weight_hh_l1_reverse"]).ToArray());
    }
}
