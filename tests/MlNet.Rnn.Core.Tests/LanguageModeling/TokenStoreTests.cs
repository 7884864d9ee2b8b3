using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.LanguageModeling;

/// <summary>
/// <see cref="TokenStore"/>, how a language model holds text larger than memory. Over its budget it spills to a temporary file
/// that has no name in its folder and is gone when the store is disposed; every id written comes back at every position,
/// across the writes the file was filled by; streams read from it at any offset see what they would in memory, also past 2³¹
/// ids, where an epoch still counts and trains its chunks; and a model trained from a spilled store is, bit for bit, the model trained from memory, which learns the text.
/// Its arguments are refused by name, a disposed store refuses documents, a read outside it names the ids, and its file is named for it.
/// </summary>
public sealed class TokenStoreTests : IDisposable
{
    /// <summary>Four ids: the store writes its file every 16 ids, so reads cross many writes.</summary>
    private const long SixteenIds = 16 * sizeof(int);

    private static readonly Vocabulary s_keys = Vocabulary.OfKeys(20);
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-token-store-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Documents of 0 to 40 ids in [0, V) (longer than a write, and empty ones), and their layout written out by hand.</summary>
    private static (int[][] Documents, int[] Sequence) Documents(int count, int seed)
    {
        var random = new Random(seed);
        int[][] documents = [.. Enumerable.Range(0, count).Select(d => Enumerable.Range(0, d % 7 == 3 ? 40 : random.Next(0, 9)).Select(_ => random.Next(s_keys.Count)).ToArray())];
        var sequence = new List<int>();
        foreach (int[] document in documents)
        {
            sequence.Add(s_keys.StartId);
            sequence.AddRange(document);
            sequence.Add(s_keys.EndId);
        }
        return (documents, [.. sequence]);
    }

    private TokenStore Store(int[][] documents, long budget)
    {
        var store = new TokenStore(s_keys, "training", budget, _folder);
        foreach (int[] document in documents) store.Add(document);
        return store;
    }

    [Fact]
    public void OverItsBudget_TheStoreSpillsToAFileWithoutAName_AndEveryIdComesBackAtEveryPosition()
    {
        var (documents, expected) = Documents(30, seed: 1);
        using var store = Store(documents, SixteenIds);
        Assert.True(store.Spilled);
        Assert.Equal(expected.Length, store.Count);
        Assert.Equal(30, store.DocumentCount);
        Assert.Equal(expected.Length - 60, store.TokenCount);
        if (!OperatingSystem.IsWindows()) Assert.Empty(Directory.GetFiles(_folder));
        store.Complete();
        Assert.Equal(4L * expected.Length, store.BytesOnDisk);

        foreach (int length in new[] { 1, 2, 15, 16, 17, 33 })
            for (int position = 0; position + length <= expected.Length; position++)
            {
                var ids = new int[length];
                store.Read(position, ids);
                Assert.True(expected.AsSpan(position, length).SequenceEqual(ids), $"ids {position} … {position + length - 1}");
            }
        var all = new int[expected.Length];
        store.Read(0, all);
        Assert.Equal(expected, all);

        Assert.Throws<ArgumentOutOfRangeException>(() => store.Read(expected.Length - 2, new int[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Read(-1, new int[1]));
        Assert.Contains("complete", Assert.Throws<InvalidOperationException>(() => store.Add([1])).Message);
    }

    [Fact]
    public void UnderItsBudget_TheStoreStaysInMemory_AndDisposingASpilledOneDeletesItsFile()
    {
        var (documents, expected) = Documents(30, seed: 2);
        using (var inMemory = Store(documents, 4L * expected.Length))
        {
            Assert.False(inMemory.Spilled);
            Assert.Null(inMemory.FilePath);
            var all = new int[expected.Length];
            inMemory.Read(0, all);
            Assert.Equal(expected, all);
            Assert.Equal(0, inMemory.BytesOnDisk);
        }
        // One id more than the budget spills.
        var store = Store(documents, 4L * expected.Length - 4);
        Assert.True(store.Spilled);
        string path = store.FilePath!;
        store.Dispose();
        Assert.False(File.Exists(path), $"{path} outlived the store");
        // On Linux an unlinked file's space is freed when its last handle closes: the process keeps none.
        if (OperatingSystem.IsLinux())
            Assert.DoesNotContain(Directory.GetFiles("/proc/self/fd").Select(fd => new FileInfo(fd).LinkTarget), target => target?.StartsWith(path, StringComparison.Ordinal) == true);
        Assert.Empty(Directory.GetFiles(_folder));
        Assert.Throws<ObjectDisposedException>(() => store.Read(0, new int[1]));
    }

    [Fact]
    public void AnIdOutsideTheVocabulary_OrAStoreOfAnotherVocabulary_IsRefusedSayingWhich()
    {
        using var store = new TokenStore(s_keys, "validation", SixteenIds, _folder);
        store.Add([3, 4]);
        Assert.Contains("Id 1 of the validation document 1 is 23, outside the vocabulary [0, 23)",
            Assert.Throws<ArgumentException>(() => store.Add([5, 23])).Message);

        var characters = Vocabulary.FromCharacters("abc");
        var model = new LanguageModel(characters, LanguageModel.DefaultOptions(characters) with { EmbeddingSize = 2, HiddenSize = 2 });
        using var training = new TokenStore(characters, "training", SixteenIds, _folder);
        training.Add([3, 4]);
        var error = Assert.Throws<ArgumentException>(() => model.Train(training, store, new LanguageModelTrainingOptions()));
        Assert.Equal("validation", error.ParamName);
        Assert.Contains("Build the store with the model's Vocabulary", error.Message);
        using var empty = new TokenStore(characters, "validation", SixteenIds, _folder);
        Assert.Contains("pass null for no validation", Assert.Throws<ArgumentException>(() => model.Train(training, empty, new LanguageModelTrainingOptions())).Message);
    }

    [Fact]
    public void ConstructorArguments_AreRefusedByName()
    {
        Assert.Equal("vocabulary", Assert.Throws<ArgumentNullException>(() => new TokenStore(null!, "training", 64)).ParamName);
        Assert.Equal("role", Assert.Throws<ArgumentNullException>(() => new TokenStore(s_keys, null!, 64)).ParamName);
        Assert.Equal("role", Assert.Throws<ArgumentException>(() => new TokenStore(s_keys, " ", 64)).ParamName);
        foreach (long budget in new[] { 0L, -4L })
            Assert.Equal("memoryBudget", Assert.Throws<ArgumentOutOfRangeException>(() => new TokenStore(s_keys, "training", budget)).ParamName);
        using var smallest = new TokenStore(s_keys, "training", 1, _folder);
        smallest.Add([3]);
        Assert.True(smallest.Spilled);
    }

    [Fact]
    public void ADisposedStore_RefusesDocuments_AndAReadOutsideTheStoreNamesTheIds()
    {
        var store = new TokenStore(s_keys, "training", 1 << 20, _folder);
        store.Add([3, 4, 5]);
        var outside = Assert.Throws<ArgumentOutOfRangeException>(() => store.Read(3, new int[3]));
        Assert.Equal("position", outside.ParamName);
        Assert.StartsWith("Ids 3 … 5 are outside the store's 5.", outside.Message);
        store.Dispose();
        Assert.Equal(typeof(TokenStore).FullName, Assert.Throws<ObjectDisposedException>(() => store.Add([3])).ObjectName);
    }

    [Fact]
    public void TheSpilledFile_IsNamedForTheStore()
    {
        using var store = Store(Documents(4, seed: 6).Documents, SixteenIds);
        Assert.True(store.Spilled);
        Assert.StartsWith(Path.Combine(_folder, "mlnet-rnn-tokens-"), store.FilePath);
        Assert.EndsWith(".bin", store.FilePath);
    }

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(0, 7, 5)]
    [InlineData(3, 4, 16)]
    [InlineData(13, 64, 3)]
    public void StreamsAtAnyOffset_ReadFromTheFileWhatTheyReadFromMemory(int first, int streams, int chunkSteps)
    {
        var (documents, expected) = Documents(40, seed: 3);
        using var store = Store(documents, SixteenIds);
        var spilled = new TokenStreams(store, first, streams, s_keys.StartId);
        var inMemory = new TokenStreams(new TokenArray(expected), first, streams, s_keys.StartId);
        Assert.Equal(inMemory.StreamLength, spilled.StreamLength);
        int B = spilled.Streams, rows = chunkSteps * B;
        var (inputs, targets, weights) = (new int[rows], new int[rows], new float[rows]);
        var (expectedInputs, expectedTargets, expectedWeights) = (new int[rows], new int[rows], new float[rows]);
        for (long step = 0; step < spilled.StreamLength; step += chunkSteps)
        {
            int steps = (int)Math.Min(chunkSteps, spilled.StreamLength - step);
            spilled.Fill(step, steps, inputs, targets, weights);
            inMemory.Fill(step, steps, expectedInputs, expectedTargets, expectedWeights);
            Assert.Equal(expectedInputs[..(steps * B)], inputs[..(steps * B)]);
            Assert.Equal(expectedTargets[..(steps * B)], targets[..(steps * B)]);
            Assert.Equal(expectedWeights[..(steps * B)], weights[..(steps * B)]);
        }
    }

    /// <summary>A sequence of 3·2³¹ + 5 ids, computed from their positions rather than held.</summary>
    private sealed class LongSequence(Func<long, int> idAt) : ITokenSource
    {
        public const long Length = 3L * (1L << 31) + 5;

        public long Count => Length;

        public void Read(long position, Span<int> destination)
        {
            Assert.InRange(position, 0, Length - destination.Length);
            for (int i = 0; i < destination.Length; i++) destination[i] = idAt(position + i);
        }
    }

    [Fact]
    public void StreamsPastTwoToTheThirtyOne_ReadTheIdsAtTheirLongPositions()
    {
        const int first = 7, B = 2, k = 4;
        static int IdAt(long position) => (int)(position % 1_000_003);
        var streams = new TokenStreams(new LongSequence(IdAt), first, B, startId: -1);
        long pairs = LongSequence.Length - 1 - first, L = (pairs + 1) / 2;
        Assert.Equal(pairs, streams.Pairs);
        Assert.Equal(L, streams.StreamLength);
        var (inputs, targets, weights) = (new int[k * B], new int[k * B], new float[k * B]);
        // A chunk past 2³¹ steps into both streams, and the last chunk (stream 1 is one pair short: its last step weighs 0).
        foreach (long step in new[] { (1L << 31) + 11, L - k })
        {
            streams.Fill(step, k, inputs, targets, weights);
            for (int t = 0; t < k; t++)
                for (int b = 0; b < B; b++)
                {
                    long position = first + b * L + step + t;
                    int row = t * B + b;
                    if (position + 1 < LongSequence.Length)
                    {
                        Assert.Equal(IdAt(position), inputs[row]);
                        Assert.Equal(IdAt(position + 1), targets[row]);
                        Assert.Equal(1f, weights[row]);
                    }
                    else Assert.Equal(0f, weights[row]);
                }
        }
        Assert.Equal(0f, weights[(k - 1) * B + 1]);
    }

    [Fact]
    public void AnEpochOverMoreThanTwoToTheThirtyOneIds_CountsItsChunks_AndTrainsItsLastChunk()
    {
        var vocabulary = Vocabulary.FromCharacters("abcde");
        var model = new SequenceModel(LanguageModel.DefaultOptions(vocabulary) with { EmbeddingSize = 2, HiddenSize = 2, Seed = 1 });
        var text = new LongSequence(position => 3 + (int)(position % 5));
        var options = new LanguageModelTrainingOptions { Training = LanguageModelTrainingOptions.DefaultTraining with { BatchSize = 2 }, ChunkSteps = 64 };
        var task = new LanguageModelTask(model, vocabulary, new StreamingLogits(model), text, null, options);
        long pairs = LongSequence.Length - 1, L = (pairs + 1) / 2, chunks = (L + 63) / 64, last = 64 * (chunks - 1);
        Assert.True(last > int.MaxValue);
        Assert.Equal(chunks, task.StepsPerEpoch);
        Assert.Equal(chunks, task.BeginEpoch(1, random: null));
        // The last chunk: L − last steps of each stream, as many as remain of the pairs.
        long expected = Enumerable.Range(0, 2).Sum(b => Math.Clamp(pairs - (b * L + last), 0, L - last));
        var (loss, weight, examples) = task.Step(task.StepsPerEpoch - 1);
        Assert.Equal(expected, weight);
        Assert.Equal(expected, examples);
        Assert.True(loss > 0 && double.IsFinite(loss), $"loss {loss}");

        // One stream of one-step chunks would be more chunks than an epoch counts.
        var error = Assert.Throws<ArgumentException>(() => new LanguageModelTask(model, vocabulary, new StreamingLogits(model), text, null,
            options with { Training = options.Training with { BatchSize = 1 }, ChunkSteps = 1 }));
        Assert.Contains("raise BatchSize or ChunkSteps", error.Message);
    }

    /// <summary>Words of a small language: after "qu" comes a vowel, "th" often, spaces between words.</summary>
    private static string[] Texts(int count, int seed)
    {
        string[] words = ["the", "quit", "that", "then", "queen", "thin", "quote", "this"];
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => string.Join(' ', Enumerable.Range(0, random.Next(3, 9)).Select(_ => words[random.Next(words.Length)])))];
    }

    [Fact]
    public void TrainingFromASpilledStore_GivesTheModelTrainedFromMemory_BitForBit_AndItLearnsTheText()
    {
        string[] training = Texts(80, seed: 4), validation = Texts(20, seed: 5);
        var vocabulary = Vocabulary.FromCharacters(training);
        var options = new LanguageModelTrainingOptions
        {
            Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 4, BatchSize = 8, LearningRate = 0.02f, Seed = 3 },
            ChunkSteps = 16, ValidationStreams = 2,
        };
        LanguageModel NewModel() => new(vocabulary, LanguageModel.DefaultOptions(vocabulary) with { EmbeddingSize = 8, HiddenSize = 24, Seed = 2 });

        var fromMemory = NewModel();
        var memoryHistory = fromMemory.Train(training, validation, options);

        var fromFile = NewModel();
        using var trainingStore = new TokenStore(vocabulary, "training", memoryBudget: 256, _folder);
        using var validationStore = new TokenStore(vocabulary, "validation", memoryBudget: 256, _folder);
        foreach (string text in training) trainingStore.Add(vocabulary.Encode(text));
        foreach (string text in validation) validationStore.Add(vocabulary.Encode(text));
        Assert.True(trainingStore.Spilled && validationStore.Spilled);
        var fileHistory = fromFile.Train(trainingStore, validationStore, options);

        Assert.Equal(fromMemory.Model.Parameters.Values.ToArray(), fromFile.Model.Parameters.Values.ToArray());
        Assert.Equal(memoryHistory.Epochs.Select(e => (e.TrainingLoss, e.ValidationMetric)), fileHistory.Epochs.Select(e => (e.TrainingLoss, e.ValidationMetric)));

        // A unigram model (each character, and the end of a text, by its frequency in the training texts) on the validation texts.
        var counts = training.SelectMany(text => text).GroupBy(c => c).ToDictionary(g => g.Key, g => (double)g.Count());
        double total = counts.Values.Sum() + training.Length;
        double unigramBits = -validation.Sum(text => text.Sum(c => Math.Log2(counts[c] / total)) + Math.Log2(training.Length / total))
            / validation.Sum(text => text.Length + 1);
        double bits = fileHistory.Epochs[^1].ValidationMetric!.Value;
        Assert.True(bits < 0.5 * unigramBits, $"validation bits per token {bits:F3}, unigram {unigramBits:F3}");
    }
}
