using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Core.Tests.Models;

/// <summary>
/// <see cref="SequenceModel.TrainingBytes"/> term by term: the floats of every buffer its summary names, counted by hand for a
/// small LSTM (I = 3, H = 4, O = 3, one layer), many-to-one and many-to-many, numeric and token inputs, with and without
/// truncation; and its argument refusals by name. (<c>TruncatedSequenceModelTests</c> checks the estimate against what a
/// pass allocates, within 1.5×; this pins each term.)
/// </summary>
public sealed class TrainingMemoryEstimateTests
{
    private const int BatchSize = 3, Steps = 5;

    // The stack's floats per step and sequence, LSTM, I = 3, H = 4, one direction: the layer's input and output and their
    // gradients 2·(3 + 4) = 14; the input projection and the gate gradients 2·4H = 32; the cell's cache 6H = 24; the previous
    // hidden state H = 4. Then the stack's output and its gradient, 2·DH = 8.
    private const long StackPerStep = 14 + 32 + 24 + 4, OutputPerStep = 2 * 4;

    private static SequenceModelOptions Lstm(SequenceReadout readout) => new()
    {
        Cell = RecurrentCellType.Lstm, FeaturesPerStep = 3, HiddenSize = 4, OutputSize = 3, Readout = readout, Seed = 1, MaxDegreeOfParallelism = 1,
    };

    [Fact]
    public void TheStacksFloatsPerStep_AreTheHandCount()
        => Assert.Equal(StackPerStep, new SequenceModel(Lstm(SequenceReadout.LastStep)).Network.TrainingFloatsPerStep);

    [Fact]
    public void ManyToOne_NumericSteps_WholeSequence()
    {
        long floats = BatchSize * Steps * (StackPerStep + OutputPerStep) // activations of all 5 steps of 3 sequences
            + BatchSize * Steps * 3L                                     // the batch: 3 features a step
            + BatchSize * (3L + 1)                                       // one target row of O = 3 and one weight per sequence
            + BatchSize * (3L * 4 + 2L * 3);                             // the head's input, dropped input and its gradient (3·DH), output and its gradient (2·O), per sequence
        Assert.Equal(1341, floats);
        Assert.Equal(floats * sizeof(float), new SequenceModel(Lstm(SequenceReadout.LastStep)).TrainingBytes(BatchSize, Steps));
    }

    [Fact]
    public void ManyToMany_NumericSteps_InChunksOfTwo()
    {
        long floats = BatchSize * 2 * (StackPerStep + OutputPerStep) // activations of one chunk of 2 steps
            + BatchSize * Steps * 3L                                 // the whole batch
            + BatchSize * Steps * (3L + 1)                           // a target row and a weight per step
            + BatchSize * 2 * (3L * 4 + 2L * 3);                     // the head's buffers for one chunk's rows
        Assert.Equal(705, floats);
        var model = new SequenceModel(Lstm(SequenceReadout.EveryStep));
        Assert.Equal(floats * sizeof(float), model.TrainingBytes(BatchSize, Steps, chunkSteps: 2));
        // A chunk longer than the sequence is the whole sequence.
        Assert.Equal(model.TrainingBytes(BatchSize, Steps), model.TrainingBytes(BatchSize, Steps, chunkSteps: 7));
    }

    [Fact]
    public void ManyToOne_Tokens_CountTheIdsTheirEmbeddingAndItsGradient()
    {
        // Embedding size 3 = I: the stack is the same; per step and sequence an id, its embedding (3) and that embedding's gradient (3).
        var model = new SequenceModel(Lstm(SequenceReadout.LastStep) with { VocabularySize = 12, EmbeddingSize = 3 });
        long floats = BatchSize * Steps * (StackPerStep + OutputPerStep)
            + BatchSize * Steps * (1L + 2 * 3)
            + BatchSize * (3L + 1)
            + BatchSize * (3L * 4 + 2L * 3);
        Assert.Equal(1401, floats);
        Assert.Equal(floats * sizeof(float), model.TrainingBytes(BatchSize, Steps));
    }

    [Fact]
    public void EmptyBatchesAndNegativeChunks_AreRefusedByName()
    {
        var model = new SequenceModel(Lstm(SequenceReadout.LastStep));
        Assert.Equal("batchSize", Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainingBytes(0, Steps)).ParamName);
        Assert.Equal("steps", Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainingBytes(BatchSize, 0)).ParamName);
        Assert.Equal("chunkSteps", Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainingBytes(BatchSize, Steps, -1)).ParamName);
    }
}
