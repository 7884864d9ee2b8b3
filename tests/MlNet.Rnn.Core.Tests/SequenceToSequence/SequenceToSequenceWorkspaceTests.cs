using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.SequenceToSequence;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// A <see cref="SequenceToSequenceWorkspace"/> translates staged sources (a token <see cref="SequenceDataset"/>) as the model
/// translates the same sources: every attention, greedy and beam, batches of growing and shrinking size in one workspace, a
/// source longer than the stack buffer; and it checks what it is given.
/// </summary>
public sealed class SequenceToSequenceWorkspaceTests
{
    private static SequenceToSequenceModel Model(AttentionKind attention) => new(SequenceToSequenceLearningTests.SmallOptions with
    {
        Attention = attention, EmbeddingSize = 4, HiddenSize = 8, Seed = 2, MaxDegreeOfParallelism = 1,
    });

    private static SequenceDataset Staged(IEnumerable<int[]> sources)
    {
        var staged = new SequenceDataset(featuresPerStep: 0, targetWidth: 1);
        foreach (int[] source in sources) staged.AddTokens(source, [0f]);
        return staged;
    }

    private static void SameTranslations(Translation[] expected, Translation[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Tokens, actual[i].Tokens);
            Assert.Equal(expected[i].Ended, actual[i].Ended);
            Assert.Equal(expected[i].LogProbability, actual[i].LogProbability, 5);
        }
    }

    [Theory]
    [InlineData(AttentionKind.None, 1)]
    [InlineData(AttentionKind.Luong, 1)]
    [InlineData(AttentionKind.Bahdanau, 1)]
    [InlineData(AttentionKind.Luong, 3)]
    [InlineData(AttentionKind.Bahdanau, 3)]
    public void AWorkspaceTranslatesAsTheModel(AttentionKind attention, int beamWidth)
    {
        var model = Model(attention);
        var workspace = model.CreateWorkspace();
        Assert.Same(model, workspace.Model);
        var decoding = new DecodingOptions { BeamWidth = beamWidth, MaxLength = 6 };
        var random = new Random(8);
        foreach (int count in new[] { 3, 10, 5, 1 })
        {
            int[][] sources = [.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, random.Next(1, 6)).Select(_ => random.Next(0, 11)).ToArray())];
            SameTranslations(model.Translate(sources, decoding), workspace.Translate(Staged(sources), decoding));
        }
    }

    [Fact]
    public void ALongSourceAndTheDefaultDecoding()
    {
        var model = Model(AttentionKind.Luong);
        int[][] sources = [[.. Enumerable.Range(0, 1100).Select(i => i % 11)], [4, 5]];
        var workspace = model.CreateWorkspace();
        var decoding = new DecodingOptions { MaxLength = 2 };
        SameTranslations(model.Translate(sources, decoding), workspace.Translate(Staged(sources), decoding));
        SameTranslations(model.Translate([[4, 5]]), workspace.Translate(Staged([[4, 5]])));
        Assert.Empty(workspace.Translate(Staged([])));
    }

    [Fact]
    public void WhatAWorkspaceIsGivenIsChecked()
    {
        var workspace = Model(AttentionKind.Luong).CreateWorkspace();
        Assert.Equal("sources", Assert.Throws<ArgumentNullException>(() => workspace.Translate(null!)).ParamName);
        var numeric = new SequenceDataset(featuresPerStep: 2, targetWidth: 1);
        numeric.Add([1f, 2f], [0f]);
        var error = Assert.Throws<ArgumentException>(() => workspace.Translate(numeric));
        Assert.Equal("sources", error.ParamName);
        Assert.StartsWith("The sources are numeric sequences; a sequence-to-sequence model reads token ids.", error.Message);
        Assert.StartsWith("Row 1: source token 1 has id 11, outside the source vocabulary [0, 11)",
            Assert.Throws<ArgumentException>(() => workspace.Translate(Staged([[1], [2, 11]]))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => workspace.Translate(Staged([[1]]), new DecodingOptions { BeamWidth = 0 }));
        Assert.Equal("MaxLength", Assert.Throws<ArgumentOutOfRangeException>(() => workspace.Translate(Staged([[1]]), new DecodingOptions { MaxLength = 0 })).ParamName);
    }
}
