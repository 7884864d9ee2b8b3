using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Models;

public sealed class SequenceModelFileTests
{
    [Fact]
    public void SaveThenLoad_GivesIdenticalOutputs()
    {
        var options = new SequenceModelOptions
        {
            Cell = RecurrentCellType.Gru, VocabularySize = 20, EmbeddingSize = 6, HiddenSize = 10, Layers = 2, Bidirectional = true,
            LearnedInitialState = true, OutputSize = 4, Seed = 3,
        };
        var model = new SequenceModel(options);
        var random = new Random(5);
        NetworkFactory.Randomize(model.Parameters, random, 0.5);
        var data = new SequenceDataset(0, 1);
        for (int i = 0; i < 6; i++) data.AddTokens(Enumerable.Range(0, 1 + i).Select(_ => random.Next(20)).ToArray(), [0]);
        var batch = new SequenceBatch();
        data.Fill(Enumerable.Range(0, 6).ToArray(), batch);

        using var stream = new MemoryStream();
        SequenceModelFile.Save(model, stream);
        stream.Position = 0;
        var loaded = SequenceModelFile.Load(stream, "memory");

        Assert.Equal(options, loaded.Options);
        Assert.Equal(model.Parameters.Values.ToArray(), loaded.Parameters.Values.ToArray());
        var expected = new float[6 * 4];
        var actual = new float[6 * 4];
        model.Forward(batch, expected, training: false);
        loaded.Forward(batch, actual, training: false);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Load_ABareSafetensorsFile_SaysWhatIsMissing()
    {
        var model = new SequenceModel(new SequenceModelOptions { HiddenSize = 4 });
        using var stream = new MemoryStream();
        ModelFile.Write(stream, new Dictionary<string, string>(), model.Parameters.Tensors.Select(t =>
            (t.Name, t.Shape, (ReadOnlyMemory<float>)model.Parameters.ValuesOf(t).ToArray())));
        stream.Position = 0;
        var error = Assert.Throws<InvalidDataException>(() => SequenceModelFile.Load(stream, "bare.safetensors"));
        Assert.Contains("bare.safetensors has no configuration", error.Message);
    }

    [Fact]
    public void Load_InvalidConfiguration_NamesTheOption()
    {
        var model = new SequenceModel(new SequenceModelOptions { HiddenSize = 4 });
        using var stream = new MemoryStream();
        ModelFile.Save(stream, model.Parameters, SequenceModelFile.ToJson(model.Options).Replace("\"HiddenSize\":4", "\"HiddenSize\":-4"));
        stream.Position = 0;
        var error = Assert.Throws<InvalidDataException>(() => SequenceModelFile.Load(stream, "bad.safetensors"));
        Assert.Contains("bad.safetensors: the configuration is invalid", error.Message);
        Assert.Contains("HiddenSize", error.Message);
    }
}
