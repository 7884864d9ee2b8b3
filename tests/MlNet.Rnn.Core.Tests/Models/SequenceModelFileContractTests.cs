using System.Buffers.Binary;
using System.Text;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Models;

/// <summary>
/// <see cref="SequenceModelFile"/> beyond the stream round trip: a file on disk round trips (options, every parameter, outputs);
/// a null model or contents is refused by name; a safetensors file that is not in the model format is refused by both
/// <c>Load</c> overloads even when it carries a configuration; contents without a configuration are refused naming the
/// default source; a file missing a tensor the configuration needs is refused whole; and a configuration that describes more
/// recurrent layers (each direction counted) than the file holds tensors is refused before any model is built.
/// </summary>
public sealed class SequenceModelFileContractTests
{
    private static readonly SequenceModelOptions s_options = new()
    {
        Cell = RecurrentCellType.Gru, FeaturesPerStep = 2, HiddenSize = 3, OutputSize = 2, Seed = 4, MaxDegreeOfParallelism = 1,
    };

    private static SequenceModel Model()
    {
        var model = new SequenceModel(s_options);
        NetworkFactory.Randomize(model.Parameters, new Random(6), 0.5);
        return model;
    }

    private static byte[] Saved(SequenceModel model)
    {
        using var stream = new MemoryStream();
        SequenceModelFile.Save(model, stream);
        return stream.ToArray();
    }

    /// <summary>The same file with its header's <c>format</c> value renamed (same length), so it is a foreign safetensors file.</summary>
    private static byte[] WithForeignFormat(byte[] file)
    {
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        string header = Encoding.UTF8.GetString(file, 8, headerLength);
        string renamed = header.Replace($"\"{ModelFile.FormatName}\"", $"\"{ModelFile.FormatName[..^1]}x\"", StringComparison.Ordinal);
        // Another tool's file carries no checksum of our metadata: the key is renamed (same length, so the offsets hold).
        renamed = renamed.Replace($"\"{ModelFile.MetadataChecksumKey}\"", $"\"{ModelFile.MetadataChecksumKey[..^1]}x\"", StringComparison.Ordinal);
        Assert.NotEqual(header, renamed);
        byte[] result = (byte[])file.Clone();
        Encoding.UTF8.GetBytes(renamed).CopyTo(result, 8);
        return result;
    }

    [Fact]
    public void SaveToAPath_ThenLoad_GivesTheSameModel()
    {
        var model = Model();
        string path = Path.Combine(Path.GetTempPath(), $"sequence-model-{Guid.NewGuid():N}.safetensors");
        try
        {
            SequenceModelFile.Save(model, path);
            var loaded = SequenceModelFile.Load(path);
            Assert.Equal(s_options, loaded.Options);
            Assert.Equal(model.Parameters.Values.ToArray(), loaded.Parameters.Values.ToArray());
            var data = new SequenceDataset(2, 1);
            data.Add([1f, 2f, 3f, 4f], [0f]);
            data.Add([-1f, 0.5f], [0f]);
            var batch = new SequenceBatch();
            data.Fill([0, 1], batch);
            float[] expected = new float[4], actual = new float[4];
            model.Forward(batch, expected, training: false);
            loaded.Forward(batch, actual, training: false);
            Assert.Equal(expected, actual);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void NullModelsAndContents_AreRefusedByName()
    {
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => SequenceModelFile.Save(null!, "unused.safetensors")).ParamName);
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => SequenceModelFile.Save(null!, new MemoryStream())).ParamName);
        Assert.Equal("contents", Assert.Throws<ArgumentNullException>(() => SequenceModelFile.FromContents(null!)).ParamName);
    }

    [Fact]
    public void AFileNotInTheModelFormat_IsRefusedFromAStreamAndFromAPath()
    {
        byte[] foreign = WithForeignFormat(Saved(Model()));
        // Without the format requirement the file reads (it is valid safetensors with a configuration).
        Assert.NotNull(ModelFile.Read(new MemoryStream(foreign), requireModelFormat: false).Configuration);
        var fromStream = Assert.Throws<InvalidDataException>(() => SequenceModelFile.Load(new MemoryStream(foreign), "foreign.safetensors"));
        Assert.Contains($"is not an {ModelFile.FormatName} model file", fromStream.Message);
        string path = Path.Combine(Path.GetTempPath(), $"foreign-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, foreign);
            var fromPath = Assert.Throws<InvalidDataException>(() => SequenceModelFile.Load(path));
            Assert.Contains($"is not an {ModelFile.FormatName} model file", fromPath.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ContentsWithoutConfiguration_AreRefused_NamingTheModelFile()
    {
        var model = Model();
        using var stream = new MemoryStream();
        ModelFile.Write(stream, new Dictionary<string, string>(), model.Parameters.Tensors.Select(t =>
            (t.Name, t.Shape, (ReadOnlyMemory<float>)model.Parameters.ValuesOf(t).ToArray())));
        stream.Position = 0;
        var contents = ModelFile.Read(stream, requireModelFormat: true);
        var error = Assert.Throws<InvalidDataException>(() => SequenceModelFile.FromContents(contents));
        Assert.StartsWith("The model file has no configuration; it was not written by SequenceModelFile.Save.", error.Message);
    }

    [Fact]
    public void AFileMissingATensorTheConfigurationNeeds_IsRefusedWhole()
    {
        // The weights of a model without learned initial states, under a configuration that has them.
        var model = Model();
        using var stream = new MemoryStream();
        ModelFile.Save(stream, model.Parameters, SequenceModelFile.ToJson(s_options with { LearnedInitialState = true }));
        stream.Position = 0;
        var error = Assert.Throws<InvalidDataException>(() => SequenceModelFile.Load(stream, "partial.safetensors"));
        Assert.Contains("partial.safetensors does not fit the model", error.Message);
        Assert.Contains("missing from the file", error.Message);
    }

    [Theory]
    [InlineData(7, false, 7)]
    [InlineData(4, true, 8)]
    public void AConfigurationOfMoreLayersThanTheFileHoldsTensors_IsRefused_CountingEachDirection(int layers, bool bidirectional, int counted)
    {
        // A one-layer GRU's six tensors (four of the layer, two of the head) under a configuration of more layers.
        var model = Model();
        using var stream = new MemoryStream();
        ModelFile.Save(stream, model.Parameters, SequenceModelFile.ToJson(s_options with { Layers = layers, Bidirectional = bidirectional }));
        stream.Position = 0;
        var error = Assert.Throws<InvalidDataException>(() => SequenceModelFile.Load(stream, "deep.safetensors"));
        Assert.Contains($"its configuration describes {counted} recurrent layers (counting each direction), each with tensors of its own, but the file holds 6.",
            error.Message);
    }
}
