using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Tagging;

namespace MlNet.Rnn.Core.Tests.Tagging;

/// <summary>
/// Every argument check of <see cref="TaggedSequences"/>, <see cref="TaggingMetrics"/> and <see cref="BioEntities"/> refuses
/// its bad input with its own exception type, the parameter's name and the message that names the row, the value and the
/// fix (not with a crash further in); the boundaries of the tag range: a tag equal to the tag count is refused, the tag
/// count − 1 accepted.
/// </summary>
public sealed class TaggingInputChecksTests
{
    private static readonly string[] s_bio = ["O", "B-PER", "I-PER"];

    /// <summary>One token row (tags 0, 1) already in the data set, so the next row is row 1.</summary>
    private static SequenceDataset StepsWithOneRow()
    {
        var data = TaggedSequences.CreateSteps(2);
        TaggedSequences.AddSteps(data, [0.5f, 1, 2, 3], [0, 1], 2);
        return data;
    }

    /// <summary>Each case: the call, the exception type it must throw, its parameter name and its message (null: not checked).</summary>
    private static readonly Dictionary<string, (Action Call, Type Exception, string? Parameter, string? Message)> s_refusals = new()
    {
        ["CreateSteps with 0 features per step"] = (() => TaggedSequences.CreateSteps(0), typeof(ArgumentOutOfRangeException), "featuresPerStep", null),
        ["FromTokens with null tokens"] = (() => TaggedSequences.FromTokens(null!, [[0]], 2), typeof(ArgumentNullException), "tokens", null),
        ["FromTokens with null tags"] = (() => TaggedSequences.FromTokens([[1]], null!, 2), typeof(ArgumentNullException), "tags", null),
        ["FromTokens with 2 inputs and 1 label"] = (() => TaggedSequences.FromTokens([[1], [2]], [[0]], 2), typeof(ArgumentException), null,
            "There are 2 input sequences but 1 label sequences; give one label sequence per input."),
        ["FromSteps with null steps"] = (() => TaggedSequences.FromSteps(null!, 1, [[0]], 2), typeof(ArgumentNullException), "steps", null),
        ["FromSteps with null tags"] = (() => TaggedSequences.FromSteps([[1f]], 1, null!, 2), typeof(ArgumentNullException), "tags", null),
        ["FromSteps with 1 input and 2 labels"] = (() => TaggedSequences.FromSteps([[1f]], 1, [[0], [1]], 2), typeof(ArgumentException), null,
            "There are 1 input sequences but 2 label sequences; give one label sequence per input."),
        ["AddTokens to null"] = (() => TaggedSequences.AddTokens(null!, [1], [0], 2), typeof(ArgumentNullException), "data", null),
        ["AddSteps to null"] = (() => TaggedSequences.AddSteps(null!, [1f], [0], 2), typeof(ArgumentNullException), "data", null),
        ["AddTokens to a numeric data set"] = (() => TaggedSequences.AddTokens(TaggedSequences.CreateSteps(1), [1, 2], [0, 1], 2), typeof(ArgumentException),
            "data", "This data set holds numeric sequences; add floats, not ids."),
        ["AddSteps to a token data set"] = (() => TaggedSequences.AddSteps(TaggedSequences.CreateTokens(), [1f, 2f], [0, 1], 2), typeof(ArgumentException),
            "data", "This data set holds token sequences; add ids, not floats."),
        ["AddTokens to a data set with one target per example"] = (() => TaggedSequences.AddTokens(new SequenceDataset(0, 1), [1, 2], [0, 1], 2),
            typeof(ArgumentException), "data", "A tagging data set has per-step targets of width 1; create it with TaggedSequences.CreateTokens or CreateSteps."),
        ["AddSteps to a data set with per-step targets of width 2"] = (() => TaggedSequences.AddSteps(new SequenceDataset(1, 2, perStepTargets: true), [1f, 2f], [0, 1], 2),
            typeof(ArgumentException), "data", "A tagging data set has per-step targets of width 1; create it with TaggedSequences.CreateTokens or CreateSteps."),
        ["AddSteps with 5 values at 2 features per step"] = (() => TaggedSequences.AddSteps(StepsWithOneRow(), [1f, 2f, 3f, 4f, 5f], [0, 1], 2),
            typeof(ArgumentException), "steps", "Row 1 has 5 input values, which is not a multiple of 2 features per step."),
        ["AddTokens with tag count 0"] = (() => TaggedSequences.AddTokens(TaggedSequences.CreateTokens(), [1], [0], 0), typeof(ArgumentOutOfRangeException), "tagCount", null),
        ["FromTokens with a tag equal to the tag count"] = (() => TaggedSequences.FromTokens([[1, 2]], [[0, 3]], 3), typeof(ArgumentException), "tags",
            "Row 0, step 1: tag 3 is outside [0, 3); tags are indices into the 3 tag names."),
        ["FromSteps with a negative tag"] = (() => TaggedSequences.FromSteps([[1f, 2f]], 1, [[-1, 0]], 3), typeof(ArgumentException), "tags",
            "Row 0, step 0: tag -1 is outside [0, 3); tags are indices into the 3 tag names."),
        ["TagsOf null"] = (() => TaggedSequences.TagsOf(null!, 0), typeof(ArgumentNullException), "data", null),

        ["IndexNames of 0 tags"] = (() => TaggingMetrics.IndexNames(0), typeof(ArgumentOutOfRangeException), "tagCount", null),
        ["Compute with null gold"] = (() => TaggingMetrics.Compute(null!, [[0]], s_bio), typeof(ArgumentNullException), "gold", null),
        ["Compute with null predicted"] = (() => TaggingMetrics.Compute([[0]], null!, s_bio), typeof(ArgumentNullException), "predicted", null),
        ["Compute with null tag names"] = (() => TaggingMetrics.Compute([[0]], [[0]], null!), typeof(ArgumentNullException), "tagNames", null),
        ["Compute with no tag name"] = (() => TaggingMetrics.Compute([[0]], [[0]], []), typeof(ArgumentException), "tagNames",
            "tagNames is empty; give one name per tag."),
        ["Compute with 1 gold and 0 predicted sequences"] = (() => TaggingMetrics.Compute([[0]], [], s_bio), typeof(ArgumentException), null,
            "There are 1 gold sequences but 0 predicted sequences; give one prediction per gold sequence."),
        ["Compute ignoring an unknown tag"] = (() => TaggingMetrics.Compute([[0]], [[0]], s_bio, ignoredTags: ["O", "X"]), typeof(ArgumentException), "ignoredTags",
            "Ignored tag 'X' is not one of the 3 tag names."),
        ["Compute with a null gold sequence"] = (() => TaggingMetrics.Compute([[0], null!], [[0], [0]], s_bio), typeof(ArgumentException), "gold",
            "Gold sequence 1 is null."),
        ["Compute with a null predicted sequence"] = (() => TaggingMetrics.Compute([[0], [0]], [[0], null!], s_bio), typeof(ArgumentException), "predicted",
            "Predicted sequence 1 is null."),
        ["Compute with a gold tag equal to the tag count"] = (() => TaggingMetrics.Compute([[0, 3]], [[0, 1]], s_bio), typeof(ArgumentException), "gold",
            "Row 0, step 1: gold tag 3 is outside [0, 3)."),
        ["Compute with a predicted tag equal to the tag count"] = (() => TaggingMetrics.Compute([[0, 1]], [[0, 3]], s_bio), typeof(ArgumentException), "predicted",
            "Row 0, step 1: predicted tag 3 is outside [0, 3)."),
        ["Compute with a negative predicted tag"] = (() => TaggingMetrics.Compute([[0], [1]], [[0], [-1]], s_bio), typeof(ArgumentException), "predicted",
            "Row 1, step 0: predicted tag -1 is outside [0, 3)."),

        ["IsBioTagSet of null"] = (() => BioEntities.IsBioTagSet(null!), typeof(ArgumentNullException), "tagNames", null),
        ["TryParse of null"] = (() => BioEntities.TryParse(null!, out _, out _), typeof(ArgumentNullException), "name", null),
        ["Extract with null tag names"] = (() => BioEntities.Extract([0], null!), typeof(ArgumentNullException), "tagNames", null),
        ["Extract with a name that is not BIO"] = (() => BioEntities.Extract([0], ["O", "NN"]), typeof(ArgumentException), "tagNames",
            "Tag name 'NN' (index 1) is not a BIO tag; BIO names are 'O', 'B-TYPE' or 'I-TYPE'."),
    };

    public static TheoryData<string> Refusals => [.. s_refusals.Keys];

    [Theory]
    [MemberData(nameof(Refusals))]
    public void BadInput_IsRefusedWithItsExceptionParameterAndMessage(string refusal)
    {
        var (call, type, parameter, message) = s_refusals[refusal];
        RefusalCheck.AssertRefused(refusal, call, type, parameter, message);
    }

    [Fact]
    public void TagCountMinusOne_IsAccepted_ByTheDataSetsAndTheMetrics()
    {
        var data = TaggedSequences.FromTokens([[1, 2]], [[0, 2]], 3);
        Assert.Equal([0, 2], TaggedSequences.TagsOf(data, 0));
        var steps = TaggedSequences.FromSteps([[1f, 2f, 3f, 4f]], 2, [[2, 1]], 3);
        Assert.Equal([2, 1], TaggedSequences.TagsOf(steps, 0));
        var metrics = TaggingMetrics.Compute([[2, 0]], [[0, 2]], s_bio);
        Assert.Equal(2, metrics.TokenCount);
        Assert.Equal(new PrecisionRecall(0, 1, 1), metrics.PerTag[2].Counts);
    }

    [Fact]
    public void BioNames_AreParsed_AndAnEmptyListIsNotABioTagSet()
    {
        Assert.False(BioEntities.IsBioTagSet([]), "An empty list of names is not a BIO tag set.");
        Assert.True(BioEntities.TryParse("O", out char prefix, out string type));
        Assert.Equal('O', prefix);
        Assert.Equal("", type);
        Assert.False(BioEntities.TryParse("NN", out prefix, out type));
        Assert.Equal(default, prefix);
        Assert.Equal("", type);
        Assert.True(BioEntities.TryParse("I-LOC", out prefix, out type));
        Assert.Equal(('I', "LOC"), (prefix, type));
    }
}
