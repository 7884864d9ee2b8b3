using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.LanguageModeling;

/// <summary>
/// The contract of <see cref="LanguageModel"/> and its parts around the computation, on an untrained character model: null
/// arguments refused by name; a null document, an empty validation list, a store of another vocabulary, an empty store and
/// the per-option ranges refused saying which, the trainer options among them, by every Train overload before the data; no
/// tokens generated for a maximum of 0 (the prompt still checked), nothing reserved for an unbounded one; a negative maximum,
/// a prompt id or a scored id outside the vocabulary refused by name; no streams refused; stores given to Train complete even
/// when training stops before reading them; a file not in the model format refused by both loads, one without a vocabulary
/// named "The model file"; a model file whose model does not fit a language model refused whole; the streams refuse steps outside them and a sequence with no pair;
/// the streaming logits refuse a backward pass without a training pass; and a workspace's metrics exist only for the documents
/// of its last <see cref="LanguageModelWorkspace.Score"/>.
/// </summary>
public sealed class LanguageModelContractTests
{
    private static readonly Vocabulary s_vocabulary = Vocabulary.FromCharacters("abcdefgh ");

    private static LanguageModel Model() =>
        new(s_vocabulary, LanguageModel.DefaultOptions(s_vocabulary) with { EmbeddingSize = 4, HiddenSize = 5, Seed = 2, MaxDegreeOfParallelism = 1 });

    private static LanguageModelTrainingOptions OneEpoch => new() { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 1, BatchSize = 2 }, ChunkSteps = 4 };

    [Fact]
    public void NullArguments_AreRefusedByName()
    {
        var model = Model();
        Assert.Equal("vocabulary", Assert.Throws<ArgumentNullException>(() => new LanguageModel(null!)).ParamName);
        Assert.Equal("vocabulary", Assert.Throws<ArgumentNullException>(() => new LanguageModel(null!, model.Model)).ParamName);
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => new LanguageModel(s_vocabulary, (SequenceModel)null!)).ParamName);
        Assert.Equal("vocabulary", Assert.Throws<ArgumentNullException>(() => LanguageModel.DefaultOptions(null!)).ParamName);
        Assert.Equal("trainingText", Assert.Throws<ArgumentNullException>(() => model.Train((string)null!, null, OneEpoch)).ParamName);
        Assert.Equal("trainingDocuments", Assert.Throws<ArgumentNullException>(() => model.Train((IReadOnlyList<string>)null!, null, OneEpoch)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => model.Train(["abc"], null, null!)).ParamName);
        Assert.Equal("trainingDocuments", Assert.Throws<ArgumentNullException>(() => model.Train((IReadOnlyList<int[]>)null!, null, OneEpoch)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => model.Train([new[] { 3 }], null, null!)).ParamName);
        Assert.Equal("training", Assert.Throws<ArgumentNullException>(() => model.Train((TokenStore)null!, null, OneEpoch)).ParamName);
        using var store = new TokenStore(s_vocabulary, "training", 1 << 20);
        store.Add([3, 4]);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => model.Train(store, null, null!)).ParamName);
        Assert.Equal("prompt", Assert.Throws<ArgumentNullException>(() => model.Generate((string)null!)).ParamName);
        Assert.Equal("text", Assert.Throws<ArgumentNullException>(() => model.Evaluate((string)null!)).ParamName);
    }

    [Fact]
    public void BadTrainingData_IsRefusedSayingWhich()
    {
        var model = Model();
        var nullDocument = Assert.Throws<ArgumentException>(() => model.Train(["abc", null!], null, OneEpoch));
        Assert.Equal("trainingDocuments", nullDocument.ParamName);
        Assert.StartsWith("Document 1 of the training data is null.", nullDocument.Message);
        var nullValidation = Assert.Throws<ArgumentException>(() => model.Train([new[] { 3 }], [new[] { 4 }, null!], OneEpoch));
        Assert.Equal("validationDocuments", nullValidation.ParamName);
        Assert.StartsWith("Document 1 of the validation data is null.", nullValidation.Message);

        var noValidation = Assert.Throws<ArgumentException>(() => model.Train(["abc"], Array.Empty<string>(), OneEpoch));
        Assert.Equal("validation", noValidation.ParamName);
        Assert.StartsWith("The validation documents are an empty list; pass null for no validation.", noValidation.Message);

        using var empty = new TokenStore(s_vocabulary, "training", 1 << 20);
        empty.Add([]);
        var noToken = Assert.Throws<ArgumentException>(() => model.Train(empty, null, OneEpoch));
        Assert.Equal("training", noToken.ParamName);
        Assert.StartsWith("The training documents hold no token; give text to learn from.", noToken.Message);

        using var other = new TokenStore(Vocabulary.FromCharacters("xy"), "training", 1 << 20);
        other.Add([3]);
        var foreign = Assert.Throws<ArgumentException>(() => model.Train(other, null, OneEpoch));
        Assert.Equal("training", foreign.ParamName);
        Assert.Contains("start 1, end 2; the model reads a", foreign.Message);
        using var training = new TokenStore(s_vocabulary, "training", 1 << 20);
        training.Add([3, 4, 5]);
        Assert.Equal("validation", Assert.Throws<ArgumentException>(() => model.Train(training, other, OneEpoch)).ParamName);
        // The same V, start and end ids are the same vocabulary to the model.
        using var sameShape = new TokenStore(Vocabulary.FromCharacters("ijklmnopq"), "validation", 1 << 20);
        sameShape.Add([3, 4]);
        model.Train(training, sameShape, OneEpoch);
    }

    [Fact]
    public void TrainingOptions_OutsideTheirRanges_AreRefusedByName()
    {
        var chunk = Assert.Throws<ArgumentOutOfRangeException>(() => (OneEpoch with { ChunkSteps = 0 }).Validate(false));
        Assert.Equal("ChunkSteps", chunk.ParamName);
        Assert.StartsWith("ChunkSteps is 0; it must be at least 1.", chunk.Message);
        var streams = Assert.Throws<ArgumentOutOfRangeException>(() => (OneEpoch with { ValidationStreams = 0 }).Validate(false));
        Assert.Equal("ValidationStreams", streams.ParamName);
        Assert.StartsWith("ValidationStreams is 0; it must be at least 1.", streams.Message);
        Assert.Equal("Training", Assert.Throws<ArgumentNullException>(() => (OneEpoch with { Training = null! }).Validate(false)).ParamName);
        (OneEpoch with { ChunkSteps = 1, ValidationStreams = 1 }).Validate(false);
    }

    [Fact]
    public void GeneratingNothing_ReturnsNothing_AndNoStreamsAreRefused()
    {
        var model = Model();
        Assert.Empty(model.Generate([3, 4], maxLength: 0, seed: 1));
        Assert.Equal("", model.Generate("ab", maxLength: 0, seed: 1));
        Assert.Equal("streams", Assert.Throws<ArgumentOutOfRangeException>(() => model.Evaluate("ab", streams: 0)).ParamName);
        var topK = Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate("ab", 3, topK: -2));
        Assert.StartsWith("topK is -2; it must be ≥ 0 (0 = every token, 1 = greedy).", topK.Message);
        var temperature = Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate("ab", 3, temperature: -1f));
        Assert.StartsWith("temperature is -1; it must be a finite number ≥ 0 (0 = greedy).", temperature.Message);
    }

    [Fact]
    public void GenerateAndEvaluate_RefuseBadArgumentsByName_EvenWithNothingToGenerate()
    {
        var model = Model();
        Assert.Equal("maxLength", Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate([3], -1)).ParamName);
        // The prompt is checked before a maximum of 0 returns nothing.
        var prompt = Assert.Throws<ArgumentException>(() => model.Generate([3, 99], 0));
        Assert.Equal("prompt", prompt.ParamName);
        Assert.StartsWith("Id 1 of the prompt is 99, outside the vocabulary [0, 12); map unseen tokens to 0 (unknown).", prompt.Message);
        var ids = Assert.Throws<ArgumentException>(() => model.Evaluate([3, -1]));
        Assert.Equal("ids", ids.ParamName);
        Assert.StartsWith("Id 1 of the ids is -1, outside the vocabulary [0, 12);", ids.Message);
    }

    [Fact]
    public void AnUnboundedMaximumLength_ReservesNothing_AndGenerationStopsAtTheEnd()
    {
        // The end token is by far the likeliest: greedy generation ends at once, whatever the maximum.
        var model = Model();
        var parameters = model.Model.Parameters;
        parameters.ValuesOf(parameters["head.bias"])[s_vocabulary.EndId] += 30;
        Assert.Empty(model.Generate([3, 4], int.MaxValue, temperature: 0f));
        Assert.Equal("", model.Generate("ab", int.MaxValue, temperature: 0f));
    }

    [Fact]
    public void EveryTrainOverload_ChecksTheOptionsBeforeTheData()
    {
        var model = Model();
        var badChunk = OneEpoch with { ChunkSteps = 0 };
        Assert.Equal("ChunkSteps", Assert.Throws<ArgumentOutOfRangeException>(() => model.Train(["abc", null!], null, badChunk)).ParamName);
        Assert.Equal("ChunkSteps", Assert.Throws<ArgumentOutOfRangeException>(() => model.Train([new[] { 3, 99 }], null, badChunk)).ParamName);
        using var foreign = new TokenStore(Vocabulary.FromCharacters("xy"), "training", 1 << 20);
        foreign.Add([3]);
        Assert.Equal("ChunkSteps", Assert.Throws<ArgumentOutOfRangeException>(() => model.Train(foreign, null, badChunk)).ParamName);
        using var training = new TokenStore(s_vocabulary, "training", 1 << 20);
        training.Add([3, 4, 5]);
        Assert.Equal("ValidationStreams", Assert.Throws<ArgumentOutOfRangeException>(() => model.Train(training, null, OneEpoch with { ValidationStreams = 0 })).ParamName);

        // Early stopping needs validation data: given, the options pass and the bad id is what is refused; absent, the options are.
        var early = OneEpoch with { Training = OneEpoch.Training with { EarlyStoppingPatience = 2 } };
        Assert.StartsWith("Id 1 of the training document 0 is 99,", Assert.Throws<ArgumentException>(() => model.Train([new[] { 3, 99 }], [new[] { 4 }], early)).Message);
        Assert.Equal("EarlyStoppingPatience", Assert.Throws<ArgumentException>(() => model.Train([new[] { 3, 99 }], null, early)).ParamName);
        Assert.Equal("trainingDocuments", Assert.Throws<ArgumentException>(() => model.Train(["abc", null!], ["ab"], early)).ParamName);
        Assert.Equal("EarlyStoppingPatience", Assert.Throws<ArgumentException>(() => model.Train(["abc", null!], null, early)).ParamName);
    }

    [Fact]
    public void TrainingOptions_ValidateTheirTrainerOptions()
    {
        var rate = Assert.Throws<ArgumentOutOfRangeException>(() => (OneEpoch with { Training = OneEpoch.Training with { LearningRate = 0f } }).Validate(true));
        Assert.Equal("LearningRate", rate.ParamName);
        var early = OneEpoch with { Training = OneEpoch.Training with { EarlyStoppingPatience = 2 } };
        Assert.Equal("EarlyStoppingPatience", Assert.Throws<ArgumentException>(() => early.Validate(false)).ParamName);
        early.Validate(true);
    }

    [Fact]
    public void StoresGivenToTrain_AreCompleteEvenWhenTrainingStopsBeforeReadingThem()
    {
        var model = Model();
        using var training = new TokenStore(s_vocabulary, "training", 1 << 20);
        using var validation = new TokenStore(s_vocabulary, "validation", 1 << 20);
        training.Add([3, 4, 5, 6]);
        validation.Add([4, 5]);
        Assert.Throws<OperationCanceledException>(() => model.Train(training, validation, OneEpoch, new CancellationToken(canceled: true)));
        foreach (var store in new[] { training, validation })
            Assert.StartsWith("The store is complete (it has been read)", Assert.Throws<InvalidOperationException>(() => store.Add([3])).Message);
        Assert.Equal(6, training.Count);
        Assert.Equal(4, validation.Count);
    }

    /// <summary>The same file with its header's <c>format</c> value and metadata checksum key renamed (same lengths): a foreign safetensors file.</summary>
    private static byte[] WithForeignFormat(byte[] file)
    {
        int headerLength = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(file);
        string header = System.Text.Encoding.UTF8.GetString(file, 8, headerLength);
        string renamed = header.Replace($"\"{ModelFile.FormatName}\"", $"\"{ModelFile.FormatName[..^1]}x\"", StringComparison.Ordinal)
            .Replace($"\"{ModelFile.MetadataChecksumKey}\"", $"\"{ModelFile.MetadataChecksumKey[..^1]}x\"", StringComparison.Ordinal);
        Assert.NotEqual(header, renamed);
        byte[] result = (byte[])file.Clone();
        System.Text.Encoding.UTF8.GetBytes(renamed).CopyTo(result, 8);
        return result;
    }

    [Fact]
    public void AFileNotInTheModelFormat_IsRefusedByBothLoads_AndAFileWithoutAVocabularyIsNamedByDefault()
    {
        using var saved = new MemoryStream();
        Model().Save(saved);
        byte[] foreign = WithForeignFormat(saved.ToArray());
        // Without the format requirement it reads: it is valid safetensors with a configuration and a vocabulary.
        Assert.True(ModelFile.Read(new MemoryStream(foreign)).Metadata.ContainsKey(LanguageModel.VocabularyKey));
        Assert.Contains($"is not an {ModelFile.FormatName} model file",
            Assert.Throws<InvalidDataException>(() => LanguageModel.Load(new MemoryStream(foreign), "foreign.safetensors")).Message);
        string path = Path.Combine(Path.GetTempPath(), $"foreign-lm-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, foreign);
            Assert.Contains($"is not an {ModelFile.FormatName} model file", Assert.Throws<InvalidDataException>(() => LanguageModel.Load(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }

        using var plain = new MemoryStream();
        SequenceModelFile.Save(Model().Model, plain);
        plain.Position = 0;
        Assert.StartsWith($"The model file has no '{LanguageModel.VocabularyKey}' metadata; it is not a language model written by LanguageModel.Save.",
            Assert.Throws<InvalidDataException>(() => LanguageModel.Load(plain)).Message);
    }

    [Fact]
    public void AModelFileWhoseModelDoesNotFitALanguageModel_IsRefusedWhole()
    {
        // A many-to-one model of the right sizes, saved with a vocabulary as a language model file would be.
        var options = LanguageModel.DefaultOptions(s_vocabulary) with { EmbeddingSize = 2, HiddenSize = 3, Readout = SequenceReadout.LastStep };
        using var stream = new MemoryStream();
        ModelFile.Save(stream, new SequenceModel(options).Parameters, SequenceModelFile.ToJson(options),
            new Dictionary<string, string> { [LanguageModel.VocabularyKey] = s_vocabulary.ToJson() });
        stream.Position = 0;
        var error = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(stream, "lm.safetensors"));
        Assert.StartsWith("lm.safetensors: the model does not fit a language model: A language model predicts every step: Readout must be EveryStep, not LastStep.",
            error.Message);
        Assert.IsType<ArgumentException>(error.InnerException);
    }

    [Fact]
    public void Streams_RefuseStepsOutsideThem_AndASequenceWithoutAPair()
    {
        var streams = new TokenStreams(new TokenArray([1, 3, 4, 5, 2]), 0, 2, startId: 1);
        Assert.Equal(2, streams.StreamLength);
        int[] inputs = new int[4], targets = new int[4];
        float[] weights = new float[4];
        foreach (var (step, steps) in new[] { (-1L, 1), (0L, 0), (1L, 2), (2L, 1) })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => streams.Fill(step, steps, inputs, targets, weights));
            Assert.Equal("steps", error.ParamName);
            Assert.StartsWith($"Steps {step} … {step + steps - 1} are outside the streams' 2.", error.Message);
        }
        streams.Fill(1, 1, inputs, targets, weights);
        var none = Assert.Throws<ArgumentException>(() => new TokenStreams(new TokenArray([1, 3]), 1, 2, startId: 1));
        Assert.Equal("sequence", none.ParamName);
        Assert.StartsWith("The sequence holds 2 ids; from id 1 on there is no next-token pair to read.", none.Message);
    }

    [Fact]
    public void TheStreamingLogits_RefuseABackwardPassWithoutATrainingPass()
    {
        var model = Model();
        var logits = new StreamingLogits(model.Model);
        logits.Reset(1);
        var error = Assert.Throws<InvalidOperationException>(() => logits.Backward(new float[s_vocabulary.Count]));
        Assert.Equal("Backward needs a Forward with training: true first.", error.Message);
        logits.Forward([1], 1, training: false);
        Assert.Throws<InvalidOperationException>(() => logits.Backward(new float[s_vocabulary.Count]));
        logits.Forward([1], 1, training: true);
        logits.Backward(new float[s_vocabulary.Count]);
    }

    [Fact]
    public void AWorkspacesMetrics_ExistForTheDocumentsOfItsLastScoreOnly()
    {
        var model = Model();
        var workspace = model.CreateWorkspace();
        workspace.Add([3, 4]);
        Assert.Equal(1, workspace.Count);
        Assert.Equal("document", Assert.Throws<ArgumentOutOfRangeException>(() => workspace.Metrics(0)).ParamName);
        workspace.Score();
        Assert.Equal(3, workspace.Metrics(0).TokenCount);
        Assert.Equal("document", Assert.Throws<ArgumentOutOfRangeException>(() => workspace.Metrics(1)).ParamName);
        Assert.Equal("document", Assert.Throws<ArgumentOutOfRangeException>(() => workspace.Metrics(-1)).ParamName);
        workspace.Clear();
        Assert.Equal(0, workspace.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => workspace.Metrics(0));
        workspace.Score(); // nothing staged: nothing to score
        var error = Assert.Throws<ArgumentException>(() => workspace.Add([3, 99]));
        Assert.Equal("ids", error.ParamName);
        Assert.StartsWith("Id 1 of the document 0 is 99, outside the vocabulary [0, 12);", error.Message);
    }
}
