using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// The whole sequence-to-sequence model (embeddings, encoder, bridge, teacher-forced decoder, Luong or Bahdanau attention,
/// output layer, masked cross-entropy) against <see cref="SequenceToSequenceReference"/>, the double-precision reference
/// written from the equations: the float logits and log-likelihoods of a padded batch agree with it, and dL/dθ from
/// <c>Backward</c> matches central differences of the reference's loss for every trainable scalar, over every cell and
/// attention with one or two layers and one or two encoder directions; batched greedy decoding emits the reference's
/// step-by-step argmax tokens with its log-probability, and beam search's hypotheses carry the log-probability the
/// reference gives them. Decoding never emits the unknown id or the start id, even where the model finds them likeliest.
/// </summary>
public sealed class SequenceToSequenceReferenceTests
{
    // Sources and targets of different lengths (an empty target too), so the batch pads both sides. Target ids avoid start (1) and end (2).
    private static readonly int[][] Sources = [[1, 2, 3], [4, 0], [5, 1, 2, 2, 3]];
    private static readonly int[][] Targets = [[3, 0], [5, 6, 3, 4], []];

    /// <summary>Every cell with every attention (the 3 × 3 product); layers and directions vary so that each value meets each cell and attention.</summary>
    public static TheoryData<RecurrentCellType, AttentionKind, int, bool> Cases() => new()
    {
        { RecurrentCellType.Lstm, AttentionKind.None, 1, false },
        { RecurrentCellType.Lstm, AttentionKind.Luong, 2, true },
        { RecurrentCellType.Lstm, AttentionKind.Bahdanau, 2, true },
        { RecurrentCellType.Gru, AttentionKind.None, 2, true },
        { RecurrentCellType.Gru, AttentionKind.Luong, 1, false },
        { RecurrentCellType.Gru, AttentionKind.Bahdanau, 1, true },
        { RecurrentCellType.Rnn, AttentionKind.None, 1, true },
        { RecurrentCellType.Rnn, AttentionKind.Luong, 2, false },
        { RecurrentCellType.Rnn, AttentionKind.Bahdanau, 2, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesReference(RecurrentCellType cell, AttentionKind attention, int layers, bool bidirectional)
    {
        var model = CreateModel(cell, attention, layers, bidirectional);
        var reference = SequenceToSequenceReference.Of(model);
        string name = Describe(cell, attention, layers, bidirectional);
        var batch = Batch(model);
        int B = batch.BatchSize, V = model.TargetVocabularySize;
        var logits = new float[batch.TargetSteps * B * V];
        model.Forward(batch, logits, training: false);
        for (int b = 0; b < B; b++)
        {
            double[][] expected = reference.Logits(Sources[b], Targets[b]);
            // Logits are sums over H·D-wide products of weights up to 2 after two stacks and an attention: float rounding of
            // the activations (≤ 2·10⁻⁷ relative) reaches about 10⁻⁶ in absolute terms on a logit near zero.
            for (int t = 0; t < expected.Length; t++)
                Tolerance.AssertClose(expected[t], logits.AsSpan((t * B + b) * V, V), 1e-5, 3e-6, $"{name}: logits of pair {b}, target step {t}");
            double logProbability = reference.LogProbability(Sources[b], Targets[b]);
            Tolerance.AssertClose([logProbability], [(float)model.Score(Sources[b], Targets[b])], 1e-5, 1e-6, $"{name}: Score of pair {b}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientsMatchCentralDifferencesOfReferenceLoss(RecurrentCellType cell, AttentionKind attention, int layers, bool bidirectional)
    {
        // Label smoothing in one case per cell, so its gradient is covered too.
        double labelSmoothing = attention == AttentionKind.Luong ? 0.1 : 0;
        var model = CreateModel(cell, attention, layers, bidirectional);
        var reference = SequenceToSequenceReference.Of(model);
        string name = Describe(cell, attention, layers, bidirectional);
        var batch = Batch(model);
        int rows = batch.TargetSteps * batch.BatchSize, V = model.TargetVocabularySize;
        var logits = new float[rows * V];
        var logitsGradient = new float[rows * V];
        model.Forward(batch, logits, training: true);
        double loss = new SoftmaxCrossEntropy(labelSmoothing: (float)labelSmoothing)
            .Compute(logits, batch.Targets.AsSpan(0, rows), rows, V, batch.Weights.AsSpan(0, rows), logitsGradient);
        model.Parameters.ZeroGradients();
        model.Backward(logitsGradient);

        double Loss() => reference.Loss(Sources, Targets, labelSmoothing);
        Tolerance.AssertClose([Loss()], [(float)loss], 1e-5, 1e-6, $"{name}: loss");
        Assert.Equal(model.ParameterCount, model.Parameters.Tensors.Sum(tensor => tensor.Length));
        CentralDifferences.AssertEveryParameter(model.Parameters, CentralDifferences.Accumulated(model.Parameters), reference.Parameters, Loss, name);
    }

    [Theory]
    [InlineData(RecurrentCellType.Lstm, AttentionKind.None, 2, true)]
    [InlineData(RecurrentCellType.Gru, AttentionKind.Luong, 1, true)]
    [InlineData(RecurrentCellType.Lstm, AttentionKind.Bahdanau, 1, false)]
    [InlineData(RecurrentCellType.Rnn, AttentionKind.Bahdanau, 2, true)]
    public void GreedyDecodingMatchesReference(RecurrentCellType cell, AttentionKind attention, int layers, bool bidirectional)
    {
        var model = CreateModel(cell, attention, layers, bidirectional);
        var reference = SequenceToSequenceReference.Of(model);
        string name = Describe(cell, attention, layers, bidirectional);
        int[][] sources = [[1, 2, 3], [4], [5, 1, 2, 2, 3], [0, 5], [3, 3, 1, 4]];
        var options = new DecodingOptions { MaxLength = 6 };
        // All sources decode as one padded batch; the reference decodes each alone.
        var translations = model.Translate(sources, options);
        int emitted = 0;
        for (int row = 0; row < sources.Length; row++)
        {
            var (tokens, logProbability, ended) = reference.Greedy(sources[row], options.MaxLength);
            Assert.True(tokens.SequenceEqual(translations[row].Tokens),
                $"{name}, source {row}: greedy decoding gave [{string.Join(", ", translations[row].Tokens)}], the reference [{string.Join(", ", tokens)}].");
            Assert.Equal(ended, translations[row].Ended);
            Tolerance.AssertClose([logProbability], [(float)translations[row].LogProbability], 1e-5, 1e-6, $"{name}, source {row}: log P");
            emitted += tokens.Length;
        }
        // The untrained model must emit tokens before the end, or this would only compare first steps.
        Assert.True(emitted >= sources.Length, $"{name}: the reference decodes only {emitted} tokens in all; the test needs longer outputs.");

        // Beam search returns hypotheses whose log P the reference confirms (end included when it ended).
        foreach (var (source, translation) in sources.Zip(model.Translate(sources, options with { BeamWidth = 3 })))
        {
            double[][] logits = reference.Logits(source, translation.Tokens);
            double expected = 0;
            for (int t = 0; t < logits.Length - (translation.Ended ? 0 : 1); t++)
                expected += Softmax.Log(logits[t])[t < translation.Tokens.Length ? translation.Tokens[t] : model.Options.EndId];
            Tolerance.AssertClose([expected], [(float)translation.LogProbability], 1e-5, 1e-6, $"{name}: beam log P of [{string.Join(", ", translation.Tokens)}]");
        }
    }

    /// <summary>
    /// Beam search returns the hypothesis the reference's beam search (<see cref="SequenceToSequenceReference.Beam"/>, every
    /// hypothesis re-scored from its source and prefix) returns, for widths 2, 3 and 5 and α 0, 0.6 and 1: the same tokens,
    /// whether it ended, and its log P. The models are chosen so that many of the 63 searches each runs find something other
    /// than greedy decoding (17 to 48 of them; the test requires 3), so that the beams after the first matter: reading one
    /// beam's log-probabilities for another, or stopping by another rule, changes results.
    /// </summary>
    [Theory]
    [InlineData(RecurrentCellType.Lstm, AttentionKind.Luong, 1, true)]
    [InlineData(RecurrentCellType.Gru, AttentionKind.Bahdanau, 1, true)]
    [InlineData(RecurrentCellType.Rnn, AttentionKind.Luong, 2, false)]
    [InlineData(RecurrentCellType.Rnn, AttentionKind.None, 1, true)]
    public void BeamSearchMatchesReference(RecurrentCellType cell, AttentionKind attention, int layers, bool bidirectional)
    {
        var model = CreateModel(cell, attention, layers, bidirectional);
        var reference = SequenceToSequenceReference.Of(model);
        string name = Describe(cell, attention, layers, bidirectional);
        int[][] sources = [[1, 2, 3], [4], [5, 1, 2, 2, 3], [0, 5], [3, 3, 1, 4], [2, 4, 4], [5, 5, 0, 1]];
        const int maxLength = 6;
        int[][] greedy = [.. sources.Select(source => reference.Greedy(source, maxLength).Tokens)];
        int differFromGreedy = 0;
        foreach (int width in new[] { 2, 3, 5 })
            foreach (float alpha in new[] { 0f, 0.6f, 1f })
            {
                var options = new DecodingOptions { BeamWidth = width, LengthNormalization = alpha, MaxLength = maxLength };
                var translations = model.Translate(sources, options);
                for (int row = 0; row < sources.Length; row++)
                {
                    var (tokens, logProbability, ended) = reference.Beam(sources[row], width, alpha, options.MaxLength);
                    string what = $"{name}, width {width}, α {alpha}, source {row}";
                    Assert.True(tokens.SequenceEqual(translations[row].Tokens),
                        $"{what}: beam search gave [{string.Join(", ", translations[row].Tokens)}], the reference [{string.Join(", ", tokens)}].");
                    Assert.Equal(ended, translations[row].Ended);
                    Tolerance.AssertClose([logProbability], [(float)translations[row].LogProbability], 1e-5, 1e-6, $"{what}: log P");
                    if (!tokens.SequenceEqual(greedy[row])) differFromGreedy++;
                }
            }
        Assert.True(differFromGreedy >= 3, $"{name}: only {differFromGreedy} of the searches differ from greedy decoding; the test needs models whose beams matter.");
    }

    [Theory]
    [InlineData(RecurrentCellType.Gru, AttentionKind.Luong, false)]
    [InlineData(RecurrentCellType.Lstm, AttentionKind.Bahdanau, true)]
    public void DecodingNeverEmitsTheUnknownOrStartId_EvenWhenTheModelFavoursThem(RecurrentCellType cell, AttentionKind attention, bool keyIds)
    {
        // Token ids (start 1, end 2), or the ids of 4 ML.NET keys (start 5, end 6): V_t = 7 either way.
        var (startId, endId) = keyIds ? (Vocabulary.OfKeys(4).StartId, Vocabulary.OfKeys(4).EndId) : (1, 2);
        var model = CreateModel(cell, attention, 1, bidirectional: true, startId, endId);
        // |W_o h| ≤ 2·H = 6 and |b_o| ≤ 2, so +20 makes unknown or start the likeliest id of every step.
        var parameters = model.DecoderParameters;
        Span<float> bias = parameters.ValuesOf(parameters["output.bias"]);
        bias[Vocabulary.UnknownId] += 20;
        bias[startId] += 20;
        var reference = SequenceToSequenceReference.Of(model);
        string name = $"{cell} {attention}, start {startId}";
        int[][] sources = [[1, 2, 3], [4], [5, 1, 2, 2, 3], [0, 5], [3, 3, 1, 4]];
        foreach (int[] source in sources)
        {
            double[] first = reference.Logits(source, [])[0];
            Assert.True(first.Max() == first[0] || first.Max() == first[startId], $"{name}: unknown or start must be the likeliest first id.");
        }

        var options = new DecodingOptions { MaxLength = 6 };
        var greedy = model.Translate(sources, options);
        int emitted = 0;
        for (int row = 0; row < sources.Length; row++)
        {
            var (tokens, logProbability, ended) = reference.Greedy(sources[row], options.MaxLength);
            Assert.True(tokens.SequenceEqual(greedy[row].Tokens),
                $"{name}, source {row}: greedy decoding gave [{string.Join(", ", greedy[row].Tokens)}], the reference [{string.Join(", ", tokens)}].");
            Assert.Equal(ended, greedy[row].Ended);
            Tolerance.AssertClose([logProbability], [(float)greedy[row].LogProbability], 1e-5, 1e-6, $"{name}, source {row}: log P");
            emitted += tokens.Length;
        }
        Assert.True(emitted >= sources.Length, $"{name}: only {emitted} tokens decoded in all; the test needs longer outputs.");

        foreach (int width in new[] { 2, 7 })
            foreach (var (source, translation) in sources.Zip(model.Translate(sources, options with { BeamWidth = width, LengthNormalization = 0 })))
            {
                Assert.DoesNotContain(Vocabulary.UnknownId, translation.Tokens);
                Assert.DoesNotContain(startId, translation.Tokens);
                double[][] logits = reference.Logits(source, translation.Tokens);
                double expected = 0;
                for (int t = 0; t < logits.Length - (translation.Ended ? 0 : 1); t++)
                    expected += Softmax.Log(logits[t])[t < translation.Tokens.Length ? translation.Tokens[t] : endId];
                Tolerance.AssertClose([expected], [(float)translation.LogProbability], 1e-5, 1e-6, $"{name}: beam {width} log P of [{string.Join(", ", translation.Tokens)}]");
            }
    }

    /// <summary>
    /// A tiny model whose parameters are redrawn from U(−2, 2): far wider than the default initialisation, so memories differ
    /// from step to step, attention weights are far from uniform and every gradient path (attention scores, keys, query,
    /// bridge) carries a share the gradient check sees. (With U(−1, 1), dropping Bahdanau's query or key→memory gradient
    /// moved the deep bidirectional LSTM's gradients by less than the tolerance; with U(−2, 2) by 10–50 times it, while the
    /// correct gradients stay within 3% of it.)
    /// </summary>
    private static SequenceToSequenceModel CreateModel(RecurrentCellType cell, AttentionKind attention, int layers, bool bidirectional,
        int startId = 1, int endId = 2)
    {
        var model = new SequenceToSequenceModel(new SequenceToSequenceOptions
        {
            Cell = cell, Attention = attention, Layers = layers, Bidirectional = bidirectional, SourceVocabularySize = 6, TargetVocabularySize = 7,
            StartId = startId, EndId = endId, EmbeddingSize = 2, HiddenSize = 3, Seed = 3, MaxDegreeOfParallelism = 1,
        });
        var random = new Random(5);
        foreach (var set in new[] { model.EncoderParameters, model.DecoderParameters })
            NetworkFactory.Randomize(set, random, 2);
        return model;
    }

    private static PairBatch Batch(SequenceToSequenceModel model)
    {
        var batch = new PairBatch();
        batch.Fill(Sources, Targets, [0, 1, 2], model.Options.StartId, model.Options.EndId);
        return batch;
    }

    private static string Describe(RecurrentCellType cell, AttentionKind attention, int layers, bool bidirectional) =>
        $"{cell} {attention} L={layers} D={(bidirectional ? 2 : 1)}";
}
