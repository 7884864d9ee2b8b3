using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Tests.LanguageModeling;

/// <summary>A tiny character model (hidden size 2, one epoch) trained once for the refusal tests.</summary>
public sealed class TinyLanguageModel
{
    public TinyLanguageModel()
    {
        MLContext = new MLContext(seed: 1);
        Train = MLContext.Data.LoadFromEnumerable(new[] { new TextRow { Text = "abab" }, new TextRow { Text = "ba" } });
        Model = MLContext.LanguageModeling.Trainers.Gru(LanguageModelRefusalTests.TinyOptions()).Fit(Train);
    }

    public MLContext MLContext { get; }
    public IDataView Train { get; }
    public LanguageModelTransformer Model { get; }
}

/// <summary>
/// What the language-modeling trainer, transformer, evaluator and loader refuse, and how: each refusal names the
/// parameter, column, role and types involved, and a damaged saved model is refused with a message saying what is wrong.
/// </summary>
public sealed class LanguageModelRefusalTests(TinyLanguageModel fixture) : IClassFixture<TinyLanguageModel>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-lm-refuse-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static LanguageModelTrainer.Options TinyOptions() => new()
    {
        EmbeddingSize = 2, HiddenSize = 2, NumberOfEpochs = 1, BatchSize = 2, ChunkSteps = 4, Seed = 3, MaxDegreeOfParallelism = 1,
    };

    // SchemaShape.Create is internal; ML.NET's own tests call it the same way.
    private static SchemaShape ShapeOf(DataViewSchema schema) => (SchemaShape)typeof(SchemaShape)
        .GetMethod("Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.Invoke(null, [schema])!;

    [Fact]
    public void InvalidOptions_AreRefusedNamingTheOptionAndTheRule()
    {
        var mlContext = new MLContext(seed: 1);
        var level = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.LanguageModeling.Trainers.Lstm(new LanguageModelTrainer.Options { Level = (VocabularyLevel)99 }));
        Assert.Equal("Level", level.ParamName);
        Assert.Contains("must be Characters or Tokens", level.Message);
        var count = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.LanguageModeling.Trainers.Lstm(new LanguageModelTrainer.Options { MinimumTokenCount = 0 }));
        Assert.Equal("MinimumTokenCount", count.ParamName);
        Assert.Contains("MinimumTokenCount = 0 must be at least 1", count.Message);
    }

    [Fact]
    public void TheTrainersOutputSchema_AddsFourSingleScores_AndRefusesAMissingOrNonTextColumn()
    {
        var mlContext = fixture.MLContext;
        var trainer = mlContext.LanguageModeling.Trainers.Gru(TinyOptions());
        var shape = trainer.GetOutputSchema(ShapeOf(fixture.Train.Schema));
        foreach (string name in new[] { "LogLikelihood", "TokenCount", "BitsPerToken", "Perplexity" })
        {
            var column = Assert.Single(shape, column => column.Name == name);
            Assert.Equal(SchemaShape.Column.VectorKind.Scalar, column.Kind);
            Assert.Equal(NumberDataViewType.Single, column.ItemType);
            Assert.False(column.IsKey);
        }

        var missing = Assert.ThrowsAny<Exception>(() => mlContext.LanguageModeling.Trainers.Gru("Missing", numberOfEpochs: 1).GetOutputSchema(ShapeOf(fixture.Train.Schema)));
        Assert.Contains("Could not find text (input) column 'Missing'", missing.Message);
        var numbers = mlContext.Data.LoadFromEnumerable(new[] { new NumberRow { Text = 1 } });
        var wrongType = Assert.ThrowsAny<Exception>(() => trainer.GetOutputSchema(ShapeOf(numbers.Schema)));
        Assert.Contains("text (input) column 'Text'", wrongType.Message);
        Assert.Contains("expected String, got Single", wrongType.Message);
        var vectorText = mlContext.Transforms.Text.TokenizeIntoWords("Text").GetOutputSchema(ShapeOf(fixture.Train.Schema));
        var vector = Assert.ThrowsAny<Exception>(() => trainer.GetOutputSchema(vectorText));
        Assert.Contains("Schema mismatch for text (input) column 'Text': expected String, got ", vector.Message);
        Assert.Contains("Vector", vector.Message);
    }

    [Fact]
    public void EmptyValidationData_AndAVocabularyEmptiedByTheMinimumCount_AreRefusedSayingWhy()
    {
        var mlContext = new MLContext(seed: 1);
        var empty = mlContext.Data.LoadFromEnumerable(Array.Empty<TextRow>());
        var noValidation = Assert.ThrowsAny<Exception>(() => mlContext.LanguageModeling.Trainers.Gru(TinyOptions()).Fit(fixture.Train, empty));
        Assert.Contains("The validation data has no row; pass rows or call Fit(trainData).", noValidation.Message);

        var options = TinyOptions();
        options.Level = VocabularyLevel.Tokens;
        options.MinimumTokenCount = 2;
        var rare = mlContext.Data.LoadFromEnumerable(new[] { new TextRow { Text = "one two" } });
        var noToken = Assert.ThrowsAny<Exception>(() => mlContext.LanguageModeling.Trainers.Gru(options).Fit(rare));
        Assert.Contains("The training data's column 'Text' holds no token seen at least 2 times; give text to learn from.", noToken.Message);

        var blank = mlContext.Data.LoadFromEnumerable(new[] { new TextRow { Text = "" } });
        var noCharacter = Assert.ThrowsAny<Exception>(() => mlContext.LanguageModeling.Trainers.Gru(TinyOptions()).Fit(blank));
        Assert.Contains("The training data's column 'Text' holds no character; give text to learn from.", noCharacter.Message);
    }

    [Fact]
    public void OptionsMadeInvalidAfterTheTrainerWasCreated_AreRefusedAtFit_NamingTheColumnAndTheOption()
    {
        // The trainer holds the caller's options object, so a value set after the catalog call checked them reaches Fit;
        // the core refuses it, and the trainer says which column's training failed and passes the core's reason on.
        var mlContext = new MLContext(seed: 1);
        var options = TinyOptions();
        var trainer = mlContext.LanguageModeling.Trainers.Gru(options);
        options.ChunkSteps = 0;
        var refused = Assert.ThrowsAny<Exception>(() => trainer.Fit(fixture.Train));
        Assert.StartsWith("Language-model training on column 'Text' failed: ChunkSteps is 0; it must be at least 1.", refused.Message);
        Assert.IsType<ArgumentOutOfRangeException>(refused.InnerException);
    }

    [Fact]
    public void TheTransformer_RefusesNullArguments_AndAMissingOrNonTextColumn_NamingThem()
    {
        var model = fixture.Model;
        Assert.Equal("prompt", Assert.Throws<ArgumentNullException>(() => model.Generate(null!)).ParamName);
        Assert.Equal("text", Assert.Throws<ArgumentNullException>(() => model.Score(null!)).ParamName);
        Assert.Equal("inputSchema", Assert.Throws<ArgumentNullException>(() => model.GetOutputSchema(null!)).ParamName);
        Assert.Equal("inputSchema", Assert.Throws<ArgumentNullException>(() => model.GetRowToRowMapper(null!)).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => model.Transform(null!)).ParamName);

        var mlContext = fixture.MLContext;
        var numbers = mlContext.Data.LoadFromEnumerable(new[] { new NumberRow { Text = 1 } });
        var other = mlContext.Data.LoadFromEnumerable(new[] { new { Other = "ab" } });
        foreach (var call in new Func<DataViewSchema, object>[] { model.GetOutputSchema, model.GetRowToRowMapper })
        {
            var wrongType = Assert.ThrowsAny<ArgumentException>(() => call(numbers.Schema));
            Assert.Equal("inputSchema", wrongType.ParamName);
            Assert.Contains("Schema mismatch for text (input) column 'Text': expected String, got Single", wrongType.Message);
            var missing = Assert.ThrowsAny<ArgumentException>(() => call(other.Schema));
            Assert.Equal("inputSchema", missing.ParamName);
            Assert.Contains("Could not find text (input) column 'Text'", missing.Message);
        }
        Assert.Equal(4, model.GetOutputSchema(fixture.Train.Schema).Count - fixture.Train.Schema.Count);
    }

    [Fact]
    public void TheEvaluator_RefusesNullData_WrongColumns_AndDataWithoutTokens_NamingTheRole()
    {
        var mlContext = fixture.MLContext;
        var evaluate = mlContext.LanguageModeling;
        Assert.Equal("data", Assert.ThrowsAny<ArgumentException>(() => evaluate.Evaluate(null!)).ParamName);
        var scored = fixture.Model.Transform(fixture.Train);
        Assert.Equal("name", Assert.ThrowsAny<ArgumentException>(() => evaluate.Evaluate(scored, logLikelihoodColumnName: "")).ParamName);
        Assert.Contains("Could not find log-likelihood column 'Nope'", Assert.ThrowsAny<Exception>(() => evaluate.Evaluate(scored, logLikelihoodColumnName: "Nope")).Message);
        Assert.Contains("Could not find token count column 'Nope'", Assert.ThrowsAny<Exception>(() => evaluate.Evaluate(scored, tokenCountColumnName: "Nope")).Message);
        var wrongType = Assert.ThrowsAny<Exception>(() => evaluate.Evaluate(scored, tokenCountColumnName: "Text"));
        Assert.Contains("Schema mismatch for token count column 'Text': expected Single, got String", wrongType.Message);

        var noRows = fixture.Model.Transform(mlContext.Data.LoadFromEnumerable(Array.Empty<TextRow>()));
        Assert.Contains("The data has no scored token; evaluate at least one row.", Assert.ThrowsAny<Exception>(() => evaluate.Evaluate(noRows)).Message);
    }

    [Fact]
    public void ASavedModelWithADamagedOrMissingLanguageModelStreamOrANewerFormat_IsRefusedSayingSo()
    {
        var mlContext = fixture.MLContext;
        string path = Path.Combine(_folder, "lm.zip");
        mlContext.Model.Save(fixture.Model, fixture.Train.Schema, path);
        Assert.IsType<LanguageModelTransformer>(mlContext.Model.Load(path, out _));

        string damaged = ModelZip.Rewrite(path, Path.Combine(_folder, "damaged.zip"),
            (entry, bytes) => entry.FullName.EndsWith("LanguageModel.safetensors", StringComparison.Ordinal) ? bytes[..(bytes.Length / 2)] : null);
        string error = ModelZip.LoadError(mlContext, damaged);
        Assert.Contains("The saved model's language model cannot be read: ", error);
        Assert.Contains("the language model of the saved model (LanguageModel.safetensors)", error);

        string missing = ModelZip.Remove(path, Path.Combine(_folder, "missing.zip"), "LanguageModel.safetensors");
        Assert.Contains("The saved model has no LanguageModel.safetensors; it was not saved by MlNet.Rnn.", ModelZip.LoadError(mlContext, missing));

        // The inference precision, after the text column's string id: only Float32 (0) and Int8 (1) exist.
        string precision = ModelZip.RewriteFields(path, Path.Combine(_folder, "precision.zip"), "RNNLANGM", 2, f =>
        {
            Assert.Equal(0, f[1]);
            f[1] = 5;
        });
        Assert.Contains("unknown inference precision", ModelZip.LoadError(mlContext, precision));

        string newer = ModelZip.RewriteVersion(path, Path.Combine(_folder, "newer.zip"), "RNNLANGM", 0x00020001u);
        Assert.Contains("This model holds a language model saved by a newer MlNet.Rnn (format version 0x00020001)", ModelZip.LoadError(mlContext, newer));
    }
}
