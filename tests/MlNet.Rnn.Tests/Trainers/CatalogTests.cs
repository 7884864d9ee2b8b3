using Microsoft.ML;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Tests.Trainers;

/// <summary>Every catalog method passes every argument on to the options it trains with.</summary>
public sealed class CatalogTests
{
    private static void AssertReached(RecurrentTrainerOptions options)
    {
        Assert.Equal(("y", "x", "w"), (options.LabelColumnName, options.FeatureColumnName, options.ExampleWeightColumnName));
        Assert.Equal((3, 5, 2, true), (options.FeaturesPerStep, options.HiddenSize, options.NumberOfLayers, options.Bidirectional));
        Assert.Equal((7, 11, 0.25f), (options.NumberOfEpochs, options.BatchSize, options.LearningRate));
    }

    [Fact]
    public void ANullCatalog_IsRefusedByName_NotANullReferenceInside()
    {
        void Refused(Action call) => Assert.Equal("catalog", Assert.Throws<ArgumentNullException>(call).ParamName);
        Refused(() => ((BinaryClassificationCatalog.BinaryClassificationTrainers)null!).Lstm());
        Refused(() => ((BinaryClassificationCatalog.BinaryClassificationTrainers)null!).Gru(new RecurrentBinaryTrainer.Options()));
        Refused(() => ((MulticlassClassificationCatalog.MulticlassClassificationTrainers)null!).Rnn());
        Refused(() => ((MulticlassClassificationCatalog.MulticlassClassificationTrainers)null!).Lstm(new RecurrentMulticlassTrainer.Options()));
        Refused(() => ((RegressionCatalog.RegressionTrainers)null!).Gru());
        Refused(() => ((RegressionCatalog.RegressionTrainers)null!).Rnn(new RecurrentRegressionTrainer.Options()));
    }

    [Fact]
    public void EveryBinaryCatalogParameterReachesTheOptions()
    {
        var trainers = new MLContext().BinaryClassification.Trainers;
        foreach (var (cell, trainer) in new[]
        {
            (RecurrentCellType.Rnn, trainers.Rnn("y", "x", "w", 3, 5, 2, true, 7, 11, 0.25f)),
            (RecurrentCellType.Lstm, trainers.Lstm("y", "x", "w", 3, 5, 2, true, 7, 11, 0.25f)),
            (RecurrentCellType.Gru, trainers.Gru("y", "x", "w", 3, 5, 2, true, 7, 11, 0.25f)),
        })
        {
            Assert.Equal(cell, trainer.Cell);
            AssertReached(trainer.TrainerOptions);
        }
    }

    [Fact]
    public void EveryMulticlassCatalogParameterReachesTheOptions()
    {
        var trainers = new MLContext().MulticlassClassification.Trainers;
        foreach (var (cell, trainer) in new[]
        {
            (RecurrentCellType.Rnn, trainers.Rnn("y", "x", "w", 3, 5, 2, true, 7, 11, 0.25f)),
            (RecurrentCellType.Lstm, trainers.Lstm("y", "x", "w", 3, 5, 2, true, 7, 11, 0.25f)),
            (RecurrentCellType.Gru, trainers.Gru("y", "x", "w", 3, 5, 2, true, 7, 11, 0.25f)),
        })
        {
            Assert.Equal(cell, trainer.Cell);
            AssertReached(trainer.TrainerOptions);
        }
    }

    [Fact]
    public void EveryRegressionCatalogParameterReachesTheOptions()
    {
        var trainers = new MLContext().Regression.Trainers;
        foreach (var (cell, trainer) in new[]
        {
            (RecurrentCellType.Rnn, trainers.Rnn("y", "x", "w", 3, 5, 2, true, 7, 11, 0.25f)),
            (RecurrentCellType.Lstm, trainers.Lstm("y", "x", "w", 3, 5, 2, true, 7, 11, 0.25f)),
            (RecurrentCellType.Gru, trainers.Gru("y", "x", "w", 3, 5, 2, true, 7, 11, 0.25f)),
        })
        {
            Assert.Equal(cell, trainer.Cell);
            AssertReached(trainer.TrainerOptions);
        }
    }

    [Fact]
    public void TheSimpleOverloadsDefaultsAreTheOptionsDefaults()
    {
        var simple = new MLContext().Regression.Trainers.Gru().TrainerOptions;
        var defaults = new RecurrentRegressionTrainer.Options();
        Assert.Equal(("Label", "Features", (string?)null), (simple.LabelColumnName, simple.FeatureColumnName, simple.ExampleWeightColumnName));
        Assert.Equal((defaults.FeaturesPerStep, defaults.HiddenSize, defaults.NumberOfLayers, defaults.Bidirectional),
            (simple.FeaturesPerStep, simple.HiddenSize, simple.NumberOfLayers, simple.Bidirectional));
        Assert.Equal((defaults.NumberOfEpochs, defaults.BatchSize, defaults.LearningRate), (simple.NumberOfEpochs, simple.BatchSize, simple.LearningRate));
    }

    [Theory]
    [InlineData("HiddenSize = 0")]
    [InlineData("Dropout")]
    [InlineData("LabelSmoothing = 2")]
    public void AnInvalidOptionIsRejectedWithItsNameAndValue(string expected)
    {
        var mlContext = new MLContext();
        var error = Assert.ThrowsAny<ArgumentException>(() => expected switch
        {
            "HiddenSize = 0" => (object)mlContext.BinaryClassification.Trainers.Lstm(hiddenSize: 0),
            "Dropout" => mlContext.Regression.Trainers.Gru(new RecurrentRegressionTrainer.Options { Dropout = 1.5f }),
            _ => mlContext.MulticlassClassification.Trainers.Rnn(new RecurrentMulticlassTrainer.Options { LabelSmoothing = 2 }),
        });
        Assert.Contains(expected, error.Message);
    }
}
