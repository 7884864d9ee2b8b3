using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Trainer;

/// <summary>
/// <see cref="TrainerOptions.TruncatedBpttSteps"/> and <see cref="TrainerOptions.MaxBatchMemoryMegabytes"/> in
/// <see cref="SequenceTrainer"/>. Truncation changes only how far gradients flow back through the stack: the forward pass
/// is the same, so the batch's loss and the head's gradient (which sees only the stack's outputs) equal the untruncated
/// ones, with example weights and class weights, however the chunks split the rows — the chunks' shares of the batch's mean
/// are weighted right. A batch too large for the memory limit stops training before it starts, with what reduces it.
/// </summary>
public sealed class TruncatedTrainingTests
{
    private const int Classes = 3;

    /// <summary>Sequences of 3..20 steps of 2 features, a class per step (tagging) or per sequence, weights 0.5..2.</summary>
    private static SequenceDataset Data(bool perStep, int count = 12, int seed = 1)
    {
        var random = new Random(seed);
        var data = new SequenceDataset(2, 1, perStep);
        for (int i = 0; i < count; i++)
        {
            int length = 3 + random.Next(18);
            var steps = Enumerable.Range(0, length * 2).Select(_ => random.NextSingle() * 2 - 1).ToArray();
            float[] target = Enumerable.Range(0, perStep ? length : 1).Select(_ => (float)random.Next(Classes)).ToArray();
            data.Add(steps, target, 0.5f + 1.5f * random.NextSingle());
        }
        return data;
    }

    private static SequenceModel Model(SequenceReadout readout, bool bidirectional = false) => new(new SequenceModelOptions
    {
        Cell = RecurrentCellType.Lstm, FeaturesPerStep = 2, HiddenSize = 5, Layers = 2, OutputSize = Classes, Readout = readout,
        Bidirectional = bidirectional, Seed = 3, MaxDegreeOfParallelism = 1,
    });

    /// <summary>One epoch of one batch of every row with plain SGD and no clipping: the gradient it leaves is that batch's.</summary>
    private static (double Loss, float[] HeadWeight, float[] HeadBias, float[] All) OneBatch(SequenceReadout readout, int truncatedSteps)
    {
        var model = Model(readout);
        var data = Data(readout == SequenceReadout.EveryStep);
        var loss = new SoftmaxCrossEntropy([1f, 2.5f, 0.5f]);
        var trainer = new SequenceTrainer(model, loss, new TrainerOptions
        {
            Epochs = 1, BatchSize = data.Count, Optimizer = OptimizerKind.Sgd, LearningRate = 1e-3f, GradientClipNorm = 0, Shuffle = false,
            TruncatedBpttSteps = truncatedSteps,
        });
        var history = trainer.Train(data);
        var parameters = model.Parameters;
        return (history.Epochs[0].TrainingLoss, parameters.GradientsOf(parameters["head.weight"]).ToArray(),
            parameters.GradientsOf(parameters["head.bias"]).ToArray(), parameters.Gradients.ToArray());
    }

    [Theory]
    [InlineData(SequenceReadout.EveryStep, 4)]
    [InlineData(SequenceReadout.EveryStep, 7)]
    [InlineData(SequenceReadout.LastStep, 4)]
    public void TruncationKeepsTheBatchLossAndTheHeadsGradient_AndChangesOnlyTheStacks(SequenceReadout readout, int chunkSteps)
    {
        var full = OneBatch(readout, truncatedSteps: 0);
        var truncated = OneBatch(readout, chunkSteps);
        Assert.Equal(full.Loss, truncated.Loss, 1e-5);
        Tolerance.AssertClose(NetworkFactory.Widen(full.HeadWeight), truncated.HeadWeight, 1e-4, 1e-6, "head.weight gradient");
        Tolerance.AssertClose(NetworkFactory.Widen(full.HeadBias), truncated.HeadBias, 1e-4, 1e-6, "head.bias gradient");
        Assert.True(full.All.Zip(truncated.All).Max(pair => Math.Abs(pair.First - pair.Second)) > 1e-5,
            "the stack's gradients should change: truncation cuts what flows back past a chunk");
    }

    [Fact]
    public void ChunksLongerThanEverySequence_TrainBitForBitAsWithoutTruncation()
    {
        var full = OneBatch(SequenceReadout.EveryStep, truncatedSteps: 0);
        var longChunks = OneBatch(SequenceReadout.EveryStep, truncatedSteps: 20);
        Assert.Equal(full.All, longChunks.All);
        Assert.Equal(full.Loss, longChunks.Loss);
    }

    [Fact]
    public void ABatchOverTheMemoryLimit_StopsBeforeTraining_SayingWhatItNeedsAndWhatReducesIt()
    {
        var data = new SequenceDataset(2, 1);
        var random = new Random(1);
        for (int i = 0; i < 8; i++) data.Add(Enumerable.Range(0, 2 * 3000).Select(_ => random.NextSingle()).ToArray(), [random.Next(Classes)]);
        var model = Model(SequenceReadout.LastStep);
        long needed = model.TrainingBytes(8, 3000);
        Assert.InRange(needed, 2L << 20, 64L << 20); // the limit below sits between it and the truncated estimate
        Assert.True(model.TrainingBytes(8, 3000, 50) < 1L << 20);
        var options = new TrainerOptions { Epochs = 1, BatchSize = 32, MaxBatchMemoryMegabytes = 1 };
        float[] before = model.Parameters.Values.ToArray();

        var error = Assert.Throws<InvalidOperationException>(() => new SequenceTrainer(model, new SoftmaxCrossEntropy(), options).Train(data));
        Assert.Contains($"A training batch of 8 sequences of 3000 steps needs about {needed >> 20} MB", error.Message);
        Assert.Contains("more than the limit of 1 MB (MaxBatchMemoryMegabytes)", error.Message);
        foreach (string fix in new[] { "Lower BatchSize", "set TruncatedBpttSteps", "raise MaxBatchMemoryMegabytes" }) Assert.Contains(fix, error.Message);
        Assert.Equal(before, model.Parameters.Values.ToArray());

        var history = new SequenceTrainer(model, new SoftmaxCrossEntropy(), options with { TruncatedBpttSteps = 50 }).Train(data);
        Assert.Single(history.Epochs);
        Assert.True(double.IsFinite(history.Epochs[0].TrainingLoss));
    }

    [Fact]
    public void AModelReadingTheMeanOverTheStepsWithTruncation_IsRefusedNamingTheOption()
    {
        var error = Assert.Throws<ArgumentException>(() => new SequenceTrainer(Model(SequenceReadout.MeanOverSteps, bidirectional: false),
            new SoftmaxCrossEntropy(), new TrainerOptions { TruncatedBpttSteps = 10 }));
        Assert.Equal("options", error.ParamName);
        Assert.Equal("TruncatedBpttSteps is 10 but the model reads the mean over every step (Readout MeanOverSteps), which needs the whole " +
            "sequence in one pass. Set TruncatedBpttSteps to 0 or Readout to LastStep. (Parameter 'options')", error.Message);
    }

    [Fact]
    public void ABidirectionalModelWithTruncation_IsRefusedNamingTheOption()
    {
        var error = Assert.Throws<ArgumentException>(() => new SequenceTrainer(Model(SequenceReadout.LastStep, bidirectional: true),
            new SoftmaxCrossEntropy(), new TrainerOptions { TruncatedBpttSteps = 10 }));
        Assert.Equal("options", error.ParamName);
        Assert.Equal("TruncatedBpttSteps is 10 but the model is bidirectional: its reverse direction reads the whole sequence. " +
            "Set TruncatedBpttSteps to 0 or make the model unidirectional. (Parameter 'options')", error.Message);
    }
}
