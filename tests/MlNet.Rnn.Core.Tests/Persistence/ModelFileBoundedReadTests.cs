using System.Text;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// What reading a model file may cost: a checkpoint's optimizer state is passed over unread when only the model is
/// loaded (from a seekable stream or a forward-only one), so a large tensor under an ignored name costs nothing; a
/// header that claims more data than a forward-only stream holds costs at most about the bytes present; a configuration
/// that describes a huge network the file holds no weights for is refused before that network's buffers exist; skipped
/// tensors are left out of the contents and not checked against their checksums; an empty skip prefix is refused.
/// </summary>
public sealed class ModelFileBoundedReadTests
{
    private const int HiddenFloats = 4_000_000;   // 16 MB under an ignored name

    private static SequenceModel Model() =>
        new(new SequenceModelOptions { FeaturesPerStep = 2, HiddenSize = 4, OutputSize = 1, Seed = 3, MaxDegreeOfParallelism = 1 });

    /// <summary>The model's file with a 16 MB tensor of optimizer state after its parameters, as a checkpoint holds.</summary>
    private static byte[] CheckpointLike(SequenceModel model)
    {
        var state = new float[HiddenFloats];
        state.AsSpan().Fill(0.25f);
        using var file = new MemoryStream();
        ModelFile.Save(file, model.Parameters, SequenceModelFile.ToJson(model.Options),
            extraTensors: [(ModelFile.CheckpointPrefix.Optimizer + "exp_avg", [HiddenFloats], state)]);
        return file.ToArray();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ACheckpointsOptimizerState_IsPassedOverUnread_WhenOnlyTheModelIsLoaded(bool seekable)
    {
        var model = Model();
        byte[] bytes = CheckpointLike(model);
        Stream Open() => seekable ? new MemoryStream(bytes) : new SafetensorsBytes.ForwardOnlyStream(bytes, maxRead: 1 << 16);

        SequenceModelFile.Load(Open());   // the first call of each path pays for JIT compilation
        long before = GC.GetAllocatedBytesForCurrentThread();
        var loaded = SequenceModelFile.Load(Open());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 4L * HiddenFloats / 4, $"Loading the model allocated {allocated:N0} bytes; the optimizer state it ignores holds {4L * HiddenFloats:N0}.");
        Assert.Equal(SafetensorsBytes.Bits(model.Parameters.ReadOnlyValues), SafetensorsBytes.Bits(loaded.Parameters.ReadOnlyValues));
        Assert.False(loaded.Parameters.HasGradients);
    }

    [Fact]
    public void SkippedTensors_AreLeftOut_AndNotCheckedAgainstTheirChecksums()
    {
        var model = Model();
        byte[] bytes = CheckpointLike(model);
        bytes[^5] ^= 0x40;   // inside the optimizer state, the last tensor of the file

        var skipped = ModelFile.Read(new MemoryStream(bytes), skipPrefixes: [ModelFile.CheckpointPrefix.Optimizer]);
        Assert.False(skipped.Contains(ModelFile.CheckpointPrefix.Optimizer + "exp_avg"));
        Assert.Equal(model.Parameters.Tensors.Select(t => t.Name), skipped.Tensors.Select(t => t.Name));
        SequenceModelFile.Load(new MemoryStream(bytes));

        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(bytes), source: "the checkpoint"));
        Assert.Contains("the checkpoint is damaged: the data of tensor 'optimizer.exp_avg' does not match its checksum", error.Message);
    }

    [Fact]
    public void AHeaderClaimingMoreThanAForwardOnlyStreamHolds_CostsAboutTheBytesPresent()
    {
        // 400 million floats (1.6 GB) claimed, 1 KB present: the reader may not allocate the claim before the bytes arrive.
        const long claimed = 400_000_000;
        string header = $"{{\"w\":{{\"dtype\":\"F32\",\"shape\":[{claimed}],\"data_offsets\":[0,{4 * claimed}]}}}}";
        byte[] bytes = SafetensorsBytes.File(header, new byte[1024]);

        Assert.Throws<InvalidDataException>(() => ModelFile.Read(new SafetensorsBytes.ForwardOnlyStream(bytes, maxRead: 1 << 16)));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Read(new SafetensorsBytes.ForwardOnlyStream(bytes, maxRead: 1 << 16), source: "the upload"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal("the upload is truncated: the data of tensor 'w' (bytes 0 to 1600000000 of the data) is cut short.", error.Message);
        Assert.True(allocated < 16_000_000, $"A file of {bytes.Length:N0} bytes made the reader allocate {allocated:N0}.");
    }

    [Fact]
    public void AnEmptySkipPrefix_IsRefused_ItWouldSkipEverything()
    {
        byte[] bytes = CheckpointLike(Model());
        var error = Assert.Throws<ArgumentException>(() => ModelFile.Read(new MemoryStream(bytes), skipPrefixes: ["optimizer.", ""]));
        Assert.Equal("skipPrefixes", error.ParamName);
        Assert.Contains("A skip prefix is empty, which would skip every tensor", error.Message);
        Assert.Throws<ArgumentException>(() => ModelFile.Read("no such file", skipPrefixes: [""]));
    }

    [Fact]
    public void AConfigurationOfAHugeNetworkWithoutItsWeights_IsRefusedBeforeTheNetworkIsAllocated()
    {
        // H = 8,000 makes an LSTM of about 256 million parameters (1 GB); the file is 1 KB and holds none of them.
        var huge = new SequenceModelOptions { FeaturesPerStep = 2, HiddenSize = 8_000, OutputSize = 1 };
        using var file = new MemoryStream();
        ModelFile.Write(file, new Dictionary<string, string> { [ModelFile.ConfigurationKey] = SequenceModelFile.ToJson(huge) }, []);
        byte[] bytes = file.ToArray();

        Assert.Throws<InvalidDataException>(() => SequenceModelFile.Load(new MemoryStream(bytes)));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => SequenceModelFile.Load(new MemoryStream(bytes), "the upload"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.StartsWith("the upload does not fit the model; nothing was loaded:", error.Message);
        Assert.Contains("missing from the file (", error.Message);
        Assert.True(allocated < 16_000_000, $"Refusing a {bytes.Length:N0}-byte file allocated {allocated:N0} bytes.");
    }
}
