using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.SequenceToSequence;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// The one id mapping of <see cref="Vocabulary"/>: unknown is 0 in every vocabulary; characters and tokens put start and end
/// at 1 and 2 and the known tokens after them in a deterministic order; ML.NET keys keep their ids (key k is id k) with start
/// and end at K + 1 and K + 2, and a reader of keys alone needs K + 1 ids. Encoding maps anything unseen to unknown, decoding
/// writes it as U+FFFD and skips start and end; JSON round trips, in the format model files written before hold; bad token
/// lists and bad JSON are rejected.
/// </summary>
public sealed class VocabularyTests
{
    [Fact]
    public void Characters_AreOrderedOrdinally_AfterTheReservedIds()
    {
        var vocabulary = Vocabulary.FromCharacters("cab\nba");
        Assert.Equal(["<unk>", "<s>", "</s>", "\n", "a", "b", "c"], vocabulary.Tokens);
        Assert.Equal((7, 1, 2, 7), (vocabulary.Count, vocabulary.StartId, vocabulary.EndId, vocabulary.SourceCount));
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
        Assert.Equal((1, 2), (vocabulary.StartId, vocabulary.EndId));
        Assert.Equal([3, 5, 0], vocabulary.Encode(" the dog ran "));
        Assert.Equal("the dog \uFFFD", vocabulary.Decode(vocabulary.Encode("the dog ran")));
    }

    [Fact]
    public void SplitTokens_AreLookedUpWhole_AndTheReservedNamesAreNotTokens()
    {
        var vocabulary = new Vocabulary(["one", "-", "two"], VocabularyLevel.Tokens);
        Assert.Equal([3, 4, 5, 0, 0, 0, 0], vocabulary.Encode(["one", "-", "two", "one two", "<unk>", "<s>", "</s>"]));
        for (int id = 0; id < vocabulary.Count; id++) Assert.Equal(vocabulary.Tokens[id], vocabulary.TokenOf(id));
        Assert.Equal("one - \uFFFD two", vocabulary.Decode([1, 3, 4, 0, 5, 2]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(300)]
    public void Keys_KeepTheirIds_WithStartAndEndAfterThem(int K)
    {
        var vocabulary = Vocabulary.OfKeys(K);
        Assert.Equal(VocabularyLevel.Keys, vocabulary.Level);
        Assert.Equal((K + 3, K + 1, K + 2, K + 1), (vocabulary.Count, vocabulary.StartId, vocabulary.EndId, vocabulary.SourceCount));
        Assert.Equal(Vocabulary.UnknownId, vocabulary.IdOfKey(0));
        for (int k = 1; k <= K; k++)
        {
            Assert.Equal(k, vocabulary.IdOfKey((ulong)k));
            Assert.Equal((ulong)k, vocabulary.KeyOf(k));
        }
        foreach (ulong beyond in new[] { (ulong)K + 1, (ulong)K + 2, ulong.MaxValue }) Assert.Equal(Vocabulary.UnknownId, vocabulary.IdOfKey(beyond));
        // Unknown, start, end and ids outside V have no key: missing.
        foreach (int id in new[] { 0, K + 1, K + 2, K + 3, -1 }) Assert.Equal(0ul, vocabulary.KeyOf(id));
    }

    [Fact]
    public void Keys_ReadAndWriteAsTheirNumbers()
    {
        var vocabulary = Vocabulary.OfKeys(4);
        Assert.Equal(["<unk>", "1", "2", "3", "4", "<s>", "</s>"], vocabulary.Tokens);
        Assert.Equal([4, 2, 0, 0, 0], vocabulary.Encode("4 2  9 x <s>"));
        Assert.Equal([3, 0], vocabulary.Encode(["3", "0"]));
        Assert.Equal("4 \uFFFD 2", vocabulary.Decode([5, 4, 0, 2, 6]));
        for (int id = 0; id < vocabulary.Count; id++) Assert.Equal(vocabulary.Tokens[id], vocabulary.TokenOf(id));
        Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.TokenOf(7));
    }

    [Fact]
    public void Keys_OfAHugeKeyType_AllocateNothingPerKey()
    {
        // K + 3 = int.MaxValue ids: the ids and names are computed, not stored.
        var vocabulary = Vocabulary.OfKeys(int.MaxValue - 3);
        Assert.Equal(int.MaxValue, vocabulary.Count);
        Assert.Equal(int.MaxValue - 3, vocabulary.IdOfKey(int.MaxValue - 3));
        Assert.Equal("</s>", vocabulary.TokenOf(int.MaxValue - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Vocabulary.OfKeys(int.MaxValue - 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Vocabulary.OfKeys(0));
    }

    [Fact]
    public void KeysAreOnlyMappedByAVocabularyOfKeys()
    {
        var characters = Vocabulary.FromCharacters("ab");
        Assert.Throws<InvalidOperationException>(() => characters.IdOfKey(1));
        Assert.Throws<InvalidOperationException>(() => characters.KeyOf(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Vocabulary(["1"], VocabularyLevel.Keys));
    }

    [Fact]
    public void SequenceToSequenceOptions_TakeTheirIdsFromTheVocabularies()
    {
        // ML.NET keys: the encoder reads ids 0 … K_s, the decoder writes 0 … K_t + 2 with start K_t + 1 and end K_t + 2.
        var keys = SequenceToSequenceOptions.For(Vocabulary.OfKeys(4), Vocabulary.OfKeys(9));
        Assert.Equal((5, 12, 10, 11), (keys.SourceVocabularySize, keys.TargetVocabularySize, keys.StartId, keys.EndId));
        var source = new Vocabulary(["1", "2"], VocabularyLevel.Characters);
        var target = new Vocabulary(["one", "two", "three"], VocabularyLevel.Tokens);
        var tokens = SequenceToSequenceOptions.For(source, target);
        Assert.Equal((5, 6, 1, 2), (tokens.SourceVocabularySize, tokens.TargetVocabularySize, tokens.StartId, tokens.EndId));
        keys.Validate();
        tokens.Validate();
    }

    [Fact]
    public void Json_RoundTrips_ForEveryLevel()
    {
        foreach (var vocabulary in new[] { Vocabulary.FromTokens(["a b c"]), Vocabulary.FromCharacters("xzy"), Vocabulary.OfKeys(5) })
        {
            var copy = Vocabulary.FromJson(vocabulary.ToJson());
            Assert.Equal(vocabulary.Tokens, copy.Tokens);
            Assert.Equal((vocabulary.Level, vocabulary.Count, vocabulary.StartId, vocabulary.EndId, vocabulary.SourceCount),
                (copy.Level, copy.Count, copy.StartId, copy.EndId, copy.SourceCount));
        }
    }

    [Fact]
    public void Json_IsTheFormatOfModelFilesWrittenBefore()
    {
        // What language-model files have always stored: the level and the known tokens. It still reads, and is still what is written.
        const string characters = "{\"Level\":\"Characters\",\"Tokens\":[\"\\n\",\"a\",\"b\"]}";
        var vocabulary = Vocabulary.FromJson(characters);
        Assert.Equal(["<unk>", "<s>", "</s>", "\n", "a", "b"], vocabulary.Tokens);
        Assert.Equal(characters, vocabulary.ToJson());
        Assert.Equal("{\"Level\":\"Tokens\",\"Tokens\":[\"a\",\"b\"]}", new Vocabulary(["a", "b"], VocabularyLevel.Tokens).ToJson());
        Assert.Equal("{\"Level\":\"Keys\",\"KeyCount\":5}", Vocabulary.OfKeys(5).ToJson());
    }

    [Theory]
    [InlineData("{\"Level\":\"Bytes\",\"Tokens\":[]}")]
    [InlineData("{\"Level\":\"Characters\"}")]
    [InlineData("{\"Level\":\"Characters\",\"Tokens\":[\"ab\"]}")]
    [InlineData("{\"Level\":\"Keys\"}")]
    [InlineData("{\"Level\":\"Keys\",\"KeyCount\":0}")]
    [InlineData("{\"Level\":\"Keys\",\"KeyCount\":3,\"Tokens\":[\"a\"]}")]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("{\"Level\":null,\"Tokens\":[\"a\"]}")]
    [InlineData("{\"Level\":\"characters\",\"Tokens\":[\"a\"]}")]
    [InlineData("{\"Level\":\"1\",\"Tokens\":[\"a\"]}")]
    [InlineData("{\"Level\":\"Characters, Tokens\",\"Tokens\":[\"a\"]}")]
    [InlineData("{\"Level\":\"Tokens\",\"Tokens\":[null]}")]
    [InlineData("{\"Level\":\"Tokens\",\"Tokens\":[\"a\",\"a\"]}")]
    [InlineData("{\"Level\":\"Tokens\",\"Tokens\":[\"a b\"]}")]
    [InlineData("{\"Level\":\"Tokens\",\"Tokens\":[3]}")]
    [InlineData("{\"Level\":\"Characters\",\"Tokens\":[\"a\"],\"KeyCount\":3}")]
    [InlineData("{\"Level\":\"Keys\",\"KeyCount\":-1}")]
    [InlineData("{\"Level\":\"Keys\",\"KeyCount\":2147483647}")]
    [InlineData("{\"Level\":\"Keys\",\"KeyCount\":1e3}")]
    [InlineData("{\"Level\":\"Keys\",\"KeyCount\":\"5\"}")]
    [InlineData("{\"Level\":\"Keys\",\"KeyCount\":99999999999}")]
    public void Json_RejectsWhatIsNotAVocabulary_NamingTheSource(string json)
    {
        var exception = Assert.Throws<InvalidDataException>(() => Vocabulary.FromJson(json, "model.safetensors"));
        Assert.Contains("model.safetensors", exception.Message);
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
