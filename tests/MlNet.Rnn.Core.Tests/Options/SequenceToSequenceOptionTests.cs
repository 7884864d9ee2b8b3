using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Options;

/// <summary>
/// Options of <see cref="SequenceToSequenceOptions"/> act as documented: StartId is the decoder's first input, EndId the
/// token that ends decoding and that every score includes, Dropout changes training only, ForgetGateBias sets the LSTM
/// forget-gate biases of encoder and decoder, Seed decides the initial weights. (The shape options, Attention and Cell are
/// checked by the gradient and file tests of the SequenceToSequence folder.)
/// </summary>
public sealed class SequenceToSequenceOptionTests
{
    private static SequenceToSequenceOptions Small(int startId = 1, int endId = 2) => new()
    {
        Cell = RecurrentCellType.Gru, SourceVocabularySize = 5, TargetVocabularySize = 6, StartId = startId, EndId = endId, EmbeddingSize = 3,
        HiddenSize = 4, Attention = AttentionKind.Luong, Seed = 2, MaxDegreeOfParallelism = 1,
    };

    [Fact]
    public void EndId_EndsDecoding_AndEveryScoreIncludesIt()
    {
        // The output bias makes EndId (5 here, not the default 2) certain at every step.
        var model = new SequenceToSequenceModel(Small(startId: 4, endId: 5));
        model.DecoderParameters.ValuesOf(model.DecoderParameters["output.bias"])[5] += 50;
        foreach (int beam in new[] { 1, 3 })
        {
            var translation = model.Translate([[1, 2, 3]], new DecodingOptions { BeamWidth = beam, MaxLength = 5 })[0];
            Assert.True(translation.Ended);
            Assert.Empty(translation.Tokens);
        }
        Assert.Equal(0, model.Score([1, 2, 3], []), 1e-6);
        Assert.True(model.Score([1, 2, 3], [2]) < -40, "Id 2 is an ordinary token when EndId is 5, and the certain end makes it unlikely.");

        // With the default EndId = 2 the same bias makes id 5 an ordinary token emitted until MaxLength.
        var other = new SequenceToSequenceModel(Small());
        other.DecoderParameters.ValuesOf(other.DecoderParameters["output.bias"])[5] += 50;
        var endless = other.Translate([[1, 2, 3]], new DecodingOptions { MaxLength = 5 })[0];
        Assert.False(endless.Ended);
        Assert.Equal([5, 5, 5, 5, 5], endless.Tokens);
    }

    [Fact]
    public void StartId_IsTheDecodersFirstInput()
    {
        // The target embedding row of StartId (4 here) changes the score of a one-token target; the row of id 1 (the default
        // start id, an ordinary unused token here) does not.
        var model = new SequenceToSequenceModel(Small(startId: 4, endId: 5));
        int[] source = [1, 2, 3], target = [3];
        double before = model.Score(source, target);
        var embedding = model.DecoderParameters.ValuesOf(model.DecoderParameters["embedding.weight"]);
        embedding.Slice(1 * 3, 3).Fill(2f);
        Assert.Equal(before, model.Score(source, target));
        embedding.Slice(4 * 3, 3).Fill(2f);
        Assert.NotEqual(before, model.Score(source, target), 1e-6);
    }

    [Fact]
    public void Dropout_ChangesTrainingOnly()
    {
        var pairs = SequencePairs.From([[1, 2, 3], [4, 2], [3, 3, 1]], [[3, 4], [4], [5, 3, 3]]);
        var options = Small() with { Layers = 2 };
        var plain = new SequenceToSequenceModel(options);
        var dropped = new SequenceToSequenceModel(options with { Dropout = 0.5f });
        Assert.Equal(plain.EncoderParameters.Values.ToArray(), dropped.EncoderParameters.Values.ToArray());
        Assert.Equal(plain.DecoderParameters.Values.ToArray(), dropped.DecoderParameters.Values.ToArray());
        Assert.Equal(plain.Score([1, 2, 3], [3, 4]), dropped.Score([1, 2, 3], [3, 4]));

        var training = new TrainerOptions { Epochs = 1, BatchSize = 3, Optimizer = OptimizerKind.Sgd, LearningRate = 0.1f, Shuffle = false };
        new SequencePairTrainer(plain, training).Train(pairs);
        new SequencePairTrainer(dropped, training).Train(pairs);
        Assert.NotEqual(plain.DecoderParameters.Values.ToArray(), dropped.DecoderParameters.Values.ToArray());
    }

    [Fact]
    public void ForgetGateBias_SetsTheForgetBlockOfEveryLstmLayer_InEncoderAndDecoder()
    {
        const int H = 4;
        var model = new SequenceToSequenceModel(Small() with { Cell = RecurrentCellType.Lstm, Layers = 2, Bidirectional = true, ForgetGateBias = 1.5f });
        int checkedTensors = 0;
        foreach (var parameters in new[] { model.EncoderParameters, model.DecoderParameters })
            foreach (var tensor in parameters.Tensors.Where(t => parameters.LocalName(t).StartsWith("bias_", StringComparison.Ordinal)))
            {
                float expected = parameters.LocalName(tensor).StartsWith("bias_ih", StringComparison.Ordinal) ? 1.5f : 0f;
                Assert.All(parameters.ValuesOf(tensor).Slice(H, H).ToArray(), value => Assert.Equal(expected, value));
                checkedTensors++;
            }
        Assert.Equal(2 * 2 * 2 + 2 * 2, checkedTensors); // encoder: 2 layers × 2 directions × (ih, hh); decoder: 2 layers × (ih, hh)

        var unset = new SequenceToSequenceModel(Small() with { Cell = RecurrentCellType.Lstm });
        Assert.Contains(unset.EncoderParameters.ValuesOf(unset.EncoderParameters["bias_ih_l0"]).Slice(H, H).ToArray(), value => value != 1.5f);
    }

    [Fact]
    public void Seed_DecidesTheInitialWeights()
    {
        float[] Weights(int seed)
        {
            var model = new SequenceToSequenceModel(Small() with { Seed = seed });
            return [.. model.EncoderParameters.Values, .. model.DecoderParameters.Values];
        }
        Assert.Equal(Weights(3), Weights(3));
        Assert.NotEqual(Weights(3), Weights(4));
    }
}
