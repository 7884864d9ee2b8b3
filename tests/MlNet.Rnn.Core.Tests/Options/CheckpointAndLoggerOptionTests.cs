using System.Globalization;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Options;

/// <summary>
/// CheckpointEvery and CheckpointPath write the model every N epochs at the path (the sequence-to-sequence trainer
/// refuses them, as documented); Logger receives one line per epoch with that epoch's reported numbers.
/// </summary>
public sealed class CheckpointAndLoggerOptionTests
{
    public static TheoryData<string> All() => TrainerHarness.All();

    [Fact]
    public void CheckpointEvery_WritesTheModelEveryNEpochs_AtThePath()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-options-{Guid.NewGuid():N}.safetensors");
        try
        {
            var harness = new SequenceHarness();
            var options = TrainerHarness.Sgd(harness.SgdRate) with { Epochs = 5, CheckpointEvery = 2, CheckpointPath = path };
            var run = harness.Train(options, harness.Initial);
            Assert.Equal(
                [$"Checkpoint after epoch 2 written to {path}.", $"Checkpoint after epoch 4 written to {path}."],
                run.Lines.Where(line => line.StartsWith("Checkpoint", StringComparison.Ordinal)));
            // The file holds the last checkpoint's weights: those after epoch 4, not the final ones.
            var saved = SequenceModelFile.Load(path).Parameters.Values.ToArray();
            Assert.Equal(run.AfterEpoch[3], saved);
            Assert.NotEqual(run.Final, saved);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CheckpointEveryZero_WritesNothing()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-options-{Guid.NewGuid():N}.safetensors");
        var harness = new SequenceHarness();
        var run = harness.Train(TrainerHarness.Sgd(harness.SgdRate) with { Epochs = 2, CheckpointPath = path }, harness.Initial);
        Assert.False(File.Exists(path));
        Assert.DoesNotContain(run.Lines, line => line.StartsWith("Checkpoint", StringComparison.Ordinal));
    }

    [Fact]
    public void SequenceToSequence_ResumesFromItsCheckpointExactly_AndTheCheckpointLoadsAsAModel()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-options-{Guid.NewGuid():N}.safetensors");
        var pairs = SequencePairs.From([[1, 2, 3], [3, 1], [2, 2, 1, 3], [1]], [[4, 5], [5], [3, 4, 5], [4, 4]]);
        SequenceToSequenceModel Model() => new(new SequenceToSequenceOptions
        {
            SourceVocabularySize = 4, TargetVocabularySize = 6, StartId = 1, EndId = 2, EmbeddingSize = 3, HiddenSize = 4, Seed = 5, MaxDegreeOfParallelism = 1,
        });
        var options = new TrainerOptions { Epochs = 3, BatchSize = 2, LearningRate = 0.05f, Seed = 2 };
        try
        {
            var uninterrupted = Model();
            new SequencePairTrainer(uninterrupted, options).Train(pairs);
            var first = Model();
            new SequencePairTrainer(first, options with { Epochs = 1, CheckpointEvery = 1, CheckpointPath = path }).Train(pairs);
            Assert.Equal(first.Parameters.Values.ToArray(), SequenceToSequenceModelFile.Load(path).Parameters.Values.ToArray());

            var resumed = Model();
            var trainer = new SequencePairTrainer(resumed, options);
            trainer.ResumeFrom(path);
            trainer.Train(pairs);
            Assert.Equal(3, trainer.History.Epochs.Count);
            Assert.Equal(uninterrupted.Parameters.Values.ToArray(), resumed.Parameters.Values.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Logger_ReceivesOneLinePerEpoch_WithThatEpochsLossGradientNormAndRate(string trainer)
    {
        var harness = TrainerHarness.Create(trainer);
        var options = TrainerHarness.Sgd(harness.SgdRate / 2) with { Epochs = 3, Schedule = ScheduleKind.Cosine };
        var run = harness.Train(options, harness.Initial, validate: true);
        Assert.Equal(3, run.Lines.Count(line => line.StartsWith("Epoch ", StringComparison.Ordinal)));
        foreach (var report in run.History.Epochs)
        {
            string line = Assert.Single(run.Lines, l => l.StartsWith($"Epoch {report.Epoch}: ", StringComparison.Ordinal));
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"loss {report.TrainingLoss:F4}"), line);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"gradient norm {report.GradientNorm:F3}"), line);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"learning rate {report.LearningRate:g3}"), line);
        }
        // The epochs report different rates (cosine), so the lines cannot all carry the same one.
        Assert.Equal(3, run.History.Epochs.Select(e => e.LearningRate).Distinct().Count());
    }

    [Fact]
    public void EpochReport_TrainingLossIsTheLossBeforeTheStep_AndTheNormTheUnclippedGradientsNorm()
    {
        // One step per epoch: the reported training loss is L(θ) at the weights the epoch started from.
        var harness = new SequenceHarness();
        var run = harness.Train(TrainerHarness.Sgd(harness.SgdRate) with { Epochs = 2, GradientClipNorm = 1e-3f }, harness.Initial);
        float[][] starts = [harness.Initial, run.AfterEpoch[0]];
        for (int e = 0; e < 2; e++)
        {
            double[] gradient = harness.Gradient(starts[e]);
            Assert.Equal(Math.Sqrt(gradient.Sum(g => g * g)), run.History.Epochs[e].GradientNorm, 1e-5);
            var batch = new SequenceBatch();
            double loss = 0;
            starts[e].CopyTo(harness.Model.Parameters.Values);
            for (int n = 0; n < harness.TrainingData.Count; n++)
            {
                harness.TrainingData.Fill([n], batch);
                var output = new float[1];
                harness.Model.Forward(batch, output, training: false);
                loss += Math.Pow(output[0] - batch.Targets[0], 2) / harness.TrainingData.Count;
            }
            Assert.Equal(loss, run.History.Epochs[e].TrainingLoss, 1e-6);
        }
    }
}
