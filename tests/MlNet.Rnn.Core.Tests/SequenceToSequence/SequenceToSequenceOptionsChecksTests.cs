using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// Every rule of <see cref="SequenceToSequenceOptions.Validate"/> and <see cref="DecodingOptions.Validate"/> at its bound: the
/// value just inside passes, the value just outside is refused with the exception type, parameter and message documented.
/// </summary>
public sealed class SequenceToSequenceOptionsChecksTests
{
    private static readonly SequenceToSequenceOptions Valid = new() { SourceVocabularySize = 6, TargetVocabularySize = 5 };

    private static void Refused<TException>(SequenceToSequenceOptions options, string parameter, string message)
        where TException : ArgumentException
    {
        var error = Assert.Throws<TException>(options.Validate);
        Assert.Equal(parameter, error.ParamName);
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void EachModelOptionIsCheckedAtItsBound()
    {
        Valid.Validate();
        Refused<ArgumentOutOfRangeException>(Valid with { Cell = (RecurrentCellType)7 }, "Cell", "Cell is 7; it must be Rnn, Lstm or Gru.");
        Refused<ArgumentOutOfRangeException>(Valid with { RnnActivation = (RnnActivation)9 }, "RnnActivation", "RnnActivation is 9; it must be Tanh, Relu or Sigmoid.");
        Refused<ArgumentOutOfRangeException>(Valid with { SourceVocabularySize = 1 }, "SourceVocabularySize",
            "SourceVocabularySize is 1; it must be at least 2 (id 0 = unknown, then the source tokens).");
        (Valid with { SourceVocabularySize = 2 }).Validate();
        Refused<ArgumentOutOfRangeException>(Valid with { TargetVocabularySize = 0 }, "TargetVocabularySize",
            "TargetVocabularySize is 0; it must be positive: ids 0 (unknown), StartId, EndId and the target tokens.");
        // One target id is positive but holds no end token: the end-token rule speaks.
        Refused<ArgumentException>(Valid with { TargetVocabularySize = 1 }, "EndId", "The target vocabulary has no end token: EndId = 2 is not an id in [1, 1)");

        Refused<ArgumentException>(Valid with { EndId = 0 }, "EndId", "The target vocabulary has no end token: EndId = 0 is not an id in [1, 5) (id 0 is the unknown token).");
        Refused<ArgumentException>(Valid with { EndId = 5 }, "EndId", "The target vocabulary has no end token: EndId = 5 is not an id in [1, 5)");
        (Valid with { EndId = 4 }).Validate();
        (Valid with { StartId = 2, EndId = 1 }).Validate();
        Refused<ArgumentException>(Valid with { StartId = 0 }, "StartId", "StartId = 0 must be an id in [1, 5) other than EndId = 2 and the unknown id 0; reserve a start token.");
        Refused<ArgumentException>(Valid with { StartId = 5 }, "StartId", "StartId = 5 must be an id in [1, 5)");
        Refused<ArgumentException>(Valid with { StartId = 2 }, "StartId", "StartId = 2 must be an id in [1, 5) other than EndId = 2");
        (Valid with { StartId = 4 }).Validate();
        (Valid with { TargetVocabularySize = 3 }).Validate(); // unknown, start, end: the smallest target vocabulary

        Refused<ArgumentOutOfRangeException>(Valid with { EmbeddingSize = 0 }, "EmbeddingSize", "EmbeddingSize is 0; it must be at least 1.");
        Refused<ArgumentOutOfRangeException>(Valid with { HiddenSize = 0 }, "HiddenSize", "HiddenSize is 0; it must be at least 1.");
        Refused<ArgumentOutOfRangeException>(Valid with { Layers = 0 }, "Layers", "Layers is 0; it must be at least 1.");
        (Valid with { EmbeddingSize = 1, HiddenSize = 1, Layers = 1 }).Validate();
        Refused<ArgumentOutOfRangeException>(Valid with { Attention = (AttentionKind)3 }, "Attention", "Attention is 3; it must be None, Luong or Bahdanau.");
        Refused<ArgumentOutOfRangeException>(Valid with { Dropout = -0.01f }, "Dropout", "Dropout is -0.01; it must be in [0, 1).");
        Refused<ArgumentOutOfRangeException>(Valid with { Dropout = 1f }, "Dropout", "Dropout is 1; it must be in [0, 1).");
        Refused<ArgumentOutOfRangeException>(Valid with { Dropout = float.NaN }, "Dropout", "Dropout is NaN");
        (Valid with { Dropout = 0.99f }).Validate();
        Refused<ArgumentOutOfRangeException>(Valid with { Cell = RecurrentCellType.Gru, ForgetGateBias = 1f }, "ForgetGateBias",
            "ForgetGateBias is 1; it must be unset unless Cell is Lstm, and finite.");
        Refused<ArgumentOutOfRangeException>(Valid with { ForgetGateBias = float.PositiveInfinity }, "ForgetGateBias", "ForgetGateBias is Infinity");
        (Valid with { ForgetGateBias = 1f }).Validate();
        (Valid with { Cell = RecurrentCellType.Gru, ForgetGateBias = null }).Validate();
        Refused<ArgumentOutOfRangeException>(Valid with { MaxDegreeOfParallelism = 0 }, "MaxDegreeOfParallelism", "MaxDegreeOfParallelism is 0; it must be at least 1.");
        (Valid with { MaxDegreeOfParallelism = 1 }).Validate();

        Assert.Equal(1, Valid.Directions);
        Assert.Equal(2, (Valid with { Bidirectional = true }).Directions);
    }

    [Fact]
    public void OptionsForTwoVocabularies_TakeTheirSizesAndTheTargetsStartAndEnd()
    {
        var source = Vocabulary.FromCharacters("abc");
        var target = Vocabulary.OfKeys(4);
        var options = SequenceToSequenceOptions.For(source, target);
        Assert.Equal(source.SourceCount, options.SourceVocabularySize);
        Assert.Equal(target.Count, options.TargetVocabularySize);
        Assert.Equal(target.StartId, options.StartId);
        Assert.Equal(target.EndId, options.EndId);
        options.Validate();
        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => SequenceToSequenceOptions.For(null!, target)).ParamName);
        Assert.Equal("target", Assert.Throws<ArgumentNullException>(() => SequenceToSequenceOptions.For(source, null!)).ParamName);
    }

    [Fact]
    public void EachDecodingOptionIsCheckedAtItsBound()
    {
        new DecodingOptions { BeamWidth = 1, LengthNormalization = 0, MaxLength = 1 }.Validate();
        void Refused(DecodingOptions options, string parameter, string message)
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
            Assert.Equal(parameter, error.ParamName);
            Assert.StartsWith(message, error.Message);
        }

        Refused(new DecodingOptions { BeamWidth = 0 }, "BeamWidth", "BeamWidth is 0; it must be at least 1 (1 = greedy).");
        Refused(new DecodingOptions { LengthNormalization = -0.5f }, "LengthNormalization", "LengthNormalization is -0.5; it must be a finite number ≥ 0.");
        Refused(new DecodingOptions { LengthNormalization = float.NaN }, "LengthNormalization", "LengthNormalization is NaN");
        Refused(new DecodingOptions { LengthNormalization = float.PositiveInfinity }, "LengthNormalization", "LengthNormalization is Infinity");
        Refused(new DecodingOptions { MaxLength = 0 }, "MaxLength", "MaxLength is 0; it must be at least 1 token (the end token counts).");
    }
}
