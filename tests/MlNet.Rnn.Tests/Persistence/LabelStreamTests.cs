using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests.Persistence;

/// <summary>
/// A multiclass model keeps its label column (type and key values) in the saved model's LabelSchema.idv: loaded back, it
/// predicts the same keys with the same key values; and writing that stream logs nothing of its own.
/// </summary>
public sealed class LabelStreamTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-label-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string[] KeyValues(DataViewSchema.Column column)
    {
        VBuffer<ReadOnlyMemory<char>> values = default;
        column.GetKeyValues(ref values);
        return [.. values.DenseValues().Select(value => value.ToString())];
    }

    [Fact]
    public void ASavedMulticlassModel_LoadsWithItsLabelsKeyValues_AndPredictsTheSameKeys()
    {
        var mlContext = new MLContext(seed: 1);
        var raw = Synthetic.ToDataView(mlContext, Synthetic.Rows(40, 6, 3, seed: 3));
        var data = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TaskRow.Class)).Fit(raw).Transform(raw);
        var model = mlContext.MulticlassClassification.Trainers.Gru(featuresPerStep: 3, hiddenSize: 4, numberOfEpochs: 1).Fit(data);
        string path = Path.Combine(_folder, "multiclass.zip");
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add($"{e.Source}: {e.RawMessage}"); };

        mlContext.Model.Save(model, data.Schema, path);
        var loaded = mlContext.Model.Load(path, out _);

        // The label is written on its own named channel, quietly: no "Wrote 0 rows" of a saver MlNet.Rnn started.
        Assert.Contains(messages, message => message.StartsWith("RecurrentPredictionTransformer; Saving the label's key values: ", StringComparison.Ordinal));
        Assert.DoesNotContain(messages, message => message.Contains("Recurrent", StringComparison.Ordinal) && message.Contains("Wrote", StringComparison.Ordinal));
        var before = model.Transform(data);
        var after = loaded.Transform(data);
        string[] classes = KeyValues(data.Schema["Label"]);
        Assert.Equal(3, classes.Length);
        Assert.Equal(classes, KeyValues(after.Schema["PredictedLabel"]));
        Assert.Equal(before.GetColumn<uint>("PredictedLabel"), after.GetColumn<uint>("PredictedLabel"));
    }
}
