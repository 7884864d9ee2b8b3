using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests.Forecasting;

/// <summary>A <see cref="FeatureRow"/> whose B is a vector of 2: one more feature than the forecaster was fitted with.</summary>
public sealed class WideFeatureRow
{
    public float Value { get; set; }

    [VectorType(2)]
    public float[] V { get; set; } = new float[2];

    public float A { get; set; }

    [VectorType(2)]
    public float[] B { get; set; } = new float[2];
}

/// <summary>
/// The fitted forecasting transformer: it refuses null arguments, a missing series column and exogenous columns of another width
/// by name; it is no row-to-row mapper and reads its rows in order whatever the consumer asks; it is saved and loaded with its
/// exogenous columns and bounds, and a saved model with a bad column count, a newer format, a missing, unreadable or
/// mismatched forecaster stream is refused with a message saying so.
/// </summary>
public sealed class ForecastingTransformerTests : IDisposable
{
    private const string ForecasterStream = "RecurrentForecaster.safetensors";
    private static readonly MLContext s_mlContext = new(seed: 1);
    private static readonly Lazy<RecurrentForecastingTransformer> s_model = new(() => Fit(["V", "A", "B"]));
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-forecasting-transformer-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A tiny forecaster of <see cref="FeatureRow"/> with both bound columns.</summary>
    private static RecurrentForecastingTransformer Fit(string[] exogenous) => s_mlContext.Forecasting.ForecastByRnn(new RecurrentForecastingEstimator.Options
    {
        InputColumnName = nameof(FeatureRow.Value), ExogenousColumnNames = exogenous, WindowSize = 4, Horizon = 2, HiddenSize = 3,
        NumberOfEpochs = 1, Seed = 1, MaxDegreeOfParallelism = 1, ConfidenceLowerBoundColumn = "Low", ConfidenceUpperBoundColumn = "High",
    }).Fit(s_mlContext.Data.LoadFromEnumerable(ForecastingColumnTests.Rows(30)));

    private static IDataView Future => s_mlContext.Data.LoadFromEnumerable(ForecastingColumnTests.Rows(8, start: 30));

    private string Saved(RecurrentForecastingTransformer model, string name)
    {
        string path = Path.Combine(_folder, name);
        s_mlContext.Model.Save(model, Future.Schema, path);
        return path;
    }

    private static byte[] StreamOf(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        using var stream = zip.Entries.Single(entry => entry.FullName.EndsWith(ForecasterStream, StringComparison.Ordinal)).Open();
        var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    private string WithStream(string source, string name, byte[] bytes) => ModelZip.Rewrite(source, Path.Combine(_folder, name),
        (entry, _) => entry.FullName.EndsWith(ForecasterStream, StringComparison.Ordinal) ? bytes : null);

    [Fact]
    public void NullArgumentsAMissingSeriesAndFeaturesOfAnotherWidthAreRefusedByName()
    {
        var model = s_model.Value;
        Assert.Equal("inputSchema", Assert.Throws<ArgumentNullException>(() => model.GetOutputSchema(null!)).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => model.Transform(null!)).ParamName);
        Assert.Equal("ctx", Assert.Throws<ArgumentNullException>(() => ((ICanSaveModel)model).Save(null!)).ParamName);
        Assert.Equal("env", Assert.Throws<ArgumentNullException>(() => RecurrentForecastingTransformer.Create(null!, null!)).ParamName);
        Assert.Equal("ctx", Assert.Throws<ArgumentNullException>(() => RecurrentForecastingTransformer.Create(s_mlContext, null!)).ParamName);

        var noSeries = s_mlContext.Transforms.DropColumns(nameof(FeatureRow.Value)).Fit(Future).Transform(Future);
        Assert.Contains("Could not find input column 'Value'", Assert.Throws<ArgumentOutOfRangeException>(() => model.GetOutputSchema(noSeries.Schema)).Message);
        Assert.Contains("Could not find input column 'Value'", Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(noSeries)).Message);

        var wide = s_mlContext.Data.LoadFromEnumerable(new[] { new WideFeatureRow() });
        const string Width = "The exogenous columns (V, A, B) hold 5 values per row; the forecaster was fitted with 4.";
        Assert.Equal(Width, Assert.Throws<InvalidOperationException>(() => model.GetOutputSchema(wide.Schema)).Message);
        Assert.Equal(Width, Assert.Throws<InvalidOperationException>(() => model.Transform(wide)).Message);

        var schema = model.GetOutputSchema(Future.Schema);
        Assert.Equal(["Value", "V", "A", "B", "Forecast", "Low", "High"], schema.Select(column => column.Name));
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 2), schema["High"].Type);
    }

    [Fact]
    public void ItIsNoRowToRowMapperAndReadsItsRowsInOrderWhateverTheConsumerAsks()
    {
        var model = s_model.Value;
        Assert.False(model.IsRowToRowMapper);
        Assert.Equal("A recurrent forecaster's output depends on the rows before it, so it has no row-to-row mapper (and no PredictionEngine); " +
            "use transformer.CreateForecastingEngine<TIn, TOut>(mlContext), which keeps the latest observations.",
            Assert.Throws<NotSupportedException>(() => model.GetRowToRowMapper(Future.Schema)).Message);

        var cached = s_mlContext.Data.Cache(Future);
        Assert.True(cached.CanShuffle);
        var scored = model.Transform(cached);
        Assert.False(scored.CanShuffle);
        string[] inOrder = Fingerprint.Of(scored, "Forecast");
        var forecast = scored.Schema["Forecast"];
        var read = new List<string>();
        using (var cursor = scored.GetRowCursor([forecast], new Random(5)))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(forecast);
            VBuffer<float> value = default;
            while (cursor.MoveNext())
            {
                getter(ref value);
                read.Add(string.Join(',', value.DenseValues().Select(Fingerprint.Bits)));
            }
        }
        Assert.Equal(inOrder, read);
    }

    [Fact]
    public void ASavedModelLoadsWithItsFeatureColumnsAndBounds_AndACorruptOneIsRefusedSayingWhy()
    {
        var model = s_model.Value;
        string path = Saved(model, "model.zip");
        var loaded = Assert.IsType<RecurrentForecastingTransformer>(s_mlContext.Model.Load(path, out _));
        Assert.Equal(["V", "A", "B"], loaded.ExogenousColumnNames);
        Assert.Equal(("Value", "Forecast", "Low", "High"), (loaded.InputColumnName, loaded.OutputColumnName, loaded.ConfidenceLowerBoundColumn, loaded.ConfidenceUpperBoundColumn));
        foreach (string name in new[] { "Forecast", "Low", "High" })
            Assert.Equal(Fingerprint.Of(model.Transform(Future), name), Fingerprint.Of(loaded.Transform(Future), name));

        // Fields after the model header: input column, exogenous column count, the three names, output, lower, upper (string ids).
        string negative = ModelZip.RewriteFields(path, Path.Combine(_folder, "negative.zip"), "RNNFCAST", 8, fields =>
        {
            Assert.Equal([0, 3, 1, 2, 3, 4, 5, 6], fields);
            fields[1] = -1;
        });
        Assert.Contains("bad exogenous column count", ModelZip.LoadError(s_mlContext, negative));

        string newer = ModelZip.RewriteVersion(path, Path.Combine(_folder, "newer.zip"), "RNNFCAST", 0x00020001u);
        Assert.Contains("read component 'MlNetRnnForecaster' of the model, because the model is too new", ModelZip.LoadError(s_mlContext, newer));

        string missing = ModelZip.Remove(path, Path.Combine(_folder, "missing.zip"), ForecasterStream);
        Assert.Contains("The saved model has no RecurrentForecaster.safetensors; it was not saved by MlNet.Rnn.", ModelZip.LoadError(s_mlContext, missing));

        string truncated = ModelZip.LoadError(s_mlContext, WithStream(path, "truncated.zip", StreamOf(path)[..16]));
        Assert.Contains("The saved model's forecaster cannot be read: ", truncated);
        Assert.Contains("the forecaster of the saved model (RecurrentForecaster.safetensors)", truncated);

        // The stream of a forecaster fitted without features, under three feature columns.
        byte[] featureless = StreamOf(Saved(Fit([]), "featureless.zip"));
        Assert.Contains("the forecaster does not match its exogenous columns", ModelZip.LoadError(s_mlContext, WithStream(path, "mismatched.zip", featureless)));
    }
}
