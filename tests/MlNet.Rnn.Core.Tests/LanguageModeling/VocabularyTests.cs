using MlNet.Rnn.Core.LanguageModeling;

namespace MlNet.Rnn.Core.Tests.LanguageModeling;

/// <summary>Reserved ids, deterministic order, unknown mapping, round trips through JSON, and rejected token lists.</summary>
public sealed class VocabularyTests
{
    [Fact]
    public void Characters_AreOrderedOrdinally_AfterTheReservedIds()
    {
        var vocabulary = Vocabulary.FromCharacters("cab\nba");
        Assert.Equal(["<unk>", "<s>", "</s>", "\n", "a", "b", "c"], vocabulary.Tokens);
        Assert.Equal(7, vocabulary.Count);
        Assert.Equal(VocabularyLevel.Characters, vocabulary.Level);
        Assert.Equal([6, 4, 5, Vocabulary.UnknownId], vocabulary.Encode("cabz"));
        Assert.Equal("cab\uFFFD", vocabulary.Decode([1, 6, 4, 5, 0, 2]));
    }

    [Fact]
    public void MinimumCount_LeavesRareCharactersUnknown()
    {
        var vocabulary = Vocabulary.FromCharacters("aaab", minimumCount: 2);
        Assert.Equal(Vocabulary.UnknownId, vocabulary.IdOf("b"));
        Assert.Equal(3, vocabulary.IdOf("a"));
    }

    [Fact]
    public void Tokens_AreSplitOnWhiteSpace_MostFrequentFirst_AndJoinedWithSpaces()
    {
        var vocabulary = Vocabulary.FromTokens(["the cat", "the  dog\tsat"]);
        Assert.Equal(["<unk>", "<s>", "</s>", "the", "cat", "dog", "sat"], vocabulary.Tokens);
        Assert.Equal([3, 5, 0], vocabulary.Encode(" the dog ran "));
        Assert.Equal("the dog \uFFFD", vocabulary.Decode(vocabulary.Encode("the dog ran")));
    }

    [Fact]
    public void Json_RoundTrips()
    {
        var vocabulary = Vocabulary.FromTokens(["a b c"]);
        var copy = Vocabulary.FromJson(vocabulary.ToJson());
        Assert.Equal(vocabulary.Tokens, copy.Tokens);
        Assert.Equal(vocabulary.Level, copy.Level);
        Assert.Throws<InvalidDataException>(() => Vocabulary.FromJson("{\"Level\":\"Bytes\",\"Tokens\":[]}", "x"));
        Assert.Throws<InvalidDataException>(() => Vocabulary.FromJson("not json", "x"));
    }

    [Fact]
    public void Constructor_RejectsRepeatedEmptyOrMisshapenTokens()
    {
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => new Vocabulary(["a", "a"], VocabularyLevel.Characters)).Message);
        Assert.Throws<ArgumentException>(() => new Vocabulary([""], VocabularyLevel.Tokens));
        Assert.Contains("single characters", Assert.Throws<ArgumentException>(() => new Vocabulary(["ab"], VocabularyLevel.Characters)).Message);
        Assert.Contains("white space", Assert.Throws<ArgumentException>(() => new Vocabulary(["a b"], VocabularyLevel.Tokens)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Vocabulary.FromCharacters("a").TokenOf(4));
    }
}
