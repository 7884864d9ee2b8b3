using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Models;

/// <summary>
/// <see cref="SequenceModel.BackpropagateTruncated"/>, the model-level truncated BPTT the trainers use for long sequences.
/// Its gradient is <c>Σ_chunks ∂L_c(θ; s_c)/∂θ</c>: chunk c's loss (many-to-many: its steps; many-to-one: the sequences that end
/// in it, read out at their last step) with the chunk's starting state s_c held fixed, taken by central differences of the
/// double-precision <see cref="ReferenceSequenceModel"/> over each chunk alone, embedding included. A chunk as long as the
/// batch is exactly a training forward and backward; the memory estimate matches what a pass allocates.
/// </summary>
public sealed class TruncatedSequenceModelTests
{
    private const int B = 3, O = 2;
    private static readonly int[] s_lengths = [7, 2, 5];

    [Theory]
    [InlineData(RecurrentCellType.Lstm, false, SequenceReadout.LastStep, 2, 3, true)]
    [InlineData(RecurrentCellType.Gru, true, SequenceReadout.EveryStep, 1, 3, false)]
    [InlineData(RecurrentCellType.Rnn, false, SequenceReadout.EveryStep, 2, 2, true)]
    [InlineData(RecurrentCellType.Gru, true, SequenceReadout.LastStep, 1, 4, false)]
    public void Gradients_AreTheSumOfEachChunksGradientWithItsStartingStateHeldFixed(RecurrentCellType cell, bool tokens, SequenceReadout readout,
        int layers, int chunkSteps, bool learnedInitialState)
    {
        var options = Options(cell, tokens, readout, layers, learnedInitialState, dropout: 0);
        var model = new SequenceModel(options);
        var random = new Random(17);
        NetworkFactory.Randomize(model.Parameters, random, 0.7);
        var batch = Batch(tokens, readout, random);
        int T = batch.Steps;
        bool lastStep = readout == SequenceReadout.LastStep;
        // The probe loss Σ y⊙R over the rows a chunk scores; each row's target holds its row number (b, or t·B + b), so the
        // loss finds the row's R wherever the model gathered it.
        float[] probe = NetworkFactory.RandomFloats(random, (lastStep ? B : T * B) * O);
        var scoredRows = new List<int>();
        double Probe(ReadOnlySpan<float> output, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, int rows, Span<float> gradient)
        {
            double sum = 0;
            for (int r = 0; r < rows; r++)
            {
                if (weights[r] == 0) continue; // a padded step: its output is zero and its gradient dropped
                int row = (int)targets[r];
                scoredRows.Add(row);
                for (int o = 0; o < O; o++)
                {
                    gradient[r * O + o] = probe[row * O + o];
                    sum += output[r * O + o] * probe[row * O + o];
                }
            }
            return sum;
        }

        model.Parameters.ZeroGradients();
        double loss = model.BackpropagateTruncated(batch, chunkSteps, Probe);

        // Many-to-one scores every sequence once; many-to-many every real step once.
        int[] realRows = lastStep ? [0, 1, 2] : Enumerable.Range(0, T * B).Where(row => row / B < s_lengths[row % B]).ToArray();
        Assert.Equal(realRows, scoredRows.Order().ToArray());
        var reference = new ReferenceSequenceModel(options with { Readout = SequenceReadout.EveryStep }, model.Parameters);
        int[]? ids = tokens ? batch.Ids.ToArray() : null;
        double[]? steps = tokens ? null : NetworkFactory.Widen(batch.Input);
        var expected = model.Parameters.Tensors.ToDictionary(t => t.Name, t => new double[t.Length]);
        double[]? carriedHidden = null, carriedCell = null;
        double expectedLoss = 0;
        for (int first = 0; first < T; first += chunkSteps)
        {
            int count = Math.Min(chunkSteps, T - first), start = first;
            int[]? chunkIds = ids?[(first * B)..((first + count) * B)];
            double[]? chunkValues = steps?[(first * B * options.FeaturesPerStep)..((first + count) * B * options.FeaturesPerStep)];
            int[] chunkLengths = s_lengths.Select(l => Math.Clamp(l - first, 0, count)).ToArray();
            double[]? startHidden = carriedHidden, startCell = carriedCell;
            double ChunkLoss()
            {
                double[] y = reference.Forward(chunkIds, chunkValues, count, B, chunkLengths, startHidden, startCell).Output;
                double sum = 0;
                for (int t = 0; t < count; t++)
                    for (int b = 0; b < B; b++)
                    {
                        bool scored = lastStep ? s_lengths[b] - 1 == start + t : start + t < s_lengths[b];
                        int row = lastStep ? b : (start + t) * B + b;
                        for (int o = 0; o < O && scored; o++) sum += y[(t * B + b) * O + o] * probe[row * O + o];
                    }
                return sum;
            }
            expectedLoss += ChunkLoss();
            foreach (var tensor in model.Parameters.Tensors)
            {
                double[] numerical = CentralDifferences.Of(reference.Parameters[tensor.Name], ChunkLoss);
                for (int i = 0; i < numerical.Length; i++) expected[tensor.Name][i] += numerical[i];
            }
            var (_, h, c) = reference.Forward(chunkIds, chunkValues, count, B, chunkLengths, startHidden, startCell);
            carriedHidden = h;
            carriedCell = c;
        }
        Assert.Equal(expectedLoss, loss, 1e-4);
        foreach (var tensor in model.Parameters.Tensors)
            Tolerance.AssertClose(expected[tensor.Name], model.Parameters.GradientsOf(tensor), CentralDifferences.Relative, CentralDifferences.Absolute,
                $"{cell} {readout} k={chunkSteps}: d{tensor.Name}");
    }

    [Theory]
    [InlineData(SequenceReadout.LastStep)]
    [InlineData(SequenceReadout.EveryStep)]
    public void AChunkAsLongAsTheBatch_IsExactlyATrainingForwardAndBackward(SequenceReadout readout)
    {
        var options = Options(RecurrentCellType.Lstm, tokens: true, readout, layers: 2, learnedInitialState: true, dropout: 0.3f);
        var model = new SequenceModel(options);
        var batch = Batch(tokens: true, readout, new Random(3), targetWidth: O);
        var loss = new MeanSquaredError();
        int rows = model.OutputRows(batch);
        var output = new float[rows * O];
        var gradient = new float[rows * O];

        model.ReseedDropout(5);
        model.Parameters.ZeroGradients();
        model.Forward(batch, output, training: true);
        double full = loss.Compute(output, batch.Targets, rows, O, batch.Weights, gradient);
        model.Backward(gradient);
        float[] expected = model.Parameters.Gradients.ToArray();

        model.ReseedDropout(5);
        model.Parameters.ZeroGradients();
        double truncated = model.BackpropagateTruncated(batch, batch.Steps,
            (y, targets, weights, n, g) => loss.Compute(y, targets, n, O, weights, g));
        Assert.Equal(full, truncated);
        Assert.Equal(expected, model.Parameters.Gradients.ToArray());
    }

    [Fact]
    public void ABidirectionalModelCannotBeTruncated()
    {
        var options = Options(RecurrentCellType.Lstm, tokens: false, SequenceReadout.LastStep, layers: 1, learnedInitialState: false, dropout: 0)
            with { Bidirectional = true };
        var batch = Batch(tokens: false, SequenceReadout.LastStep, new Random(1));
        var error = Assert.Throws<InvalidOperationException>(() => new SequenceModel(options).BackpropagateTruncated(batch, 2, (_, _, _, _, _) => 0));
        Assert.Contains("unidirectional", error.Message);
    }

    /// <summary>
    /// The estimate the trainers check against the memory limit is what a first training pass over a long batch allocates
    /// (its buffers are sized then), within a factor 1.5 either way, with and without truncation; truncation cuts both.
    /// </summary>
    [Theory]
    [InlineData(RecurrentCellType.Lstm, SequenceReadout.LastStep, 0)]
    [InlineData(RecurrentCellType.Gru, SequenceReadout.EveryStep, 0)]
    [InlineData(RecurrentCellType.Lstm, SequenceReadout.LastStep, 25)]
    [InlineData(RecurrentCellType.Rnn, SequenceReadout.EveryStep, 25)]
    public void TheTrainingMemoryEstimate_MatchesWhatAPassAllocates(RecurrentCellType cell, SequenceReadout readout, int chunkSteps)
    {
        const int batchSize = 16, T = 400;
        var options = new SequenceModelOptions
        {
            Cell = cell, FeaturesPerStep = 4, HiddenSize = 32, Layers = 2, OutputSize = 3, Readout = readout, Seed = 1, MaxDegreeOfParallelism = 1,
        };
        var model = new SequenceModel(options);
        var data = new SequenceDataset(4, readout == SequenceReadout.EveryStep ? 3 : 1, readout == SequenceReadout.EveryStep);
        var random = new Random(2);
        for (int i = 0; i < batchSize; i++)
            data.Add(NetworkFactory.RandomFloats(random, T * 4), new float[readout == SequenceReadout.EveryStep ? T * 3 : 1]);
        var batch = new SequenceBatch();
        var output = new float[(readout == SequenceReadout.LastStep ? batchSize : T * batchSize) * 3];
        var gradient = new float[output.Length];

        long before = GC.GetAllocatedBytesForCurrentThread();
        data.Fill(Enumerable.Range(0, batchSize).ToArray(), batch);
        if (chunkSteps == 0)
        {
            model.Forward(batch, output, training: true);
            model.Backward(gradient);
        }
        else
        {
            model.BackpropagateTruncated(batch, chunkSteps, (y, t, w, n, g) => 0);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long estimate = model.TrainingBytes(batchSize, T, chunkSteps);
        Assert.InRange(estimate, allocated / 1.5, allocated * 1.5);
        if (chunkSteps > 0) Assert.True(estimate * 4 < model.TrainingBytes(batchSize, T), "truncation should cut the estimate");
    }

    private static SequenceModelOptions Options(RecurrentCellType cell, bool tokens, SequenceReadout readout, int layers, bool learnedInitialState,
        float dropout) => new()
    {
        Cell = cell, FeaturesPerStep = 2, VocabularySize = tokens ? 6 : 0, EmbeddingSize = 3, HiddenSize = 3, Layers = layers,
        LearnedInitialState = learnedInitialState, OutputSize = O, Readout = readout, Dropout = dropout, Seed = 4, MaxDegreeOfParallelism = 1,
    };

    /// <summary>
    /// B sequences of lengths 7, 2, 5, weights 1 and 2. With one target value, each row's target holds its row number (b, or t·B + b
    /// per step); with more, random values.
    /// </summary>
    private static SequenceBatch Batch(bool tokens, SequenceReadout readout, Random random, int targetWidth = 1)
    {
        bool perStep = readout == SequenceReadout.EveryStep;
        int T = s_lengths.Max();
        var data = new SequenceDataset(tokens ? 0 : 2, targetWidth, perStep);
        for (int b = 0; b < B; b++)
        {
            int length = s_lengths[b];
            float[] target = targetWidth > 1 ? NetworkFactory.RandomFloats(random, (perStep ? length : 1) * targetWidth)
                : perStep ? Enumerable.Range(0, length).Select(t => (float)(t * B + b)).ToArray() : [b];
            if (tokens) data.AddTokens(Enumerable.Range(0, length).Select(_ => random.Next(6)).ToArray(), target, weight: 1 + b % 2);
            else data.Add(NetworkFactory.RandomFloats(random, length * 2), target, weight: 1 + b % 2);
        }
        var batch = new SequenceBatch();
        data.Fill([0, 1, 2], batch);
        Assert.Equal(T, batch.Steps);
        return batch;
    }
}
