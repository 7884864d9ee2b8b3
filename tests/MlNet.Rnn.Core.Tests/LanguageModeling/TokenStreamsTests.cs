using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;

namespace MlNet.Rnn.Core.Tests.LanguageModeling;

/// <summary>
/// The streams cover every next-token pair exactly once, in order within a stream, whatever B and the offset; documents are
/// laid out between the vocabulary's start and end ids (1 and 2 for tokens, K + 1 and K + 2 for keys), and a pair whose
/// target is the start id weighs nothing. A text's array is read at positions that fit an int, never wrapped; chunk after chunk is read into one window.
/// </summary>
public sealed class TokenStreamsTests
{
    [Theory]
    [InlineData(2, 0, 1)]
    [InlineData(10, 0, 3)]
    [InlineData(10, 2, 4)]
    [InlineData(17, 5, 64)]
    [InlineData(100, 3, 7)]
    public void EveryPairIsReadOnce_AndStreamsAreContiguous(int length, int first, int streams)
    {
        int[] sequence = Enumerable.Range(10, length).ToArray();
        var reader = new TokenStreams(new TokenArray(sequence), first, streams, startId: 1);
        Assert.True(reader.Streams <= streams);
        Assert.Equal(length - 1 - first, reader.Pairs);
        int B = reader.Streams, L = (int)reader.StreamLength;
        var inputs = new int[L * B];
        var targets = new int[L * B];
        var weights = new float[L * B];
        reader.Fill(0, L, inputs, targets, weights);
        var seen = new List<int>();
        for (int b = 0; b < B; b++)
            for (int t = 0; t < L; t++)
            {
                int row = t * B + b;
                if (weights[row] == 0f) continue;
                Assert.Equal(inputs[row] + 1, targets[row]);
                seen.Add(inputs[row]);
            }
        Assert.Equal(Enumerable.Range(10 + first, length - 1 - first), seen);
        // A chunk never reaches past the streams' end, where it would read the next stream's pairs.
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.Fill(1, L, inputs, targets, weights));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.Fill(-1, 1, inputs, targets, weights));
    }

    [Fact]
    public void ATextsIds_AreReadAtPositionsThatFitAnInt_NeverWrapped()
    {
        var text = new TokenArray([5, 6, 7]);
        var ids = new int[2];
        text.Read(1, ids);
        Assert.Equal([6, 7], ids);
        // 2³² + 1 would wrap to position 1.
        Assert.Throws<OverflowException>(() => text.Read((1L << 32) + 1, ids));
    }

    [Fact]
    public void ChunkAfterChunk_IsReadIntoOneWindow()
    {
        var reader = new TokenStreams(new TokenArray([.. Enumerable.Range(10, 101)]), 0, 3, startId: 1);
        int[] inputs = new int[8 * 3], targets = new int[8 * 3];
        float[] weights = new float[8 * 3];
        reader.Fill(0, 8, inputs, targets, weights);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int step = 8; step + 8 <= reader.StreamLength; step += 8) reader.Fill(step, 8, inputs, targets, weights);
        reader.Fill(reader.StreamLength - 3, 3, inputs, targets, weights);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal([10 + 33, 10 + 34 + 33, 0], inputs[6..9]); // step 33 of each stream; the third has ended
    }

    [Fact]
    public void TargetsThatAreTheStartToken_WeighNothing()
    {
        var characters = new Vocabulary(["a", "b", "c"], VocabularyLevel.Characters);
        int[] sequence = Stored(characters, [[3, 4], [5]]);
        Assert.Equal([1, 3, 4, 2, 1, 5, 2], sequence);
        AssertStartTargetsWeighNothing(sequence, characters.StartId);

        // Keys 1 … 3 keep their ids; start and end come after them.
        var keys = Vocabulary.OfKeys(3);
        sequence = Stored(keys, [[3, 1], [2]]);
        Assert.Equal([4, 3, 1, 5, 4, 2, 5], sequence);
        AssertStartTargetsWeighNothing(sequence, keys.StartId);
    }

    /// <summary>The sequence a store in memory lays the documents out as.</summary>
    private static int[] Stored(Vocabulary vocabulary, int[][] documents)
    {
        using var store = new TokenStore(vocabulary, "training", memoryBudget: 1 << 20);
        foreach (int[] document in documents) store.Add(document);
        var sequence = new int[store.Count];
        store.Read(0, sequence);
        return sequence;
    }

    private static void AssertStartTargetsWeighNothing(int[] sequence, int startId)
    {
        var reader = new TokenStreams(new TokenArray(sequence), 0, 1, startId);
        var inputs = new int[6];
        var targets = new int[6];
        var weights = new float[6];
        reader.Fill(0, 6, inputs, targets, weights);
        Assert.Equal([1f, 1f, 1f, 0f, 1f, 1f], weights);
    }
}
