using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// dL/dθ of the whole model (encoder, bridge, decoder, attention, output) against central differences of the masked
/// cross-entropy, for every parameter of a tiny model; the components are checked against double references elsewhere.
/// </summary>
public sealed class SequenceToSequenceGradientTests
{
    [Theory]
    [InlineData(RecurrentCellType.Lstm, AttentionKind.Luong, true, 2)]
    [InlineData(RecurrentCellType.Gru, AttentionKind.Luong, false, 1)]
    [InlineData(RecurrentCellType.Rnn, AttentionKind.None, true, 1)]
    [InlineData(RecurrentCellType.Lstm, AttentionKind.None, false, 2)]
    [InlineData(RecurrentCellType.Lstm, AttentionKind.Bahdanau, true, 2)]
    [InlineData(RecurrentCellType.Gru, AttentionKind.Bahdanau, false, 1)]
    public void GradientsMatchCentralDifferences(RecurrentCellType cell, AttentionKind attention, bool bidirectional, int layers)
    {
        var model = new SequenceToSequenceModel(new SequenceToSequenceOptions
        {
            Cell = cell, Attention = attention, Bidirectional = bidirectional, Layers = layers, SourceVocabularySize = 6, TargetVocabularySize = 7,
            EmbeddingSize = 3, HiddenSize = 4, Seed = 3, MaxDegreeOfParallelism = 1,
        });
        // Different source and target lengths, so padding on both sides is exercised.
        var pairs = SequencePairs.From([[1, 2, 3], [4], [5, 1, 2, 2]], [[3, 4], [5, 6, 3, 4], [6]]);
        var batch = new PairBatch();
        batch.Fill(pairs.Sources, pairs.Targets, [0, 1, 2], model.Options.StartId, model.Options.EndId);
        int rows = batch.TargetSteps * batch.BatchSize, V = model.TargetVocabularySize;
        var loss = new SoftmaxCrossEntropy();
        var logits = new float[rows * V];
        var gradient = new float[rows * V];
        double Loss(bool training)
        {
            model.Forward(batch, logits, training);
            return loss.Compute(logits, batch.Targets.AsSpan(0, rows), rows, V, batch.Weights.AsSpan(0, rows), gradient);
        }

        Loss(training: true);
        foreach (var set in model.ParameterSets) set.ZeroGradients();
        model.Backward(gradient);
        var analytic = model.ParameterSets.Select(set => set.Gradients.ToArray()).ToArray();

        const float epsilon = 1e-2f;
        int checkedCount = 0;
        for (int s = 0; s < analytic.Length; s++)
        {
            var set = model.ParameterSets[s];
            foreach (var tensor in set.Tensors)
                for (int i = 0; i < tensor.Length; i++)
                {
                    Span<float> values = set.ValuesOf(tensor);
                    float original = values[i];
                    values[i] = original + epsilon;
                    double plus = Loss(training: false);
                    values = set.ValuesOf(tensor);
                    values[i] = original - epsilon;
                    double minus = Loss(training: false);
                    set.ValuesOf(tensor)[i] = original;
                    double numeric = (plus - minus) / (2 * epsilon), exact = analytic[s][tensor.Offset + i];
                    Assert.True(Math.Abs(numeric - exact) <= 2e-3 + 2e-2 * Math.Abs(numeric),
                        $"{(s == 0 ? "encoder" : "decoder")}.{tensor.Name}[{i}]: analytic {exact:g6}, central difference {numeric:g6}");
                    checkedCount++;
                }
        }
        Assert.Equal(model.ParameterCount, checkedCount);
        // The gradient is not trivially zero anywhere important: the encoder receives some through the bridge and attention.
        Assert.Contains(analytic[0], g => Math.Abs(g) > 1e-4);
    }
}
