using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

public sealed class SequenceToSequenceBadInputTests
{
    [Fact]
    public void EmptySourceOrTargetNamesTheRow()
    {
        var pairs = new SequencePairs();
        pairs.Add([1], [3]);
        pairs.Add([2], [4]);
        Assert.Contains("Row 2: the source sequence is empty", Assert.Throws<ArgumentException>(() => pairs.Add([], [3])).Message);
        Assert.Contains("Row 2: the target sequence is empty", Assert.Throws<ArgumentException>(() => pairs.Add([1], [])).Message);
        Assert.Contains("Row 1: the target sequence is empty",
            Assert.Throws<ArgumentException>(() => SequencePairs.From([[1], [2]], [[3], []])).Message);

        var model = new SequenceToSequenceModel(SequenceToSequenceLearningTests.SmallOptions);
        Assert.Contains("Row 1: the source sequence is empty", Assert.Throws<ArgumentException>(() => model.Translate([[1, 2], []])).Message);
        Assert.Contains("Row 0: the source sequence is empty", Assert.Throws<ArgumentException>(() => model.Translate(ReadOnlySpan<int>.Empty)).Message);
    }

    [Fact]
    public void TargetVocabularyWithoutEndTokenIsAnError()
    {
        var options = SequenceToSequenceLearningTests.SmallOptions;
        var exception = Assert.Throws<ArgumentException>(() => new SequenceToSequenceModel(options with { TargetVocabularySize = 2 }));
        Assert.Contains("no end token", exception.Message);
        Assert.Contains("no end token", Assert.Throws<ArgumentException>(() => new SequenceToSequenceModel(options with { EndId = 0 })).Message);
        Assert.Throws<ArgumentException>(() => new SequenceToSequenceModel(options with { StartId = 2, EndId = 2 }));
    }

    [Fact]
    public void MaxLengthMustBePositive()
    {
        var model = new SequenceToSequenceModel(SequenceToSequenceLearningTests.SmallOptions);
        foreach (int maxLength in new[] { 0, -3 })
        {
            var exception = Assert.Throws<ArgumentOutOfRangeException>(() => model.Translate([1, 2], new DecodingOptions { MaxLength = maxLength }));
            Assert.Equal("MaxLength", exception.ParamName);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Translate([1, 2], new DecodingOptions { BeamWidth = 0 }));
    }

    [Fact]
    public void IdsOutsideTheVocabulariesOrReservedAreErrorsNamingTheRow()
    {
        var model = new SequenceToSequenceModel(SequenceToSequenceLearningTests.SmallOptions);
        var trainer = new SequencePairTrainer(model, new TrainerOptions { Epochs = 1 });
        var message = Assert.Throws<ArgumentException>(() => trainer.Train(SequencePairs.From([[1], [11]], [[3], [4]]))).Message;
        Assert.Contains("Row 1", message);
        Assert.Contains("id 11", message);
        message = Assert.Throws<ArgumentException>(() => trainer.Train(SequencePairs.From([[1], [2], [3]], [[3], [4], [5, 2]]))).Message;
        Assert.Contains("Row 2", message);
        Assert.Contains("reserved end id", message);
    }
}
