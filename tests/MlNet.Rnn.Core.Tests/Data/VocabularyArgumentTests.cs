using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// The argument checks of <see cref="Vocabulary"/>: a null token list, text, token or JSON is an
/// <see cref="ArgumentNullException"/> naming the argument (not a failure from inside), a minimum count below 1 is refused,
/// and each refusal's message says what is wrong (an empty token, a level that is not a token level, JSON from an unnamed
/// source, key mapping on a vocabulary of characters). <see cref="Vocabulary.Tokens"/> is built once and then kept.
/// </summary>
public sealed class VocabularyArgumentTests
{
    private static readonly Vocabulary s_characters = Vocabulary.FromCharacters("abc");
    private static readonly Vocabulary s_tokens = Vocabulary.FromTokens(["the cat"]);

    [Fact]
    public void NullArguments_AreRefusedByName()
    {
        Assert.Equal("tokens", Assert.Throws<ArgumentNullException>(() => new Vocabulary(null!, VocabularyLevel.Tokens)).ParamName);
        Assert.Equal("texts", Assert.Throws<ArgumentNullException>(() => Vocabulary.FromCharacters((IEnumerable<string>)null!)).ParamName);
        Assert.Equal("texts", Assert.Throws<ArgumentNullException>(() => Vocabulary.FromCharacters(["ab", null!])).ParamName);
        Assert.Equal("texts", Assert.Throws<ArgumentNullException>(() => Vocabulary.FromTokens(null!)).ParamName);
        Assert.Equal("texts", Assert.Throws<ArgumentNullException>(() => Vocabulary.FromTokens(["a b", null!])).ParamName);
        Assert.Equal("token", Assert.Throws<ArgumentNullException>(() => s_tokens.IdOf(null!)).ParamName);
        Assert.Equal("text", Assert.Throws<ArgumentNullException>(() => s_characters.Encode((string)null!)).ParamName);
        Assert.Equal("text", Assert.Throws<ArgumentNullException>(() => s_tokens.Encode((string)null!)).ParamName);
        Assert.Equal("tokens", Assert.Throws<ArgumentNullException>(() => s_tokens.Encode((IEnumerable<string>)null!)).ParamName);
        Assert.Equal("json", Assert.Throws<ArgumentNullException>(() => Vocabulary.FromJson(null!)).ParamName);
    }

    [Fact]
    public void MinimumCount_BelowOne_IsRefused_AndOneKeepsEverything()
    {
        Assert.Equal("minimumCount", Assert.Throws<ArgumentOutOfRangeException>(() => Vocabulary.FromCharacters(["ab"], 0)).ParamName);
        Assert.Equal("minimumCount", Assert.Throws<ArgumentOutOfRangeException>(() => Vocabulary.FromTokens(["a b"], 0)).ParamName);
        Assert.Equal("minimumCount", Assert.Throws<ArgumentOutOfRangeException>(() => Vocabulary.FromTokens(["a b"], -2)).ParamName);
        Assert.Equal(5, Vocabulary.FromCharacters(["ab"], 1).Count);
        Assert.Equal(5, Vocabulary.FromTokens(["a b"], 1).Count);
    }

    [Fact]
    public void Refusals_SayWhatIsWrong()
    {
        var level = Assert.Throws<ArgumentOutOfRangeException>(() => new Vocabulary(["a"], VocabularyLevel.Keys));
        Assert.Equal("level", level.ParamName);
        Assert.Contains("level must be Characters or Tokens; a vocabulary of ML.NET keys is Vocabulary.OfKeys", level.Message);
        var empty = Assert.Throws<ArgumentException>(() => new Vocabulary(["a", ""], VocabularyLevel.Tokens));
        Assert.Equal("tokens", empty.ParamName);
        Assert.Contains("Token 1 is null or empty", empty.Message);
        var unnamed = Assert.Throws<InvalidDataException>(() => Vocabulary.FromJson("{\"Level\":\"Words\",\"Tokens\":[]}"));
        Assert.StartsWith("The model file: the vocabulary level 'Words'", unnamed.Message);
        var keys = Assert.Throws<InvalidOperationException>(() => s_characters.KeyOf(3));
        Assert.Contains("This is a vocabulary of Characters; only a vocabulary of keys (Vocabulary.OfKeys) maps ML.NET keys", keys.Message);
    }

    [Fact]
    public void Tokens_IsBuiltOnce_AndKept()
    {
        var keys = Vocabulary.OfKeys(4);
        Assert.Same(keys.Tokens, keys.Tokens);
        Assert.Equal(["<unk>", "1", "2", "3", "4", "<s>", "</s>"], keys.Tokens);
        Assert.Same(s_characters.Tokens, s_characters.Tokens);
    }
}
