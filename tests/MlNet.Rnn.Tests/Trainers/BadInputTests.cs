using System.IO.Compression;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests.Trainers;

/// <summary>A row with columns of every wrong kind.</summary>
public sealed class OddRow
{
    public bool Label { get; set; }
    public float Value { get; set; }
    public string Text { get; set; } = "";
    public float Scalar { get; set; }
    [VectorType(6)]
    public float[] Features { get; set; } = [];
}

/// <summary>Bad input fails early and clearly: the column, its type and what is expected; the row and the fix.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static IDataView Odd(MLContext mlContext, int count = 40) => mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(r => new OddRow
    {
        Label = r % 2 == 0, Value = r, Text = "a b", Scalar = r, Features = [r % 2, 1, 0, r % 3, 1, 0],
    }));

    public static TheoryData<string, string, string[]> BadColumns => new()
    {
        { "binary", "features: Missing", ["Could not find feature column 'Missing'"] },
        { "binary", "features: Text", ["feature column 'Text'", "String", "a vector of Single"] },
        { "binary", "features: Scalar", ["feature column 'Scalar'", "Single", "vector of keys"] },
        { "binary", "label: Value", ["label column 'Value'", "expected Boolean", "got Single"] },
        { "multiclass", "label: Text", ["label column 'Text'", "Key", "got String"] },
        { "regression", "label: Label", ["label column 'Label'", "expected Single", "got Boolean"] },
        { "regression", "weight: Text", ["weight column 'Text'", "expected Single", "got String"] },
    };

    private static IEstimator<ITransformer> Trainer(MLContext mlContext, string task, string bad)
    {
        string[] parts = bad.Split(": ");
        string features = parts[0] == "features" ? parts[1] : "Features";
        string label = parts[0] == "label" ? parts[1] : task == "regression" ? "Value" : "Label";
        string? weight = parts[0] == "weight" ? parts[1] : null;
        return task switch
        {
            "binary" => mlContext.BinaryClassification.Trainers.Lstm(label, features, weight, numberOfEpochs: 1),
            "multiclass" => mlContext.MulticlassClassification.Trainers.Gru(label, features, weight, numberOfEpochs: 1),
            _ => mlContext.Regression.Trainers.Rnn(label, features, weight, numberOfEpochs: 1),
        };
    }

    [Theory]
    [MemberData(nameof(BadColumns))]
    public void AWrongColumnIsNamedWithItsTypeAtGetOutputSchemaAndAtFit(string task, string bad, string[] expected)
    {
        var mlContext = new MLContext(seed: 1);
        var data = Odd(mlContext);
        var trainer = Trainer(mlContext, task, bad);

        var atSchema = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(ShapeOf(data.Schema)));
        var atFit = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => trainer.Fit(data));

        foreach (string part in expected)
        {
            Assert.Contains(part, atSchema.Message);
            Assert.Contains(part, atFit.Message);
        }
    }

    [Fact]
    public void ATrainedModelRejectsAWrongFeatureColumnAtGetOutputSchemaAndTransform()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Odd(mlContext);
        var model = mlContext.BinaryClassification.Trainers.Lstm(hiddenSize: 4, numberOfEpochs: 1).Fit(data);
        var renamed = mlContext.Transforms.CopyColumns("Features", "Text").Fit(data).Transform(data);

        var atSchema = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => model.GetOutputSchema(renamed.Schema));
        var atTransform = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => model.Transform(renamed));
        var missing = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => model.Transform(mlContext.Transforms.DropColumns("Features").Fit(data).Transform(data)));

        Assert.Contains("feature column 'Features'", atSchema.Message);
        Assert.Contains("got String", atTransform.Message);
        Assert.Contains("Could not find feature column 'Features'", missing.Message);
    }

    public static TheoryData<string, string[]> BadRows => new()
    {
        { "NaN", ["Row 3 of column 'Features'", "step 1, feature 0 is NaN", "finite"] },
        { "empty", ["Row 2 of column 'Features' is an empty sequence"] },
        { "length", ["Row 0 of column 'Features' has 5 values", "featuresPerStep = 2"] },
    };

    private static IDataView WithBadRow(MLContext mlContext, string kind)
    {
        var rows = Synthetic.Rows(20, kind == "length" ? 5 : 6, 1, seed: 1);
        if (kind == "NaN") rows[3].Features[1] = float.NaN;
        if (kind == "empty") rows[2].Features = [];
        return Synthetic.ToDataView(mlContext, rows, variableSize: kind == "empty");
    }

    [Theory]
    [MemberData(nameof(BadRows))]
    public void ABadSequenceIsAnErrorNamingTheRowInTraining(string kind, string[] expected)
    {
        var mlContext = new MLContext(seed: 1);
        var trainer = mlContext.BinaryClassification.Trainers.Gru(featuresPerStep: kind == "length" ? 2 : 1, hiddenSize: 4, numberOfEpochs: 1);

        var error = Assert.ThrowsAny<InvalidOperationException>(() => trainer.Fit(WithBadRow(mlContext, kind)));

        foreach (string part in expected) Assert.Contains(part, error.Message);
    }

    [Theory]
    [MemberData(nameof(BadRows))]
    public void ABadSequenceIsAnErrorNamingTheRowInScoring(string kind, string[] expected)
    {
        var mlContext = new MLContext(seed: 1);
        int featuresPerStep = kind == "length" ? 2 : 1;
        var good = Synthetic.ToDataView(mlContext, Synthetic.Rows(20, 6, 1, seed: 2), variableSize: true);
        var model = mlContext.Regression.Trainers.Lstm(labelColumnName: "Value", featuresPerStep: featuresPerStep, hiddenSize: 4, numberOfEpochs: 1).Fit(good);
        var scored = model.Transform(WithBadRow(mlContext, kind)); // lazy: nothing is read yet

        var error = Assert.ThrowsAny<InvalidOperationException>(() => scored.GetColumn<float>("Score").ToArray());

        foreach (string part in expected) Assert.Contains(part, error.Message);
    }

    [Fact]
    public void AModelOfAnotherVersionOrComponent_IsAClearError()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Synthetic.ToDataView(mlContext, Synthetic.Rows(40, 6, 1, seed: 3));
        var model = mlContext.BinaryClassification.Trainers.Lstm(hiddenSize: 4, numberOfEpochs: 1).Fit(data);
        string path = Path.Combine(_folder, "model.zip");
        mlContext.Model.Save(model, data.Schema, path);
        string Load(string name, Func<byte[], bool> edit) => ModelZip.Flatten(Assert.ThrowsAny<Exception>(() => mlContext.Model.Load(Rewrite(path, name, edit), out _)));
        // The transformer's own header in the ML.NET model: signature "RNNTRANS", then the written and readable versions.
        Func<byte[], bool> Header(Action<byte[], int> edit) => bytes =>
        {
            int at = IndexOf(bytes, Encoding.ASCII.GetBytes("RNNTRANS"));
            if (at < 0) return false;
            edit(bytes, at);
            return true;
        };
        Action<byte[], int> Versions(uint version) => (bytes, at) =>
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(at + 8), version);
            BitConverter.TryWriteBytes(bytes.AsSpan(at + 12), version);
        };

        Assert.Contains("newer MlNet.Rnn", Load("newer-transformer.zip", Header(Versions(0x00020001u))));
        // Below the oldest this MlNet.Rnn reads back; the bytes after the header are unchanged, so only the check can refuse it.
        string older = Load("older-transformer.zip", Header(Versions(0x00000001u)));
        Assert.Contains("saved in format version 0x00000001, older than the oldest this MlNet.Rnn reads (0x", older);
        Assert.Contains("train the model again", older);
        // Another component's signature under this loader: ML.NET's own header check refuses it.
        Assert.Contains("Unknown file type", Load("foreign-transformer.zip", Header((bytes, at) => bytes[at + 7] = (byte)'X')));
        // The core's model file inside it: format_version in the safetensors header.
        string newerNetwork = Load("newer-network.zip", bytes =>
        {
            int at = IndexOf(bytes, Encoding.ASCII.GetBytes("\"format_version\":\"1\""));
            if (at < 0) return false;
            bytes[at + "\"format_version\":\"".Length] = (byte)'9';
            return true;
        });
        Assert.Contains("format version 9", newerNetwork);
        Assert.Contains("update the package", newerNetwork);
        // One damaged byte of its weights (the last byte of the data): the tensor's checksum no longer matches.
        string damaged = Load("damaged-weights.zip", bytes =>
        {
            if (IndexOf(bytes, Encoding.ASCII.GetBytes("\"format_version\"")) < 0) return false;
            bytes[^1] ^= 0x10;
            return true;
        });
        Assert.Contains("The saved model's recurrent network cannot be read", damaged);
        Assert.Contains("does not match its checksum", damaged);
    }

    [Fact]
    public void AMulticlassModelWithoutItsLabelStreamIsAClearError()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TaskRow.Class))
            .Fit(Synthetic.ToDataView(mlContext, Synthetic.Rows(40, 6, 3, seed: 3)))
            .Transform(Synthetic.ToDataView(mlContext, Synthetic.Rows(40, 6, 3, seed: 3)));
        var model = mlContext.MulticlassClassification.Trainers.Gru(featuresPerStep: 3, hiddenSize: 4, numberOfEpochs: 1).Fit(data);
        string path = Path.Combine(_folder, "multiclass.zip");
        mlContext.Model.Save(model, data.Schema, path);
        string target = Path.Combine(_folder, "no-label.zip");
        File.Copy(path, target);
        using (var zip = ZipFile.Open(target, ZipArchiveMode.Update))
        {
            var label = Assert.Single(zip.Entries, entry => entry.Name == "LabelSchema.idv");
            label.Delete();
        }

        var error = Assert.ThrowsAny<Exception>(() => mlContext.Model.Load(target, out _));
        Assert.Contains("The saved MulticlassClassification model has no LabelSchema.idv.", ModelZip.Flatten(error));
    }

    private string Rewrite(string source, string name, Func<byte[], bool> edit) =>
        ModelZip.Rewrite(source, Path.Combine(_folder, name), (_, bytes) => edit(bytes) ? bytes : null);

    // SchemaShape.Create is internal; ML.NET's own tests call it the same way.
    private static SchemaShape ShapeOf(DataViewSchema schema) => (SchemaShape)typeof(SchemaShape)
        .GetMethod("Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.Invoke(null, [schema])!;

    private static int IndexOf(byte[] bytes, byte[] pattern) => bytes.AsSpan().IndexOf(pattern);

}
