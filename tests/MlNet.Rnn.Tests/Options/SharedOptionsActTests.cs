using System.Reflection;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.Training;
using static MlNet.Rnn.Tests.Options.OptionProbe;

namespace MlNet.Rnn.Tests.Options;

/// <summary>
/// Every option of <see cref="RecurrentTrainerOptions"/> acts, shown through <c>mlContext.Regression.Trainers.Lstm(options).Fit</c>
/// on 48 short sequences: a fit with the option changed from its default gives the weights, outputs or history the option
/// documents (the optimizer's first step from the initial weights, the parameter count of the shape, the schedule's rates,
/// which epoch early stopping keeps…), not merely a different option record. One case per option; a reflection test keeps
/// the table complete.
/// </summary>
public sealed class SharedOptionsActTests : IDisposable
{
    private const int Rows = 48, H = 4;
    private static readonly MLContext s_mlContext = new(seed: 1);
    private static readonly ProbeRow[] s_rows = OptionProbe.Rows(Rows, seed: 1);
    private static readonly IDataView s_data = ToDataView(s_mlContext, s_rows);
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-options-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A unidirectional LSTM, H = 4, 2 epochs of batches of 8, Adam at 0.01, seed 1, one thread.</summary>
    private static RecurrentRegressionTrainer.Options Base() => new()
    {
        LabelColumnName = nameof(ProbeRow.Value), FeaturesPerStep = 2, HiddenSize = H, NumberOfEpochs = 2, BatchSize = 8, LearningRate = 0.01f,
        Seed = 1, MaxDegreeOfParallelism = 1, Standardize = false, // the cases below compute steps on the raw values
        Bidirectional = false, // and shapes of one direction
    };

    /// <summary>As <see cref="Base"/> but one batch of every row for one epoch: exactly one optimizer step.</summary>
    private static RecurrentRegressionTrainer.Options OneStep()
    {
        var options = Base();
        options.BatchSize = Rows;
        options.NumberOfEpochs = 1;
        return options;
    }

    private static RecurrentPredictionTransformer Fit(RecurrentRegressionTrainer.Options options, IDataView? data = null, IDataView? validation = null,
        MLContext? mlContext = null)
    {
        var trainer = (mlContext ?? s_mlContext).Regression.Trainers.Lstm(options);
        return validation is null ? trainer.Fit(data ?? s_data) : trainer.Fit(data ?? s_data, validation);
    }

    /// <summary><see cref="Base"/> with <paramref name="change"/> made.</summary>
    private static RecurrentRegressionTrainer.Options With(Action<RecurrentRegressionTrainer.Options> change)
    {
        var options = Base();
        change(options);
        return options;
    }

    private static float[] FitWeights(Action<RecurrentRegressionTrainer.Options> change, Func<RecurrentRegressionTrainer.Options>? start = null)
    {
        var options = (start ?? Base)();
        change(options);
        return Weights(Fit(options));
    }

    /// <summary>The initial weights of <paramref name="options"/>' model: a rate of 10⁻³⁰ moves no weight of a float's size.</summary>
    private static float[] Initial(RecurrentRegressionTrainer.Options options)
    {
        options.LearningRate = 1e-30f;
        options.MinimumLearningRate = 0;
        return Weights(Fit(options));
    }

    private static float[] Scores(ITransformer model, IDataView? data = null) => model.Transform(data ?? s_data).GetColumn<float>("Score").ToArray();

    /// <summary>Parameters of an LSTM stack with a one-value head: per layer and direction 4H·(input + H) + 8H, then D·H + 1.</summary>
    private static int LstmParameters(int input, int hidden, int layers, int directions)
    {
        int count = 0;
        for (int l = 0; l < layers; l++) count += directions * (4 * hidden * ((l == 0 ? input : directions * hidden) + hidden) + 8 * hidden);
        return count + directions * hidden + 1;
    }

    /// <summary>A probe row's label and features far from 0.</summary>
    private sealed class ShiftedRow
    {
        public float Large { get; set; }

        public float[] Offset { get; set; } = [];
    }

    /// <summary>The training and validation rows a fit's log reports.</summary>
    private static (int Training, int Validation) RowCounts(RecordingLogger logger)
    {
        var match = Assert.Single(logger.Lines.Select(line => System.Text.RegularExpressions.Regex.Match(line.Message, @"(\d+) training rows(, (\d+) validation rows)?")),
            match => match.Success);
        return (int.Parse(match.Groups[1].Value), match.Groups[3].Success ? int.Parse(match.Groups[3].Value) : 0);
    }

    private static void AssertDiffers(float[] expected, float[] actual, string because) =>
        Assert.True(MaxDifference(expected, actual) > 1e-6, $"{because}: the weights are the default fit's");

    public static TheoryData<string> OptionNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(OptionNames))]
    public void TheOptionActsOnTheFittedModel(string option) => Cases[option]();

    [Fact]
    public void TheAutomaticLength_JudgesAClassifierByItsValidationAccuracy_ARegressorByItsLoss()
    {
        var logger = new RecordingLogger();
        var options = new RecurrentBinaryTrainer.Options
        {
            FeaturesPerStep = 2, HiddenSize = H, BatchSize = 8, LearningRate = 0.01f, Seed = 1, MaxDegreeOfParallelism = 1, Logger = logger,
        };
        var history = s_mlContext.BinaryClassification.Trainers.Gru(options).Fit(s_data).Model.History!;
        Assert.Contains(logger.Lines, line => line.Message.Contains("until the validation accuracy has not improved for 5 epochs"));
        Assert.Contains(logger.Lines, line => line.Message.StartsWith("Training stopped: ", StringComparison.Ordinal)
            && line.Message.Contains(history.StoppedEarly ? "the validation accuracy stopped improving" : "every epoch ran"));
        // The best epoch is the most accurate one (the loss breaking ties).
        var best = history.Epochs.OrderByDescending(e => e.ValidationMetric).ThenBy(e => e.ValidationLoss).ThenBy(e => e.Epoch).First();
        Assert.Equal(best.Epoch, history.BestEpoch);
    }

    [Fact]
    public void LeftUnset_TheLearningRate_Is1eMinus2ForLstmAndGru_And1eMinus3ForAnElmanRnn()
    {
        // Adam's first step moves every weight with a gradient by the learning rate.
        double FirstStep(Func<RegressionCatalog.RegressionTrainers, RecurrentRegressionTrainer.Options, RecurrentRegressionTrainer> trainer, float? rate)
        {
            float[] FitWeights(float? learningRate)
            {
                var options = OneStep();
                options.LearningRate = learningRate;
                return Weights(trainer(s_mlContext.Regression.Trainers, options).Fit(s_data));
            }
            return Difference(FitWeights(rate), FitWeights(1e-30f)).Max(Math.Abs);
        }
        Assert.InRange(FirstStep((c, o) => c.Lstm(o), null), 0.0099, 0.0101);
        Assert.InRange(FirstStep((c, o) => c.Gru(o), null), 0.0099, 0.0101);
        Assert.InRange(FirstStep((c, o) => c.Rnn(o), null), 0.00099, 0.00101);
        Assert.InRange(FirstStep((c, o) => c.Rnn(o), 0.01f), 0.0099, 0.0101); // set, it wins
        Assert.Null(new RecurrentRegressionTrainer.Options().LearningRate);
        Assert.Null(s_mlContext.Regression.Trainers.Rnn().TrainerOptions.LearningRate);
    }

    [Fact]
    public void LeftUnset_TheBinaryClassifiersLearningRate_Is2eMinus2ForLstmAndGru_And1eMinus3ForAnElmanRnn()
    {
        // Adam's first step moves every weight with a gradient by the learning rate.
        double FirstStep(Func<BinaryClassificationCatalog.BinaryClassificationTrainers, RecurrentBinaryTrainer.Options, RecurrentBinaryTrainer> trainer, float? rate)
        {
            float[] FitWeights(float? learningRate) => Weights(trainer(s_mlContext.BinaryClassification.Trainers, new RecurrentBinaryTrainer.Options
            {
                FeaturesPerStep = 2, HiddenSize = H, NumberOfEpochs = 1, BatchSize = Rows, LearningRate = learningRate, Seed = 1,
                MaxDegreeOfParallelism = 1, Bidirectional = false, Standardize = false,
            }).Fit(s_data));
            return Difference(FitWeights(rate), FitWeights(1e-30f)).Max(Math.Abs);
        }
        Assert.InRange(FirstStep((c, o) => c.Lstm(o), null), 0.0198, 0.0202);
        Assert.InRange(FirstStep((c, o) => c.Gru(o), null), 0.0198, 0.0202);
        Assert.InRange(FirstStep((c, o) => c.Rnn(o), null), 0.00099, 0.00101);
        Assert.InRange(FirstStep((c, o) => c.Lstm(o), 0.01f), 0.0099, 0.0101); // set, it wins
        Assert.Null(s_mlContext.BinaryClassification.Trainers.Lstm().TrainerOptions.LearningRate);
    }

    [Fact]
    public void LeftUnset_TheMulticlassClassifiersHiddenSize_Is128_AndTheOtherSequenceTrainers64()
    {
        Assert.Equal(128, new RecurrentMulticlassTrainer.Options().HiddenSize);
        Assert.Equal(128, s_mlContext.MulticlassClassification.Trainers.Lstm().TrainerOptions.HiddenSize);
        Assert.Equal(128, s_mlContext.MulticlassClassification.Trainers.Gru().TrainerOptions.HiddenSize);
        Assert.Equal(128, s_mlContext.MulticlassClassification.Trainers.Rnn().TrainerOptions.HiddenSize);
        Assert.Equal(32, s_mlContext.MulticlassClassification.Trainers.Lstm(hiddenSize: 32).TrainerOptions.HiddenSize); // set, it wins
        Assert.Equal(64, new RecurrentBinaryTrainer.Options().HiddenSize);
        Assert.Equal(64, s_mlContext.BinaryClassification.Trainers.Lstm().TrainerOptions.HiddenSize);
        Assert.Equal(64, new RecurrentRegressionTrainer.Options().HiddenSize);
        Assert.Equal(64, s_mlContext.SequenceTagging.Trainers.Lstm().TrainerOptions.HiddenSize);
    }

    [Fact]
    public void EveryOptionOfTheSharedOptionsHasACase()
    {
        var names = typeof(RecurrentTrainerOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name);
        Assert.Empty(names.Except(Cases.Keys));
    }

    private static readonly Dictionary<string, Action> Cases = new()
    {
        [nameof(RecurrentTrainerOptions.LabelColumnName)] = () =>
        {
            // Trained on the negated label, the model's scores run against the label the default fit follows.
            var options = Base();
            options.NumberOfEpochs = 8;
            options.LearningRate = 0.03f;
            var value = Scores(Fit(options));
            options.LabelColumnName = nameof(ProbeRow.Negated);
            var negated = Scores(Fit(options));
            var truth = Column(s_data, nameof(ProbeRow.Value));
            Assert.True(Correlation(value.Select(v => (double)v).ToArray(), truth) > 0.5, "the default fit does not follow Value");
            Assert.True(Correlation(negated.Select(v => (double)v).ToArray(), truth) < -0.5, "the fit on Negated does not run against Value");
        },
        [nameof(RecurrentTrainerOptions.FeatureColumnName)] = () =>
        {
            var defaults = FitWeights(_ => { });
            Assert.Equal(defaults, FitWeights(o => o.FeatureColumnName = nameof(ProbeRow.Copy)));      // the same values: the same model
            AssertDiffers(defaults, FitWeights(o => o.FeatureColumnName = nameof(ProbeRow.Noise)), "trained on Noise");
        },
        [nameof(RecurrentTrainerOptions.ExampleWeightColumnName)] = () =>
        {
            // Every row twice: once as it is (weight 1), once with a wrong label (weight 0). One batch, no shuffling, so training
            // with the weights sees exactly what training on the true rows alone sees.
            var doubled = s_rows.SelectMany(row => new[]
            {
                row,
                new ProbeRow { Value = 5 - row.Value, Weight = 0, Features = row.Features, Copy = row.Copy, Noise = row.Noise },
            }).ToArray();
            var options = Base();
            options.BatchSize = 2 * Rows;
            options.Shuffle = false;
            options.BucketByLength = false;
            var alone = Scores(Fit(options));
            var unweighted = Scores(Fit(options, ToDataView(s_mlContext, doubled)), s_data);
            options.ExampleWeightColumnName = nameof(ProbeRow.Weight);
            var weighted = Scores(Fit(options, ToDataView(s_mlContext, doubled)), s_data);
            for (int r = 0; r < Rows; r++) Assert.Equal(alone[r], weighted[r], 1e-4);
            Assert.True(alone.Zip(unweighted).Max(pair => Math.Abs(pair.First - pair.Second)) > 0.01, "the zero-weight rows should matter without the weights");
        },
        [nameof(RecurrentTrainerOptions.FeaturesPerStep)] = () =>
        {
            // The same values read as 2T steps of 1 feature: W_ih is [4H, 1] and the parameter count drops by 4H.
            var options = Base();
            options.FeaturesPerStep = 1;
            var tensors = Tensors(Fit(options));
            Assert.Equal([4 * H, 1], tensors["weight_ih_l0"].Shape);
            Assert.Equal(LstmParameters(1, H, 1, 1), Flat(tensors).Length);
            Assert.Equal(LstmParameters(2, H, 1, 1), Weights(Fit(Base())).Length);
            options.FeaturesPerStep = 4; // sequences of 2T values with T odd are not whole steps of 4
            Assert.Contains("featuresPerStep = 4", Assert.ThrowsAny<Exception>(() => Fit(options)).Message);
        },
        [nameof(RecurrentTrainerOptions.HiddenSize)] = () =>
        {
            foreach (int hidden in new[] { 3, 6 })
            {
                var options = Base();
                options.HiddenSize = hidden;
                options.HiddenStateColumnName = "Hidden";
                var model = Fit(options);
                Assert.Equal(LstmParameters(2, hidden, 1, 1), Weights(model).Length);
                Assert.All(model.Transform(s_data).GetColumn<float[]>("Hidden"), h => Assert.Equal(hidden, h.Length));
            }
        },
        [nameof(RecurrentTrainerOptions.NumberOfLayers)] = () =>
        {
            var options = Base();
            options.NumberOfLayers = 2;
            var tensors = Tensors(Fit(options));
            Assert.Equal([4 * H, H], tensors["weight_ih_l1"].Shape);
            Assert.Equal(LstmParameters(2, H, 2, 1), Flat(tensors).Length);
        },
        [nameof(RecurrentTrainerOptions.Bidirectional)] = () =>
        {
            var options = Base();
            options.Bidirectional = true;
            options.HiddenStateColumnName = "Hidden";
            var model = Fit(options);
            Assert.Contains("weight_hh_l0_reverse", Tensors(model).Keys);
            Assert.Equal(LstmParameters(2, H, 1, 2), Weights(model).Length);
            Assert.All(model.Transform(s_data).GetColumn<float[]>("Hidden"), h => Assert.Equal(2 * H, h.Length));
            Assert.True(new RecurrentRegressionTrainer.Options().Bidirectional, "bidirectional by default");
            Assert.True(s_mlContext.Regression.Trainers.Gru().TrainerOptions.Bidirectional, "bidirectional by default (simple overload)");
        },
        [nameof(RecurrentTrainerOptions.NumberOfEpochs)] = () =>
        {
            // Three epochs are the two of the default fit and one more.
            var two = Fit(Base());
            var options = Base();
            options.NumberOfEpochs = 3;
            var three = Fit(options);
            Assert.Equal(3, three.Model.History!.Epochs.Count);
            Assert.Equal(two.Model.History!.Epochs.Select(e => e.TrainingLoss), three.Model.History.Epochs.Take(2).Select(e => e.TrainingLoss));
            AssertDiffers(Weights(two), Weights(three), "a third epoch");

            // Null: a tenth of the rows held out decides; early stopping waits for 1,000 steps, within 100 epochs or as many as
            // those steps take, and keeps the best epoch.
            options.NumberOfEpochs = null;
            var logger = new RecordingLogger();
            options.Logger = logger;
            var history = Fit(options).Model.History!;
            var (training, validation) = RowCounts(logger);
            Assert.Equal(Rows, training + validation);
            Assert.InRange(validation, 1, Rows / 4);
            int stepsPerEpoch = (training + options.BatchSize - 1) / options.BatchSize, cap = Math.Max(100, (1000 + stepsPerEpoch - 1) / stepsPerEpoch);
            Assert.Contains(logger.Lines, line => line.Message.Contains(
                $"until the validation loss has not improved for 5 epochs, after at least 1000 optimizer steps, at most {cap} epochs (NumberOfEpochs not set)"));
            Assert.All(history.Epochs, epoch => Assert.NotNull(epoch.ValidationLoss));
            Assert.True(history.Steps >= 1000, $"{history.Steps} steps");
            Assert.True(history.StoppedEarly ? history.Epochs.Count <= cap : history.Epochs.Count == cap, $"{history.Epochs.Count} epochs of {cap}");
            var losses = history.Epochs.Select(e => e.ValidationLoss!.Value).ToList();
            Assert.Equal(losses.IndexOf(losses.Min()) + 1, history.BestEpoch);
        },
        [nameof(RecurrentTrainerOptions.Standardize)] = () =>
        {
            // A label of 1000 + 100·Value on features offset by 50: two epochs of Adam on the raw values leave the scores far below
            // the labels; standardized, folded back into the model, they are near them. The model reads the raw column either way.
            var shifted = s_mlContext.Transforms.CustomMapping<ProbeRow, ShiftedRow>((row, shiftedRow) =>
            {
                shiftedRow.Large = 1000 + 100 * row.Value;
                shiftedRow.Offset = [.. row.Features.Select(value => value + 50)];
            }, contractName: null).Fit(s_data).Transform(s_data);
            var truth = shifted.GetColumn<float>(nameof(ShiftedRow.Large)).ToArray();
            double MeanError(bool standardize)
            {
                var options = Base();
                options.LabelColumnName = nameof(ShiftedRow.Large);
                options.FeatureColumnName = nameof(ShiftedRow.Offset);
                options.Standardize = standardize;
                return Scores(Fit(options, shifted), shifted).Zip(truth, (score, label) => Math.Abs(score - label)).Average();
            }
            double raw = MeanError(false), standardized = MeanError(true);
            double spread = truth.Average(label => Math.Abs(label - truth.Average()));
            Assert.True(raw > 500, $"raw: mean error {raw:F1}");
            Assert.True(standardized < spread, $"standardized: mean error {standardized:F1}, the mean predictor's {spread:F1}");
        },
        [nameof(RecurrentTrainerOptions.ValidationFraction)] = () =>
        {
            // With NumberOfEpochs null and no validation data: the share of rows held out, drawn by the seed; none at 0 (then
            // enough epochs for 1,000 steps, every one run); ignored when Fit gets validation data or NumberOfEpochs is set.
            (int Training, int Validation, TrainingHistory History) Run(float fraction, int? epochs = null, IDataView? validation = null)
            {
                var options = Base();
                options.NumberOfEpochs = epochs;
                options.ValidationFraction = fraction;
                var logger = new RecordingLogger();
                options.Logger = logger;
                var history = Fit(options, validation: validation).Model.History!;
                var (training, held) = RowCounts(logger);
                return (training, held, history);
            }
            var tenth = Run(0.1f);
            var half = Run(0.5f);
            Assert.Equal((Rows, Rows), (tenth.Training + tenth.Validation, half.Training + half.Validation));
            Assert.True(half.Validation > 2 * tenth.Validation && half.Validation is > Rows / 3 and < 2 * Rows / 3, $"{tenth.Validation} and {half.Validation} rows held out");
            var none = Run(0f);
            Assert.Equal((Rows, 0), (none.Training, none.Validation));
            Assert.Equal(167, none.History.Epochs.Count); // 6 batches of 8: 167 epochs for 1,000 steps
            Assert.All(none.History.Epochs, epoch => Assert.Null(epoch.ValidationLoss));
            Assert.Equal((Rows, 0), (Run(0.5f, epochs: 2).Training, Run(0.5f, epochs: 2).Validation));
            Assert.Equal((Rows, Rows), (Run(0.5f, validation: s_data).Training, Run(0.5f, validation: s_data).Validation));
        },
        [nameof(RecurrentTrainerOptions.BatchSize)] = () =>
        {
            // Adam's first step moves every weight by the learning rate; one batch of all rows per epoch is one step, batches of
            // 8 are six, which move some weight further.
            var initial = Initial(OneStep());
            var one = Difference(Weights(Fit(OneStep())), initial);
            var options = OneStep();
            options.BatchSize = 8;
            var six = Difference(Weights(Fit(options)), initial);
            Assert.InRange(one.Max(Math.Abs), 0.0099, 0.0101);
            Assert.True(six.Max(Math.Abs) > 0.02, $"six steps moved the weights at most {six.Max(Math.Abs)}");
        },
        [nameof(RecurrentTrainerOptions.LearningRate)] = () =>
        {
            // Adam's first step is lr · m̂/(√v̂ + ε) = lr · sign(g) for every weight with a gradient.
            foreach (float rate in new[] { 0.01f, 0.003f })
            {
                var options = OneStep();
                options.LearningRate = rate;
                var step = Difference(Weights(Fit(options)), Initial(OneStep()));
                Assert.InRange(step.Max(Math.Abs), rate * 0.99, rate * 1.01);
                Assert.True(step.Count(d => Math.Abs(Math.Abs(d) - rate) < rate * 0.01) > step.Length * 0.9, $"lr {rate}: not every weight moved by lr");
            }
        },
        [nameof(RecurrentTrainerOptions.RnnActivation)] = () =>
        {
            // The hidden state of an Elman RNN is the activation's output: tanh in (−1, 1), ReLU ≥ 0, sigmoid in (0, 1).
            float[] Hidden(RnnActivation activation)
            {
                var options = Base();
                options.RnnActivation = activation;
                options.HiddenStateColumnName = "Hidden";
                return [.. s_mlContext.Regression.Trainers.Rnn(options).Fit(s_data).Transform(s_data).GetColumn<float[]>("Hidden").SelectMany(h => h)];
            }
            var tanh = Hidden(RnnActivation.Tanh);
            var relu = Hidden(RnnActivation.Relu);
            var sigmoid = Hidden(RnnActivation.Sigmoid);
            Assert.True(tanh.Min() < 0 && tanh.Max() < 1, "tanh");
            Assert.True(relu.Min() == 0 && relu.Max() > 0, "ReLU");
            Assert.True(sigmoid.Min() > 0 && sigmoid.Max() < 1 && sigmoid.Average() > 0.2, "sigmoid");
        },
        [nameof(RecurrentTrainerOptions.EmbeddingSize)] = () =>
        {
            // Token keys go through a V×E embedding, and the LSTM reads E values per step.
            var text = s_mlContext.Data.LoadFromEnumerable(Synthetic.Sentences(40, seed: 1));
            var featurize = s_mlContext.Transforms.Text.TokenizeIntoWords("Tokens", nameof(TextRow.Text))
                .Append(s_mlContext.Transforms.Conversion.MapValueToKey("Tokens"));
            var tokens = featurize.Fit(text).Transform(text);
            int keys = (int)((KeyDataViewType)((VectorDataViewType)tokens.Schema["Tokens"].Type).ItemType).Count;
            foreach (int embedding in new[] { 3, 5 })
            {
                var model = s_mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
                {
                    FeatureColumnName = "Tokens", EmbeddingSize = embedding, HiddenSize = H, NumberOfEpochs = 1, Seed = 1, MaxDegreeOfParallelism = 1,
                }).Fit(tokens);
                var tensors = Tensors(model);
                Assert.Equal([keys + 1, embedding], tensors["embedding.weight"].Shape);
                Assert.Equal([4 * H, embedding], tensors["weight_ih_l0"].Shape);
            }
        },
        [nameof(RecurrentTrainerOptions.TokenDropout)] = () =>
        {
            // The keys come from the training rows, so no training token is unknown: the embedding's row 0 (unknown) trains
            // only when tokens are dropped to it. Row 0 after a fit against row 0 of the initial weights (a rate of 1e-30).
            var text = s_mlContext.Data.LoadFromEnumerable(Synthetic.Sentences(40, seed: 1));
            var tokens = s_mlContext.Transforms.Text.TokenizeIntoWords("Tokens", nameof(TextRow.Text))
                .Append(s_mlContext.Transforms.Conversion.MapValueToKey("Tokens")).Fit(text).Transform(text);
            float[] UnknownRow(float tokenDropout, float learningRate) => [.. Tensors(s_mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
            {
                FeatureColumnName = "Tokens", EmbeddingSize = 3, HiddenSize = H, NumberOfEpochs = 2, LearningRate = learningRate, TokenDropout = tokenDropout,
                Seed = 1, MaxDegreeOfParallelism = 1,
            }).Fit(tokens))["embedding.weight"].Data.Take(3)];
            float[] initial = UnknownRow(0f, 1e-30f);
            Assert.Equal(initial, UnknownRow(0f, 0.01f));
            AssertDiffers(initial, UnknownRow(0.3f, 0.01f), "TokenDropout 0.3: the unknown row");
        },
        [nameof(RecurrentTrainerOptions.Dropout)] = () =>
        {
            // Dropout (before the head) changes training; scoring applies none: Score = head(h) exactly on the undropped h.
            var options = Base();
            options.Dropout = 0.5f;
            options.HiddenStateColumnName = "Hidden";
            var model = Fit(options);
            AssertDiffers(Weights(Fit(Base())), Weights(model), "Dropout 0.5");
            AssertScoreIsTheHeadOfTheHiddenState(model);
        },
        [nameof(RecurrentTrainerOptions.RecurrentDropout)] = () =>
        {
            var options = Base();
            options.RecurrentDropout = 0.5f;
            var model = Fit(options);
            AssertDiffers(Weights(Fit(Base())), Weights(model), "RecurrentDropout 0.5");
            Assert.Equal(Scores(model), Scores(model)); // no dropout mask at scoring
        },
        [nameof(RecurrentTrainerOptions.LearnedInitialState)] = () =>
        {
            // h0 and c0 become parameters: H each more, and they train.
            var options = Base();
            options.LearnedInitialState = true;
            var weights = Weights(Fit(options));
            Assert.Equal(LstmParameters(2, H, 1, 1) + 2 * H, weights.Length);
            var initial = Initial(options);
            Assert.True(MaxDifference(weights, initial) > 0.01);
        },
        [nameof(RecurrentTrainerOptions.Readout)] = () =>
        {
            // Regression reads the final states unless told otherwise; the mean over the steps trains another model, and the core
            // is told which (its tests check what each reads against the double reference).
            var defaults = Fit(Base());
            Assert.Equal(SequenceReadout.LastStep, defaults.Model.SequenceModel.Options.Readout);
            Assert.Equal(Weights(defaults), FitWeights(o => o.Readout = SequenceReadout.LastStep));
            var mean = Fit(With(o => o.Readout = SequenceReadout.MeanOverSteps));
            Assert.Equal(SequenceReadout.MeanOverSteps, mean.Model.SequenceModel.Options.Readout);
            AssertDiffers(Weights(defaults), Weights(mean), "Readout MeanOverSteps");

            // The binary classifier reads the mean unless told otherwise, or truncated (which reads each row where it ends).
            SequenceReadout BinaryReadout(Action<RecurrentBinaryTrainer.Options> change)
            {
                var options = new RecurrentBinaryTrainer.Options { FeaturesPerStep = 2, HiddenSize = H, NumberOfEpochs = 1, BatchSize = Rows, Seed = 1, MaxDegreeOfParallelism = 1 };
                change(options);
                return s_mlContext.BinaryClassification.Trainers.Lstm(options).Fit(s_data).Model.SequenceModel.Options.Readout;
            }
            Assert.Equal(SequenceReadout.MeanOverSteps, BinaryReadout(_ => { }));
            Assert.Equal(SequenceReadout.LastStep, BinaryReadout(o => o.Readout = SequenceReadout.LastStep));
            Assert.Equal(SequenceReadout.LastStep, BinaryReadout(o => { o.Bidirectional = false; o.TruncatedBpttSteps = 2; }));

            var truncated = With(o => { o.Readout = SequenceReadout.MeanOverSteps; o.TruncatedBpttSteps = 2; });
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => Fit(truncated));
            Assert.Equal(nameof(RecurrentTrainerOptions.TruncatedBpttSteps), error.ParamName);
            Assert.Contains("set Readout = LastStep (or null) or TruncatedBpttSteps = 0", error.Message);
            error = Assert.Throws<ArgumentOutOfRangeException>(() => Fit(With(o => o.Readout = SequenceReadout.EveryStep)));
            Assert.Equal(nameof(RecurrentTrainerOptions.Readout), error.ParamName);
            Assert.Contains("must be LastStep or MeanOverSteps, or null for the task's default", error.Message);
        },
        [nameof(RecurrentTrainerOptions.Optimizer)] = () =>
        {
            // One step from the same initial weights: Adam and AdamW move every weight by lr, RMSProp (α = 0.99) by lr/√(1 − α) = 10 lr,
            // SGD by lr·g, so twice the rate moves it exactly twice as far.
            var initial = Initial(OneStep());
            double[] Step(OptimizerKind kind, float rate = 0.01f)
            {
                var options = OneStep();
                options.Optimizer = kind;
                options.LearningRate = rate;
                return Difference(Weights(Fit(options)), initial);
            }
            Assert.InRange(Step(OptimizerKind.Adam).Max(Math.Abs), 0.0099, 0.0101);
            Assert.InRange(Step(OptimizerKind.AdamW).Max(Math.Abs), 0.0099, 0.0101);
            Assert.InRange(Step(OptimizerKind.RmsProp).Max(Math.Abs), 0.099, 0.101);
            var sgd = Step(OptimizerKind.Sgd);
            var sgdTwice = Step(OptimizerKind.Sgd, 0.02f);
            Assert.True(sgd.Max(Math.Abs) < 0.005, "an SGD step of lr 0.01 is lr·g, far below lr for these gradients");
            for (int i = 0; i < sgd.Length; i++) Assert.Equal(2 * sgd[i], sgdTwice[i], 1e-6);
        },
        [nameof(RecurrentTrainerOptions.Momentum)] = () =>
        {
            // SGD with momentum: the buffer starts at g, so the first step is plain SGD's; the second is not.
            float[] Sgd(float momentum, int epochs)
            {
                var options = OneStep();
                options.Optimizer = OptimizerKind.Sgd;
                options.LearningRate = 0.1f;
                options.Momentum = momentum;
                options.NumberOfEpochs = epochs;
                return Weights(Fit(options));
            }
            Assert.True(MaxDifference(Sgd(0, 1), Sgd(0.9f, 1)) < 1e-6, "the first step differs");
            Assert.True(MaxDifference(Sgd(0, 2), Sgd(0.9f, 2)) > 1e-4, "momentum did not change the second step");
        },
        [nameof(RecurrentTrainerOptions.Nesterov)] = () =>
        {
            // Nesterov's first step is g + μ·b with b = g: (1 + μ) times plain SGD's.
            double[] Step(bool nesterov)
            {
                var options = OneStep();
                options.Optimizer = OptimizerKind.Sgd;
                options.LearningRate = 0.1f;
                options.Momentum = 0.5f;
                options.Nesterov = nesterov;
                return Difference(Weights(Fit(options)), Initial(OneStep()));
            }
            var plain = Step(false);
            var nesterov = Step(true);
            for (int i = 0; i < plain.Length; i++) Assert.Equal(1.5 * plain[i], nesterov[i], 1e-6);
            Assert.True(plain.Max(Math.Abs) > 1e-4);
        },
        [nameof(RecurrentTrainerOptions.WeightDecay)] = () =>
        {
            // L2 decay adds λ·w to the gradient: one SGD step moves each weight by a further −lr·λ·w0.
            var initial = Initial(OneStep());
            float[] Sgd(float decay)
            {
                var options = OneStep();
                options.Optimizer = OptimizerKind.Sgd;
                options.LearningRate = 0.1f;
                options.WeightDecay = decay;
                return Weights(Fit(options));
            }
            var extra = Difference(Sgd(0.5f), Sgd(0));
            for (int i = 0; i < extra.Length; i++) Assert.Equal(-0.1 * 0.5 * initial[i], extra[i], 1e-5);
            // With Adam, over two epochs, decay leaves the weights smaller.
            var options = Base();
            options.WeightDecay = 1f;
            Assert.True(SquaredNorm(Weights(Fit(options)).Select(w => (double)w)) < SquaredNorm(Weights(Fit(Base())).Select(w => (double)w)));
        },
        [nameof(RecurrentTrainerOptions.Beta1)] = () => AssertAdamMomentOptionActsFromTheSecondStep(o => o.Beta1 = 0.5f),
        [nameof(RecurrentTrainerOptions.Beta2)] = () => AssertAdamMomentOptionActsFromTheSecondStep(o => o.Beta2 = 0.9f),
        [nameof(RecurrentTrainerOptions.GradientClipNorm)] = () =>
        {
            // One SGD step on a gradient clipped to norm c is lr·c long.
            var initial = Initial(OneStep());
            var options = OneStep();
            options.Optimizer = OptimizerKind.Sgd;
            options.LearningRate = 0.1f;
            options.GradientClipNorm = 1e-3f;
            var step = Difference(Weights(Fit(options)), initial);
            Assert.Equal(0.1 * 1e-3, Math.Sqrt(SquaredNorm(step)), 1e-6);
        },
        [nameof(RecurrentTrainerOptions.GradientClipValue)] = () =>
        {
            // Every gradient element clipped to [−c, c]: one SGD step moves no weight further than lr·c, and most exactly that far.
            var initial = Initial(OneStep());
            var options = OneStep();
            options.Optimizer = OptimizerKind.Sgd;
            options.LearningRate = 0.1f;
            options.GradientClipNorm = 0;
            options.GradientClipValue = 1e-4f;
            var step = Difference(Weights(Fit(options)), initial);
            // (The step is read back from float weights near 1, exact to a few 1e-8.)
            Assert.True(step.Max(Math.Abs) <= 0.1 * 1e-4 * 1.01, $"a weight moved {step.Max(Math.Abs)}");
            Assert.True(step.Count(d => Math.Abs(Math.Abs(d) - 1e-5) < 1e-7) > step.Length / 2, "most gradients exceed 1e-4, so most steps are lr·c");
        },
        [nameof(RecurrentTrainerOptions.Schedule)] = () =>
        {
            Assert.Equal([0.01f, 0.01f, 0.001f, 0.001f, 0.0001f], Rates(o => { o.Schedule = ScheduleKind.StepDecay; o.StepDecayEpochs = 2; }, 5), new FloatTolerance());
            var cosine = Rates(o => o.Schedule = ScheduleKind.Cosine, 4);
            Assert.True(cosine.Zip(cosine.Skip(1)).All(pair => pair.Second < pair.First), string.Join(", ", cosine));
            Assert.All(Rates(_ => { }, 3), rate => Assert.Equal(0.01f, rate));
        },
        [nameof(RecurrentTrainerOptions.StepDecayEpochs)] = () =>
            Assert.Equal([0.01f, 0.001f, 0.0001f], Rates(o => { o.Schedule = ScheduleKind.StepDecay; o.StepDecayEpochs = 1; }, 3), new FloatTolerance()),
        [nameof(RecurrentTrainerOptions.StepDecayGamma)] = () =>
            Assert.Equal([0.01f, 0.005f, 0.0025f], Rates(o => { o.Schedule = ScheduleKind.StepDecay; o.StepDecayEpochs = 1; o.StepDecayGamma = 0.5f; }, 3),
                new FloatTolerance()),
        [nameof(RecurrentTrainerOptions.WarmupSteps)] = () =>
        {
            // 6 steps an epoch, 24 in all: warm-up over 20 steps gives the epochs' last steps (5, 11, 17) the rates lr·(s + 1)/21,
            // then the cosine decay; without warm-up the rate only falls.
            var warming = Rates(o => { o.Schedule = ScheduleKind.Cosine; o.WarmupSteps = 20; }, 4);
            Assert.Equal([0.01f * 6 / 21, 0.01f * 12 / 21, 0.01f * 18 / 21], warming[..3], new FloatTolerance());
            Assert.True(warming[3] < warming[2]);
            var cold = Rates(o => o.Schedule = ScheduleKind.Cosine, 4);
            Assert.True(cold[0] > warming[0] && cold[1] < cold[0]);
        },
        [nameof(RecurrentTrainerOptions.MinimumLearningRate)] = () =>
        {
            // The cosine schedule ends at the minimum: the last step's rate is near it, above it.
            var toZero = Rates(o => o.Schedule = ScheduleKind.Cosine, 3);
            var toHalf = Rates(o => { o.Schedule = ScheduleKind.Cosine; o.MinimumLearningRate = 0.005f; }, 3);
            Assert.InRange(toZero[^1], 0, 0.001f);
            Assert.InRange(toHalf[^1], 0.005f, 0.0055f);
        },
        [nameof(RecurrentTrainerOptions.ReduceOnPlateau)] = () =>
        {
            // Validated on the negated label, the loss rises every epoch: each epoch after the first is bad, so with patience 0
            // the rate halves after each of them. Without the option, and without validation data, it stays.
            Assert.Equal([0.01f, 0.01f, 0.005f, 0.0025f], PlateauRates(o => { o.ReduceOnPlateau = true; o.PlateauPatience = 0; }), new FloatTolerance());
            Assert.Equal([0.01f, 0.01f, 0.01f, 0.01f], PlateauRates(o => o.PlateauPatience = 0), new FloatTolerance());
            var options = Base();
            options.ReduceOnPlateau = true;
            options.PlateauPatience = 0;
            options.NumberOfEpochs = 4;
            Assert.All(Fit(options).Model.History!.Epochs, epoch => Assert.Equal(0.01f, epoch.LearningRate));
        },
        [nameof(RecurrentTrainerOptions.PlateauFactor)] = () =>
            Assert.Equal([0.01f, 0.01f, 0.001f, 0.0001f], PlateauRates(o => { o.ReduceOnPlateau = true; o.PlateauPatience = 0; o.PlateauFactor = 0.1f; }),
                new FloatTolerance()),
        [nameof(RecurrentTrainerOptions.PlateauPatience)] = () =>
            Assert.Equal([0.01f, 0.01f, 0.01f, 0.005f], PlateauRates(o => { o.ReduceOnPlateau = true; o.PlateauPatience = 1; }), new FloatTolerance()),
        [nameof(RecurrentTrainerOptions.EarlyStoppingPatience)] = () =>
        {
            // Validated on the negated label the loss only rises, so epoch 1 is the best: patience 2 stops after epoch 3 and keeps
            // epoch 1's weights, those of a one-epoch fit. Without validation data it is ignored.
            var validation = ToDataView(s_mlContext, s_rows.Select(row => new ProbeRow { Value = row.Negated, Features = row.Features }));
            var options = Base();
            options.NumberOfEpochs = 10;
            options.EarlyStoppingPatience = 2;
            var model = Fit(options, validation: validation);
            Assert.True(model.Model.History!.StoppedEarly);
            Assert.Equal((3, 1), (model.Model.History.Epochs.Count, model.Model.History.BestEpoch));
            var oneEpoch = Base();
            oneEpoch.NumberOfEpochs = 1;
            Assert.Equal(Weights(Fit(oneEpoch)), Weights(model));
            Assert.Equal(10, Fit(options).Model.History!.Epochs.Count);
        },
        [nameof(RecurrentTrainerOptions.TruncatedBpttSteps)] = () =>
        {
            // Chunks longer than every sequence are plain backpropagation, bit for bit; chunks of one step cut every gradient
            // through time. A bidirectional network cannot be truncated.
            var defaults = FitWeights(_ => { });
            Assert.Equal(defaults, FitWeights(o => o.TruncatedBpttSteps = 1000));
            AssertDiffers(defaults, FitWeights(o => o.TruncatedBpttSteps = 1), "truncated to one step");
            var options = Base();
            options.TruncatedBpttSteps = 4;
            options.Bidirectional = true;
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => Fit(options));
            Assert.Equal(nameof(RecurrentTrainerOptions.TruncatedBpttSteps), error.ParamName);
            Assert.Contains("set Bidirectional = false or TruncatedBpttSteps = 0", error.Message);
        },
        [nameof(RecurrentTrainerOptions.MaxBatchMemoryMegabytes)] = () =>
        {
            // Four rows of 4,000 steps: a batch needs several megabytes of activations, over a 1 MB limit, until truncation to
            // 50 steps keeps one chunk's.
            var random = new Random(3);
            var rows = Enumerable.Range(0, 4).Select(_ =>
            {
                float[] features = [.. Enumerable.Range(0, 2 * 4000).Select(_ => random.NextSingle() * 2 - 1)];
                return new ProbeRow { Value = features[0], Features = features, Copy = features, Noise = features };
            }).ToArray();
            var data = ToDataView(s_mlContext, rows);
            var options = Base();
            options.MaxBatchMemoryMegabytes = 1;
            var error = Assert.Throws<InvalidOperationException>(() => Fit(options, data));
            Assert.StartsWith("A training batch of 4 sequences of 4000 steps needs about ", error.Message);
            Assert.Contains("more than the limit of 1 MB (MaxBatchMemoryMegabytes). Lower BatchSize, set TruncatedBpttSteps", error.Message);
            options.Readout = SequenceReadout.MeanOverSteps; // which truncation cannot read: the advice says so
            error = Assert.Throws<InvalidOperationException>(() => Fit(options, data));
            Assert.Contains("Lower BatchSize, read the final states (Readout LastStep) and set TruncatedBpttSteps", error.Message);
            options.Readout = null;
            options.TruncatedBpttSteps = 50;
            Assert.Equal(4, Scores(Fit(options, data), data).Length);
        },
        [nameof(RecurrentTrainerOptions.TrainingDataMemoryMegabytes)] = () =>
        {
            // 600 rows of 500 steps (2.4 MB) over a 1 MB limit: read back a part at a time from a temporary file, which is gone
            // when Fit returns; the model learns as well as from memory (a different order of rows, so other weights).
            var random = new Random(4);
            var rows = Enumerable.Range(0, 600).Select(_ =>
            {
                float[] features = [.. Enumerable.Range(0, 2 * 500).Select(_ => random.NextSingle() * 2 - 1)];
                float value = features[^2];
                return new ProbeRow { Value = value, Features = features, Copy = features, Noise = features };
            }).ToArray();
            var data = ToDataView(s_mlContext, rows);
            var options = Base();
            options.LearningRate = 0.02f;
            var inMemory = Fit(options, data);
            var logger = new RecordingLogger();
            options.Logger = logger;
            options.TrainingDataMemoryMegabytes = 1;
            var streamed = Fit(options, data);
            SpillFile.AssertGone(SpillFile.PathIn(logger.Lines.Select(line => line.Message)));
            AssertDiffers(Weights(inMemory), Weights(streamed), "read from parts");
            double Error(ITransformer model) => Scores(model, data).Zip(rows).Average(pair => Math.Abs(pair.First - pair.Second.Value));
            double mean = rows.Average(row => row.Value), trivial = rows.Average(row => Math.Abs(row.Value - mean));
            Assert.True(Error(streamed) < 0.5 * trivial, $"streamed fit's error {Error(streamed):F3}, predicting the mean {trivial:F3}");
            Assert.True(Error(streamed) < 1.5 * Error(inMemory), $"streamed {Error(streamed):F3}, in memory {Error(inMemory):F3}");
        },
        [nameof(RecurrentTrainerOptions.CancellationToken)] = () =>
        {
            // A cancelled token stops Fit before its first batch; Trainers/CancellationTests stops a running one.
            var options = Base();
            options.CancellationToken = new CancellationToken(canceled: true);
            Assert.StartsWith("RecurrentRegressionTrainer.Fit was cancelled (the options' CancellationToken)",
                Assert.Throws<OperationCanceledException>(() => Fit(options)).Message);
        },
        [nameof(RecurrentTrainerOptions.Shuffle)] = () =>
        {
            var defaults = FitWeights(_ => { });
            var ordered = FitWeights(o => o.Shuffle = false);
            AssertDiffers(defaults, ordered, "Shuffle = false");
            // Without shuffling the batches follow the rows: reversing the rows changes the model.
            var options = Base();
            options.Shuffle = false;
            options.BucketByLength = false;
            var forwards = Weights(Fit(options));
            var backwards = Weights(Fit(options, ToDataView(s_mlContext, Enumerable.Reverse(s_rows))));
            AssertDiffers(forwards, backwards, "rows reversed without shuffling");
        },
        [nameof(RecurrentTrainerOptions.BucketByLength)] = () =>
            AssertDiffers(FitWeights(_ => { }), FitWeights(o => o.BucketByLength = false), "BucketByLength = false"),
        [nameof(RecurrentTrainerOptions.CheckpointEvery)] = () => AssertCheckpointHoldsEpochTwo(),
        [nameof(RecurrentTrainerOptions.CheckpointPath)] = () => AssertCheckpointHoldsEpochTwo(),
        [nameof(RecurrentTrainerOptions.MaxTrainingTime)] = () =>
        {
            // A budget of one tick has run out after the first step on any machine: one epoch, cut after its first batch, is the
            // last; the same fit without a budget runs every epoch.
            var options = Base();
            options.MaxTrainingTime = TimeSpan.FromTicks(1);
            var history = Fit(options).Model.History!;
            Assert.Equal((1, TrainingStopReason.TimeBudget, 1L), (history.Epochs.Count, history.StopReason, history.Steps));
            Assert.Equal(TrainingStopReason.EpochsCompleted, Fit(Base()).Model.History!.StopReason);
        },
        [nameof(RecurrentTrainerOptions.TimeProvider)] = () =>
        {
            // The budget is measured on the given clock: one that stands still never ends a budget of a tick.
            var options = Base();
            options.MaxTrainingTime = TimeSpan.FromTicks(1);
            options.TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
            var history = Fit(options).Model.History!;
            Assert.Equal((options.NumberOfEpochs, TrainingStopReason.EpochsCompleted), (history.Epochs.Count, history.StopReason));
        },
        [nameof(RecurrentTrainerOptions.Seed)] = () =>
        {
            // The options' seed decides, whatever the context's; without it the context's seed does.
            float[] WithSeeds(int? optionsSeed, int contextSeed)
            {
                var options = Base();
                options.Seed = optionsSeed;
                return Weights(Fit(options, mlContext: new MLContext(contextSeed)));
            }
            Assert.Equal(WithSeeds(1, 1), WithSeeds(1, 2));
            AssertDiffers(WithSeeds(1, 1), WithSeeds(2, 1), "options seed 2");
            Assert.Equal(WithSeeds(null, 3), WithSeeds(null, 3));
            AssertDiffers(WithSeeds(null, 3), WithSeeds(null, 4), "context seed 4");
        },
        [nameof(RecurrentTrainerOptions.MaxDegreeOfParallelism)] = () =>
        {
            // Threads split a batch; the sums are taken in a fixed order, so the model does not depend on them.
            var options = Base();
            options.MaxDegreeOfParallelism = 2;
            options.BatchSize = Rows;
            var two = Fit(options);
            options.MaxDegreeOfParallelism = 1;
            var one = Fit(options);
            Assert.Equal(Weights(one), Weights(two));
        },
        [nameof(RecurrentTrainerOptions.Logger)] = () =>
        {
            var logger = new RecordingLogger();
            var options = Base();
            options.NumberOfEpochs = 3;
            options.Logger = logger;
            Fit(options);
            Assert.Equal(["Epoch 1:", "Epoch 2:", "Epoch 3:"], logger.Lines.Where(line => line.Message.StartsWith("Epoch ", StringComparison.Ordinal))
                .Select(line => line.Message[..8]));
            Assert.Contains(logger.Lines, line => line.Level == LogLevel.Information && line.Message.Contains("48 training rows"));
        },
        [nameof(RecurrentTrainerOptions.HiddenStateColumnName)] = () =>
        {
            var options = Base();
            options.HiddenStateColumnName = "Hidden";
            var model = Fit(options);
            Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, H), model.Transform(s_data).Schema["Hidden"].Type);
            Assert.Null(Fit(Base()).Transform(s_data).Schema.GetColumnOrNull("Hidden"));
            AssertScoreIsTheHeadOfTheHiddenState(model);
        },
        [nameof(RecurrentTrainerOptions.ScoringBatchSize)] = () =>
        {
            // Rows scored one at a time or all at once score the same.
            var options = Base();
            options.ScoringBatchSize = 1;
            var one = Fit(options);
            Assert.Equal(Scores(Fit(Base())).Select(Fingerprint.Bits), Scores(one).Select(Fingerprint.Bits));
        },
    };

    /// <summary>
    /// A checkpoint every 2 epochs of a 3-epoch fit is written once, after epoch 2, to the path given: a model file holding the
    /// weights of a 2-epoch fit.
    /// </summary>
    private static void AssertCheckpointHoldsEpochTwo()
    {
        string folder = Directory.CreateTempSubdirectory("mlnet-rnn-checkpoint-").FullName;
        try
        {
            var options = Base();
            options.NumberOfEpochs = 3;
            options.CheckpointEvery = 2;
            options.CheckpointPath = Path.Combine(folder, "run.safetensors");
            var three = Fit(options);
            Assert.Equal(["run.safetensors"], Directory.GetFiles(folder).Select(Path.GetFileName));
            var checkpoint = Core.Persistence.ModelFile.Read(options.CheckpointPath).Tensors
                .Where(tensor => !tensor.Name.StartsWith(ModelFile.CheckpointPrefix.Optimizer, StringComparison.Ordinal)
                    && !tensor.Name.StartsWith(ModelFile.CheckpointPrefix.Trainer, StringComparison.Ordinal))
                .ToDictionary(tensor => tensor.Name);
            Assert.Equal(Weights(Fit(Base())), Flat(checkpoint));
            AssertDiffers(Weights(three), Flat(checkpoint), "the checkpoint after epoch 2");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The rate each epoch ended with, for <paramref name="epochs"/> epochs of 6 steps.</summary>
    private static float[] Rates(Action<RecurrentRegressionTrainer.Options> change, int epochs)
    {
        var options = Base();
        options.NumberOfEpochs = epochs;
        change(options);
        return [.. Fit(options).Model.History!.Epochs.Select(epoch => epoch.LearningRate)];
    }

    /// <summary>The rate of each of 4 epochs, validated on the negated label (so the validation loss rises), no early stopping.</summary>
    private static float[] PlateauRates(Action<RecurrentRegressionTrainer.Options> change)
    {
        var validation = ToDataView(s_mlContext, s_rows.Select(row => new ProbeRow { Value = row.Negated, Features = row.Features }));
        var options = Base();
        options.NumberOfEpochs = 4;
        options.EarlyStoppingPatience = 0;
        change(options);
        return [.. Fit(options, validation: validation).Model.History!.Epochs.Select(epoch => epoch.LearningRate)];
    }

    /// <summary>Adam's bias-corrected first step is lr·sign(g) whatever β1 and β2; from the second step on they matter.</summary>
    private static void AssertAdamMomentOptionActsFromTheSecondStep(Action<RecurrentRegressionTrainer.Options> change)
    {
        float[] Adam(bool changed, int epochs)
        {
            var options = OneStep();
            options.NumberOfEpochs = epochs;
            if (changed) change(options);
            return Weights(Fit(options));
        }
        Assert.True(MaxDifference(Adam(false, 1), Adam(true, 1)) < 1e-6, "the first step differs");
        Assert.True(MaxDifference(Adam(false, 2), Adam(true, 2)) > 1e-4, "the option did not change the second step");
    }

    /// <summary>Score = head.weight · h + head.bias on the hidden-state column: no dropout, nothing else between them.</summary>
    private static void AssertScoreIsTheHeadOfTheHiddenState(RecurrentPredictionTransformer model)
    {
        var tensors = Tensors(model);
        float[] w = tensors["head.weight"].Data;
        float b = tensors["head.bias"].Data[0];
        var scored = model.Transform(s_data);
        var hidden = scored.GetColumn<float[]>("Hidden").ToArray();
        var scores = scored.GetColumn<float>("Score").ToArray();
        for (int r = 0; r < hidden.Length; r++) Assert.Equal(b + hidden[r].Zip(w, (x, y) => (double)x * y).Sum(), scores[r], 1e-5);
    }

    private sealed class FloatTolerance : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= 1e-6 * Math.Max(1, Math.Abs(x));

        public int GetHashCode(float obj) => 0;
    }
}
