using System.Globalization;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.Tests.Data;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Trainer;

/// <summary>
/// The exact behaviour of the training loop and the sequence trainer that coarser tests left open, each value worked out
/// by hand: the refusals of data the model cannot read (with their messages, at the edges of the class range), the
/// weighted validation loss and accuracy, the 1-based step of a divergence, the learning rate and the remaining time under
/// a time budget on an injected clock, the refusals of files that are not this loop's checkpoints, the reduce-on-plateau
/// state carried through a checkpoint, and the stop reason a callback stop logs. Also: null and option refusals with their
/// names, the epoch report's weighted loss, mean gradient norm and examples per second, the best epoch (ties, no
/// validation, a never-finite validation loss), the history a resume replaces, the exact log lines, each epoch's shuffle
/// seed, and the sequence trainer's evaluation (batches in data order, no dropout, no weight, multi-output metrics). And
/// what a fit reads before it trains (each part once more, only to standardize or count tokens), the target width each
/// built-in loss reads, the memory check at its bounds with its advice, and a loss of +∞ reported as NaN with truncation too.
/// </summary>
public sealed class TrainingLoopSurvivorTests
{
    // ---------- SequenceTrainer: data checks ----------

    private static SequenceModel NumericModel(int outputSize = 1, SequenceReadout readout = SequenceReadout.LastStep) =>
        new(new SequenceModelOptions { Cell = RecurrentCellType.Rnn, FeaturesPerStep = 1, HiddenSize = 2, OutputSize = outputSize, Readout = readout, Seed = 1 });

    private static TrainerOptions OneEpoch => new() { Optimizer = OptimizerKind.Sgd, LearningRate = 0.01f, Epochs = 1, BatchSize = 8, Seed = 1 };

    private static SequenceDataset Numeric(params float[] targets)
    {
        var data = new SequenceDataset(1, 1);
        foreach (float target in targets) data.Add([0.5f, -0.25f], [target]);
        return data;
    }

    [Fact]
    public void Train_RefusesEmptyTrainingData_NamingIt()
    {
        var trainer = new SequenceTrainer(NumericModel(), new MeanSquaredError(), OneEpoch);
        var error = Assert.Throws<ArgumentException>(() => trainer.Train(new SequenceDataset(1, 1)));
        Assert.Equal("training", error.ParamName);
        Assert.StartsWith("The training data holds no example.", error.Message);
    }

    [Fact]
    public void Train_RefusesDataOfTheWrongKind_WithAMessageSayingWhich()
    {
        var numeric = new SequenceTrainer(NumericModel(), new MeanSquaredError(), OneEpoch);
        var tokens = new SequenceDataset(0, 1);
        tokens.AddTokens([1, 2], [0.5f]);
        AssertRefused(() => numeric.Train(tokens), "training", "The training data holds token sequences but the model reads numeric steps.");

        var tokenModel = new SequenceModel(new SequenceModelOptions { Cell = RecurrentCellType.Rnn, VocabularySize = 5, EmbeddingSize = 2, HiddenSize = 2, Seed = 1 });
        var tokenTrainer = new SequenceTrainer(tokenModel, new MeanSquaredError(), OneEpoch);
        AssertRefused(() => tokenTrainer.Train(Numeric(0.5f)), "training", "The training data holds numeric sequences but the model reads token ids.");

        var outside = new SequenceDataset(0, 1);
        outside.AddTokens([1, 5], [0.5f]);
        AssertRefused(() => tokenTrainer.Train(outside), "training",
            "The training data's example 0 holds token id 5, outside the model's vocabulary [0, 4]. " +
            "Map unseen tokens to 0 (unknown) or build the vocabulary from every data set.");

        var twoFeatures = new SequenceDataset(2, 1);
        twoFeatures.Add([0.5f, 0.25f], [0.5f]);
        AssertRefused(() => numeric.Train(twoFeatures), "training", "The training data has 2 features per step; the model expects 1.");

        var perStep = new SequenceDataset(1, 1, perStepTargets: true);
        perStep.Add([0.5f, 0.25f], [0.5f, 0.25f]);
        AssertRefused(() => numeric.Train(perStep), "training", "The training data has per-step targets but the model reads out the last step only.");

        var everyStep = new SequenceTrainer(NumericModel(readout: SequenceReadout.EveryStep), new MeanSquaredError(), OneEpoch);
        AssertRefused(() => everyStep.Train(Numeric(0.5f)), "training", "The training data has one target per sequence but the model reads out every step.");
    }

    [Fact]
    public void ClassTargets_AreWholeNumbersInZeroToOutputSize_CheckedAtTheEdges()
    {
        var trainer = new SequenceTrainer(NumericModel(outputSize: 3), new SoftmaxCrossEntropy(), OneEpoch);
        // 0 and OutputSize − 1 = 2 are classes: every example is read (the last one too) and nothing is refused.
        var (loss, _) = trainer.Evaluate(Numeric(0, 2, 1, 2));
        Assert.True(double.IsFinite(loss));
        AssertRefused(() => trainer.Train(Numeric(1, 3)), "training", "The training data's example 1 has class target 3; classes are whole numbers in [0, 2].");
        AssertRefused(() => trainer.Train(Numeric(0, -1)), "training", "The training data's example 1 has class target -1; classes are whole numbers in [0, 2].");
        AssertRefused(() => trainer.Train(Numeric(2, 1.5f)), "training", "The training data's example 1 has class target 1.5; classes are whole numbers in [0, 2].");
        AssertRefused(() => trainer.Train(Numeric(0, 1), Numeric(2, 2, 3)), "validation",
            "The validation data's example 2 has class target 3; classes are whole numbers in [0, 2].");
    }

    private static void AssertRefused(Action action, string parameter, string message)
    {
        var error = Assert.Throws<ArgumentException>(action);
        Assert.Equal(parameter, error.ParamName);
        Assert.Equal($"{message} (Parameter '{parameter}')", error.Message);
    }

    [Fact]
    public void Evaluate_WeighsTheLossByRowAndClassWeights_AndTheAccuracyByRowWeights()
    {
        // Every weight zero but the output bias b = (0, 2, 1): the logits of every row are b, the predicted class is 1, and
        // −log p_y = log(1 + e² + e) − b_y.
        var model = NumericModel(outputSize: 3);
        model.Parameters.Values.Clear();
        var bias = model.Parameters.Tensors.Single(t => t.Name.EndsWith("bias", StringComparison.Ordinal) && t.Length == 3);
        model.Parameters.ValuesOf(bias)[1] = 2;
        model.Parameters.ValuesOf(bias)[2] = 1;
        float[] classWeights = [1, 2, 4];
        var trainer = new SequenceTrainer(model, new SoftmaxCrossEntropy(classWeights), OneEpoch);

        // 300 rows, so evaluation runs two batches (256 + 44): 256 rows of class 1 with weight 1 (right), then 22 of class 0
        // with weight 2 (wrong), 11 of class 2 with weight 0 (ignored) and 11 of class 2 with weight 1 (wrong).
        var data = new SequenceDataset(1, 1);
        for (int i = 0; i < 256; i++) data.Add([0.5f], [1]);
        for (int i = 0; i < 22; i++) data.Add([0.5f], [0], 2);
        for (int i = 0; i < 11; i++) data.Add([0.5f], [2], 0);
        for (int i = 0; i < 11; i++) data.Add([0.5f], [2], 1);

        double logSum = Math.Log(1 + Math.Exp(2) + Math.Exp(1));
        double l0 = logSum, l1 = logSum - 2, l2 = logSum - 1;
        // Σ w·c_y·l_y / Σ w·c_y over all rows: 256·1·2, 22·2·1, 11·1·4.
        double expectedLoss = (512 * l1 + 44 * l0 + 44 * l2) / (512 + 44 + 44);
        // Right rows weigh 256 of 256 + 44 + 0 + 11 = 311.
        double expectedAccuracy = 256.0 / 311;

        var (loss, accuracy) = trainer.Evaluate(data);
        Assert.Equal(expectedLoss, loss, 5);
        Assert.Equal(expectedAccuracy, accuracy, 12);
    }

    [Fact]
    public void Evaluate_IgnoresAZeroWeightRow_EvenWhenTheModelOverflowsOnIt()
    {
        // A ReLU Elman cell, H = 1, every weight 10 and every bias 0: x = 0.5 gives h = 5 and the output 50 (target 48,
        // squared error 4); x = 3e38 overflows to +∞, but that row weighs 0, so the RMSE is √(4/1) = 2.
        var model = new SequenceModel(new SequenceModelOptions
        {
            Cell = RecurrentCellType.Rnn, RnnActivation = Core.Cells.RnnActivation.Relu, FeaturesPerStep = 1, HiddenSize = 1, Seed = 1,
        });
        model.Parameters.Values.Clear();
        foreach (var tensor in model.Parameters.Tensors.Where(t => t.Name.Contains("weight", StringComparison.Ordinal)))
            model.Parameters.ValuesOf(tensor).Fill(10);
        var data = new SequenceDataset(1, 1);
        data.Add([0.5f], [48]);
        data.Add([3e38f], [0], 0);
        var (_, rmse) = new SequenceTrainer(model, new MeanSquaredError(), OneEpoch).Evaluate(data);
        Assert.Equal(2, rmse, 12);
    }

    [Fact]
    public void SequenceTrainer_RefusesNull_NamingTheArgument()
    {
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => new SequenceTrainer(null!, new MeanSquaredError(), OneEpoch)).ParamName);
        Assert.Equal("loss", Assert.Throws<ArgumentNullException>(() => new SequenceTrainer(NumericModel(), null!, OneEpoch)).ParamName);
        var trainer = new SequenceTrainer(NumericModel(), new MeanSquaredError(), OneEpoch);
        Assert.Equal("data", Assert.Throws<ArgumentNullException>(() => trainer.Evaluate(null!)).ParamName);
    }

    [Fact]
    public void Train_ChecksTheOptionsAgainstTheValidationData_BeforeTheData()
    {
        // Early stopping without validation data is the first problem named, before the empty training data.
        var trainer = new SequenceTrainer(NumericModel(), new MeanSquaredError(), OneEpoch with { EarlyStoppingPatience = 2 });
        var error = Assert.ThrowsAny<ArgumentException>(() => trainer.Train(new SequenceDataset(1, 1)));
        Assert.Equal("EarlyStoppingPatience", error.ParamName);
    }

    [Fact]
    public void Evaluate_RefusesDataTheModelCannotRead_NamingIt()
    {
        var trainer = new SequenceTrainer(NumericModel(), new MeanSquaredError(), OneEpoch);
        var tokens = new SequenceDataset(0, 1);
        tokens.AddTokens([1, 2], [0.5f]);
        AssertRefused(() => trainer.Evaluate(tokens), "data", "The data holds token sequences but the model reads numeric steps.");
        var twoFeatures = new SequenceDataset(2, 1);
        twoFeatures.Add([0.5f, 0.25f], [0.5f]);
        AssertRefused(() => trainer.Evaluate(twoFeatures), "data", "The data has 2 features per step; the model expects 1.");
    }

    [Fact]
    public void Evaluate_GoesThroughTheDataInItsOrder_InBatchesOfAtLeast256Rows()
    {
        // Lengths 3, 2, 1, 3, 2, 1, …: evaluation neither buckets by length nor takes the (small) training batch size.
        var data = new SequenceDataset(1, 1);
        for (int i = 0; i < 300; i++) data.Add(new float[3 - i % 3], [i]);
        var loss = new RecordingLoss();
        new SequenceTrainer(NumericModel(), loss, OneEpoch).Evaluate(data);
        Assert.Equal([256, 44], loss.Calls.Select(call => call.Length));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (float)i), loss.Calls.SelectMany(call => call));

        var large = new RecordingLoss();
        new SequenceTrainer(NumericModel(), large, OneEpoch with { BatchSize = 300 }).Evaluate(data);
        Assert.Equal([300], large.Calls.Select(call => call.Length));
    }

    [Fact]
    public void DefaultOptions_ShuffleEveryEpochDifferently_AndBatchSequencesOfOneLength()
    {
        // 64 sequences of lengths 1, 2, 3, 4, 1, …, each with its index as target; batches of 8. By default every batch
        // holds one length, and the second epoch presents other batches than the first.
        var data = new SequenceDataset(1, 1);
        for (int i = 0; i < 64; i++) data.Add(new float[1 + i % 4], [i]);
        var loss = new RecordingLoss();
        new SequenceTrainer(NumericModel(), loss, new TrainerOptions { Epochs = 2, BatchSize = 8 }).Train(data);
        Assert.Equal(16, loss.Calls.Count);
        Assert.All(loss.Calls, batch => Assert.Single(batch.Select(target => (int)target % 4).Distinct()));
        Assert.NotEqual(loss.Calls.Take(8).SelectMany(batch => batch), loss.Calls.Skip(8).SelectMany(batch => batch));
        Assert.All(loss.Calls.Chunk(8), epoch => Assert.Equal(Enumerable.Range(0, 64).Select(i => (float)i), epoch.SelectMany(batch => batch).Order()));
    }

    /// <summary>Records the targets of every call; the loss and its gradient are 0.</summary>
    private sealed class RecordingLoss : ILoss
    {
        public List<float[]> Calls { get; } = [];

        public double Compute(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, int rows, int width, ReadOnlySpan<float> weights, Span<float> gradient)
        {
            Calls.Add(target.ToArray());
            gradient.Clear();
            return 0;
        }
    }

    [Fact]
    public void Evaluate_RunsWithoutDropout()
    {
        // The same weights with and without dropout 0.5 give the same evaluation, every time.
        var withDropout = new SequenceModel(new SequenceModelOptions { Cell = RecurrentCellType.Rnn, FeaturesPerStep = 1, HiddenSize = 4, Dropout = 0.5f, Seed = 1 });
        var without = new SequenceModel(new SequenceModelOptions { Cell = RecurrentCellType.Rnn, FeaturesPerStep = 1, HiddenSize = 4, Seed = 1 });
        withDropout.Parameters.ReadOnlyValues.CopyTo(without.Parameters.Values);
        var data = new SequenceDataset(1, 1);
        var random = new Random(3);
        for (int i = 0; i < 20; i++) data.Add([random.NextSingle() * 2 - 1, random.NextSingle() * 2 - 1], [random.NextSingle()]);
        var reference = new SequenceTrainer(without, new MeanSquaredError(), OneEpoch).Evaluate(data);
        var trainer = new SequenceTrainer(withDropout, new MeanSquaredError(), OneEpoch);
        Assert.Equal(reference, trainer.Evaluate(data));
        Assert.Equal(reference, trainer.Evaluate(data));
        Assert.True(reference.Loss > 0);
    }

    [Fact]
    public void Evaluate_OfNoWeight_IsZero_NotNaN()
    {
        var zeroWeights = new SequenceDataset(1, 1);
        zeroWeights.Add([0.5f], [1], 0);
        zeroWeights.Add([0.25f], [0], 0);
        foreach (ILoss loss in new ILoss[] { new MeanSquaredError(), new BinaryCrossEntropyWithLogits() })
        {
            var trainer = new SequenceTrainer(NumericModel(), loss, OneEpoch);
            Assert.Equal((0.0, 0.0), trainer.Evaluate(new SequenceDataset(1, 1)));
            Assert.Equal((0.0, 0.0), trainer.Evaluate(zeroWeights));
        }
    }

    /// <summary>An Elman model with two outputs whose every weight is 0 but the head's bias: each row's output is the bias.</summary>
    private static SequenceModel TwoOutputs(float bias0, float bias1)
    {
        var model = new SequenceModel(new SequenceModelOptions { Cell = RecurrentCellType.Rnn, FeaturesPerStep = 1, HiddenSize = 4, OutputSize = 2, Seed = 1 });
        model.Parameters.Values.Clear();
        var bias = model.Parameters.ValuesOf(model.Parameters.Tensors.Single(t => t.Name == "head.bias"));
        bias[0] = bias0;
        bias[1] = bias1;
        return model;
    }

    [Fact]
    public void Evaluate_MultiLabelAccuracy_IsTheWeightedShareOfRightLabels_WithZeroAndOneHalfOnTheNegativeSide()
    {
        // Logits (2, 0): label 0 is predicted positive, label 1 (logit exactly 0) negative. Targets (1, 0) are both right;
        // (0, ½): label 0 wrong, label 1 right (½ is not positive); (1, 1): label 0 right, label 1 wrong. Weighted by
        // 1, 2, 1: (1·1 + 2·½ + 1·½) / 4 = 5/8.
        var data = new SequenceDataset(1, 2);
        data.Add([0.5f], [1, 0]);
        data.Add([0.5f], [0, 0.5f], 2);
        data.Add([0.5f], [1, 1]);
        var (_, accuracy) = new SequenceTrainer(TwoOutputs(2, 0), new BinaryCrossEntropyWithLogits(), OneEpoch).Evaluate(data);
        Assert.Equal(5.0 / 8, accuracy, 12);
    }

    [Fact]
    public void Evaluate_RmseOfTwoOutputs_IsTheRootOfTheWeightedMeanOfEachRowsMeanSquare()
    {
        // Outputs (1, 2) against (1, 2), (0, 0), (3, 2): row means 0, (1 + 4)/2, (4 + 0)/2, weighted 1, 1, 2: √((0 + 2.5 + 4)/4).
        var data = new SequenceDataset(1, 2);
        data.Add([0.5f], [1, 2]);
        data.Add([0.5f], [0, 0]);
        data.Add([0.5f], [3, 2], 2);
        var (loss, rmse) = new SequenceTrainer(TwoOutputs(1, 2), new MeanSquaredError(), OneEpoch).Evaluate(data);
        Assert.Equal(Math.Sqrt(6.5 / 4), rmse, 12);
        Assert.Equal(6.5 / 4, loss, 6);
    }

    [Fact]
    public void EpochReports_NameTheMetric_RmseForRegression_AccuracyForClassification()
    {
        var regression = new SequenceTrainer(NumericModel(), new MeanSquaredError(), OneEpoch).Train(Numeric(0.5f, 0.25f), Numeric(0.5f));
        Assert.Equal("rmse", regression.Epochs[0].MetricName);
        var classification = new SequenceTrainer(NumericModel(), new BinaryCrossEntropyWithLogits(), OneEpoch).Train(Numeric(1, 0), Numeric(1));
        Assert.Equal("accuracy", classification.Epochs[0].MetricName);
    }

    [Fact]
    public void StepDecay_CountsTheEpochsBatches_ALastPartialBatchIncluded()
    {
        // Ten examples in batches of four are three steps an epoch: steps 0–2 run at 0.01, steps 3–5 at 0.005.
        var trainer = new SequenceTrainer(NumericModel(), new MeanSquaredError(),
            OneEpoch with { Epochs = 2, BatchSize = 4, Schedule = ScheduleKind.StepDecay, StepDecayEpochs = 1, StepDecayGamma = 0.5f });
        var history = trainer.Train(Numeric(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        Assert.Equal(6, history.Steps);
        Assert.Equal([0.01f, 0.005f], history.Epochs.Select(e => (float)e.LearningRate));
    }

    [Fact]
    public void ANonFiniteOutputGradient_StopsTheStepBeforeBackpropagation()
    {
        var model = NumericModel();
        var trainer = new SequenceTrainer(model, new PoisonedGradientLoss(), OneEpoch);
        var error = Assert.Throws<TrainingDivergedException>(() => trainer.Train(Numeric(0.5f, 0.25f)));
        Assert.Equal((1, 1), (error.Epoch, error.Batch));
        Assert.True(double.IsNaN(error.Loss));
        Assert.All(model.Parameters.Gradients.ToArray(), gradient => Assert.Equal(0, gradient));
    }

    /// <summary>A finite loss (0.5) whose gradient holds a NaN.</summary>
    private sealed class PoisonedGradientLoss : ILoss
    {
        public double Compute(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, int rows, int width, ReadOnlySpan<float> weights, Span<float> gradient)
        {
            gradient.Fill(0.25f);
            gradient[0] = float.NaN;
            return 0.5;
        }
    }

    // ---------- SequenceTrainer: what a fit reads before training, its memory check, a non-finite truncated loss ----------

    [Fact]
    public void Train_RefusesNullTrainingData_NamingIt()
    {
        var trainer = new SequenceTrainer(NumericModel(), new MeanSquaredError(), OneEpoch);
        Assert.Equal("training", Assert.Throws<ArgumentNullException>(() => trainer.Train(null!)).ParamName);
    }

    /// <summary>
    /// A fit reads each part of its data once an epoch, and once more before the first only to standardize or to count the
    /// tokens for token dropout; a class target of 0 is in range, so checking the classes reads nothing either (a part is
    /// read to be checked only when its summary shows a target or token out of range).
    /// </summary>
    [Theory]
    [InlineData("numbers", false, 0f, 2)]
    [InlineData("numbers", true, 0f, 3)]
    [InlineData("tokens", false, 0f, 2)]
    [InlineData("tokens", false, 0.2f, 3)]
    [InlineData("classes", false, 0f, 2)]
    public void Train_ReadsEachPartOnceAnEpoch_AndOnceBefore_OnlyToStandardizeOrCountTokens(string kind, bool standardize, float tokenDropout, int reads)
    {
        SequenceDataset data;
        SequenceModel model;
        ILoss loss;
        if (kind == "tokens")
        {
            data = new SequenceDataset(0, 1);
            for (int n = 0; n < 6; n++) data.AddTokens([1 + n % 3, 2, 3 - n % 2], [n % 2]);
            model = new SequenceModel(new SequenceModelOptions { VocabularySize = 4, EmbeddingSize = 2, HiddenSize = 2, TokenDropout = tokenDropout, Seed = 1 });
            loss = new BinaryCrossEntropyWithLogits();
        }
        else
        {
            bool classes = kind == "classes";
            data = Numeric(classes ? [0, 1, 2, 0, 1, 2] : [0.5f, -0.5f, 0.25f, 1, 0, 2]);
            model = NumericModel(outputSize: classes ? 3 : 1);
            loss = classes ? new SoftmaxCrossEntropy() : new MeanSquaredError();
        }
        var source = new CountingSource(data);
        new SequenceTrainer(model, loss, OneEpoch with { Epochs = 2, Standardize = standardize }).Train(source);
        Assert.Equal([reads], source.Reads);
    }

    /// <summary>
    /// A part whose summary shows a class out of range is read to find the example; when every example is in range (a
    /// cautious summary), the fit goes on: that part is read once more than the epochs read it.
    /// </summary>
    [Fact]
    public void APartFlaggedByItsSummary_ButWhoseClassesAreAllInRange_IsReadAndAccepted()
    {
        var source = new CountingSource(Numeric(0, 1, 2, 1)) { Summaries = summary => summary with { MinTarget = -1 } };
        new SequenceTrainer(NumericModel(outputSize: 3), new SoftmaxCrossEntropy(), OneEpoch with { Epochs = 2 }).Train(source);
        Assert.Equal([1 + 2], source.Reads);
    }

    /// <summary>A source that claims more examples than its parts hold fails at the first batch it cannot fill, naming the step.</summary>
    [Fact]
    public void ASourceClaimingMoreExamplesThanItHolds_FailsAtTheFirstMissingBatch()
    {
        // 8 examples in batches of 8, but 16 claimed: the epoch plans 2 batches and the second has nothing to fill it.
        var source = new CountingSource(Numeric(0, 1, 2, 3, 4, 5, 6, 7)) { ClaimedExampleCount = 16 };
        var trainer = new SequenceTrainer(NumericModel(), new MeanSquaredError(), OneEpoch);
        Assert.Equal("The epoch ran out of batches at step 1.", Assert.Throws<InvalidOperationException>(() => trainer.Train(source)).Message);
    }

    /// <summary>
    /// A source whose summary claims sequences of <paramref name="longest"/> steps (and <paramref name="examples"/> of them)
    /// and whose every read fails: a fit refused by the memory check throws before it reads; one let through fails at its
    /// first read (standardizing reads the data before training), so no test here trains on a batch of that size.
    /// </summary>
    private static CountingSource Claiming(int longest, int examples) =>
        new(Numeric(0.5f)) { Summaries = summary => summary with { Longest = longest }, ClaimedExampleCount = examples, ReadFailure = new IOException("read") };

    private static string MemoryRefusal(int batch, int steps, long needed, long limit, string limitNote, string truncate) => string.Create(CultureInfo.InvariantCulture,
        $"A training batch of {batch} sequences of {steps} steps needs about {needed >> 20:N0} MB for its activations and gradients, more than the limit of {limit >> 20:N0} MB{limitNote}") +
        $"Lower BatchSize, {truncate} so a pass keeps one chunk of steps, cut the sequences shorter, lower HiddenSize or the number of layers, or raise MaxBatchMemoryMegabytes.";

    [Fact]
    public void TheAutomaticMemoryLimit_IsHalfTheAvailableMemory()
    {
        var model = NumericModel();
        long half = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;
        // The fewest steps whose batch of 8 needs more than half the available memory (less than all of it).
        int low = 1, high = int.MaxValue / 2;
        while (low < high)
        {
            int middle = low + (high - low) / 2;
            if (model.TrainingBytes(8, middle) > half) high = middle; else low = middle + 1;
        }
        long needed = model.TrainingBytes(8, low);
        Assert.InRange(needed, half + 1, 2 * half - 1);
        var options = OneEpoch with { BatchSize = 8, Standardize = true };
        var refused = Assert.Throws<InvalidOperationException>(() => new SequenceTrainer(model, new MeanSquaredError(), options).Train(Claiming(low, 8)));
        Assert.Equal(MemoryRefusal(8, low, needed, half, " (MaxBatchMemoryMegabytes, by default half of the available memory). ", "set TruncatedBpttSteps (for example 100)"),
            refused.Message);
        // One step fewer fits: the fit goes on to read its data.
        Assert.Throws<IOException>(() => new SequenceTrainer(model, new MeanSquaredError(), options).Train(Claiming(low - 1, 8)));
    }

    [Fact]
    public void ABatchNeedingExactlyTheLimit_IsAllowed()
    {
        var model = NumericModel();
        // A batch shape whose estimate is a whole number of megabytes, at least 2.
        var (batch, steps) = (from b in Enumerable.Range(1, 16)
                              from t in Enumerable.Range(1, 1 << 21)
                              let bytes = model.TrainingBytes(b, t)
                              where bytes % (1 << 20) == 0 && bytes >> 20 >= 2
                              select (b, t)).First();
        int megabytes = (int)(model.TrainingBytes(batch, steps) >> 20);
        var atTheLimit = OneEpoch with { BatchSize = batch, Standardize = true, MaxBatchMemoryMegabytes = megabytes };
        Assert.Throws<IOException>(() => new SequenceTrainer(model, new MeanSquaredError(), atTheLimit).Train(Claiming(steps, batch)));
        var belowIt = atTheLimit with { MaxBatchMemoryMegabytes = megabytes - 1 };
        Assert.Throws<InvalidOperationException>(() => new SequenceTrainer(model, new MeanSquaredError(), belowIt).Train(Claiming(steps, batch)));
    }

    /// <summary>The memory refusal's advice on truncation fits the model: unidirectional first, a shorter chunk, or a chunk at all.</summary>
    [Theory]
    [InlineData(true, 0, "make the model unidirectional and set TruncatedBpttSteps")]
    [InlineData(false, 50, "lower TruncatedBpttSteps")]
    [InlineData(false, 0, "set TruncatedBpttSteps (for example 100)")]
    public void TheMemoryRefusal_SaysWhatTruncationWouldDo(bool bidirectional, int truncatedSteps, string advice)
    {
        var model = new SequenceModel(new SequenceModelOptions { Cell = RecurrentCellType.Rnn, FeaturesPerStep = 1, HiddenSize = 2, Bidirectional = bidirectional, Seed = 1 });
        var options = OneEpoch with { BatchSize = 8, MaxBatchMemoryMegabytes = 1, TruncatedBpttSteps = truncatedSteps };
        const int steps = 1_000_000;
        var refused = Assert.Throws<InvalidOperationException>(() => new SequenceTrainer(model, new MeanSquaredError(), options).Train(Claiming(steps, 8)));
        Assert.Equal(MemoryRefusal(8, steps, model.TrainingBytes(8, steps, truncatedSteps), 1 << 20, " (MaxBatchMemoryMegabytes). ", advice), refused.Message);
    }

    /// <summary>A loss of +∞ with a finite gradient.</summary>
    private sealed class InfiniteLoss : ILoss
    {
        public double Compute(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, int rows, int width, ReadOnlySpan<float> weights, Span<float> gradient)
        {
            gradient.Fill(0.25f);
            return double.PositiveInfinity;
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void AnInfiniteLoss_StopsTrainingWithALossOfNaN_WithOrWithoutTruncation(int truncatedSteps)
    {
        var trainer = new SequenceTrainer(NumericModel(), new InfiniteLoss(), OneEpoch with { TruncatedBpttSteps = truncatedSteps });
        var error = Assert.Throws<TrainingDivergedException>(() => trainer.Train(Numeric(0.5f, 0.25f)));
        Assert.Equal((1, 1), (error.Epoch, error.Batch));
        Assert.True(double.IsNaN(error.Loss), $"loss {error.Loss}");
    }

    /// <summary>
    /// The built-in losses read one class per example (softmax) or one target per output: data of another target width is
    /// refused before training, naming it (not by the loss, at the first step).
    /// </summary>
    [Theory]
    [InlineData("mse", 1, 2)]
    [InlineData("bce", 2, 1)]
    [InlineData("softmax", 3, 3)]
    public void Train_RefusesTargetsOfAWidthTheLossCannotRead(string lossName, int outputSize, int targetWidth)
    {
        ILoss loss = lossName switch { "mse" => new MeanSquaredError(), "bce" => new BinaryCrossEntropyWithLogits(), _ => new SoftmaxCrossEntropy() };
        var data = new SequenceDataset(1, targetWidth);
        for (int n = 0; n < 4; n++) data.Add([0.5f, -0.25f], new float[targetWidth]);
        var trainer = new SequenceTrainer(NumericModel(outputSize), loss, OneEpoch);
        int expected = lossName == "softmax" ? 1 : outputSize;
        AssertRefused(() => trainer.Train(data), "training", string.Create(CultureInfo.InvariantCulture,
            $"The training data has targets of width {targetWidth} but the model's loss ({loss.GetType().Name}) reads targets of width {expected}."));
    }

    /// <summary>
    /// Evaluation reads a spilled cache into a buffer of the cache's shape; a trainer evaluated on caches of two target
    /// widths (its loss reads either) makes a buffer for each.
    /// </summary>
    [Fact]
    public void Evaluate_ReadsSpilledCachesOfTwoTargetWidths_EachIntoABufferOfItsShape()
    {
        SequenceCache Spilled(int width)
        {
            var cache = new SequenceCache(1, width, perStepTargets: false, memoryBudget: 64, seed: 1);
            for (int n = 0; n < 20; n++) cache.Add([0.5f, n], new float[width]);
            cache.Complete();
            Assert.True(cache.Spilled);
            return cache;
        }
        using var narrow = Spilled(1);
        using var wide = Spilled(2);
        var loss = new RecordingLoss();
        var trainer = new SequenceTrainer(NumericModel(), loss, OneEpoch);
        trainer.Evaluate(narrow);
        trainer.Evaluate(wide);
        trainer.Evaluate(narrow);
        Assert.Equal(20 + 40 + 20, loss.Calls.Sum(call => call.Length));
    }

    /// <summary>
    /// Early stopping on accuracy applies where the metric is an accuracy; a regressor's metric is an RMSE, so it keeps the
    /// epoch of the lowest validation loss (not the highest RMSE).
    /// </summary>
    [Fact]
    public void EarlyStoppingOnAccuracy_LeavesARegressorsBestEpochToTheLoss()
    {
        var data = new SequenceDataset(1, 1);
        for (int n = 0; n < 32; n++) data.Add([n % 4 * 0.25f, 0.5f], [n % 4 * 0.5f - 0.5f]);
        var trainer = new SequenceTrainer(NumericModel(), new MeanSquaredError(),
            OneEpoch with { Epochs = 4, LearningRate = 0.1f, EarlyStoppingOnAccuracy = true });
        var history = trainer.Train(data, data);
        var reports = history.Epochs;
        int lowestLoss = reports.MinBy(report => report.ValidationLoss)!.Epoch, highestRmse = reports.MaxBy(report => report.ValidationMetric)!.Epoch;
        Assert.NotEqual(lowestLoss, highestRmse);
        Assert.Equal(lowestLoss, history.BestEpoch);
    }

    // ---------- TrainingLoop ----------

    private static ParameterSet ThreeWeights(params float[] values)
    {
        var parameters = new ParameterSet();
        parameters.Add("w", 3);
        values.CopyTo(parameters.Values);
        return parameters;
    }

    private static TrainerOptions Sgd(int epochs) =>
        new() { Optimizer = OptimizerKind.Sgd, LearningRate = 0.01f, GradientClipNorm = 0, Epochs = epochs, Shuffle = false };

    [Fact]
    public void Divergence_ReportsTheEpochAndTheOneBasedStep_OfANonFiniteLossOrGradient()
    {
        var parameters = ThreeWeights(1, 2, 3);
        var loop = new TrainingLoop(parameters, Sgd(3), "{}");
        var lossTask = new ScriptedTask(parameters, 4) { Loss = (epoch, step) => epoch == 2 && step == 2 ? double.NaN : 0.5 };
        var error = Assert.Throws<TrainingDivergedException>(() => loop.Train(lossTask));
        Assert.Equal(2, error.Epoch);
        Assert.Equal(3, error.Batch);
        Assert.True(double.IsNaN(error.Loss));

        var other = ThreeWeights(1, 2, 3);
        var gradientTask = new ScriptedTask(other, 4)
        {
            Loss = (_, _) => 0.25,
            Gradient = (epoch, step, gradient) => { if (epoch == 1 && step == 1) gradient[1] = float.PositiveInfinity; },
        };
        var gradientError = Assert.Throws<TrainingDivergedException>(() => new TrainingLoop(other, Sgd(3), "{}").Train(gradientTask));
        Assert.Equal(1, gradientError.Epoch);
        Assert.Equal(2, gradientError.Batch);
        Assert.Equal(0.25, gradientError.Loss);
        Assert.False(double.IsFinite(gradientError.GradientNorm));
    }

    [Fact]
    public void Remaining_IsThePaceSoFar_CappedByWhatIsLeftOfTheBudget()
    {
        // One second per step, four steps per epoch, six epochs. After epoch e the pace predicts 4·(6 − e) s more.
        var clock = new SteppingClock();
        var parameters = ThreeWeights(1, 2, 3);
        var unlimited = new TrainingLoop(parameters, Sgd(6) with { MaxTrainingTime = TimeSpan.FromSeconds(100), TimeProvider = clock }, "{}");
        var history = unlimited.Train(new ScriptedTask(parameters, 4) { Clock = clock });
        Assert.Equal([20.0, 16, 12, 8, 4, 0], history.Epochs.Select(e => e.Remaining.TotalSeconds));

        // A budget of 18 s: the pace's 20, 16, 12, 8 s are capped at 18 − 4, 18 − 8, 18 − 12, 18 − 16; the fifth epoch runs out.
        var budgetClock = new SteppingClock();
        var limited = new TrainingLoop(parameters, Sgd(6) with { MaxTrainingTime = TimeSpan.FromSeconds(18), TimeProvider = budgetClock }, "{}");
        var limitedHistory = limited.Train(new ScriptedTask(parameters, 4) { Clock = budgetClock });
        Assert.Equal(TrainingStopReason.TimeBudget, limitedHistory.StopReason);
        Assert.Equal([14.0, 10, 6, 2, 0], limitedHistory.Epochs.Select(e => e.Remaining.TotalSeconds));
    }

    [Fact]
    public void TimeBudget_SpentByValidation_LeavesNoTime_AndTheCosineRateHoldsAtItsLastPlannedStep()
    {
        // Four steps per epoch (1 s each) and a validation (1 s) per epoch, six epochs = 24 planned steps, budget 4.8 s,
        // cosine from 0.01 to 0.002 without warm-up. Before step k the clock reads k s in epoch 1: progress max(k, k/4.8·24);
        // the fourth step (k = 3) runs at 3/4.8·24 = 15. Validation then brings the clock to 5 s > 4.8 s: nothing is left,
        // although no step ran out. Epoch 2's one step runs at 5/4.8·24 = 25, held at the last planned step, 23.
        var clock = new SteppingClock();
        var parameters = ThreeWeights(1, 2, 3);
        var loop = new TrainingLoop(parameters, Sgd(6) with
        {
            Schedule = ScheduleKind.Cosine, MinimumLearningRate = 0.002f, MaxTrainingTime = TimeSpan.FromSeconds(4.8), TimeProvider = clock,
        }, "{}");
        var history = loop.Train(new ScriptedTask(parameters, 4) { Clock = clock, Validation = _ => 1.0 });
        static double Cosine(int t) => 0.002 + 0.008 * (1 + Math.Cos(Math.PI * t / 24)) / 2;
        Assert.Equal(TrainingStopReason.TimeBudget, history.StopReason);
        Assert.Equal(5, history.Steps);
        Assert.Equal(TimeSpan.FromSeconds(5), history.Epochs[0].Elapsed);
        Assert.Equal(TimeSpan.Zero, history.Epochs[0].Remaining);
        Assert.Equal(Cosine(15), history.Epochs[0].LearningRate, 6);
        Assert.Equal(Cosine(23), history.Epochs[1].LearningRate, 6);
    }

    [Fact]
    public void CosineWithWarmup_FollowsTheBudgetFromTheFirstStepAfterWarmup()
    {
        // One step per epoch (1 s), six epochs, two warm-up steps, budget 4 s, cosine from 0.01 to 0.002 over steps 2..6.
        // Steps 0 and 1 warm up (0.01·1/3, 0.01·2/3); step 2 already runs at the time's share 2/4·6 = 3 (t = 1 of 4),
        // step 3 at 3/4·6 = 4.5 → 4 (t = 2 of 4); then the budget is spent.
        var clock = new SteppingClock();
        var parameters = ThreeWeights(1, 2, 3);
        var loop = new TrainingLoop(parameters, Sgd(6) with
        {
            Schedule = ScheduleKind.Cosine, WarmupSteps = 2, MinimumLearningRate = 0.002f, MaxTrainingTime = TimeSpan.FromSeconds(4), TimeProvider = clock,
        }, "{}");
        var history = loop.Train(new ScriptedTask(parameters, 1) { Clock = clock });
        double[] expected = [0.01 / 3, 0.02 / 3, 0.002 + 0.004 * (1 + Math.Cos(Math.PI / 4)), 0.006];
        Assert.Equal(4, history.Epochs.Count);
        for (int e = 0; e < 4; e++) Assert.Equal(expected[e], history.Epochs[e].LearningRate, 6);
    }

    [Fact]
    public void Train_RefusesATaskOverOtherParameters_AndTheLoopAScope_WithTheirMessages()
    {
        var parameters = ThreeWeights(1, 2, 3);
        var scope = parameters.Scope("part.");
        scope.Add("v", 2);
        AssertRefused(() => new TrainingLoop(scope, Sgd(1), "{}"), "parameters",
            "The parameters are the scope 'part.' of a model; train the model's whole set.");
        var loop = new TrainingLoop(ThreeWeights(1, 2, 3), Sgd(1), "{}");
        var other = new ParameterSet();
        other.Add("w", 2);
        AssertRefused(() => loop.Train(new ScriptedTask(other, 1)), "task", "The task trains other parameters than this loop was made for.");

        // A scope of the loop's own set with as many values as the set is still a scope: refused, although the counts agree.
        var model = new ParameterSet();
        var part = model.Scope("part.");
        part.Add("w", 3);
        Assert.Equal(model.Count, part.Count);
        var modelLoop = new TrainingLoop(model, Sgd(1), "{}");
        AssertRefused(() => modelLoop.Train(new ScriptedTask(part, 1)), "task", "The task trains other parameters than this loop was made for.");
        Assert.Empty(modelLoop.History.Epochs);
    }

    [Fact]
    public void Constructor_AndTrain_RefuseNull_NamingTheArgument()
    {
        var parameters = ThreeWeights(1, 2, 3);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => new TrainingLoop(null!, Sgd(1), "{}")).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => new TrainingLoop(parameters, null!, "{}")).ParamName);
        Assert.Equal("configurationJson", Assert.Throws<ArgumentNullException>(() => new TrainingLoop(parameters, Sgd(1), null!)).ParamName);
        Assert.Equal("task", Assert.Throws<ArgumentNullException>(() => new TrainingLoop(parameters, Sgd(1), "{}").Train(null!)).ParamName);
    }

    [Fact]
    public void Train_RefusesOptionsThatNeedValidation_WhenTheTaskHasNone_BeforeAnyStep()
    {
        // The constructor cannot know whether the task will validate; Train checks it, before the weights move.
        var parameters = ThreeWeights(1, 2, 3);
        var ones = new ScriptedTask(parameters, 2) { Gradient = (_, _, gradient) => gradient.Fill(1) };
        AssertRefusedWith(() => new TrainingLoop(parameters, Sgd(2) with { EarlyStoppingPatience = 2 }, "{}").Train(ones),
            "EarlyStoppingPatience", "EarlyStoppingPatience is 2 but no validation data was given");
        AssertRefusedWith(() => new TrainingLoop(parameters, Sgd(2) with { ReduceOnPlateau = true }, "{}").Train(ones),
            "ReduceOnPlateau", "ReduceOnPlateau needs validation data");
        Assert.Equal([1f, 2, 3], parameters.Values.ToArray());
    }

    private static void AssertRefusedWith(Action action, string parameter, string words)
    {
        var error = Assert.ThrowsAny<ArgumentException>(action);
        Assert.Equal(parameter, error.ParamName);
        Assert.Contains(words, error.Message);
    }

    [Fact]
    public void CosineWarmup_LongerThanTheRun_IsCutToOneStepBeforeItsEnd()
    {
        // One epoch of two steps with five warm-up steps: the warm-up keeps N − 1 = 1 step (0.01·1/2), and the last step
        // starts the cosine at t = 0, the full rate 0.01.
        var parameters = ThreeWeights(1, 2, 3);
        var rates = new List<float>();
        TrainingLoop? loop = null;
        loop = new TrainingLoop(parameters, Sgd(1) with { Schedule = ScheduleKind.Cosine, WarmupSteps = 5 }, "{}");
        loop.Train(new ScriptedTask(parameters, 2) { Gradient = (_, _, _) => rates.Add(loop.Optimizer.LearningRate) });
        Assert.Equal([0.005f, 0.01f], rates);
    }

    [Fact]
    public void EpochReport_HoldsTheWeightedLoss_TheMeanGradientNorm_AndExamplesPerSecond_OnTheGivenClock()
    {
        // Four steps of 1 s reading 3 examples each: 12 examples in 4 s = 3 per second. Step s has loss s + 0.5, weight s + 1
        // and the gradient (3, 4, 0)·(s + 1), norm 5·(s + 1): the loss is Σ w·l / Σ w = 25/10, the mean norm 50/4.
        var clock = new SteppingClock();
        var parameters = ThreeWeights(1, 2, 3);
        var loop = new TrainingLoop(parameters, Sgd(1) with { TimeProvider = clock }, "{}");
        var history = loop.Train(new ScriptedTask(parameters, 4)
        {
            Clock = clock, Examples = 3, Loss = (_, step) => step + 0.5, Weight = step => step + 1,
            Gradient = (_, step, gradient) => { gradient[0] = 3 * (step + 1); gradient[1] = 4 * (step + 1); },
        });
        var report = Assert.Single(history.Epochs);
        Assert.Equal(2.5, report.TrainingLoss, 12);
        Assert.Equal(12.5, report.GradientNorm, 6);
        Assert.Equal(3.0, report.SamplesPerSecond, 12);
    }

    [Fact]
    public void EpochReport_OfAnEpochWithoutWeightOrSteps_IsZero_NotNaN()
    {
        var parameters = ThreeWeights(1, 2, 3);
        var weightless = new TrainingLoop(parameters, Sgd(1), "{}").Train(new ScriptedTask(parameters, 3) { Weight = _ => 0 });
        Assert.Equal(0, weightless.Epochs[0].TrainingLoss);
        Assert.Equal(3, weightless.Steps);

        var empty = new TrainingLoop(parameters, Sgd(1), "{}").Train(new ScriptedTask(parameters, 0));
        var report = Assert.Single(empty.Epochs);
        Assert.Equal(0, report.TrainingLoss);
        Assert.Equal(0, report.GradientNorm);
        Assert.Equal(0, report.SamplesPerSecond);
        Assert.Equal(0, empty.Steps);
    }

    [Fact]
    public void Remaining_AfterAPause_IsThePaceOfTheEpochsRunSinceTrainWasCalledAgain()
    {
        // Four 1-s steps per epoch, six epochs; the first call pauses after epoch 2. The second call's clock starts at its
        // own start: after epoch 3, 4 s for one epoch run, 3 left: 12 s; after epoch 4, 8 s for two: 8 s; and so on.
        var clock = new SteppingClock();
        var parameters = ThreeWeights(1, 2, 3);
        var loop = new TrainingLoop(parameters, Sgd(6) with
        {
            TimeProvider = clock, EpochCallback = report => report.Epoch == 2 ? EpochDecision.Stop : EpochDecision.Continue,
        }, "{}");
        loop.Train(new ScriptedTask(parameters, 4) { Clock = clock });
        var history = loop.Train(new ScriptedTask(parameters, 4) { Clock = clock });
        Assert.Equal(TrainingStopReason.EpochsCompleted, history.StopReason);
        Assert.Equal([20.0, 16, 12, 8, 4, 0], history.Epochs.Select(e => e.Remaining.TotalSeconds));
    }

    [Fact]
    public void EarlyStopping_ATieIsNoImprovement_TheFirstOfEqualLossesIsBest_AndItsWeightsAreRestored()
    {
        // Validation losses 1.0, 0.5, 0.5, 0.4 with patience 1: epoch 3 only equals epoch 2, so it is a bad epoch and
        // training stops there with epoch 2's weights (each step moves every weight by −0.01).
        var parameters = ThreeWeights(1, 2, 3);
        double[] losses = [1.0, 0.5, 0.5, 0.4];
        float[]? afterEpoch2 = null;
        var loop = new TrainingLoop(parameters, Sgd(4) with
        {
            EarlyStoppingPatience = 1,
            EpochCallback = report =>
            {
                if (report.Epoch == 2) afterEpoch2 = parameters.Values.ToArray();
                return EpochDecision.Continue;
            },
        }, "{}");
        var history = loop.Train(new ScriptedTask(parameters, 1) { Gradient = (_, _, gradient) => gradient.Fill(1), Validation = epoch => losses[epoch - 1] });
        Assert.Equal(TrainingStopReason.EarlyStopping, history.StopReason);
        Assert.Equal(3, history.Epochs.Count);
        Assert.Equal(2, history.BestEpoch);
        Assert.Equal(afterEpoch2!, parameters.Values.ToArray());
        Assert.Equal([0.98f, 1.98f, 2.98f], afterEpoch2!);
    }

    [Fact]
    public void BestEpoch_WithoutValidation_IsTheLastEpoch()
    {
        var parameters = ThreeWeights(1, 2, 3);
        var history = new TrainingLoop(parameters, Sgd(3), "{}").Train(new ScriptedTask(parameters, 2));
        Assert.Equal(3, history.BestEpoch);
    }

    [Fact]
    public void EarlyStopping_WithAValidationLossThatIsNeverFinite_HasNoBestEpoch_AndKeepsTheLastWeights()
    {
        // No NaN is below +∞, so no epoch is best: there are no best weights to restore, and the weights stay those of the
        // last step (two steps of −0.01), not the never-filled copy.
        var parameters = ThreeWeights(1, 2, 3);
        var history = new TrainingLoop(parameters, Sgd(5) with { EarlyStoppingPatience = 2 }, "{}")
            .Train(new ScriptedTask(parameters, 1) { Gradient = (_, _, gradient) => gradient.Fill(1), Validation = _ => double.NaN });
        Assert.Equal(TrainingStopReason.EarlyStopping, history.StopReason);
        Assert.Equal(2, history.Epochs.Count);
        Assert.Equal(0, history.BestEpoch);
        Assert.Equal([0.98f, 1.98f, 2.98f], parameters.Values.ToArray());
    }

    [Fact]
    public void EveryEpoch_ShufflesWithItsOwnSeed_AFixedFunctionOfTheSeedAndTheEpoch()
    {
        // A checkpoint written by one build must continue identically in the next, so the epoch's seed is part of the
        // format: seed·1 000 003 + epoch·7 919 + 17 (wrapping). Without shuffling the task gets no Random.
        var parameters = ThreeWeights(1, 2, 3);
        var draws = new List<int>();
        new TrainingLoop(parameters, Sgd(3) with { Shuffle = true, Seed = 5 }, "{}")
            .Train(new ScriptedTask(parameters, 1) { OnBeginEpoch = (_, random) => draws.Add(random!.Next()) });
        Assert.Equal(Enumerable.Range(1, 3).Select(epoch => new Random(5 * 1_000_003 + epoch * 7919 + 17).Next()), draws);

        var randoms = new List<Random?>();
        new TrainingLoop(parameters, Sgd(2), "{}").Train(new ScriptedTask(parameters, 1) { OnBeginEpoch = (_, random) => randoms.Add(random) });
        Assert.Equal([null, null], randoms);
    }

    [Fact]
    public void Logger_WritesEachEpochsLine_WithFourDecimals_AndADashForWhatIsNotMeasured_ThenWhyTrainingStopped()
    {
        // Four 1-s steps reading 3 examples, then a 1-s validation: 12 examples in 5 s, 2.4 per second; five more seconds left.
        var clock = new SteppingClock();
        var logger = new LineLogger();
        var parameters = ThreeWeights(1, 2, 3);
        new TrainingLoop(parameters, Sgd(2) with { Logger = logger, TimeProvider = clock }, "{}").Train(new ScriptedTask(parameters, 4)
        {
            Clock = clock, Examples = 3, Loss = (_, _) => 0.25,
            Gradient = (_, _, gradient) => { gradient[0] = 3; gradient[1] = 4; },
            Validation = epoch => epoch == 1 ? 0.123456 : 2, Metric = _ => 0.75,
        });
        Assert.Equal(
        [
            "Epoch 1: loss 0.2500, validation loss 0.1235, validation none 0.7500, gradient norm 5.000, learning rate 0.01, 2 examples/s, 00:00:05 left",
            "Epoch 2: loss 0.2500, validation loss 2.0000, validation none 0.7500, gradient norm 5.000, learning rate 0.01, 2 examples/s, 00:00:00 left",
            "Training stopped: every epoch ran after 2 epochs and 8 optimizer steps.",
        ], logger.Lines);

        var plain = new LineLogger();
        new TrainingLoop(parameters, Sgd(1) with { Logger = plain, TimeProvider = new SteppingClock() }, "{}").Train(new ScriptedTask(parameters, 1));
        Assert.StartsWith("Epoch 1: loss 0.5000, validation loss -, validation none -, gradient norm 0.000, learning rate 0.01, ", plain.Lines[0]);
    }

    [Fact]
    public void CallbackStop_IsLoggedAsSuch()
    {
        var logger = new LineLogger();
        var parameters = ThreeWeights(1, 2, 3);
        var loop = new TrainingLoop(parameters, Sgd(5) with { Logger = logger, EpochCallback = _ => EpochDecision.Stop }, "{}");
        loop.Train(new ScriptedTask(parameters, 2));
        Assert.Equal("Training stopped: the epoch callback asked to stop after 1 epochs and 2 optimizer steps.", logger.Lines[^1]);
    }

    // ---------- Checkpoints ----------

    private static Dictionary<string, string> CheckpointMetadata() => new(StringComparer.Ordinal)
    {
        ["trainer.optimizer"] = "Sgd",
        ["trainer.epochs_done"] = "1",
        ["trainer.best_loss"] = "0.5",
        ["trainer.bad_epochs"] = "0",
        ["trainer.base_rate"] = "0.01",
        ["trainer.history"] = "[]",
        ["trainer.best_epoch"] = "1",
    };

    private static List<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> CheckpointTensors(int bestLength = 3) =>
        [("optimizer.step", [1], new float[] { 4 }), ("trainer.best", [bestLength], new float[bestLength])];

    [Fact]
    public void ResumeFrom_RefusesFilesThatAreNotThisLoopsCheckpoints_NamingThePathAndTheProblem()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-survivor-{Guid.NewGuid():N}.safetensors");
        try
        {
            var file = ThreeWeights(7, 8, 9);
            void Refused(Dictionary<string, string>? metadata, List<(string, int[], ReadOnlyMemory<float>)>? tensors, string message)
            {
                ModelFile.Save(path, file, "{}", metadata, tensors);
                var parameters = ThreeWeights(1, 2, 3);
                var loop = new TrainingLoop(parameters, Sgd(3), "{}");
                var error = Assert.Throws<InvalidDataException>(() => loop.ResumeFrom(path));
                Assert.Equal($"{path}: {message}", error.Message);
                Assert.Equal([1f, 2, 3], parameters.Values.ToArray());
            }

            Refused(null, null, "'trainer.optimizer' is missing; the file is a model, not a training checkpoint.");
            var adam = CheckpointMetadata();
            adam["trainer.optimizer"] = "Adam";
            Refused(adam, CheckpointTensors(), "the checkpoint was written with Adam, this trainer uses Sgd.");
            Refused(CheckpointMetadata(), [CheckpointTensors()[0]], "'trainer.best' is missing.");
            Refused(CheckpointMetadata(), CheckpointTensors(bestLength: 2), "'trainer.best' holds 2 values; the model has 3 parameters.");
            var noHistory = CheckpointMetadata();
            noHistory["trainer.history"] = "null";
            Refused(noHistory, CheckpointTensors(), "'trainer.history' is empty.");

            // An optimizer state the optimizer does not take is refused after the weights were loaded: they are put back.
            var extra = CheckpointTensors();
            extra.Add(("optimizer.extra", [1], new float[] { 1 }));
            ModelFile.Save(path, file, "{}", CheckpointMetadata(), extra);
            var parameters = ThreeWeights(1, 2, 3);
            var error = Assert.Throws<InvalidDataException>(() => new TrainingLoop(parameters, Sgd(3), "{}").ResumeFrom(path));
            Assert.StartsWith($"{path}: the optimizer state does not fit: The state has the key \"extra\", which Sgd", error.Message);
            Assert.Equal([1f, 2, 3], parameters.Values.ToArray());

            // The well-formed file is accepted: the weights are the file's.
            ModelFile.Save(path, file, "{}", CheckpointMetadata(), CheckpointTensors());
            var accepted = ThreeWeights(1, 2, 3);
            var acceptingLoop = new TrainingLoop(accepted, Sgd(3), "{}");
            acceptingLoop.ResumeFrom(path);
            Assert.Equal([7f, 8, 9], accepted.Values.ToArray());
            Assert.Equal(4, acceptingLoop.Optimizer.StepCount);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ReduceOnPlateau_StateSurvivesACheckpoint()
    {
        // Validation losses 1.0, 0.5, 0.9, 0.9, 0.9, 0.9 with patience 1 and factor 1/2: epoch 3 is the first bad epoch,
        // epoch 4 the second, which halves the rate for epoch 5; epoch 6 halves it again for later. The run pauses after
        // epoch 3 (best 0.5, one bad epoch) and resumes from its checkpoint: a plateau that forgot its best and its count
        // would take epoch 4's 0.9 for an improvement and leave epoch 5 at the full rate.
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-rnn-plateau-{Guid.NewGuid():N}.safetensors");
        double[] losses = [1.0, 0.5, 0.9, 0.9, 0.9, 0.9];
        var options = Sgd(6) with { ReduceOnPlateau = true, PlateauPatience = 1, PlateauFactor = 0.5f };
        try
        {
            var first = ThreeWeights(1, 2, 3);
            var paused = new TrainingLoop(first, options with
            {
                CheckpointPath = path, EpochCallback = report => report.Epoch == 3 ? EpochDecision.Stop | EpochDecision.Checkpoint : EpochDecision.Continue,
            }, "{}");
            paused.Train(new ScriptedTask(first, 1) { Validation = epoch => losses[epoch - 1] });
            Assert.Equal(0.5, double.Parse(ModelFile.Read(path).Metadata["trainer.plateau_best"], System.Globalization.CultureInfo.InvariantCulture));

            var second = ThreeWeights(1, 2, 3);
            var resumed = new TrainingLoop(second, options, "{}");
            resumed.ResumeFrom(path);
            var history = resumed.Train(new ScriptedTask(second, 1) { Validation = epoch => losses[epoch - 1] });
            Assert.Equal([0.01, 0.01, 0.01, 0.01, 0.005, 0.005], history.Epochs.Select(e => Math.Round(e.LearningRate, 6)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string TempCheckpoint() => Path.Combine(Path.GetTempPath(), $"mlnet-rnn-survivor-{Guid.NewGuid():N}.safetensors");

    [Fact]
    public void ResumeFrom_RefusesAFileThatDoesNotSayItIsAModelFile()
    {
        // A real checkpoint whose "format" is rewritten (same length, so the file stays well formed) is a foreign
        // safetensors file: refused with the path, and nothing changes.
        string path = TempCheckpoint();
        try
        {
            var trained = ThreeWeights(7, 8, 9);
            var writer = new TrainingLoop(trained, Sgd(1), "{}");
            writer.Train(new ScriptedTask(trained, 1));
            writer.SaveCheckpoint(path);
            byte[] bytes = File.ReadAllBytes(path);
            byte[] ours = System.Text.Encoding.UTF8.GetBytes("\"format\":\"MlNet.Rnn\""), foreign = System.Text.Encoding.UTF8.GetBytes("\"format\":\"MlNet.Xyz\"");
            int at = bytes.AsSpan().IndexOf(ours);
            Assert.True(at > 0);
            foreign.CopyTo(bytes, at);
            File.WriteAllBytes(path, bytes);

            var parameters = ThreeWeights(1, 2, 3);
            var loop = new TrainingLoop(parameters, Sgd(3), "{}");
            var error = Assert.Throws<InvalidDataException>(() => loop.ResumeFrom(path));
            Assert.StartsWith($"{path} is not an MlNet.Rnn model file", error.Message);
            Assert.Equal([1f, 2, 3], parameters.Values.ToArray());
            Assert.Empty(loop.History.Epochs);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ResumeFrom_RefusesACheckpointThatLacksAParameterOfTheModel()
    {
        // The file holds "w" but the model also has "v": the checkpoint does not restore the whole model, so it is refused
        // and the weights stay as they were.
        string path = TempCheckpoint();
        try
        {
            ModelFile.Save(path, ThreeWeights(7, 8, 9), "{}", CheckpointMetadata(), CheckpointTensors(bestLength: 5));
            var parameters = ThreeWeights(1, 2, 3);
            parameters.Add("v", 2);
            parameters.Values[3..].Fill(4);
            var error = Assert.Throws<InvalidDataException>(() => new TrainingLoop(parameters, Sgd(3), "{}").ResumeFrom(path));
            Assert.Contains("missing from the file (1): v", error.Message);
            Assert.Equal([1f, 2, 3, 4, 4], parameters.Values.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ResumeFrom_ReplacesTheHistoryOfTheLoop_WithTheCheckpoints()
    {
        // The checkpoint is written after epoch 1; the loop that resumes from it had run two epochs of its own.
        string path = TempCheckpoint();
        try
        {
            var first = ThreeWeights(1, 2, 3);
            var writer = new TrainingLoop(first, Sgd(3) with { EpochCallback = _ => EpochDecision.Stop }, "{}");
            writer.Train(new ScriptedTask(first, 1) { Loss = (_, _) => 0.75 });
            writer.SaveCheckpoint(path);

            var parameters = ThreeWeights(1, 2, 3);
            var loop = new TrainingLoop(parameters, Sgd(3), "{}");
            loop.Train(new ScriptedTask(parameters, 1) { Loss = (_, _) => 0.25 });
            Assert.Equal(3, loop.History.Epochs.Count);
            loop.ResumeFrom(path);
            var restored = Assert.Single(loop.History.Epochs);
            Assert.Equal((1, 0.75), (restored.Epoch, restored.TrainingLoss));
            var history = loop.Train(new ScriptedTask(parameters, 1) { Loss = (_, _) => 0.25 });
            Assert.Equal([1, 2, 3], history.Epochs.Select(e => e.Epoch));
            Assert.Equal([0.75, 0.25, 0.25], history.Epochs.Select(e => e.TrainingLoss));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ReduceOnPlateau_TurnedOnWhenResuming_StartsFresh_FromACheckpointWrittenWithoutIt()
    {
        // Epoch 1 ran without reduce-on-plateau; the resumed run has it (patience 1, factor 1/2). Its first loss, 0.9, is
        // its best; 0.9 twice more is two bad epochs, which halve the rate after epoch 4, for epoch 5.
        string path = TempCheckpoint();
        double[] losses = [1.0, 0.9, 0.9, 0.9, 0.9];
        try
        {
            var first = ThreeWeights(1, 2, 3);
            var writer = new TrainingLoop(first, Sgd(5) with { EpochCallback = _ => EpochDecision.Stop }, "{}");
            writer.Train(new ScriptedTask(first, 1) { Validation = epoch => losses[epoch - 1] });
            writer.SaveCheckpoint(path);

            var parameters = ThreeWeights(1, 2, 3);
            var loop = new TrainingLoop(parameters, Sgd(5) with { ReduceOnPlateau = true, PlateauPatience = 1, PlateauFactor = 0.5f }, "{}");
            loop.ResumeFrom(path);
            var history = loop.Train(new ScriptedTask(parameters, 1) { Validation = epoch => losses[epoch - 1] });
            Assert.Equal([0.01, 0.01, 0.01, 0.01, 0.005], history.Epochs.Select(e => Math.Round(e.LearningRate, 6)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Called with each step's gradients (a delegate of its own: .NET 8's Action cannot take a span).</summary>
    private delegate void GradientHook(int epoch, int step, Span<float> gradient);

    /// <summary>A task over given parameters whose losses, gradients and validation losses are scripted; it may move a clock.</summary>
    private sealed class ScriptedTask : ITrainingTask
    {
        private readonly int _steps;
        private int _epoch;

        public ScriptedTask(ParameterSet parameters, int steps)
        {
            Parameters = parameters;
            _steps = steps;
        }

        public ParameterSet Parameters { get; }
        public Func<int, int, double> Loss { get; init; } = (_, _) => 0.5;
        public Func<int, double> Weight { get; init; } = _ => 1;
        public long Examples { get; init; } = 1;
        public GradientHook? Gradient { get; init; }
        public Func<int, double>? Validation { get; init; }
        public Func<int, double?>? Metric { get; init; }
        public Action<int, Random?>? OnBeginEpoch { get; init; }
        public SteppingClock? Clock { get; init; }
        public string MetricName => "none";
        public string ExampleName => "examples";
        public bool HasValidation => Validation is not null;
        public int StepsPerEpoch => _steps;

        public int BeginEpoch(int epoch, Random? random)
        {
            _epoch = epoch;
            OnBeginEpoch?.Invoke(epoch, random);
            return _steps;
        }

        public (double Loss, double Weight, long Examples) Step(int step)
        {
            Clock?.Tick();
            Gradient?.Invoke(_epoch, step, Parameters.Gradients);
            return (Loss(_epoch, step), Weight(step), Examples);
        }

        public (double Loss, double? Metric) Evaluate()
        {
            Clock?.Tick();
            return (Validation!(_epoch), Metric?.Invoke(_epoch));
        }
    }

    /// <summary>A clock that moves only when told, one second at a time.</summary>
    private sealed class SteppingClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Tick() => _ticks += TimeSpan.TicksPerSecond;
    }
}
