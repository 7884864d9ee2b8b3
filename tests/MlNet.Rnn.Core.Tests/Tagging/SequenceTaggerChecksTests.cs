using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tagging;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Tagging;

/// <summary>
/// Every argument check of <see cref="SequenceTagger"/> refuses its bad input with its own exception type, parameter name and
/// message (before any training or forward pass); output spans are accepted at their exact size and larger; the one-call
/// predictions are the span predictions; prediction reads the input, writes a softmax per step and never applies dropout.
/// All on untrained taggers of a few units.
/// </summary>
public sealed class SequenceTaggerChecksTests
{
    private const int C = 3;

    private static SequenceTagger TokenTagger() =>
        new(SequenceTagger.DefaultOptions(C, vocabularySize: 6) with { EmbeddingSize = 2, HiddenSize = 3, Seed = 5, MaxDegreeOfParallelism = 1 });

    private static SequenceTagger NumericTagger(float dropout = 0) =>
        new(SequenceTagger.DefaultOptions(C, featuresPerStep: 2) with { HiddenSize = 3, Seed = 5, Dropout = dropout, MaxDegreeOfParallelism = 1 });

    private static SequenceDataset Tokens() => TaggedSequences.FromTokens([[1, 2, 3]], [[0, 1, 2]], C);

    private static SequenceDataset Steps() => TaggedSequences.FromSteps([[1f, 2f, 3f, 4f]], 2, [[0, 1]], C);

    private static readonly TrainerOptions s_oneEpoch = new() { Epochs = 1, BatchSize = 1 };

    /// <summary>Each case: the call, the exception type it must throw, its parameter name and its message (null: not checked).</summary>
    private static readonly Dictionary<string, (Action Call, Type Exception, string? Parameter, string? Message)> s_refusals = new()
    {
        ["a null model"] = (() => _ = new SequenceTagger((SequenceModel)null!), typeof(ArgumentNullException), "model", null),
        ["a model reading out the last step"] = (() => _ = new SequenceTagger(new SequenceModel(new SequenceModelOptions { OutputSize = C, HiddenSize = 2 })),
            typeof(ArgumentException), "model", "A tagger needs Readout = EveryStep (one output per step); the model has LastStep."),
        ["Train on null"] = (() => TokenTagger().Train(null!, null, s_oneEpoch), typeof(ArgumentNullException), "training", null),
        ["Train with null options (on data of the wrong kind)"] = (() => TokenTagger().Train(Steps(), null, null!), typeof(ArgumentNullException), "options", null),
        ["Train on data with one target per example"] = (() => TokenTagger().Train(PerExample(), null, s_oneEpoch), typeof(ArgumentException), "training",
            "The training data is not a tagging data set (per-step targets of width 1); build it with TaggedSequences."),
        ["Train on data with per-step targets of width 2"] = (() => TokenTagger().Train(WidthTwo(), null, s_oneEpoch), typeof(ArgumentException), "training",
            "The training data is not a tagging data set (per-step targets of width 1); build it with TaggedSequences."),
        ["Train a token tagger on numeric data"] = (() => TokenTagger().Train(Steps(), null, s_oneEpoch), typeof(ArgumentException), "training",
            "The training data holds numeric sequences but the tagger reads token ids."),
        ["Train a numeric tagger on token data"] = (() => NumericTagger().Train(Tokens(), null, s_oneEpoch), typeof(ArgumentException), "training",
            "The training data holds token sequences but the tagger reads numeric steps."),
        ["Train with validation data of the wrong kind"] = (() => TokenTagger().Train(Tokens(), Steps(), s_oneEpoch), typeof(ArgumentException), "validation",
            "The validation data holds numeric sequences but the tagger reads token ids."),
        ["token ids to a numeric tagger"] = (() => NumericTagger().Predict(new[] { 1, 2 }), typeof(InvalidOperationException), null,
            "This tagger reads numeric steps (VocabularySize is 0); pass floats, not token ids."),
        ["floats to a token tagger"] = (() => TokenTagger().Predict(new[] { 1f, 2f }), typeof(InvalidOperationException), null,
            "This tagger reads token ids (VocabularySize > 0); pass ids, not floats."),
        ["no token"] = (() => TokenTagger().Predict(Array.Empty<int>()), typeof(ArgumentException), "tokens",
            "The sequence has no token; a tagger needs at least one step."),
        ["no step"] = (() => NumericTagger().Predict(Array.Empty<float>()), typeof(ArgumentException), "steps",
            "The sequence has no step; a tagger needs at least one."),
        ["5 values at 2 features per step"] = (() => NumericTagger().Predict(new[] { 1f, 2f, 3f, 4f, 5f }), typeof(ArgumentException), "steps",
            "The sequence has 5 values, which is not a multiple of 2 features per step."),
        ["a NaN feature"] = (() => NumericTagger().Predict(new[] { 1f, 2f, 3f, float.NaN, 5f, 6f }), typeof(ArgumentException), "steps",
            "Step 1, feature 1 is NaN; features must be finite."),
        ["a tag span shorter than the tokens"] = (() => TokenTagger().Predict([1, 2, 3], new int[2], default), typeof(ArgumentException), "tags",
            "tags holds 2 values but the sequence has 3 steps."),
        ["a tag span shorter than the steps"] = (() => NumericTagger().Predict([1f, 2f, 3f, 4f, 5f, 6f], new int[2], default), typeof(ArgumentException), "tags",
            "tags holds 2 values but the sequence has 3 steps."),
        ["a probability span shorter than T·C for tokens"] = (() => TokenTagger().Predict([1, 2, 3, 4], new int[4], new float[4 * C - 1]),
            typeof(ArgumentException), "probabilities", "probabilities holds 11 floats but T·C = 4·3 are needed."),
        ["a probability span shorter than T·C for steps"] = (() => NumericTagger().Predict([1f, 2f, 3f, 4f], new int[2], new float[2 * C - 1]),
            typeof(ArgumentException), "probabilities", "probabilities holds 5 floats but T·C = 2·3 are needed."),
        ["default options for no tag"] = (() => SequenceTagger.DefaultOptions(0), typeof(ArgumentOutOfRangeException), "tagCount", null),
        ["Predict on null"] = (() => TokenTagger().Predict((SequenceDataset)null!), typeof(ArgumentNullException), "data", null),
        ["Evaluate on null"] = (() => TokenTagger().Evaluate(null!), typeof(ArgumentNullException), "data", null),
        ["Predict on data with one target per example"] = (() => TokenTagger().Predict(PerExample()), typeof(ArgumentException), "data",
            "The data is not a tagging data set (per-step targets of width 1); build it with TaggedSequences."),
        ["Predict on data of the other kind"] = (() => TokenTagger().Predict(Steps()), typeof(ArgumentException), "data",
            "The data holds numeric sequences but the tagger reads token ids."),
    };

    /// <summary>A token data set with one target per example (not a tagging data set).</summary>
    private static SequenceDataset PerExample()
    {
        var data = new SequenceDataset(0, 1);
        data.AddTokens([1, 2], [1f]);
        return data;
    }

    /// <summary>A token data set with two targets per step (not a tagging data set).</summary>
    private static SequenceDataset WidthTwo()
    {
        var data = new SequenceDataset(0, 2, perStepTargets: true);
        data.AddTokens([1, 2], [1f, 0f, 0f, 1f]);
        return data;
    }

    public static TheoryData<string> Refusals => [.. s_refusals.Keys];

    [Theory]
    [MemberData(nameof(Refusals))]
    public void BadInput_IsRefusedWithItsExceptionParameterAndMessage(string refusal)
    {
        var (call, type, parameter, message) = s_refusals[refusal];
        RefusalCheck.AssertRefused(refusal, call, type, parameter, message);
    }

    [Fact]
    public void OutputSpans_OfTheExactSizeOrLarger_AreAccepted_AndOnlyTheirFirstTAndTCAreWritten()
    {
        var tagger = TokenTagger();
        int[] tokens = [1, 5, 2, 4];
        int[] expected = tagger.Predict(tokens);
        var exactProbabilities = new float[4 * C];
        var exact = new int[4];
        tagger.Predict(tokens, exact, exactProbabilities);
        Assert.Equal(expected, exact);
        var longer = Enumerable.Repeat(-1, 6).ToArray();
        var longerProbabilities = Enumerable.Repeat(-1f, 4 * C + 2).ToArray();
        tagger.Predict(tokens, longer, longerProbabilities);
        Assert.Equal([.. expected, -1, -1], longer);
        Assert.Equal([.. exactProbabilities, -1f, -1f], longerProbabilities);

        var numeric = NumericTagger();
        float[] steps = [0.5f, -1, 2, 0.25f];
        var numericLonger = Enumerable.Repeat(-1, 3).ToArray();
        numeric.Predict(steps, numericLonger, new float[2 * C + 1]);
        Assert.Equal([.. numeric.Predict(steps), -1], numericLonger);
    }

    [Fact]
    public void NumericPrediction_ReadsTheSteps_AndWritesTheTagOfLargestProbability()
    {
        var tagger = NumericTagger();
        var random = new Random(11);
        float[] steps = [.. Enumerable.Range(0, 2 * 16).Select(_ => random.NextSingle() * 8 - 4)];
        var tags = new int[16];
        var probabilities = new float[16 * C];
        tagger.Predict(steps, tags, probabilities);
        Assert.Contains(tags, tag => tag != 0);
        Assert.Equal(tags, tagger.Predict(steps));
        for (int t = 0; t < 16; t++)
        {
            var p = probabilities.AsSpan(t * C, C);
            Assert.True(Math.Abs(p[0] + p[1] + p[2] - 1) < 1e-5, $"Step {t}: probabilities {p[0]}, {p[1]}, {p[2]} do not sum to 1.");
            Assert.Equal(tags[t], System.Numerics.Tensors.TensorPrimitives.IndexOfMax(p));
        }
        var zeroProbabilities = new float[16 * C];
        tagger.Predict(new float[2 * 16], new int[16], zeroProbabilities);
        Assert.NotEqual(zeroProbabilities, probabilities);
    }

    [Fact]
    public void Prediction_AppliesNoDropout_SoRepeatedCallsAgree()
    {
        var tagger = NumericTagger(dropout: 0.5f);
        float[] steps = [0.5f, -1, 2, 0.25f, 1, 1, -3, 0];
        var first = new float[4 * C];
        var second = new float[4 * C];
        tagger.Predict(steps, new int[4], first);
        tagger.Predict(steps, new int[4], second);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Evaluate_NamesTheTags_WithTheGivenNamesOrTheirIndices()
    {
        var tagger = TokenTagger();
        var data = Tokens();
        Assert.Equal(["O", "B-X", "I-X"], tagger.Evaluate(data, ["O", "B-X", "I-X"]).PerTag.Select(tag => tag.Name));
        Assert.Equal(["0", "1", "2"], tagger.Evaluate(data).PerTag.Select(tag => tag.Name));
    }

    [Fact]
    public void AModelFileThatIsNotATagger_IsInvalidData_NamingTheSourceOrTheModelFile()
    {
        using var stream = new MemoryStream();
        SequenceModelFile.Save(new SequenceModel(new SequenceModelOptions { OutputSize = C, HiddenSize = 2 }), stream);
        const string Reason = "the model is not a tagger: A tagger needs Readout = EveryStep (one output per step); the model has LastStep.";

        stream.Position = 0;
        var named = Assert.Throws<InvalidDataException>(() => SequenceTagger.Load(stream, "classifier.safetensors"));
        Assert.Equal("classifier.safetensors: " + Reason, named.Message);
        stream.Position = 0;
        Assert.Equal("The model file: " + Reason, Assert.Throws<InvalidDataException>(() => SequenceTagger.Load(stream)).Message);
    }

    [Fact]
    public void TaggingADataSetInBatches_GivesEachSequenceTheTagsItGetsAlone()
    {
        // 600 sequences of 1 to 30 tokens, in three batches of up to 256 (of similar lengths): each one's tags are those of
        // Predict on it alone, and they come back in the data set's order.
        var tagger = TokenTagger();
        var random = new Random(4);
        int[][] sequences = [.. Enumerable.Range(0, 600).Select(_ => Enumerable.Range(0, random.Next(1, 31)).Select(_ => random.Next(6)).ToArray())];
        var data = TaggedSequences.FromTokens(sequences, [.. sequences.Select(s => new int[s.Length])], C);

        int[][] batched = tagger.Predict(data);

        Assert.Equal(sequences.Length, batched.Length);
        for (int i = 0; i < sequences.Length; i++) Assert.Equal(tagger.Predict(sequences[i]), batched[i]);
        Assert.True(batched.SelectMany(tags => tags).Distinct().Count() > 1, "every tag is the same: the check could not see a sequence given another's tags");
    }
}
