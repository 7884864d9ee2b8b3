using MlNet.Rnn.Core.SequenceToSequence;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// The model's own checks of the ids it is given (source vocabulary, target vocabulary, reserved ids) at their bounds, with
/// the row, position and parameter named; no sources translate to no translations; and evaluation in chunks of 256 pairs
/// gives the metrics of translating every source at once.
/// </summary>
public sealed class SequenceToSequenceModelChecksTests
{
    private static SequenceToSequenceModel Model() =>
        new(SequenceToSequenceLearningTests.SmallOptions with { EmbeddingSize = 4, HiddenSize = 8, MaxDegreeOfParallelism = 1 });

    private static void Refused(Action action, string parameter, string message)
    {
        var error = Assert.Throws<ArgumentException>(action);
        Assert.Equal(parameter, error.ParamName);
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void SourceIdsAreCheckedAgainstTheSourceVocabulary()
    {
        var model = Model(); // 11 source ids, 13 target ids, start 1, end 2
        Assert.Equal(2, model.Translate([[0, 10], [10]]).Length);
        Refused(() => model.Translate([[1], [3, 4, 11]]), "sources",
            "Row 1: source token 2 has id 11, outside the source vocabulary [0, 11); map unseen tokens to 0.");
        Refused(() => model.Translate([[-1]]), "sources", "Row 0: source token 0 has id -1, outside the source vocabulary [0, 11)");
        Refused(() => model.Translate([[1], []]), "sources", "Row 1: the source sequence is empty; every source needs at least one token.");
        Refused(() => model.Score([4, 11], [3]), "sources", "Row 0: source token 1 has id 11");
        Assert.Equal("sources", Assert.Throws<ArgumentNullException>(() => model.Translate((IReadOnlyList<int[]>)null!)).ParamName);
        Assert.Empty(model.Translate(Array.Empty<int[]>()));
    }

    [Fact]
    public void TargetIdsAreCheckedAgainstTheTargetVocabularyAndTheReservedIds()
    {
        var model = Model();
        Assert.True(double.IsFinite(model.Score([1], [0, 3, 12])));
        Assert.True(model.Score([1], []) < 0); // log P(end | source)
        Refused(() => model.Score([1], [3, 13]), "target",
            "Row 0 of target: target token 1 has id 13, outside the target vocabulary [0, 13); give targets without start and end tokens and map unseen tokens to 0.");
        Refused(() => model.Score([1], [-2]), "target", "Row 0 of target: target token 0 has id -2, outside the target vocabulary [0, 13)");
        Refused(() => model.Score([1], [3, 4, 1]), "target", "Row 0 of target: target token 2 has id 1, the reserved start id;");
        Refused(() => model.Score([1], [2]), "target", "Row 0 of target: target token 0 has id 2, the reserved end id;");
    }

    [Fact]
    public void EvaluationInChunksEqualsTranslatingEverySourceAtOnce()
    {
        var model = Model();
        var random = new Random(3);
        int[][] sources = [.. Enumerable.Range(0, 600).Select(_ => Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(0, 11)).ToArray())];
        // Targets are a translation of the first source for every row, so a few rows match exactly and the metrics are not trivial.
        var decoding = new DecodingOptions { MaxLength = 3 };
        int[] first = model.Translate(sources[0], decoding);
        int[][] targets = [.. sources.Select((_, i) => i % 3 == 0 ? first : [3, 4])];
        var expected = SequenceToSequenceMetrics.Compute(targets, [.. model.Translate(sources, decoding).Select(translation => translation.Tokens)]);
        Assert.Equal(expected, model.Evaluate(SequencePairs.From(sources, targets), decoding));
        Assert.Equal(600, expected.Count);
    }
}
