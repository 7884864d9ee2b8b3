using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Core.Tests.Models;

/// <summary>
/// <see cref="SequenceModelOptions.Validate"/> (run by the model's constructor): each invalid option is refused as an
/// <see cref="ArgumentOutOfRangeException"/> naming that option with a message giving its valid range, and each boundary value
/// just inside a range is accepted (features 0 only for tokens, an embedding size only for tokens, dropout 0 and just below 1).
/// </summary>
public sealed class SequenceModelOptionsValidationTests
{
    private static readonly SequenceModelOptions s_valid = new() { HiddenSize = 2, MaxDegreeOfParallelism = 1 };

    private static readonly Dictionary<string, (SequenceModelOptions Options, string Name, string Message)> s_invalid = new()
    {
        ["undefined cell"] = (s_valid with { Cell = (RecurrentCellType)9 }, "Cell", "Cell must be Rnn, Lstm or Gru."),
        ["undefined activation"] = (s_valid with { RnnActivation = (RnnActivation)9 }, "RnnActivation", "RnnActivation must be Tanh, Relu or Sigmoid."),
        ["negative vocabulary"] = (s_valid with { VocabularySize = -1 }, "VocabularySize", "VocabularySize must be 0 (numeric inputs) or positive."),
        ["numeric without features"] = (s_valid with { FeaturesPerStep = 0 }, "FeaturesPerStep", "FeaturesPerStep must be at least 1."),
        ["numeric with negative features"] = (s_valid with { FeaturesPerStep = -1 }, "FeaturesPerStep", "FeaturesPerStep must be at least 1."),
        ["tokens without embedding"] = (s_valid with { VocabularySize = 5, EmbeddingSize = 0 }, "EmbeddingSize", "EmbeddingSize must be at least 1."),
        ["tokens with negative embedding"] = (s_valid with { VocabularySize = 5, EmbeddingSize = -1 }, "EmbeddingSize", "EmbeddingSize must be at least 1."),
        ["no hidden units"] = (s_valid with { HiddenSize = 0 }, "HiddenSize", "HiddenSize must be at least 1."),
        ["no layers"] = (s_valid with { Layers = 0 }, "Layers", "Layers must be at least 1."),
        ["dropout 1"] = (s_valid with { Dropout = 1f }, "Dropout", "Dropout must be in [0, 1)."),
        ["negative dropout"] = (s_valid with { Dropout = -0.01f }, "Dropout", "Dropout must be in [0, 1)."),
        ["NaN dropout"] = (s_valid with { Dropout = float.NaN }, "Dropout", "Dropout must be in [0, 1)."),
        ["recurrent dropout 1"] = (s_valid with { RecurrentDropout = 1f }, "RecurrentDropout", "RecurrentDropout must be in [0, 1)."),
        ["negative recurrent dropout"] = (s_valid with { RecurrentDropout = -0.01f }, "RecurrentDropout", "RecurrentDropout must be in [0, 1)."),
        ["token dropout 1"] = (s_valid with { TokenDropout = 1f }, "TokenDropout", "TokenDropout must be in [0, 1)."),
        ["NaN token dropout"] = (s_valid with { TokenDropout = float.NaN }, "TokenDropout", "TokenDropout must be in [0, 1)."),
        ["no outputs"] = (s_valid with { OutputSize = 0 }, "OutputSize", "OutputSize must be at least 1."),
        ["undefined readout"] = (s_valid with { Readout = (SequenceReadout)9 }, "Readout", "Readout must be LastStep, EveryStep or MeanOverSteps."),
        ["undefined initialization"] =
            (s_valid with { Initialization = (WeightInitialization)9 }, "Initialization", "Initialization must be PyTorchDefault or XavierOrthogonal."),
        ["infinite forget bias"] = (s_valid with { ForgetGateBias = float.PositiveInfinity }, "ForgetGateBias", "ForgetGateBias applies to an LSTM only and must be finite."),
        ["no threads"] = (s_valid with { MaxDegreeOfParallelism = 0 }, "MaxDegreeOfParallelism", "MaxDegreeOfParallelism must be at least 1."),
    };

    public static TheoryData<string> InvalidCases() => new(s_invalid.Keys);

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void AnInvalidOption_IsRefusedByName_WithItsRange(string name)
    {
        var (options, parameter, message) = s_invalid[name];
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(parameter, error.ParamName);
        Assert.StartsWith(message, error.Message);
        Assert.Equal(parameter, Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceModel(options)).ParamName);
    }

    [Fact]
    public void TheBoundaryValuesInsideEachRange_AreAccepted()
    {
        SequenceModelOptions[] accepted =
        [
            s_valid with { FeaturesPerStep = 1, HiddenSize = 1, Layers = 1, OutputSize = 1 },
            s_valid with { VocabularySize = 1, FeaturesPerStep = 0, EmbeddingSize = 1 },
            s_valid with { VocabularySize = 0, EmbeddingSize = 0 },
            s_valid with { Dropout = 0f, RecurrentDropout = 0f },
            s_valid with { Dropout = 0.999f, RecurrentDropout = 0.999f, TokenDropout = 0.999f },
            s_valid with { ForgetGateBias = 1f },
        ];
        foreach (var options in accepted)
        {
            options.Validate();
            Assert.Equal(options, new SequenceModel(options).Options);
        }
    }
}
