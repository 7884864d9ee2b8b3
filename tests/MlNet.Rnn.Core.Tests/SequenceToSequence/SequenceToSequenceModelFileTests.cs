using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

public sealed class SequenceToSequenceModelFileTests
{
    [Theory]
    [InlineData(RecurrentCellType.Lstm, AttentionKind.Luong, true)]
    [InlineData(RecurrentCellType.Gru, AttentionKind.None, false)]
    [InlineData(RecurrentCellType.Rnn, AttentionKind.Bahdanau, true)]
    public void SaveAndLoadGiveIdenticalOutputs(RecurrentCellType cell, AttentionKind attention, bool bidirectional)
    {
        var model = new SequenceToSequenceModel(SequenceToSequenceLearningTests.SmallOptions with
        {
            Cell = cell, Attention = attention, Bidirectional = bidirectional, Layers = 2, Seed = 9,
        });
        string path = Path.Combine(Path.GetTempPath(), $"seq2seq-{Guid.NewGuid():N}.safetensors");
        try
        {
            SequenceToSequenceModelFile.Save(model, path);
            var loaded = SequenceToSequenceModelFile.Load(path);
            Assert.Equal(model.Options, loaded.Options);
            Assert.Equal(model.Parameters.Values.ToArray(), loaded.Parameters.Values.ToArray());
            var sources = SequenceToSequenceLearningTests.ReversedDigits(10, seed: 7).Sources;
            var options = new DecodingOptions { BeamWidth = 3, MaxLength = 10 };
            var before = model.Translate(sources, options);
            var after = loaded.Translate(sources, options);
            for (int i = 0; i < sources.Count; i++)
            {
                Assert.Equal(before[i].Tokens, after[i].Tokens);
                Assert.Equal(before[i].LogProbability, after[i].LogProbability);
                Assert.Equal(model.Score(sources[i], [3, 4, 5]), loaded.Score(sources[i], [3, 4, 5]));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LoadRejectsAnotherKindOfModelFile()
    {
        var stream = new MemoryStream();
        SequenceModelFile.Save(new SequenceModel(new SequenceModelOptions { VocabularySize = 5, OutputSize = 2 }), stream);
        stream.Position = 0;
        var exception = Assert.Throws<InvalidDataException>(() => SequenceToSequenceModelFile.Load(stream, "tagger.safetensors"));
        Assert.Contains("not a sequence-to-sequence model", exception.Message);
    }
}
