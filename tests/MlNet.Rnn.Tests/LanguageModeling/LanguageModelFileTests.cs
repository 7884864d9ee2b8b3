using System.IO.Compression;
using Microsoft.ML;

namespace MlNet.Rnn.Tests.LanguageModeling;

/// <summary>
/// What a language-model fit reports (its training and validation rows, an early stop) and how a damaged saved language
/// model is refused: a newer format, a missing or an unreadable network, each with a message that says what is wrong.
/// </summary>
public sealed class LanguageModelFileTests : IDisposable
{
    private const string ModelStream = "LanguageModel.safetensors";
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-lm-file-").FullName;
    private readonly MLContext _mlContext = new(seed: 1);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void TheFitReportsItsTrainingAndValidationRows_AndAnEarlyStop()
    {
        var train = _mlContext.Data.LoadFromEnumerable(Enumerable.Repeat(new TextRow { Text = "abcabc" }, 6));
        // Validation text the model cannot learn from the training text: its loss rises, and training stops early.
        var validation = _mlContext.Data.LoadFromEnumerable(new[] { new TextRow { Text = "cbacba" }, new TextRow { Text = "cba" } });
        var logger = new LanguageListLogger();
        var options = LanguageModelRefusalTests.TinyOptions();
        options.NumberOfEpochs = 40;
        options.LearningRate = 0.05f;
        options.EarlyStoppingPatience = 1;
        options.Logger = logger;
        var model = _mlContext.LanguageModeling.Trainers.Gru(options).Fit(train, validation);

        Assert.Contains(logger.Messages, m => m.StartsWith("Gru language model (Characters): 6 training rows, 2 validation rows, ", StringComparison.Ordinal));
        Assert.True(model.History!.StoppedEarly, "the validation loss should stop training before epoch 40");
        Assert.Contains($"Stopped early after epoch {model.History.Epochs.Count}; kept epoch {model.History.BestEpoch}.", logger.Messages);
    }

    [Fact]
    public void ADamagedSavedLanguageModel_IsRefusedSayingWhatIsWrong()
    {
        var train = _mlContext.Data.LoadFromEnumerable(new[] { new TextRow { Text = "abab" }, new TextRow { Text = "ba" } });
        var model = _mlContext.LanguageModeling.Trainers.Gru(LanguageModelRefusalTests.TinyOptions()).Fit(train);
        string path = Path.Combine(_folder, "model.zip");
        _mlContext.Model.Save(model, train.Schema, path);
        Assert.IsType<LanguageModelTransformer>(_mlContext.Model.Load(path, out _));

        string newer = ModelZip.RewriteVersion(path, Path.Combine(_folder, "newer.zip"), "RNNLANGM", 0x00020001u);
        Assert.Contains("This model holds a language model saved by a newer MlNet.Rnn (format version 0x00020001)", ModelZip.LoadError(_mlContext, newer));

        string missing = Path.Combine(_folder, "missing.zip");
        File.Copy(path, missing);
        using (var zip = ZipFile.Open(missing, ZipArchiveMode.Update))
            zip.Entries.Single(entry => entry.FullName.EndsWith(ModelStream, StringComparison.Ordinal)).Delete();
        Assert.Contains($"The saved model has no {ModelStream}; it was not saved by MlNet.Rnn.", ModelZip.LoadError(_mlContext, missing));

        string truncated = ModelZip.Rewrite(path, Path.Combine(_folder, "truncated.zip"),
            (entry, bytes) => entry.FullName.EndsWith(ModelStream, StringComparison.Ordinal) ? bytes[..16] : null);
        string error = ModelZip.LoadError(_mlContext, truncated);
        Assert.Contains("The saved model's language model cannot be read: ", error);
        Assert.Contains($"the language model of the saved model ({ModelStream})", error);
    }
}
