using Microsoft.ML;

namespace MlNet.Rnn.Tests.LanguageModeling;

/// <summary>What a language-model fit reports: its training and validation rows, and an early stop with the epoch it kept.</summary>
public sealed class LanguageModelFitReportTests
{
    [Fact]
    public void TheFitReportsItsTrainingAndValidationRows_AndAnEarlyStop()
    {
        var mlContext = new MLContext(seed: 1);
        var train = mlContext.Data.LoadFromEnumerable(Enumerable.Repeat(new TextRow { Text = "abcabc" }, 6));
        // Validation text the model cannot learn from the training text: its loss rises, and training stops early.
        var validation = mlContext.Data.LoadFromEnumerable(new[] { new TextRow { Text = "cbacba" }, new TextRow { Text = "cba" } });
        var logger = new RecordingLogger();
        var options = LanguageModelRefusalTests.TinyOptions();
        options.NumberOfEpochs = 40;
        options.LearningRate = 0.05f;
        options.EarlyStoppingPatience = 1;
        options.Logger = logger;
        var model = mlContext.LanguageModeling.Trainers.Gru(options).Fit(train, validation);

        Assert.Contains(logger.Messages, m => m.StartsWith("Gru language model (Characters): 6 training rows, 2 validation rows, ", StringComparison.Ordinal));
        Assert.True(model.History!.StoppedEarly, "the validation loss should stop training before epoch 40");
        Assert.Contains($"Stopped early after epoch {model.History.Epochs.Count}; kept epoch {model.History.BestEpoch}.", logger.Messages);
    }
}
