using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Core.Tests.LanguageModeling;

/// <summary>
/// <see cref="LanguageModelWorkspace"/> beyond the LSTM case of <c>Models/InferenceWorkspaceTests</c>: a GRU (no cell state)
/// scores each document as <see cref="LanguageModel.Evaluate(ReadOnlySpan{int}, bool, int)"/> does, bit for bit, and again when
/// scored a second time or after <see cref="LanguageModelWorkspace.Clear"/>; a batch whose longest document fills exactly one
/// chunk; the head's block of at most <see cref="LanguageModelWorkspace.MaxLogits"/> logits (2²⁰ by default) bounds the memory of
/// a large vocabulary, and no bound at all (<c>int.MaxValue</c>) or one below a row's V logits scores the same, and again without allocating.
/// </summary>
public sealed class LanguageModelWorkspaceTests
{
    private static LanguageModel Model(Vocabulary vocabulary, RecurrentCellType cell, int hiddenSize) =>
        new(vocabulary, LanguageModel.DefaultOptions(vocabulary) with
        {
            Cell = cell, EmbeddingSize = 2, HiddenSize = hiddenSize, LearnedInitialState = true, Seed = 3, MaxDegreeOfParallelism = 1,
            ForgetGateBias = cell == RecurrentCellType.Lstm ? 1f : null,
        });

    private static int[][] Documents(Vocabulary vocabulary, int seed, params int[] lengths)
    {
        var random = new Random(seed);
        return [.. lengths.Select(length => Enumerable.Range(0, length).Select(_ => random.Next(vocabulary.Count)).ToArray())];
    }

    private static void AssertScoredAsEvaluate(LanguageModel model, LanguageModelWorkspace workspace, int[][] documents)
    {
        Assert.Equal(documents.Length, workspace.Count);
        for (int d = 0; d < documents.Length; d++)
        {
            var expected = model.Evaluate(documents[d], scoreEnd: true);
            var actual = workspace.Metrics(d);
            Assert.Equal(expected.TokenCount, actual.TokenCount);
            Assert.True(BitConverter.DoubleToInt64Bits(expected.LogLikelihood) == BitConverter.DoubleToInt64Bits(actual.LogLikelihood),
                $"document {d}: {actual.LogLikelihood} against Evaluate's {expected.LogLikelihood}");
        }
    }

    [Fact]
    public void AGruWorkspace_ScoresAsEvaluate_AgainAndAfterClear()
    {
        var vocabulary = Vocabulary.FromCharacters("abcdefgh ");
        var model = Model(vocabulary, RecurrentCellType.Gru, hiddenSize: 5);
        int[][] documents = Documents(vocabulary, 5, 300, 0, 7, 256);
        var workspace = model.CreateWorkspace();
        foreach (int[] document in documents) workspace.Add(document);
        workspace.Score();
        AssertScoredAsEvaluate(model, workspace, documents);
        workspace.Score();
        AssertScoredAsEvaluate(model, workspace, documents);
        workspace.Clear();
        workspace.Add(documents[2]);
        workspace.Add(documents[1]);
        workspace.Score();
        AssertScoredAsEvaluate(model, workspace, [documents[2], documents[1]]);
    }

    [Fact]
    public void ABatchWhoseLongestDocumentFillsOneChunk_ScoresAsEvaluate()
    {
        // start + 255 ids: 256 steps, exactly LikelihoodScorer.ChunkSteps.
        Assert.Equal(256, LikelihoodScorer.ChunkSteps);
        var vocabulary = Vocabulary.FromCharacters("abcdefgh ");
        var model = Model(vocabulary, RecurrentCellType.Lstm, hiddenSize: 4);
        int[][] documents = Documents(vocabulary, 6, 255, 100, 255);
        var workspace = model.CreateWorkspace();
        foreach (int[] document in documents) workspace.Add(document);
        workspace.Score();
        AssertScoredAsEvaluate(model, workspace, documents);
    }

    [Fact]
    public void TheHeadsBlock_BoundsTheMemoryOfALargeVocabulary()
    {
        Assert.Equal(1 << 20, Model(Vocabulary.FromCharacters("ab"), RecurrentCellType.Lstm, 2).CreateWorkspace().MaxLogits);

        // V = 5,000 and 4 documents of 250 ids: the logits of every step at once would be 1,004 × 5,000 floats (20 MB); in
        // blocks of 2 rows they are 40 kB, and the whole scoring stays under 1 MB.
        var vocabulary = Vocabulary.OfKeys(4997);
        Assert.Equal(5000, vocabulary.Count);
        var model = Model(vocabulary, RecurrentCellType.Lstm, hiddenSize: 2);
        int[][] documents = Documents(vocabulary, 7, 250, 250, 250, 250);
        var workspace = model.CreateWorkspace();
        workspace.MaxLogits = 2 * vocabulary.Count;
        foreach (int[] document in documents) workspace.Add(document);
        long before = GC.GetAllocatedBytesForCurrentThread();
        workspace.Score();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1 << 20, $"scoring allocated {allocated:N0} bytes");
        AssertScoredAsEvaluate(model, workspace, documents);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(12)]
    [InlineData(11)]
    [InlineData(1)]
    public void NoBoundOnTheHeadsBlock_OrOneBelowARow_ScoresTheSame_AgainInTheSameBuffers(int maxLogits)
    {
        // V = 12: a bound below one row's logits still runs the head a row at a time.
        var vocabulary = Vocabulary.FromCharacters("abcdefgh ");
        Assert.Equal(12, vocabulary.Count);
        var model = Model(vocabulary, RecurrentCellType.Lstm, hiddenSize: 16);
        int[][] documents = Documents(vocabulary, 8, 40, 3, 300);
        var workspace = model.CreateWorkspace();
        workspace.MaxLogits = maxLogits;
        foreach (int[] document in documents) workspace.Add(document);
        workspace.Score();
        AssertScoredAsEvaluate(model, workspace, documents);
        // Scored again, the same batch reuses every buffer.
        long before = GC.GetAllocatedBytesForCurrentThread();
        workspace.Score();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 4096, $"scoring the same batch again allocated {allocated:N0} bytes");
        AssertScoredAsEvaluate(model, workspace, documents);
    }
}
