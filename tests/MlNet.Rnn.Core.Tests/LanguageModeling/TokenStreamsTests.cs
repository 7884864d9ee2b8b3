using MlNet.Rnn.Core.LanguageModeling;

namespace MlNet.Rnn.Core.Tests.LanguageModeling;

/// <summary>The streams cover every next-token pair exactly once, in order within a stream, whatever B and the offset.</summary>
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
        var reader = new TokenStreams(sequence, first, streams);
        Assert.True(reader.Streams <= streams);
        Assert.Equal(length - 1 - first, reader.Pairs);
        int B = reader.Streams, L = reader.StreamLength;
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
    }

    [Fact]
    public void TargetsThatAreTheStartToken_WeighNothing()
    {
        int[] sequence = TokenSequence.FromDocuments([[3, 4], [5]], 6, "training");
        Assert.Equal([1, 3, 4, 2, 1, 5, 2], sequence);
        var reader = new TokenStreams(sequence, 0, 1);
        var inputs = new int[6];
        var targets = new int[6];
        var weights = new float[6];
        reader.Fill(0, 6, inputs, targets, weights);
        Assert.Equal([1f, 1f, 1f, 0f, 1f, 1f], weights);
    }
}
