using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// What a sequence-to-sequence model file must hold, each refusal with its message: the kind, the configuration, at least a
/// tensor per layer and direction of both stacks, no tensor of another part; a checkpoint's optimizer and trainer state is
/// read past; a plain safetensors file is not one, from a path or a stream; the arguments.
/// </summary>
public sealed class SequenceToSequenceModelFileChecksTests
{
    private static SequenceToSequenceModel Model(bool bidirectional = false) => new(SequenceToSequenceLearningTests.SmallOptions with
    {
        EmbeddingSize = 4, HiddenSize = 4, Layers = 2, Bidirectional = bidirectional, Seed = 3, MaxDegreeOfParallelism = 1,
    });

    private static ModelFileContents Contents(SequenceToSequenceModel model)
    {
        var stream = new MemoryStream();
        SequenceToSequenceModelFile.Save(model, stream);
        stream.Position = 0;
        return ModelFile.Read(stream, requireModelFormat: true);
    }

    private static ModelFileContents With(ModelFileContents contents, IReadOnlyDictionary<string, string>? metadata = null,
        IReadOnlyList<ModelFileTensor>? tensors = null, string? source = "m.safetensors") =>
        new(metadata ?? contents.Metadata, tensors ?? contents.Tensors, source);

    private static string Refused(ModelFileContents contents) =>
        Assert.Throws<InvalidDataException>(() => SequenceToSequenceModelFile.FromContents(contents)).Message;

    [Fact]
    public void TheKindAndTheConfigurationMustBeThere()
    {
        var contents = Contents(Model());
        var metadata = contents.Metadata.ToDictionary();
        Assert.Equal(Model().Parameters.Values.ToArray(), SequenceToSequenceModelFile.FromContents(With(contents, metadata)).Parameters.Values.ToArray());

        metadata.Remove(SequenceToSequenceModelFile.KindKey);
        Assert.Equal("m.safetensors is not a sequence-to-sequence model (model_kind is 'absent'); load it with the class that wrote it.",
            Refused(With(contents, metadata)));
        metadata[SequenceToSequenceModelFile.KindKey] = "tagger";
        Assert.Equal("The model file is not a sequence-to-sequence model (model_kind is 'tagger'); load it with the class that wrote it.",
            Refused(With(contents, metadata, source: null)));
        metadata[SequenceToSequenceModelFile.KindKey] = "sequence_to_sequence";
        metadata.Remove(ModelFile.ConfigurationKey);
        Assert.Equal("m.safetensors has no configuration.", Refused(With(contents, metadata)));
        Assert.Equal("The model file has no configuration.", Refused(With(contents, metadata, source: null)));
    }

    [Theory]
    [InlineData(false, 4)] // 2 layers × (encoder + decoder)
    [InlineData(true, 6)]  // 2 layers × (2 encoder directions + decoder)
    public void AFileWithFewerTensorsThanLayersIsRefusedBeforeTheModelIsBuilt(bool bidirectional, int layers)
    {
        var contents = Contents(Model(bidirectional));
        string tooFew = Refused(With(contents, tensors: [.. contents.Tensors.Take(layers - 1)]));
        Assert.Contains($"missing from the file (at least {layers} tensors): its configuration describes {layers} recurrent layers", tooFew);
        string enough = Refused(With(contents, tensors: [.. contents.Tensors.Take(layers)]));
        Assert.DoesNotContain("recurrent layers (counting each direction)", enough);
    }

    [Fact]
    public void ATensorOfAnotherPartIsRefused_ACheckpointsStateIsNot()
    {
        var model = Model();
        var contents = Contents(model);
        var extra = new ModelFileTensor("attention.extra", [1], [0f], "F32");
        var other = new ModelFileTensor("head.bias", [1], [0f], "F32");
        Assert.Equal("m.safetensors holds tensors of neither the encoder nor the decoder: attention.extra, head.bias; nothing was loaded.",
            Refused(With(contents, tensors: [.. contents.Tensors, extra, other])));

        string path = Path.Combine(Path.GetTempPath(), $"seq2seq-checkpoint-{Guid.NewGuid():N}.safetensors");
        try
        {
            var trainer = new SequencePairTrainer(model, new TrainerOptions { Epochs = 1, BatchSize = 2 });
            trainer.Train(SequencePairs.From([[1, 2], [3]], [[4], [5, 6]]));
            trainer.SaveCheckpoint(path);
            var everything = ModelFile.Read(path);
            Assert.Contains(everything.Tensors, tensor => tensor.Name.StartsWith(ModelFile.CheckpointPrefix.Optimizer, StringComparison.Ordinal));
            Assert.Contains(everything.Tensors, tensor => tensor.Name.StartsWith(ModelFile.CheckpointPrefix.Trainer, StringComparison.Ordinal));
            Assert.Equal(model.Parameters.Values.ToArray(), SequenceToSequenceModelFile.FromContents(everything).Parameters.Values.ToArray());
            Assert.Equal(model.Parameters.Values.ToArray(), SequenceToSequenceModelFile.Load(path).Parameters.Values.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void APlainSafetensorsFileIsRefusedAsNotAModelFile_FromAPathOrAStream()
    {
        // A sequence-to-sequence kind but no format key: what another tool writes.
        string header = "{\"__metadata__\":{\"model_kind\":\"sequence_to_sequence\"},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        byte[] file = [.. BitConverter.GetBytes((ulong)header.Length), .. System.Text.Encoding.UTF8.GetBytes(header), 0, 0, 0, 0];
        const string Problem = " is not an MlNet.Rnn model file: its header has no __metadata__ \"format\" (a plain safetensors file, e.g. saved from PyTorch); " +
            "read it without requiring the model format and copy its weights with ModelFile.LoadInto.";
        Assert.Equal("plain.safetensors" + Problem,
            Assert.Throws<InvalidDataException>(() => SequenceToSequenceModelFile.Load(new MemoryStream(file), "plain.safetensors")).Message);
        string path = Path.Combine(Path.GetTempPath(), $"seq2seq-plain-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, file);
            Assert.Equal(path + Problem, Assert.Throws<InvalidDataException>(() => SequenceToSequenceModelFile.Load(path)).Message);

            var model = Model();
            SequenceToSequenceModelFile.Save(model, path);
            var loaded = SequenceToSequenceModelFile.Load(path);
            Assert.Equal(model.Options, loaded.Options);
            Assert.Equal(model.Parameters.Values.ToArray(), loaded.Parameters.Values.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => SequenceToSequenceModelFile.Save(null!, "x.safetensors")).ParamName);
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => SequenceToSequenceModelFile.Save(null!, new MemoryStream())).ParamName);
        Assert.Equal("contents", Assert.Throws<ArgumentNullException>(() => SequenceToSequenceModelFile.FromContents(null!)).ParamName);
        var options = Model().Options;
        Assert.Equal(options, SequenceToSequenceModelFile.FromJson(SequenceToSequenceModelFile.ToJson(options)));
        Assert.Throws<InvalidDataException>(() => SequenceToSequenceModelFile.FromJson(SequenceToSequenceModelFile.ToJson(options with { HiddenSize = 0 })));
    }
}
