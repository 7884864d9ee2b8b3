using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// What <see cref="SequencePairs"/> refuses and how it says so (row, side, token position, parameter), the longest source it
/// holds, its two sides as lists, and the checks of data that is not pairs or whose pair encoding is broken, at each bound.
/// </summary>
public sealed class SequencePairsChecksTests
{
    private static void Refused(Action add, string parameter, string message)
    {
        var error = Assert.Throws<ArgumentException>(add);
        Assert.Equal(parameter, error.ParamName);
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void APairIsRefusedNamingItsRowSideAndToken()
    {
        var pairs = new SequencePairs();
        pairs.Add([1], [2]);
        pairs.Add([1, 2], [3]);
        Refused(() => pairs.Add([], [1]), "source",
            "Row 2: the source sequence is empty; every source needs at least one token (drop the row or give it the unknown id 0).");
        Refused(() => pairs.Add([1], []), "target",
            "Row 2: the target sequence is empty; every target needs at least one token (the end token is added by the model).");
        Refused(() => pairs.Add([1, -1], [1]), "source", "Row 2: source token 1 has id -1; ids are ≥ 0 (0 = unknown).");
        Refused(() => pairs.Add([0], [4, 5, -3]), "target", "Row 2: target token 2 has id -3; ids are ≥ 0 (0 = unknown).");
        Assert.Equal(2, pairs.Count);
        pairs.Add([0], [0]);
        Assert.Equal(3, pairs.Count);

        Assert.Equal("sources", Assert.Throws<ArgumentNullException>(() => SequencePairs.From(null!, [])).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentNullException>(() => SequencePairs.From([], null!)).ParamName);
        Refused(() => SequencePairs.From([[1], [2]], [[3]]), "targets", "sources holds 2 sequences but targets holds 1; give one target per source.");
        Refused(() => SequencePairs.From([[1], null!], [[3], [4]]), "source", "Row 1: the source sequence is empty");
        Refused(() => SequencePairs.From([[1], [2]], [null!, [4]]), "target", "Row 0: the target sequence is empty");
    }

    [Fact]
    public void BothSidesReadBackAsAdded()
    {
        var pairs = SequencePairs.From([[1, 2], [3]], [[4], [5, 6, 7]]);
        Assert.Equal(2, pairs.Count);
        Assert.Equal(2, pairs.Sources.Count);
        Assert.Equal(2, pairs.Targets.Count);
        Assert.Equal([1, 2], pairs.Sources[0]);
        Assert.Equal([5, 6, 7], pairs.Targets[1]);
        Assert.Equal([[1, 2], [3]], pairs.Sources.ToArray());
        Assert.Equal([[4], [5, 6, 7]], pairs.Targets.ToArray());
        Assert.Equal([[4], [5, 6, 7]], ((System.Collections.IEnumerable)pairs.Targets).Cast<int[]>().ToArray());
    }

    [Fact]
    public void ASourceHoldsAtMostMaxSourceLengthTokens()
    {
        var pairs = new SequencePairs();
        pairs.Add(new int[SequencePairs.MaxSourceLength], [1]);
        Assert.Equal(SequencePairs.MaxSourceLength, pairs.Sources[0].Length);
        Assert.Equal([1], pairs.Targets[0]);
        Refused(() => pairs.Add(new int[SequencePairs.MaxSourceLength + 1], [1]), "source", "The source has 16777217 tokens; a pair holds at most 16777216.");
        Assert.Equal(1, pairs.Count);
    }

    [Fact]
    public void ACacheOfPairsChecksEachPairAsAddedAndRefusesACacheOfOtherData()
    {
        using var cache = SequencePairs.CreateCache(1 << 20, seed: 1);
        SequencePairs.AddTo(cache, [1], [2]);
        SequencePairs.AddTo(cache, [1, 2], [3]);
        Refused(() => SequencePairs.AddTo(cache, [1], []), "target", "Row 2: the target sequence is empty");
        Refused(() => SequencePairs.AddTo(cache, [1, -4], [3]), "source", "Row 2: source token 1 has id -4");
        Assert.Equal("cache", Assert.Throws<ArgumentNullException>(() => SequencePairs.AddTo(null!, [1], [2])).ParamName);

        const string NotPairs = "The data does not hold sequence pairs: pairs are token examples with one target value, the source length. " +
            "Use SequencePairs, or a cache of SequencePairs.CreateCache filled by SequencePairs.AddTo.";
        foreach (var (features, width, perStep) in new[] { (1, 1, false), (0, 2, false), (0, 1, true) })
        {
            using var other = new SequenceCache(features, width, perStep, 1 << 20, seed: 1);
            Refused(() => SequencePairs.AddTo(other, [1], [2]), "cache", NotPairs);
        }

        var model = new SequenceToSequenceModel(SequenceToSequenceLearningTests.SmallOptions with { HiddenSize = 4, EmbeddingSize = 4 });
        var trainer = new SequencePairTrainer(model, new TrainerOptions { Epochs = 1 });
        var pairs = SequencePairs.From([[1]], [[3]]);
        var numbers = new SequenceDataset(featuresPerStep: 0, targetWidth: 2);
        numbers.AddTokens([1, 2], [1, 1]);
        Refused(() => trainer.Train(numbers), "training", NotPairs);
        Refused(() => trainer.Train(pairs, numbers), "validation", NotPairs);
        Refused(() => trainer.Evaluate(numbers), "data", NotPairs);
        Refused(() => model.Evaluate(numbers), "data", NotPairs);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(4f)]
    [InlineData(1.5f)]
    public void ARowWhoseSourceLengthIsNotAWholeNumberWithinItIsNotAPair(float sourceLength)
    {
        var model = new SequenceToSequenceModel(SequenceToSequenceLearningTests.SmallOptions with { HiddenSize = 4, EmbeddingSize = 4 });
        var trainer = new SequencePairTrainer(model, new TrainerOptions { Epochs = 1 });
        var broken = SequencePairs.Create();
        SequencePairs.Append(broken, [1], [3]);
        broken.AddTokens([1, 2, 3], [sourceLength]);
        Refused(() => trainer.Train(broken), "training", string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Row 1 of training is not a sequence pair: its source length {sourceLength} is not a whole number in [1, 3]. Add pairs with SequencePairs.Add or SequencePairs.AddTo."));

        // The same row with a source length at either end of [1, 3] passes the check.
        foreach (float length in new[] { 1f, 3f })
        {
            var pair = SequencePairs.Create();
            pair.AddTokens([1, 3, 4], [length]);
            Assert.True(double.IsFinite(trainer.Evaluate(pair).Loss));
        }
    }
}
