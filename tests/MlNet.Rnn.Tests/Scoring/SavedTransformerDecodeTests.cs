using System.IO.Compression;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Tests.Scoring;

/// <summary>
/// A saved recurrent transformer is read back as written or refused with a message naming what is wrong: each corrupted header
/// field (task, feature column, scoring batch size, a network that does not match its feature column, a newer format), a missing
/// or unreadable network stream; a token model comes back reading keys. The network inside the saved model is rewritten with a
/// head of known weights to pin the scored columns: a logit of exactly 0 predicts false, equal logits predict the first class,
/// large logits give a finite softmax.
/// </summary>
public sealed class SavedTransformerDecodeTests : IDisposable
{
    private const string Network = "SequenceModel.safetensors";
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-decode-").FullName;
    private readonly MLContext _mlContext = new(seed: 1);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private IDataView Numbers(int rows = 8) => Synthetic.ToDataView(_mlContext, Synthetic.Rows(rows, 3, 1, seed: 4));

    /// <summary>A binary GRU over 3 steps of 1 feature, saved to a zip.</summary>
    private string SavedBinary()
    {
        var data = Numbers();
        var model = _mlContext.BinaryClassification.Trainers.Gru(new RecurrentBinaryTrainer.Options { HiddenSize = 2, NumberOfEpochs = 1, Seed = 1, MaxDegreeOfParallelism = 1 })
            .Fit(data);
        string path = Path.Combine(_folder, "binary.zip");
        _mlContext.Model.Save(model, data.Schema, path);
        return path;
    }

    /// <summary>A copy of <paramref name="source"/> with the one entry that <paramref name="edit"/> accepts rewritten.</summary>
    private string Rewrite(string source, string name, Func<ZipArchiveEntry, byte[], byte[]?> edit) =>
        ModelZip.Rewrite(source, Path.Combine(_folder, name), edit);

    /// <summary>
    /// Rewrites the transformer's own fields, which follow its 256-byte ML.NET model header: task, feature column (string id),
    /// features per step, key count, feature vector size, hidden-state column (string id), scoring batch size.
    /// </summary>
    private string Fields(string source, string name, Action<int[]> edit) =>
        ModelZip.RewriteFields(source, Path.Combine(_folder, name), "RNNTRANS", 7, fields =>
        {
            // As the binary model above wrote them: binary, 1 feature per step, no keys, 3 values, no hidden-state column, 256 rows per batch.
            Assert.Equal([0, 1, 0, 3, -1, 256], fields.Where((_, i) => i != 1));
            edit(fields);
        });

    private string LoadError(string path) => ModelZip.LoadError(_mlContext, path);


    [Fact]
    public void EveryCorruptedHeaderFieldIsRefusedByName()
    {
        string path = SavedBinary();
        Assert.IsType<RecurrentPredictionTransformer>(_mlContext.Model.Load(Fields(path, "unchanged.zip", _ => { }), out _));

        Assert.Contains("unknown task", LoadError(Fields(path, "task.zip", f => f[0] = 99)));
        // Negative key count with features per step; keys and features per step both set; a negative vector size.
        Assert.Contains("bad feature column", LoadError(Fields(path, "negative-keys.zip", f => f[3] = -1)));
        Assert.Contains("bad feature column", LoadError(Fields(path, "negative-features.zip", f => (f[2], f[3]) = (-1, 5))));
        Assert.Contains("bad feature column", LoadError(Fields(path, "both.zip", f => f[3] = 1)));
        Assert.Contains("bad feature column", LoadError(Fields(path, "size.zip", f => f[4] = -1)));
        Assert.Contains("bad scoring batch size", LoadError(Fields(path, "batch.zip", f => f[6] = 0)));
        // A valid feature column of 3 features per step, but the network reads 1.
        Assert.Contains("the network does not match its feature column", LoadError(Fields(path, "features.zip", f => f[2] = 3)));
        // The inference precision (the ninth field, after the threshold's float): only Float32 (0) and Int8 (1) exist.
        string precision = ModelZip.RewriteFields(path, Path.Combine(_folder, "precision.zip"), "RNNTRANS", 9, f =>
        {
            Assert.Equal(0, f[8]);
            f[8] = 5;
        });
        Assert.Contains("unknown inference precision", LoadError(precision));
        // A header of a newer format names the component.
        string newer = LoadError(ModelZip.RewriteVersion(path, Path.Combine(_folder, "newer.zip"), "RNNTRANS", 0x00020001u));
        Assert.Contains("This model holds a recurrent transformer saved by a newer MlNet.Rnn", newer);
    }

    [Fact]
    public void TheDecisionThresholdIsRead_AndABadOneIsRefused()
    {
        string path = SavedBinary();
        // The eighth field, a float after the scoring batch size: 0 as saved.
        string Threshold(string name, float value, int task = 0) => ModelZip.RewriteFields(path, Path.Combine(_folder, name), "RNNTRANS", 8, f =>
        {
            Assert.Equal(0, f[7]);
            (f[0], f[7]) = (task, BitConverter.SingleToInt32Bits(value));
        });

        Assert.Equal(0.75f, Assert.IsType<RecurrentPredictionTransformer>(_mlContext.Model.Load(Threshold("threshold.zip", 0.75f), out _)).Threshold);
        // As a file of version 1.2 holds it, the first with a threshold and the last without the inference precision after
        // it: the version rewritten and the precision's 4 bytes, the model block's last, cut out. ML.NET's model header
        // (256 bytes, the model signature at 0x40) gives the block's start and size at 0x10 and 0x18, and the places of
        // what follows it at 0x20 (string table), 0x30 (string characters), 0x80 (tail), 0x88 (end), 0x90 (assembly name).
        string first = Rewrite(Path.Combine(_folder, "threshold.zip"), "version-1.2.zip", (_, bytes) =>
        {
            int at = bytes.AsSpan().IndexOf("RNNTRANS"u8);
            if (at < 0) return null;
            int header = at - 0x40;
            BitConverter.TryWriteBytes(bytes.AsSpan(at + 8), 0x00010002u);
            BitConverter.TryWriteBytes(bytes.AsSpan(at + 12), 0x00010002u);
            long Read(int field) => BitConverter.ToInt64(bytes, header + field);
            int cut = header + (int)(Read(0x10) + Read(0x18)) - sizeof(int);
            Assert.Equal(0, BitConverter.ToInt32(bytes, cut)); // Float32
            BitConverter.TryWriteBytes(bytes.AsSpan(header + 0x18), Read(0x18) - sizeof(int));
            foreach (int field in new[] { 0x20, 0x30, 0x80, 0x88, 0x90 })
                if (Read(field) != 0) BitConverter.TryWriteBytes(bytes.AsSpan(header + field), Read(field) - sizeof(int));
            return [.. bytes.AsSpan(0, cut), .. bytes.AsSpan(cut + sizeof(int))];
        });
        Assert.Equal(0.75f, Assert.IsType<RecurrentPredictionTransformer>(_mlContext.Model.Load(first, out _)).Threshold);

        Assert.Contains("bad decision threshold", LoadError(Threshold("nan.zip", float.NaN)));
        // Only a binary classifier has a threshold (task 2: regression).
        Assert.Contains("bad decision threshold", LoadError(Threshold("regression.zip", 0.5f, task: 2)));
    }

    [Fact]
    public void AMissingOrUnreadableNetworkIsRefusedByName()
    {
        string path = SavedBinary();
        string missing = ModelZip.Remove(path, Path.Combine(_folder, "missing.zip"), Network);
        var garbage = Rewrite(path, "garbage.zip", (entry, _) => entry.Name == Network ? Encoding.ASCII.GetBytes("not a safetensors file at all") : null);

        Assert.Contains($"The saved model has no {Network}; it was not saved by MlNet.Rnn.", LoadError(missing));
        string unreadable = LoadError(garbage);
        Assert.Contains("The saved model's recurrent network cannot be read: ", unreadable);
        Assert.Contains($"the recurrent network of the saved model ({Network})", unreadable);
    }

    [Fact]
    public void ATokenModelComesBackReadingKeys()
    {
        var text = _mlContext.Data.LoadFromEnumerable(Synthetic.Sentences(16, seed: 2));
        var data = _mlContext.Transforms.Text.TokenizeIntoWords("Words", nameof(TextRow.Text))
            .Append(_mlContext.Transforms.Conversion.MapValueToKey("Features", "Words")).Fit(text).Transform(text);
        var model = _mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
        {
            EmbeddingSize = 2, HiddenSize = 2, NumberOfEpochs = 1, Seed = 1, MaxDegreeOfParallelism = 1,
        }).Fit(data);
        string path = Path.Combine(_folder, "tokens.zip");
        _mlContext.Model.Save(model, data.Schema, path);

        var loaded = Assert.IsType<RecurrentPredictionTransformer>(_mlContext.Model.Load(path, out _));

        var keys = Assert.IsType<KeyDataViewType>(Assert.IsType<VectorDataViewType>(loaded.FeatureColumnType).ItemType);
        Assert.Equal(((KeyDataViewType)((VectorDataViewType)data.Schema["Features"].Type).ItemType).Count, keys.Count);
        Assert.Equal(model.Transform(data).GetColumn<float>("Score"), loaded.Transform(data).GetColumn<float>("Score"));
    }

    /// <summary>A copy of <paramref name="source"/> whose network's head has zero weights and the bias <paramref name="bias"/>.</summary>
    private string WithHead(string source, string name, params float[] bias) => Rewrite(source, name, (entry, bytes) =>
    {
        if (entry.Name != Network) return null;
        var network = SequenceModelFile.Load(new MemoryStream(bytes));
        network.Parameters.ValuesOf(network.Parameters["head.weight"]).Clear();
        bias.CopyTo(network.Parameters.ValuesOf(network.Parameters["head.bias"]));
        var buffer = new MemoryStream();
        SequenceModelFile.Save(network, buffer);
        return buffer.ToArray();
    });

    /// <summary>A multiclass GRU over 3 steps of 3 features and 3 classes, saved to a zip; <paramref name="data"/> is its training data.</summary>
    private string SavedMulticlass(out IDataView data)
    {
        var raw = Synthetic.ToDataView(_mlContext, Synthetic.Rows(12, 3, 3, seed: 4));
        data = _mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TaskRow.Class)).Fit(raw).Transform(raw);
        var model = _mlContext.MulticlassClassification.Trainers.Gru(new RecurrentMulticlassTrainer.Options
        {
            FeaturesPerStep = 3, HiddenSize = 2, NumberOfEpochs = 1, Seed = 1, MaxDegreeOfParallelism = 1,
        }).Fit(data);
        string path = Path.Combine(_folder, "multiclass.zip");
        _mlContext.Model.Save(model, data.Schema, path);
        return path;
    }

    /// <summary>A copy of <paramref name="source"/> whose network is a fresh one like it but with <paramref name="outputs"/> outputs.</summary>
    private string WithOutputs(string source, string name, int outputs) => Rewrite(source, name, (entry, bytes) =>
    {
        if (entry.Name != Network) return null;
        var network = new SequenceModel(SequenceModelFile.Load(new MemoryStream(bytes)).Options with { OutputSize = outputs });
        var buffer = new MemoryStream();
        SequenceModelFile.Save(network, buffer);
        return buffer.ToArray();
    });

    [Fact]
    public void ANetworkWhoseOutputsDoNotFitItsTaskIsRefused()
    {
        string binary = LoadError(WithOutputs(SavedBinary(), "binary-wide.zip", 5));
        Assert.Contains("The saved BinaryClassification model's network has 5 outputs, but the model needs 1", binary);

        string path = SavedMulticlass(out _);
        Assert.Contains("The saved MulticlassClassification model's network has 5 outputs, but the model needs 3", LoadError(WithOutputs(path, "five.zip", 5)));
        Assert.Contains("network has 2 outputs, but the model needs 3", LoadError(WithOutputs(path, "two.zip", 2)));
        _mlContext.Model.Load(WithOutputs(path, "three.zip", 3), out _);

        var sentences = _mlContext.Data.LoadFromEnumerable(Tagging.SequenceTaggingTests.Sentences(12, seed: 2));
        var tagger = _mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(Tagging.TaggedSentence.Words))
            .Append(_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(Tagging.TaggedSentence.Tags)))
            .Append(_mlContext.SequenceTagging.Trainers.Gru(new SequenceTaggingTrainer.Options { HiddenSize = 2, NumberOfEpochs = 1, Seed = 1 }))
            .Fit(sentences);
        string tags = Path.Combine(_folder, "tagger.zip");
        _mlContext.Model.Save(tagger, sentences.Schema, tags);
        Assert.Contains("The saved SequenceTagging model's network has 7 outputs, but the model needs 4", LoadError(WithOutputs(tags, "seven.zip", 7)));
    }

    [Fact]
    public void ANetworkThatTheFileDescribesButDoesNotHoldIsRefusedBeforeItIsAllocated()
    {
        // The network stream of a 1 KB-scale model swapped for one whose configuration says H = 8,000 (an LSTM of about
        // 256 million parameters) and which holds no tensor: refused with the missing names, without building that network.
        string path = Rewrite(SavedBinary(), "hollow.zip", (entry, bytes) =>
        {
            if (entry.Name != Network) return null;
            var options = SequenceModelFile.Load(new MemoryStream(bytes)).Options with { Cell = RecurrentCellType.Lstm, HiddenSize = 8_000 };
            var buffer = new MemoryStream();
            Core.Persistence.ModelFile.Write(buffer, new Dictionary<string, string> { [Core.Persistence.ModelFile.ConfigurationKey] = SequenceModelFile.ToJson(options) }, []);
            return buffer.ToArray();
        });
        Assert.True(new FileInfo(path).Length < 4096);

        LoadError(path);
        long before = GC.GetAllocatedBytesForCurrentThread();
        string error = LoadError(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("The saved model's recurrent network cannot be read", error);
        Assert.Contains("missing from the file (", error);
        Assert.True(allocated < 64_000_000, $"Refusing a {new FileInfo(path).Length:N0}-byte model allocated {allocated:N0} bytes.");
    }

    [Fact]
    public void ALogitOfExactlyZeroPredictsFalse()
    {
        var data = Numbers(3);
        var model = _mlContext.Model.Load(WithHead(SavedBinary(), "zero.zip", 0f), out _);
        var scored = model.Transform(data);

        Assert.All(scored.GetColumn<float>("Score"), score => Assert.Equal(0f, score));
        Assert.All(scored.GetColumn<float>("Probability"), probability => Assert.Equal(0.5f, probability));
        Assert.All(scored.GetColumn<bool>("PredictedLabel"), Assert.False);
    }

    [Fact]
    public void EqualLogitsPredictTheFirstClassAndLargeLogitsAFiniteSoftmax()
    {
        string path = SavedMulticlass(out var data);
        var rows = _mlContext.Data.TakeRows(data, 3);

        var tied = _mlContext.Model.Load(WithHead(path, "tied.zip", 0f, 0f, 0f), out _).Transform(rows);
        Assert.All(tied.GetColumn<uint>("PredictedLabel"), label => Assert.Equal(1u, label));
        Assert.All(tied.GetColumn<float[]>("Score"), score => Assert.Equal([1f / 3, 1f / 3, 1f / 3], score, (a, b) => Math.Abs(a - b) < 1e-6f));

        // e^90 overflows a float: the softmax must subtract the largest logit first.
        var large = _mlContext.Model.Load(WithHead(path, "large.zip", 0f, 90f, 0f), out _).Transform(rows);
        Assert.All(large.GetColumn<uint>("PredictedLabel"), label => Assert.Equal(2u, label));
        Assert.All(large.GetColumn<float[]>("Score"), score =>
        {
            Assert.Equal(1f, score[1]);
            Assert.InRange(score[0], 0f, 1e-30f);
            Assert.InRange(score[2], 0f, 1e-30f);
        });
    }
}
