using System.Numerics.Tensors;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// What <see cref="SequencePairTrainer.Evaluate"/> reports: the token accuracy is the share of taught tokens (the end token
/// included, padded steps not) whose logit is the largest, counted here by hand from a model whose every step predicts
/// the same token and from the model's own per-pair logits; a cache of pairs evaluates as the same pairs in memory; the
/// evaluated pairs are checked first, naming the data; dropout is off while evaluating.
/// </summary>
public sealed class SequencePairTrainerEvaluationTests
{
    private static SequenceToSequenceModel Model(float dropout = 0f, int layers = 1) => SequencePairTrainerEpochTests.Model(dropout, layers);

    [Fact]
    public void AModelThatAlwaysPredictsTheUnknownIdIsRightExactlyOnTheTaughtZeros()
    {
        // Every weight zero: every hidden state is 0, so every step's logits are the output bias, largest at id 0.
        var model = Model();
        model.Parameters.Values.Clear();
        var bias = model.Parameters["decoder.output.bias"];
        model.Parameters.ValuesOf(bias)[0] = 1f;
        // Targets of 1, 2 and 4 tokens (so the batch is padded), 3 zeros among the 7 + 3 taught tokens (end tokens included).
        var pairs = SequencePairs.From([[1, 2], [3], [4, 5, 6]], [[0], [5, 0], [0, 7, 8, 9]]);

        var (loss, accuracy) = new SequencePairTrainer(model, new TrainerOptions { BatchSize = 4 }).Evaluate(pairs);

        Assert.Equal(3.0 / 10.0, accuracy);
        // The loss is −log softmax(bias)[target], the same at every step: the 3 zeros cost less than the 7 others.
        double logSum = Math.Log(Math.E + 12);
        Assert.Equal((3 * (logSum - 1) + 7 * logSum) / 10, loss, 1e-6);
    }

    [Fact]
    public void TheTokenAccuracyCountsTheTaughtTokensWhoseLogitIsTheLargest()
    {
        var model = Model();
        var pairs = SequenceToSequenceLearningTests.ReversedDigits(40, seed: 5);
        int V = model.TargetVocabularySize, correct = 0, taught = 0;
        for (int i = 0; i < pairs.Count; i++)
        {
            int[] target = pairs.Targets[i];
            var batch = new PairBatch();
            batch.Fill([pairs.Sources[i]], [target], [0], model.Options.StartId, model.Options.EndId);
            var logits = new float[batch.TargetSteps * V];
            model.Forward(batch, logits, training: false);
            for (int t = 0; t <= target.Length; t++)
            {
                int taughtId = t < target.Length ? target[t] : model.Options.EndId;
                if (TensorPrimitives.IndexOfMax(logits.AsSpan(t * V, V)) == taughtId) correct++;
                taught++;
            }
        }
        Assert.InRange(correct, 1, taught - 1);

        var (_, accuracy) = new SequencePairTrainer(model, new TrainerOptions { BatchSize = 8 }).Evaluate(pairs);

        Assert.Equal((double)correct / taught, accuracy, 12);
    }

    [Fact]
    public void ACacheOfPairsEvaluatesAsTheSamePairsInMemory()
    {
        var model = Model();
        var pairs = SequenceToSequenceLearningTests.ReversedDigits(30, seed: 6);
        var trainer = new SequencePairTrainer(model, new TrainerOptions { BatchSize = 8 });
        var inMemory = trainer.Evaluate(pairs);

        using var cache = SequencePairs.CreateCache(1 << 20, seed: 1);
        for (int i = 0; i < pairs.Count; i++) SequencePairs.AddTo(cache, pairs.Sources[i], pairs.Targets[i]);
        Assert.Equal(1, ((MlNet.Rnn.Core.Data.ISequenceSource)cache).PartCount);
        Assert.Equal(inMemory, trainer.Evaluate(cache));

        using var spilled = SequencePairs.CreateCache(2048, seed: 1);
        for (int i = 0; i < pairs.Count; i++) SequencePairs.AddTo(spilled, pairs.Sources[i], pairs.Targets[i]);
        Assert.True(spilled.PartCount > 1, $"{spilled.PartCount} parts");
        var (loss, accuracy) = trainer.Evaluate(spilled);
        Assert.Equal(inMemory.Loss, loss, 1e-5);
        Assert.Equal(inMemory.TokenAccuracy, accuracy, 12);
    }

    [Fact]
    public void TheEvaluatedPairsAreCheckedFirst_NamingTheData()
    {
        var model = Model();
        var before = model.Parameters.Values.ToArray();
        var trainer = new SequencePairTrainer(model, new TrainerOptions());
        var error = Assert.Throws<ArgumentException>(() => trainer.Evaluate(SequencePairs.From([[1], [2]], [[3], [4, 13]])));
        Assert.Equal("data", error.ParamName);
        Assert.Equal("Row 1 of data: target token 1 has id 13, outside the target vocabulary [0, 13); give targets without start and end tokens " +
            "and map unseen tokens to 0. (Parameter 'data')", error.Message);
        Assert.Equal(before, model.Parameters.Values.ToArray());
    }

    [Fact]
    public void DropoutIsOffWhileEvaluating()
    {
        var model = Model(dropout: 0.5f, layers: 2);
        var pairs = SequenceToSequenceLearningTests.ReversedDigits(20, seed: 7);
        double sum = 0;
        int taught = 0;
        for (int i = 0; i < pairs.Count; i++)
        {
            sum -= model.Score(pairs.Sources[i], pairs.Targets[i]);
            taught += pairs.Targets[i].Length + 1;
        }
        var trainer = new SequencePairTrainer(model, new TrainerOptions { BatchSize = 4 });
        var first = trainer.Evaluate(pairs);
        Assert.Equal(sum / taught, first.Loss, 1e-5);
        Assert.Equal(first, trainer.Evaluate(pairs));
    }
}
