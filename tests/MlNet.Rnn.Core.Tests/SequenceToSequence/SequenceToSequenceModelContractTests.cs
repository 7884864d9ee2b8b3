using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// What <see cref="SequenceToSequenceModel"/> promises beyond its equations (which <c>SequenceToSequenceReferenceTests</c>
/// checks): <c>Initialize</c> draws every parameter from the random source it is given, as the constructor does from the
/// seed; <c>Backward</c> after a translation rather than a training forward is refused before any gradient changes; a second training pass gives the gradient of the first
/// (nothing of the first pass's backward carries over); with dropout, the Bahdanau decoder's recomputation in backward
/// replays the masks its forward drew (the gradient is that of the loss the forward computed, by central differences of the
/// model's own loss with the masks fixed, since the double reference has no dropout); a beam of width 1 is greedy decoding (the same tokens; the log-probability summed in another order), and <c>Translate</c> with width 1 runs greedy decoding.
/// </summary>
public sealed class SequenceToSequenceModelContractTests
{
    private static readonly int[][] Sources = [[1, 2, 3], [4, 0], [5, 1, 2, 2, 3]];
    private static readonly int[][] Targets = [[3, 0], [5, 6, 3, 4], [6]];

    private static SequenceToSequenceModel Model(AttentionKind attention, RecurrentCellType cell = RecurrentCellType.Lstm, int seed = 3, float dropout = 0) =>
        new(new SequenceToSequenceOptions
        {
            Cell = cell, Attention = attention, Layers = 2, Bidirectional = true, SourceVocabularySize = 6, TargetVocabularySize = 7,
            EmbeddingSize = 2, HiddenSize = 3, Seed = seed, Dropout = dropout, MaxDegreeOfParallelism = 1,
        });

    private static PairBatch Batch(SequenceToSequenceModel model)
    {
        var batch = new PairBatch();
        batch.Fill(Sources, Targets, [0, 1, 2], model.Options.StartId, model.Options.EndId);
        return batch;
    }

    /// <summary>One training forward of <paramref name="batch"/>: the loss and dL/dz.</summary>
    private static (double Loss, float[] LogitsGradient) Pass(SequenceToSequenceModel model, PairBatch batch)
    {
        int rows = batch.TargetSteps * batch.BatchSize, V = model.TargetVocabularySize;
        var logits = new float[rows * V];
        var logitsGradient = new float[rows * V];
        model.Forward(batch, logits, training: true);
        double loss = new SoftmaxCrossEntropy().Compute(logits, batch.Targets.AsSpan(0, rows), rows, V, batch.Weights.AsSpan(0, rows), logitsGradient);
        return (loss, logitsGradient);
    }

    [Theory]
    [InlineData(AttentionKind.None)]
    [InlineData(AttentionKind.Luong)]
    [InlineData(AttentionKind.Bahdanau)]
    public void Initialize_DrawsEveryParameterFromTheRandomSourceItIsGiven(AttentionKind attention)
    {
        var model = Model(attention, seed: 3);
        float[] before = model.Parameters.ReadOnlyValues.ToArray();
        model.Initialize(new Random(8));
        Assert.Equal(Model(attention, seed: 8).Parameters.ReadOnlyValues.ToArray(), model.Parameters.ReadOnlyValues.ToArray());
        // Every tensor drawn again (the constructor builds the networks empty and draws them here too, so the equality alone
        // would hold for a part drawn by neither).
        foreach (var tensor in model.Parameters.Tensors)
            Assert.False(before.AsSpan(tensor.Offset, tensor.Length).SequenceEqual(model.Parameters.ReadOnlyValuesOf(tensor)), $"{tensor.Name} was not drawn again");
        Assert.Equal("random", Assert.Throws<ArgumentNullException>(() => model.Initialize(null!)).ParamName);
    }

    [Fact]
    public void Backward_AfterADecodingRatherThanATrainingForward_IsRefusedBeforeAnyGradientChanges()
    {
        // The encoder network would refuse too, but only after the decoder's backward had added into the gradients (the
        // Bahdanau decoder recomputes each step's forward in training mode): the model refuses before anything changes.
        var model = Model(AttentionKind.Bahdanau);
        var batch = Batch(model);
        var logitsGradient = new float[batch.TargetSteps * batch.BatchSize * model.TargetVocabularySize];
        const string Message = "Backward needs a Forward with training: true first.";
        Assert.Equal(Message, Assert.Throws<InvalidOperationException>(() => model.Backward(logitsGradient)).Message);

        logitsGradient = Pass(model, batch).LogitsGradient;
        model.Translate(Sources[0]);
        model.Parameters.ZeroGradients();
        Assert.Equal(Message, Assert.Throws<InvalidOperationException>(() => model.Backward(logitsGradient)).Message);
        Assert.All(model.Parameters.Gradients.ToArray(), g => Assert.Equal(0f, g));
    }

    [Theory]
    [InlineData(RecurrentCellType.Lstm, AttentionKind.Bahdanau)]
    [InlineData(RecurrentCellType.Gru, AttentionKind.Bahdanau)]
    [InlineData(RecurrentCellType.Lstm, AttentionKind.Luong)]
    public void ASecondTrainingPass_GivesTheGradientOfTheFirst(RecurrentCellType cell, AttentionKind attention)
    {
        var model = Model(attention, cell);
        var batch = Batch(model);
        model.Parameters.ZeroGradients();
        model.Backward(Pass(model, batch).LogitsGradient);
        float[] first = model.Parameters.Gradients.ToArray();
        Assert.Contains(first, g => g != 0);

        model.Parameters.ZeroGradients();
        model.Backward(Pass(model, batch).LogitsGradient);
        Assert.Equal(first, model.Parameters.Gradients.ToArray());
    }

    [Theory]
    [InlineData(RecurrentCellType.Lstm)]
    [InlineData(RecurrentCellType.Gru)]
    public void WithDropout_TheBahdanauDecodersBackwardReplaysTheMasksOfItsForward(RecurrentCellType cell)
    {
        // Dropout 0.5 between the two decoder layers, masks fixed by ReseedDropout before every forward: Backward's gradient
        // must be the central difference of the loss those masks give (float loss, step 1e-2: differences of masks would
        // move a gradient by about its own size, far beyond the 2e-3 + 2% allowed).
        var model = Model(AttentionKind.Bahdanau, cell, dropout: 0.5f);
        var batch = Batch(model);
        model.ReseedDropout(11);
        model.Parameters.ZeroGradients();
        model.Backward(Pass(model, batch).LogitsGradient);
        float[] gradient = model.Parameters.Gradients.ToArray();

        double Loss()
        {
            model.ReseedDropout(11);
            return Pass(model, batch).Loss;
        }
        Span<float> values = model.Parameters.Values;
        const float Step = 1e-2f;
        int checkedCount = 0;
        foreach (var tensor in model.DecoderParameters.Tensors)
        {
            for (int i = 0; i < tensor.Length; i++)
            {
                int at = tensor.Offset + i;
                float kept = values[at];
                values[at] = kept + Step;
                double up = Loss();
                values[at] = kept - Step;
                double down = Loss();
                values[at] = kept;
                double expected = (up - down) / (2 * Step);
                Assert.True(Math.Abs(gradient[at] - expected) <= 2e-3 + 0.02 * Math.Abs(expected),
                    $"{cell} {tensor.Name}[{i}]: Backward gives {gradient[at]}, the masked loss's central difference {expected}");
                checkedCount++;
            }
        }
        Assert.True(checkedCount > 100, $"{checkedCount} decoder parameters checked");
    }

    [Theory]
    [InlineData(AttentionKind.None)]
    [InlineData(AttentionKind.Luong)]
    [InlineData(AttentionKind.Bahdanau)]
    public void ABeamOfWidthOne_IsGreedyDecoding(AttentionKind attention)
    {
        // Six models of random weights in U(−2, 2), twelve sources each.
        var translations = new HashSet<string>();
        for (int seed = 1; seed <= 6; seed++)
        {
            var model = Model(attention);
            var random = new Random(seed);
            foreach (var set in new[] { model.EncoderParameters, model.DecoderParameters })
                NetworkFactory.Randomize(set, random, 2);
            int[][] sources = [.. Enumerable.Range(0, 12).Select(_ => Enumerable.Range(0, random.Next(1, 6)).Select(_ => random.Next(6)).ToArray())];
            var (ids, lengths) = SequenceDecoding.Pad(sources);
            var options = new DecodingOptions { BeamWidth = 1, MaxLength = 8 };

            var greedy = SequenceDecoding.Greedy(model, model.CreateWorkspace(), ids, sources.Length, lengths, options);
            var beam = SequenceDecoding.Beam(model, model.CreateWorkspace(), ids, sources.Length, lengths, options);
            // Translate with a width of 1 runs greedy decoding, every source in one batch: its translations bit for bit.
            var translated = model.Translate(sources, options);
            Assert.Equal(greedy.Select(t => (string.Join(",", t.Tokens), t.LogProbability, t.Ended)), translated.Select(t => (string.Join(",", t.Tokens), t.LogProbability, t.Ended)));

            for (int i = 0; i < sources.Length; i++)
            {
                Assert.Equal(greedy[i].Tokens, beam[i].Tokens);
                Assert.Equal(greedy[i].Ended, beam[i].Ended);
                // The same log-probabilities, each step's in float and summed in another order.
                Assert.True(Math.Abs(greedy[i].LogProbability - beam[i].LogProbability) <= 2e-6 + 1e-6 * Math.Abs(greedy[i].LogProbability),
                    $"model {seed}, source {i}: greedy log P {greedy[i].LogProbability}, beam {beam[i].LogProbability}");
                translations.Add(string.Join(",", greedy[i].Tokens));
            }
        }
        Assert.True(translations.Count > 5, $"{translations.Count} different translations: the check could hardly see a difference");
    }
}
