using System.Runtime.CompilerServices;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Models;

/// <summary>
/// The contract of <see cref="SequenceModel.BackpropagateTruncated"/> around its gradient (which
/// <see cref="TruncatedSequenceModelTests"/> checks): a null batch or loss, a chunk of no steps and a bidirectional model are
/// refused by name or message before anything changes (a training pass before it can still be backpropagated, no gradient is
/// added); <see cref="SequenceModel.Backward"/> cannot follow it; many-to-many, the loss gets each chunk's outputs as a full
/// training pass computes them, zeros at padded steps, with the chunk's targets (several per step) and weights; an overflowing
/// gradient makes every gradient NaN; and the model keeps no reference to the loss after the call, even when the loss throws.
/// </summary>
public sealed class TruncatedSequenceModelContractTests
{
    private const int B = 3, O = 2, W = 2;
    private static readonly int[] s_lengths = [5, 2, 4];

    private static SequenceModelOptions Options(SequenceReadout readout = SequenceReadout.LastStep) => new()
    {
        Cell = RecurrentCellType.Gru, FeaturesPerStep = 2, HiddenSize = 3, OutputSize = O, Readout = readout, Seed = 3, MaxDegreeOfParallelism = 1,
    };

    private static SequenceModel Model(SequenceModelOptions options)
    {
        var model = new SequenceModel(options);
        NetworkFactory.Randomize(model.Parameters, new Random(8), 0.6);
        return model;
    }

    /// <summary>Sequences of lengths 5, 2, 4 with weights 1, 2, 3 and random targets of width 2 (per step or per sequence).</summary>
    private static SequenceBatch Batch(bool perStep)
    {
        var random = new Random(4);
        var data = new SequenceDataset(2, W, perStep);
        for (int b = 0; b < B; b++)
            data.Add(NetworkFactory.RandomFloats(random, s_lengths[b] * 2), NetworkFactory.RandomFloats(random, (perStep ? s_lengths[b] : 1) * W), weight: 1 + b);
        var batch = new SequenceBatch();
        data.Fill([0, 1, 2], batch);
        return batch;
    }

    private static double Zero(ReadOnlySpan<float> output, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, int rows, Span<float> gradient) => 0;

    [Fact]
    public void BadArguments_AreRefusedBeforeAnythingChanges()
    {
        var model = Model(Options());
        var batch = Batch(perStep: false);
        model.Forward(batch, new float[B * O], training: true);
        model.Parameters.ZeroGradients();

        Assert.Equal("batch", Assert.Throws<ArgumentNullException>(() => model.BackpropagateTruncated(null!, 2, Zero)).ParamName);
        Assert.Equal("loss", Assert.Throws<ArgumentNullException>(() => model.BackpropagateTruncated(batch, 2, null!)).ParamName);
        Assert.Equal("chunkSteps", Assert.Throws<ArgumentOutOfRangeException>(() => model.BackpropagateTruncated(batch, 0, Zero)).ParamName);
        Assert.Equal("chunkSteps", Assert.Throws<ArgumentOutOfRangeException>(() => model.BackpropagateTruncated(batch, -1, Zero)).ParamName);

        // The training pass before the refusals is still the last pass: it can be backpropagated, and nothing was added before.
        Assert.All(model.Parameters.Gradients.ToArray(), g => Assert.Equal(0f, g));
        model.Backward(new float[B * O]);
    }

    [Fact]
    public void ABidirectionalModel_IsRefusedSayingWhy_BeforeAnythingChanges()
    {
        var model = Model(Options() with { Bidirectional = true });
        var batch = Batch(perStep: false);
        model.Forward(batch, new float[B * O], training: true);
        var error = Assert.Throws<InvalidOperationException>(() => model.BackpropagateTruncated(batch, 2, Zero));
        Assert.Equal("Truncated BPTT needs a unidirectional model: the reverse direction reads the whole sequence.", error.Message);
        model.Backward(new float[B * O]);
    }

    [Fact]
    public void AModelReadingTheMeanOverTheSteps_IsRefusedSayingWhy_BeforeAnythingChanges()
    {
        var model = Model(Options() with { Readout = SequenceReadout.MeanOverSteps });
        var batch = Batch(perStep: false);
        model.Forward(batch, new float[B * O], training: true);
        var error = Assert.Throws<InvalidOperationException>(() => model.BackpropagateTruncated(batch, 2, Zero));
        Assert.Equal("Truncated BPTT reads each sequence out where it ends; a MeanOverSteps readout needs every step in one pass: use LastStep.", error.Message);
        Assert.All(model.Parameters.Gradients.ToArray(), g => Assert.Equal(0f, g));
        model.Backward(new float[B * O]);
    }

    [Fact]
    public void Backward_CannotFollowATruncatedPass()
    {
        var model = Model(Options());
        var batch = Batch(perStep: false);
        model.Forward(batch, new float[B * O], training: true);
        model.BackpropagateTruncated(batch, 2, Zero);
        var error = Assert.Throws<InvalidOperationException>(() => model.Backward(new float[B * O]));
        Assert.Equal("Backward needs a Forward with training: true first.", error.Message);
    }

    [Fact]
    public void ManyToMany_TheLossGetsEachChunksOutputsZerosAtPaddedSteps_WithTheChunksTargetsAndWeights()
    {
        var model = Model(Options(SequenceReadout.EveryStep));
        var batch = Batch(perStep: true);
        int T = batch.Steps;
        var full = new float[T * B * O];
        model.Forward(batch, full, training: true);

        var chunks = new List<(float[] Output, float[] Targets, float[] Weights, int Rows)>();
        model.BackpropagateTruncated(batch, 2, (output, targets, weights, rows, gradient) =>
        {
            chunks.Add((output.ToArray(), targets.ToArray(), weights.ToArray(), rows));
            return 0;
        });

        Assert.Equal([2 * B, 2 * B, 1 * B], chunks.Select(c => c.Rows));
        for (int k = 0, first = 0; k < chunks.Count; k++, first += 2)
        {
            var (output, targets, weights, rows) = chunks[k];
            Assert.Equal(batch.Targets.Slice(first * B * W, rows * W).ToArray(), targets);
            Assert.Equal(batch.Weights.Slice(first * B, rows).ToArray(), weights);
            for (int r = 0; r < rows; r++)
            {
                int t = first + r / B, b = r % B;
                for (int o = 0; o < O; o++)
                {
                    float value = output[r * O + o];
                    if (t >= s_lengths[b]) Assert.Equal(0f, value);
                    else Assert.Equal(full[(t * B + b) * O + o], value, 1e-5f);
                }
            }
        }
    }

    [Theory]
    [InlineData(SequenceReadout.LastStep)]
    [InlineData(SequenceReadout.EveryStep)]
    public void AnOverflowingGradient_MakesEveryGradientNaN(SequenceReadout readout)
    {
        var model = Model(Options(readout));
        model.Parameters.ValuesOf(model.Parameters["head.weight"]).Fill(1e30f);
        model.Parameters.ZeroGradients();
        model.BackpropagateTruncated(Batch(readout == SequenceReadout.EveryStep), 2, (output, targets, weights, rows, gradient) =>
        {
            gradient.Fill(1e30f);
            return 1;
        });
        Assert.All(model.Parameters.Gradients.ToArray(), g => Assert.True(float.IsNaN(g), $"gradient {g}"));
    }

    [Fact]
    public void TheModelKeepsNoReferenceToTheLoss_AfterTheCall_EvenWhenTheLossThrows()
    {
        var model = Model(Options());
        var batch = Batch(perStep: false);
        WeakReference returned = Pass(model, batch, throws: false), thrown = Pass(model, batch, throws: true);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(returned.IsAlive, "the model still holds the loss of a call that returned");
        Assert.False(thrown.IsAlive, "the model still holds the loss of a call that threw");
        GC.KeepAlive(model);
    }

    /// <summary>One truncated pass with a loss (a closure over an object of its own) that only the call sees; a weak reference to it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference Pass(SequenceModel model, SequenceBatch batch, bool throws)
    {
        var state = new float[1];
        ReadoutLoss loss = (output, targets, weights, rows, gradient) =>
        {
            if (throws) throw new InvalidOperationException("the loss failed");
            return state[0];
        };
        if (throws) Assert.Throws<InvalidOperationException>(() => model.BackpropagateTruncated(batch, 2, loss));
        else model.BackpropagateTruncated(batch, 2, loss);
        return new WeakReference(loss);
    }
}
