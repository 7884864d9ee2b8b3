using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Trainer;

/// <summary>
/// Exploding gradients and their remedy: a ReLU Elman RNN on 100-step sequences, recurrent weights orthogonal with gain
/// 1.5, plain SGD at a learning rate of 0.2. Without clipping the run diverges (the guard stops it); with the global
/// norm clipped to 1 the same run converges.
/// </summary>
public sealed class GradientClippingTrainingTests
{
    private static SequenceDataset Data()
    {
        // Target: the mean of the last five steps of a 100-step sequence; the large recurrent gain still makes gradients explode.
        var random = new Random(3);
        var data = new SequenceDataset(1, 1);
        for (int i = 0; i < 256; i++)
        {
            var steps = Enumerable.Range(0, 100).Select(_ => random.NextSingle() * 2 - 1).ToArray();
            data.Add(steps, [steps.TakeLast(5).Average()]);
        }
        return data;
    }

    private static (SequenceModel Model, SequenceTrainer Trainer) Build(float clipNorm)
    {
        var model = new SequenceModel(new SequenceModelOptions { Cell = RecurrentCellType.Rnn, RnnActivation = RnnActivation.Relu, HiddenSize = 32, Seed = 1 });
        Initialization.Orthogonal(model.Parameters, new Random(2), 32, gain: 1.5f);
        var trainer = new SequenceTrainer(model, new MeanSquaredError(), new TrainerOptions
        {
            Epochs = 10, BatchSize = 32, LearningRate = 0.2f, Optimizer = OptimizerKind.Sgd, GradientClipNorm = clipNorm,
        });
        return (model, trainer);
    }

    [Fact]
    public void WithoutClipping_Diverges_WithClipping_Converges()
    {
        var data = Data();
        var (_, unclipped) = Build(clipNorm: 0);
        double initialLoss = unclipped.Evaluate(data).Loss;
        bool diverged;
        try
        {
            unclipped.Train(data);
            diverged = unclipped.Evaluate(data).Loss > 10 * initialLoss;
        }
        catch (TrainingDivergedException)
        {
            diverged = true;
        }
        Assert.True(diverged, $"Without clipping the run was expected to diverge; losses: {string.Join(", ", unclipped.History.Epochs.Select(e => e.TrainingLoss.ToString("G3")))}.");

        var (_, clipped) = Build(clipNorm: 1);
        var history = clipped.Train(data);
        double finalLoss = clipped.Evaluate(data).Loss;
        Assert.True(finalLoss < initialLoss / 2 && history.Epochs.All(e => double.IsFinite(e.TrainingLoss)),
            $"With clipping the run was expected to converge below half the initial loss {initialLoss:G3}; final {finalLoss:G3}; " +
            $"epochs: {string.Join(", ", history.Epochs.Select(e => $"{e.TrainingLoss:G3} (norm {e.GradientNorm:G3})"))}.");
    }
}
