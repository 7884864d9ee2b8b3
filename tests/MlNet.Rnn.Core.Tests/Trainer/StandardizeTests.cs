using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tests.Data;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Trainer;

/// <summary>
/// <see cref="TrainerOptions.Standardize"/> is training on standardized data, folded into the model: a model trained with it on
/// raw inputs (features near 50 and −300 with scales 10 and 0.1; regression targets near 1000) predicts on raw inputs what a
/// model trained without it on inputs and targets standardized by hand (double means and population deviations computed in
/// the test) predicts, mapped back; for a regressor (inputs and targets, under the squared error and under Huber, whose δ
/// stays in the label's units) and a classifier (inputs only), bidirectional and
/// stacked (both directions of the first layer are folded); training on after a first <c>Train</c> continues as the
/// standardized run does.
/// </summary>
public sealed class StandardizeTests
{
    private static readonly double[] s_offset = [50, -300], s_spread = [10, 0.1];

    /// <summary>Sequences of 2 features around <see cref="s_offset"/>; the target is 1000 + 40·(a signal of the steps), or its sign.</summary>
    private static (float[][] Steps, float[] Targets) Raw(int count, bool classes)
    {
        var random = new Random(5);
        var steps = new float[count][];
        var targets = new float[count];
        for (int n = 0; n < count; n++)
        {
            int T = 3 + random.Next(4);
            steps[n] = new float[T * 2];
            double signal = 0;
            for (int t = 0; t < T; t++)
                for (int i = 0; i < 2; i++)
                {
                    double z = random.NextDouble() * 2 - 1;
                    steps[n][t * 2 + i] = (float)(s_offset[i] + s_spread[i] * z);
                    signal += (i == 0 ? 1 : -0.5) * z;
                }
            targets[n] = classes ? (signal > 0 ? 1 : 0) : (float)(1000 + 40 * signal);
        }
        return (steps, targets);
    }

    /// <summary>Population mean and deviation of each feature over every step, and of the targets, in double.</summary>
    private static (double[] Mean, double[] Scale, double TargetMean, double TargetScale) Moments(float[][] steps, float[] targets)
    {
        var all = steps.SelectMany(row => row.Chunk(2)).ToArray();
        var mean = new double[2];
        var scale = new double[2];
        for (int i = 0; i < 2; i++)
        {
            mean[i] = all.Average(step => (double)step[i]);
            scale[i] = Math.Sqrt(all.Average(step => Math.Pow(step[i] - mean[i], 2)));
        }
        double targetMean = targets.Average(y => (double)y);
        return (mean, scale, targetMean, Math.Sqrt(targets.Average(y => Math.Pow(y - targetMean, 2))));
    }

    private static SequenceDataset Dataset(float[][] steps, float[] targets, Func<float, int, float> input, Func<float, float> target)
    {
        var data = new SequenceDataset(2, 1);
        for (int n = 0; n < steps.Length; n++) data.Add(steps[n].Select((value, k) => input(value, k % 2)).ToArray(), [target(targets[n])]);
        return data;
    }

    private static float[] Predict(SequenceModel model, SequenceDataset data, int outputs = 1)
    {
        var batch = new SequenceBatch();
        data.Fill(Enumerable.Range(0, data.Count).ToArray(), batch);
        var output = new float[data.Count * outputs];
        model.Forward(batch, output, training: false);
        return output;
    }

    private static SequenceModel Model(bool bidirectional = true, int outputs = 1) => new(new SequenceModelOptions
    {
        Cell = RecurrentCellType.Lstm, FeaturesPerStep = 2, HiddenSize = 4, Layers = 2, Bidirectional = bidirectional, OutputSize = outputs, Seed = 3,
    });

    private static TrainerOptions Options(bool standardize) => new()
    {
        Epochs = 2, BatchSize = 16, LearningRate = 0.01f, Seed = 2, Standardize = standardize,
    };

    [Theory]
    [InlineData(false, false, true)]
    [InlineData(false, true, true)]
    [InlineData(true, false, true)]
    [InlineData(false, false, false)]
    public void TrainingWithStandardize_PredictsOnRawValues_AsTrainingOnStandardizedValuesDoes(bool classifier, bool huber, bool bidirectional)
    {
        var (steps, targets) = Raw(64, classifier);
        var (mean, scale, targetMean, targetScale) = Moments(steps, targets);
        var raw = Dataset(steps, targets, (x, _) => x, y => y);
        var byHand = Dataset(steps, targets, (x, i) => (float)((x - mean[i]) / scale[i]), y => classifier ? y : (float)((y - targetMean) / targetScale));
        // Huber's δ is in the label's units: on standardized targets the reference uses δ / s_y.
        const float delta = 20;
        ILoss Loss(double targetUnit) => classifier ? new BinaryCrossEntropyWithLogits() : huber ? new Huber((float)(delta / targetUnit)) : new MeanSquaredError();

        var standardized = Model(bidirectional);
        var trainer = new SequenceTrainer(standardized, Loss(1), Options(standardize: true));
        var history = trainer.Train(raw);
        var reference = Model(bidirectional);
        var referenceTrainer = new SequenceTrainer(reference, Loss(targetScale), Options(standardize: false));
        var referenceHistory = referenceTrainer.Train(byHand);
        AssertClose(referenceHistory.Epochs.Select(e => (float)e.TrainingLoss).ToArray(), history.Epochs.Select(e => (float)e.TrainingLoss).ToArray(), "losses");
        AssertPredictions();

        // Training on: the model is unfolded, trained in standardized units, and folded again.
        trainer.Train(raw);
        referenceTrainer.Train(byHand);
        AssertPredictions();

        void AssertPredictions()
        {
            var expected = Predict(reference, byHand).Select(z => classifier ? z : (float)(z * targetScale + targetMean)).ToArray();
            AssertClose(expected, Predict(standardized, raw), "predictions on raw values");
        }
    }

    /// <summary>Two targets of their own means and scales: each is standardized apart and folds into its own row of the head.</summary>
    [Fact]
    public void TwoTargets_AreStandardizedApart_AndFoldIntoTheirOwnHeadRows()
    {
        var (steps, targets) = Raw(64, classes: false);
        float[][] pairs = [.. targets.Select(y => new[] { y, -0.05f * y + 7 })];
        double[] mean = [.. Enumerable.Range(0, 2).Select(j => pairs.Average(pair => (double)pair[j]))];
        double[] scale = [.. Enumerable.Range(0, 2).Select(j => Math.Sqrt(pairs.Average(pair => Math.Pow(pair[j] - mean[j], 2))))];
        var (inputMean, inputScale, _, _) = Moments(steps, targets);
        SequenceDataset Pairs(Func<float, int, float> input, Func<float, int, float> target)
        {
            var data = new SequenceDataset(2, 2);
            for (int n = 0; n < steps.Length; n++)
                data.Add(steps[n].Select((value, k) => input(value, k % 2)).ToArray(), pairs[n].Select(target).ToArray());
            return data;
        }
        var raw = Pairs((x, _) => x, (y, _) => y);
        var byHand = Pairs((x, i) => (float)((x - inputMean[i]) / inputScale[i]), (y, j) => (float)((y - mean[j]) / scale[j]));

        var standardized = Model(outputs: 2);
        new SequenceTrainer(standardized, new MeanSquaredError(), Options(standardize: true)).Train(raw);
        var reference = Model(outputs: 2);
        new SequenceTrainer(reference, new MeanSquaredError(), Options(standardize: false)).Train(byHand);
        float[] expected = Predict(reference, byHand, 2).Select((z, k) => (float)(z * scale[k % 2] + mean[k % 2])).ToArray();
        AssertClose(expected, Predict(standardized, raw, 2), "predictions on raw values");
    }

    [Fact]
    public void WithoutStandardize_RawValuesTrainAsGiven()
    {
        var (steps, targets) = Raw(64, classes: false);
        var raw = Dataset(steps, targets, (x, _) => x, y => y);
        var plain = Model();
        new SequenceTrainer(plain, new MeanSquaredError(), Options(standardize: false)).Train(raw);
        var standardized = Model();
        new SequenceTrainer(standardized, new MeanSquaredError(), Options(standardize: true)).Train(raw);
        // Two epochs from raw targets near 1000 leave the plain model's predictions far below them; standardized, they are near.
        double PlainError() => Predict(plain, raw).Zip(targets, (p, y) => Math.Abs(p - y)).Average();
        double StandardizedError() => Predict(standardized, raw).Zip(targets, (p, y) => Math.Abs(p - y)).Average();
        Assert.True(PlainError() > 500, $"plain mean error {PlainError():F1}");
        Assert.True(StandardizedError() < 100, $"standardized mean error {StandardizedError():F1}");
    }

    /// <summary>
    /// Standardization wraps validation as it wraps training: an epoch's validation loss (the model on standardized
    /// validation inputs) is what the trained, folded model gives on the raw validation data.
    /// </summary>
    [Fact]
    public void AnEpochsValidationLoss_IsTheFoldedModelsLossOnTheRawValidationData()
    {
        var (steps, targets) = Raw(64, classes: true);
        var raw = Dataset(steps, targets, (x, _) => x, y => y);
        var trainer = new SequenceTrainer(Model(), new BinaryCrossEntropyWithLogits(), Options(standardize: true) with { Epochs = 1 });
        double during = trainer.Train(raw, raw).Epochs[0].ValidationLoss!.Value;
        double after = trainer.Evaluate(raw).Loss;
        Assert.True(Math.Abs(during - after) <= 1e-4 * Math.Max(1, Math.Abs(after)), $"validation loss {during:R} during training, {after:R} after");
    }

    /// <summary>
    /// A second fit whose data fails to read (a spilled file lost, say) leaves the model the first fit gave: standardized
    /// weights are unfolded only once the data has been read.
    /// </summary>
    [Fact]
    public void ASecondFitWhoseDataFailsToRead_LeavesTheModelAsTheFirstFitLeftIt()
    {
        var (steps, targets) = Raw(64, classes: false);
        var raw = Dataset(steps, targets, (x, _) => x, y => y);
        var model = Model();
        var trainer = new SequenceTrainer(model, new MeanSquaredError(), Options(standardize: true));
        trainer.Train(raw);
        float[] first = Predict(model, raw);
        Assert.Throws<IOException>(() => trainer.Train(new CountingSource(raw) { ReadFailure = new IOException("lost") }));
        Assert.Equal(first, Predict(model, raw));
        // Training again still starts from the first fit's model: two fits in a row as a fresh trainer gives them.
        trainer.Train(raw);
        var again = Model();
        var fresh = new SequenceTrainer(again, new MeanSquaredError(), Options(standardize: true));
        fresh.Train(raw);
        fresh.Train(raw);
        Assert.Equal(Predict(again, raw), Predict(model, raw));
    }

    /// <summary>
    /// A second fit on data of other scales that takes no step gives the model back as the first fit left it, not refolded
    /// with the second data's scales: whether no epoch is left (epochs count over the trainer's fits) or its data fails to
    /// read after the survey of its scales, before the first batch.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ASecondFitThatTakesNoStep_GivesTheModelBackAsItFoundIt(bool failsToRead)
    {
        var (steps, targets) = Raw(64, classes: false);
        var raw = Dataset(steps, targets, (x, _) => x, y => y);
        var other = Dataset(steps, targets, (x, _) => 3 * x + 40, y => 0.5f * y - 100);
        var model = Model();
        // Stopped after epoch 1 of 2 when the second fit is to read an epoch; run to the end when none is left.
        var options = Options(standardize: true) with { EpochCallback = failsToRead ? _ => EpochDecision.Stop : null };
        var trainer = new SequenceTrainer(model, new MeanSquaredError(), options);
        trainer.Train(raw);
        float[] first = Predict(model, raw);
        if (failsToRead)
        {
            var source = new CountingSource(other) { ReadFailure = new IOException("lost"), ReadsBeforeFailure = 1 };
            Assert.Throws<IOException>(() => trainer.Train(source));
            Assert.Equal([2], source.Reads); // the survey's read, then the first batch's
        }
        else
        {
            Assert.Empty(trainer.Train(other).Epochs.Skip(2));
        }
        AssertClose(first, Predict(model, raw), "predictions after the second fit");
    }

    /// <summary>
    /// A fit paused after its first epoch and continued by a second <c>Train</c> call trains as one uninterrupted fit: the
    /// second call unfolds the weights into standardized units before it trains on, and folds them once at the end; a trainer
    /// that then resumes its own checkpoint of epoch 1 trains epoch 2 again from the checkpoint's (standardized) weights, not
    /// unfolding them a second time.
    /// </summary>
    [Fact]
    public void AFitContinuedOrResumedOnTheSameTrainer_TrainsAsAnUninterruptedOne()
    {
        var (steps, targets) = Raw(64, classes: false);
        var raw = Dataset(steps, targets, (x, _) => x, y => y);
        var uninterrupted = Model();
        new SequenceTrainer(uninterrupted, new MeanSquaredError(), Options(standardize: true)).Train(raw);
        float[] expected = Predict(uninterrupted, raw);

        string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-standardize-{Guid.NewGuid():N}.safetensors");
        try
        {
            var model = Model();
            var trainer = new SequenceTrainer(model, new MeanSquaredError(), Options(standardize: true) with
            {
                CheckpointPath = path,
                EpochCallback = report => report.Epoch == 1 ? EpochDecision.Stop | EpochDecision.Checkpoint : EpochDecision.Continue,
            });
            trainer.Train(raw);
            Assert.Single(trainer.History.Epochs);
            trainer.Train(raw);
            Assert.Equal(2, trainer.History.Epochs.Count);
            AssertClose(expected, Predict(model, raw), "continued");

            trainer.ResumeFrom(path);
            trainer.Train(raw);
            AssertClose(expected, Predict(model, raw), "resumed on the same trainer");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-3 * Math.Max(1, Math.Abs(expected[k])),
                $"{what}[{k}]: expected {expected[k]:R}, got {actual[k]:R}");
    }
}
