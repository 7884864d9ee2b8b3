using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Tests.Trainers;

/// <summary>A row whose class label is a number, so its key values are not text.</summary>
public sealed class NumberClassRow
{
    public float Class { get; set; }
    [VectorType(6)]
    public float[] Features { get; set; } = [];
}

/// <summary>Every option reaches the core's model and training options; labels whose key values are not text still name the classes.</summary>
public sealed class OptionsTests
{
    [Fact]
    public void EveryOptionReachesTheCore()
    {
        var options = new RecurrentRegressionTrainer.Options
        {
            FeaturesPerStep = 3, HiddenSize = 5, NumberOfLayers = 2, Bidirectional = true, NumberOfEpochs = 7, BatchSize = 11, LearningRate = 0.25f,
            RnnActivation = RnnActivation.Relu, EmbeddingSize = 13, Dropout = 0.1f, RecurrentDropout = 0.2f, TokenDropout = 0.3f, LearnedInitialState = true,
            Optimizer = OptimizerKind.Sgd, Momentum = 0.5f, Nesterov = true, WeightDecay = 0.01f, Beta1 = 0.8f, Beta2 = 0.99f,
            GradientClipNorm = 2f, GradientClipValue = 3f, Schedule = ScheduleKind.Cosine, StepDecayEpochs = 4, StepDecayGamma = 0.5f,
            WarmupSteps = 6, MinimumLearningRate = 0.001f, ReduceOnPlateau = true, PlateauFactor = 0.3f, PlateauPatience = 4,
            EarlyStoppingPatience = 3, Shuffle = false, BucketByLength = false, CheckpointEvery = 2, CheckpointPath = "x.safetensors",
            MaxDegreeOfParallelism = 1,
        };

        var model = options.ToModelOptions(RecurrentCellType.Gru, vocabularySize: 17, outputSize: 4, seed: 9);
        Assert.Equal(new SequenceModelOptions
        {
            Cell = RecurrentCellType.Gru, RnnActivation = RnnActivation.Relu, FeaturesPerStep = 3, VocabularySize = 17, EmbeddingSize = 13,
            HiddenSize = 5, Layers = 2, Bidirectional = true, Dropout = 0.1f, RecurrentDropout = 0.2f, TokenDropout = 0.3f, LearnedInitialState = true,
            OutputSize = 4, Seed = 9, MaxDegreeOfParallelism = 1,
        }, model);

        var training = options.ToTrainerOptions(Core.Models.RecurrentCellType.Lstm, seed: 9, hasValidationData: true, logger: null);
        Assert.Equal(new TrainerOptions
        {
            Standardize = true, // on by default
            Epochs = 7, BatchSize = 11, LearningRate = 0.25f, Optimizer = OptimizerKind.Sgd, Momentum = 0.5f, Nesterov = true, WeightDecay = 0.01f,
            Beta1 = 0.8f, Beta2 = 0.99f, GradientClipNorm = 2f, GradientClipValue = 3f, Schedule = ScheduleKind.Cosine, StepDecayEpochs = 4,
            StepDecayGamma = 0.5f, WarmupSteps = 6, MinimumLearningRate = 0.001f, ReduceOnPlateau = true, PlateauFactor = 0.3f, PlateauPatience = 4,
            EarlyStoppingPatience = 3, Shuffle = false, BucketByLength = false, Seed = 9, CheckpointEvery = 2, CheckpointPath = "x.safetensors",
            TimeProvider = TimeProvider.System,
        }, training);

        // Without validation data, the options that need it are off rather than an error.
        var withoutValidation = options.ToTrainerOptions(Core.Models.RecurrentCellType.Lstm, seed: 9, hasValidationData: false, logger: null);
        Assert.Equal((0, false), (withoutValidation.EarlyStoppingPatience, withoutValidation.ReduceOnPlateau));
    }

    [Fact]
    public void ClassesWhoseKeyValuesAreNumbersAreNamedAsText()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = Synthetic.Rows(200, 2, 3, seed: 1).Select(row => new NumberClassRow { Class = row.Class[0] - 'a' + 10, Features = row.Features }).ToArray();
        var data = mlContext.Data.LoadFromEnumerable(rows);
        var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", "Class")
            .Append(mlContext.MulticlassClassification.Trainers.Lstm(featuresPerStep: 3, hiddenSize: 8, numberOfEpochs: 12, learningRate: 0.03f))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));

        var scored = pipeline.Fit(data).Transform(data);

        VBuffer<ReadOnlyMemory<char>> names = default;
        scored.Schema["Score"].GetSlotNames(ref names);
        Assert.Equal(["10", "11", "12"], names.DenseValues().Select(name => name.ToString()).Order());
        Assert.All(scored.GetColumn<float>("PredictedClass"), value => Assert.InRange(value, 10, 12));
        // And they are the classes learned: far more often right than always answering the commonest class.
        double accuracy = mlContext.MulticlassClassification.Evaluate(scored).MicroAccuracy, majority = Baselines.Majority(rows.Select(row => row.Class));
        Assert.True(accuracy > majority + 0.3, $"micro-accuracy {accuracy:F3}, majority class {majority:F3}");
    }
}
