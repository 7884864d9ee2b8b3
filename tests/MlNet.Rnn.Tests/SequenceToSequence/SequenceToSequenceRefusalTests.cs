using System.IO.Compression;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests.SequenceToSequence;

/// <summary>
/// What the fitted sequence-to-sequence transformer and the evaluator refuse, by name: null arguments, a missing or mistyped
/// source column, a label that is not a key vector or whose key count is not the model's, scored data without its columns or
/// with predicted keys of another type; and a saved model with a corrupted field (source column, key type, scoring batch
/// size, decoding options), a missing or unreadable network, or a label stream that is not a key vector.
/// </summary>
public sealed class SequenceToSequenceRefusalTests : IDisposable
{
    private const string Network = "SequenceToSequenceModel.safetensors";
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-s2s-refusal-").FullName;
    private readonly MLContext _mlContext = new(seed: 1);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static TokenPair Pair(string source, string target) => new() { Source = source.Split(' ', StringSplitOptions.RemoveEmptyEntries), Target = target.Split(' ', StringSplitOptions.RemoveEmptyEntries) };

    private IDataView Keys(TokenPair[] keys, TokenPair[] rows) =>
        _mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(TokenPair.Source))
            .Append(_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TokenPair.Target)))
            .Fit(_mlContext.Data.LoadFromEnumerable(keys)).Transform(_mlContext.Data.LoadFromEnumerable(rows));

    private static readonly TokenPair[] Rows = [Pair("a b", "b a"), Pair("b", "b"), Pair("a", "a")];

    private (SequenceToSequenceTransformer Model, IDataView Data) Fitted()
    {
        var data = Keys(Rows, Rows);
        var model = _mlContext.SequenceToSequence.Trainers.Lstm(new SequenceToSequenceTrainer.Options
        {
            EmbeddingSize = 2, HiddenSize = 2, NumberOfEpochs = 1, Seed = 1, MaxDegreeOfParallelism = 1, MaximumOutputLength = 3,
        }).Fit(data);
        return (model, data);
    }

    [Fact]
    public void TheTransformerRefusesNullArgumentsAndAMismatchedSourceByName()
    {
        var (model, data) = Fitted();
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => model.Transform(null!)).ParamName);
        Assert.Equal("inputSchema", Assert.Throws<ArgumentNullException>(() => model.GetOutputSchema(null!)).ParamName);
        Assert.Equal("inputSchema", Assert.Throws<ArgumentNullException>(() => model.GetRowToRowMapper(null!)).ParamName);
        Assert.Equal("ctx", Assert.Throws<ArgumentNullException>(() => ((ICanSaveModel)model).Save(null!)).ParamName);
        Assert.Equal("env", Assert.Throws<ArgumentNullException>(() => SequenceToSequenceTransformer.Create(null!, null!)).ParamName);
        Assert.Equal("ctx", Assert.Throws<ArgumentNullException>(() => SequenceToSequenceTransformer.Create(_mlContext, null!)).ParamName);

        // Three source keys where the model was trained on two.
        var other = Keys([Pair("a b c", "a b")], Rows);
        foreach (Action call in new Action[] { () => model.Transform(other), () => model.GetOutputSchema(other.Schema), () => model.GetRowToRowMapper(other.Schema) })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(call);
            Assert.Equal("schema", error.ParamName);
            Assert.Contains("source (feature) column 'Features'", error.Message);
        }

        // Decoding options are checked when the transformer is built.
        Assert.ThrowsAny<ArgumentException>(() => new SequenceToSequenceTransformer(_mlContext, model.Model, model.Source, model.FeatureColumnType, model.Label,
            model.OutputColumnName, model.Decoding with { BeamWidth = 0 }, scoringBatchSize: 4, history: null));
    }

    [Fact]
    public void TheTransformerRefusesALabelThatIsNotAKeyVectorOrWhoseKeyCountIsNotTheModels()
    {
        var (model, data) = Fitted();
        SequenceToSequenceTransformer With(DataViewSchema.Column label) => new(_mlContext, model.Model, model.Source, model.FeatureColumnType, label,
            model.OutputColumnName, model.Decoding, scoringBatchSize: 4, history: null);
        Assert.NotNull(With(data.Schema["Label"]));

        // The raw tokens: a text vector, not a key vector.
        Assert.Equal("The label column 'Target' is not a key vector.", Assert.ThrowsAny<Exception>(() => With(data.Schema[nameof(TokenPair.Target)])).Message);

        // Three label keys where the model decodes two.
        var wider = Keys([Pair("a", "a b c")], Rows);
        Assert.Equal("The sequence-to-sequence model does not match its columns' key counts.", Assert.ThrowsAny<Exception>(() => With(wider.Schema["Label"])).Message);
    }

    [Fact]
    public void TheEvaluatorRefusesNullDataMissingColumnsAndOtherKeyTypesByRole()
    {
        var (model, data) = Fitted();
        var scored = model.Transform(data);
        Assert.Equal("data", Assert.Throws<ArgumentNullException>(() => _mlContext.SequenceToSequence.Evaluate(null!)).ParamName);
        Assert.Contains("label column 'Gold'", Assert.ThrowsAny<Exception>(() => _mlContext.SequenceToSequence.Evaluate(scored, "Gold")).Message);
        Assert.Contains("predicted label column 'Guess'", Assert.ThrowsAny<Exception>(() => _mlContext.SequenceToSequence.Evaluate(scored, "Label", "Guess")).Message);

        // Features has two keys ("a", "b") as Label does; a source of three keys is another key type.
        var other = _mlContext.Transforms.Conversion.MapValueToKey("Wide", nameof(TokenPair.Source))
            .Fit(_mlContext.Data.LoadFromEnumerable(new[] { Pair("a b c", "a") })).Transform(scored);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _mlContext.SequenceToSequence.Evaluate(other, "Label", "Wide"));
        Assert.Equal("data", error.ParamName);
        Assert.Contains("predicted label column 'Wide'", error.Message);
    }

    private string Saved()
    {
        var (model, data) = Fitted();
        string path = Path.Combine(_folder, "s2s.zip");
        _mlContext.Model.Save(model, data.Schema, path);
        return path;
    }

    /// <summary>
    /// Rewrites the transformer's fields after its 256-byte header: source column (string id), source key count, source vector
    /// size, key bytes, output column (string id), beam width, length normalisation (float), maximum output length, scoring batch size.
    /// </summary>
    private string Fields(string source, string name, Action<int[]> edit) =>
        ModelZip.RewriteFields(source, Path.Combine(_folder, name), "RNNS2SEQ", 9, fields =>
        {
            Assert.Equal([2, 0, 4, 1, 3], new[] { fields[1], fields[2], fields[3], fields[5], fields[7] });
            edit(fields);
        });

    private string LoadError(string path) => ModelZip.LoadError(_mlContext, path);


    [Fact]
    public void ASavedModelWithACorruptedFieldOrNetworkIsRefusedByName()
    {
        string path = Saved();
        Assert.IsType<SequenceToSequenceTransformer>(_mlContext.Model.Load(Fields(path, "unchanged.zip", _ => { }), out _));

        Assert.Contains("bad source column", LoadError(Fields(path, "no-keys.zip", f => f[1] = 0)));
        Assert.Contains("bad source column", LoadError(Fields(path, "size.zip", f => f[2] = -1)));
        Assert.Contains("bad source key type", LoadError(Fields(path, "key-bytes.zip", f => f[3] = 3)));
        Assert.Contains("bad scoring batch size", LoadError(Fields(path, "batch.zip", f => f[8] = 0)));
        Assert.Contains("bad decoding options", LoadError(Fields(path, "beam.zip", f => f[5] = 0)));

        string missing = ModelZip.Remove(path, Path.Combine(_folder, "missing.zip"), Network);
        Assert.Contains($"The saved model has no {Network}; it was not saved by MlNet.Rnn.", LoadError(missing));

        string unreadable = LoadError(ModelZip.Rewrite(path, Path.Combine(_folder, "garbage.zip"),
            (entry, _) => entry.Name == Network ? Encoding.ASCII.GetBytes("not a safetensors file at all") : null));
        Assert.Contains("The saved model's sequence-to-sequence network cannot be read: ", unreadable);
        Assert.Contains($"the sequence-to-sequence model of the saved model ({Network})", unreadable);
    }

    [Fact]
    public void AMissingSourceAnEmptySourceRowANewerFormatAndAMissingOrTextLabelAreNamed()
    {
        var (model, data) = Fitted();
        var noSource = _mlContext.Transforms.DropColumns("Features").Fit(data).Transform(data);
        Assert.Contains("source (feature) column 'Features'", Assert.ThrowsAny<Exception>(() => model.GetOutputSchema(noSource.Schema)).Message);
        var emptyRow = Keys(Rows, [Pair("a", "a"), Pair("", "b")]);
        Assert.Contains("(source) is an empty sequence", Assert.ThrowsAny<Exception>(() => model.Transform(emptyRow).GetColumn<VBuffer<uint>>("PredictedLabel").ToArray()).Message);

        string path = Saved();
        string newer = LoadError(ModelZip.RewriteVersion(path, Path.Combine(_folder, "newer.zip"), "RNNS2SEQ", 0x00020001u));
        Assert.Contains("This model holds a sequence-to-sequence transformer saved by a newer MlNet.Rnn", newer);

        string noLabel = ModelZip.Remove(path, Path.Combine(_folder, "no-label.zip"), "LabelSchema.idv");
        Assert.Contains("The saved sequence-to-sequence model has no LabelSchema.idv.", LoadError(noLabel));

        // A label stream whose column is the raw text tokens, not a key vector.
        var text = new MemoryStream();
        _mlContext.Data.SaveAsBinary(_mlContext.Data.LoadFromEnumerable(Rows), text);
        Assert.Equal(nameof(TokenPair.Source), _mlContext.Data.LoadFromEnumerable(Rows).Schema[0].Name);
        string textLabel = LoadError(ModelZip.Rewrite(path, Path.Combine(_folder, "text-label.zip"),
            (entry, _) => entry.Name == "LabelSchema.idv" ? text.ToArray() : null));
        Assert.Contains("the saved label is not a key vector", textLabel);
    }
}
