using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.Tests.Parity;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// Model files cross to PyTorch and back (fixtures written by tests/MlNet.Rnn.Parity.Fixtures, SafetensorsFixtures.cs,
/// with TorchSharp 0.107.0 / libtorch 2.10.0 and TorchSharp.PyBridge 1.4.4):
/// a torch.nn.LSTM state_dict saved as safetensors loads into our network and reproduces torch's output, and our file,
/// loaded into torch.nn.LSTM with load_safetensors(strict: true), gives torch the output our network gives.
/// </summary>
public sealed class SafetensorsInteropTests
{
    private const double Relative = 1e-5, Absolute = 1e-6;

    /// <summary>Set to 1 to (re)write Parity/Fixtures/safetensors_ours_lstm.safetensors from our writer.</summary>
    private const string WriteFixturesVariable = "MLNET_RNN_WRITE_FIXTURES";

    private const string OurConfiguration = """{"cell":"LSTM","input_size":4,"hidden_size":5,"layers":2,"bidirectional":true}""";

    private static RecurrentNetwork<LstmCell> InteropLstm() => new(new RecurrentNetworkOptions
    {
        InputSize = 4, HiddenSize = 5, Layers = 2, Bidirectional = true, MaxDegreeOfParallelism = 1,
    });

    /// <summary>The network whose file torch loads: PyTorch's initialisation from our seeded generator.</summary>
    private static byte[] OurFileBytes()
    {
        var network = InteropLstm();
        network.Initialize(new Random(20251));
        var stream = new MemoryStream();
        ModelFile.Save(stream, network.Parameters, OurConfiguration, new Dictionary<string, string> { ["purpose"] = "PyTorch interop fixture" });
        return stream.ToArray();
    }

    private static void AssertReproduces(TorchFixture fixture, RecurrentNetwork<LstmCell> network)
    {
        int B = fixture.Batch, stateLength = network.StateCount * B * fixture.HiddenSize;
        var output = new float[fixture.SeqLen * B * network.OutputSize];
        var finalHidden = new float[stateLength];
        var finalCell = new float[stateLength];
        network.Forward(fixture.Tensor("input"), B, [], output, finalHidden, finalCell);
        Tolerance.AssertClose(fixture.Tensor("output"), output, Relative, Absolute, $"{fixture.Case}: output");
        Tolerance.AssertClose(fixture.Tensor("h_n"), finalHidden, Relative, Absolute, $"{fixture.Case}: h_n");
        Tolerance.AssertClose(fixture.Tensor("c_n"), finalCell, Relative, Absolute, $"{fixture.Case}: c_n");
    }

    [Fact]
    public void TorchWrittenFile_LoadsIntoOurNetwork_AndReproducesTorchOutput()
    {
        var fixture = TorchFixture.Load("safetensors_torch_lstm");
        string path = Path.Combine(TorchFixture.FixturesDirectory, "safetensors_torch_lstm.safetensors");
        Assert.True(new FileInfo(path).Length < 100_000);
        var contents = ModelFile.Read(path);
        Assert.False(contents.IsModelFile);
        Assert.Empty(contents.Metadata);

        var network = InteropLstm();
        var loaded = ModelFile.LoadInto(network.Parameters, contents);

        Assert.Equal(16, loaded.Count);
        foreach (var tensor in network.Parameters.Tensors)
        {
            Assert.Equal(fixture.Shape(tensor.Name), tensor.Shape);
            Assert.Equal(SafetensorsBytes.Bits(fixture.Tensor(tensor.Name)), SafetensorsBytes.Bits(network.Parameters.ValuesOf(tensor)));
        }
        AssertReproduces(fixture, network);
    }

    [Fact]
    public void CommittedFileOfOurs_IsWhatOurWriterWritesToday()
    {
        string path = Path.Combine(TorchFixture.FixturesDirectory, "safetensors_ours_lstm.safetensors");
        byte[] bytes = OurFileBytes();
        if (Environment.GetEnvironmentVariable(WriteFixturesVariable) == "1") File.WriteAllBytes(path, bytes);
        Assert.True(File.Exists(path), $"{path} is missing; run this test with {WriteFixturesVariable}=1, then the fixture program.");
        Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(path)),
            $"{path} differs from what ModelFile writes today. If the format changed on purpose, bump ModelFile.FormatVersion, " +
            $"rerun this test with {WriteFixturesVariable}=1 and then `dotnet run --project tests/MlNet.Rnn.Parity.Fixtures`.");
        Assert.True(bytes.Length < 100_000);
    }

    [Fact]
    public void OurFile_LoadedIntoTorchLstm_GivesTorchOurOutput()
    {
        var fixture = TorchFixture.Load("safetensors_ours_lstm");
        var network = InteropLstm();
        var contents = ModelFile.Load(Path.Combine(TorchFixture.FixturesDirectory, "safetensors_ours_lstm.safetensors"), network.Parameters);
        Assert.Equal(OurConfiguration, contents.Configuration);

        // What torch holds after load_safetensors(strict: true) is exactly what our file holds.
        foreach (var tensor in network.Parameters.Tensors)
        {
            Assert.Equal(fixture.Shape(tensor.Name), tensor.Shape);
            Assert.Equal(SafetensorsBytes.Bits(fixture.Tensor(tensor.Name)), SafetensorsBytes.Bits(network.Parameters.ValuesOf(tensor)));
        }
        AssertReproduces(fixture, network);
    }
}
