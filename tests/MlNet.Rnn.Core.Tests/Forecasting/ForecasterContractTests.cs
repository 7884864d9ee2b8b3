using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Forecasting;

/// <summary>
/// The contract of <see cref="RecurrentForecaster"/> and <see cref="ForecastEngine"/> around the model, on a tiny forecaster
/// (W = 3, HZ = 2, one exogenous feature, one epoch): an engine's window and exogenous window after blocks longer and shorter
/// than W and after nothing, checked against <c>Forecast</c> of the same recent values; refused input named by parameter,
/// with the engine's count and "nothing was added"; staged forecasts refuse buffers one float short, write nothing for no
/// staged window, and count and clear what is staged; and a forecaster file is refused whole, saying why, when its
/// <c>forecaster</c> metadata is missing, not JSON or null, describes invalid options or another shape than its model's, or a
/// tensor of its own is missing, of another length, or an invalid standardisation.
/// </summary>
public sealed class ForecasterContractTests
{
    private const int W = 3, HZ = 2;

    /// <summary>The tiny forecaster these tests and <see cref="ForecasterFileTests"/> share.</summary>
    internal static readonly Lazy<(RecurrentForecaster Forecaster, float[] Series, float[] Exogenous)> TinyForecaster = new(() =>
    {
        float[] series = [.. Enumerable.Range(0, 40).Select(t => MathF.Sin(0.7f * t) + 0.05f * t)];
        float[] exogenous = [.. Enumerable.Range(0, 40).Select(t => (float)(t % 3))];
        var options = new ForecasterOptions
        {
            WindowSize = W, Horizon = HZ, ExogenousFeatures = 1, HiddenSize = 3, Seed = 1, MaxDegreeOfParallelism = 1, RefitOnFullSeries = false,
            Training = new TrainerOptions { Epochs = 1, BatchSize = 8, Seed = 1 },
        };
        return (RecurrentForecaster.Fit(series, options, exogenous), series, exogenous);
    });

    private static void AssertSame(Forecast expected, Forecast actual)
    {
        Assert.Equal(expected.Values, actual.Values);
        Assert.Equal(expected.LowerBound, actual.LowerBound);
        Assert.Equal(expected.UpperBound, actual.UpperBound);
    }

    [Fact]
    public void TheEnginesWindows_AfterLongAndShortBlocksAndNothing_AreTheLastWObservationsAndTheirFeatures()
    {
        var (forecaster, series, exogenous) = TinyForecaster.Value;
        var engine = forecaster.CreateEngine();
        float[] more = [5f, 6f, 7f, 8f, 9f], moreExogenous = [2f, 0f, 1f, 1f, 0f];
        // Forecast reads the last W of whatever it is given: the reference for every state of the engine.
        Forecast Expected(int added) => forecaster.Forecast([.. series, .. more[..added]], [.. exogenous, .. moreExogenous[..added]]);

        AssertSame(Expected(0), engine.Predict());
        engine.Add(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty);
        Assert.Equal(0, engine.ObservationsAdded);
        Assert.Equal(series[^W..], engine.Window);
        AssertSame(Expected(0), engine.Predict());

        engine.Add(more.AsSpan(0, 2), moreExogenous.AsSpan(0, 2)); // shorter than W: slides
        Assert.Equal([series[^1], 5f, 6f], engine.Window);
        AssertSame(Expected(2), engine.Predict());

        engine.Add(more.AsSpan(2, 3), moreExogenous.AsSpan(2, 3)); // exactly W: replaces
        Assert.Equal([7f, 8f, 9f], engine.Window);
        AssertSame(Expected(5), engine.Predict());
        Assert.Equal(5, engine.ObservationsAdded);

        var fresh = forecaster.CreateEngine();
        fresh.Add(more, moreExogenous); // longer than W: its last W
        AssertSame(Expected(5), fresh.Predict());
        var one = forecaster.CreateEngine();
        AssertSame(Expected(1), one.Predict(5f, [2f]));
    }

    [Fact]
    public void ForecastingFromMoreThanW_ReadsTheLastWAndTheirFeatures()
    {
        var (forecaster, series, exogenous) = TinyForecaster.Value;
        AssertSame(forecaster.Forecast(series[^W..], exogenous[^W..]), forecaster.Forecast(series[^10..], exogenous[^10..]));
    }

    [Fact]
    public void BadObservations_AreRefusedByName_WithTheEnginesCount_AndNothingIsAdded()
    {
        var (forecaster, _, _) = TinyForecaster.Value;
        var engine = forecaster.CreateEngine();
        engine.Add([1f, 2f], [0f, 1f]);
        float[] window = [.. engine.Window];

        var nan = Assert.Throws<ArgumentException>(() => engine.Add([3f, float.NaN], [0f, 0f]));
        Assert.Equal("observations", nan.ParamName);
        Assert.StartsWith("Observation 1 of the series is NaN; every observation must be a finite number (fill or drop missing values first).", nan.Message);
        Assert.EndsWith(" (counting from observation 2 added to this engine; nothing was added) (Parameter 'observations')", nan.Message);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(nan.Message, @"\(Parameter '")); // named once, at the end
        var feature = Assert.Throws<ArgumentException>(() => engine.Add([3f, 4f], [0f, float.NegativeInfinity]));
        Assert.Equal("exogenous", feature.ParamName);
        Assert.StartsWith("Exogenous feature 0 of observation 1 is -Infinity; every value must be finite.", feature.Message);
        Assert.EndsWith(" (counting from observation 2 added to this engine; nothing was added) (Parameter 'exogenous')", feature.Message);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(feature.Message, @"\(Parameter '"));
        var count = Assert.Throws<ArgumentException>(() => engine.Add([3f, 4f], [0f]));
        Assert.Equal("exogenous", count.ParamName);
        Assert.StartsWith("The exogenous values hold 1 floats; 2 observations × 1 features = 2 are needed (step-major).", count.Message);
        Assert.IsType<ArgumentException>(nan.InnerException);
        Assert.Equal(window, engine.Window);
        Assert.Equal(2, engine.ObservationsAdded);
    }

    [Fact]
    public void ExogenousValuesWithoutExogenousFeatures_AreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => RecurrentForecaster.Fit(new float[20], new ForecasterOptions { WindowSize = 3 }, new float[2]));
        Assert.Equal("exogenous", error.ParamName);
        Assert.StartsWith("2 exogenous values were given but ExogenousFeatures is 0; set it to the features per observation.", error.Message);
    }

    [Fact]
    public void StagedForecasts_RefuseBuffersOneFloatShort_WriteNothingForNoWindow_AndCountAndClear()
    {
        var (forecaster, _, _) = TinyForecaster.Value;
        var engine = forecaster.CreateEngine();
        float[] untouched = [42f, 42f];
        engine.ForecastStaged(untouched, untouched, untouched);
        Assert.Equal([42f, 42f], untouched);

        engine.Stage();
        engine.Add(1f, [0f]);
        engine.Stage();
        Assert.Equal(2, engine.StagedCount);
        float[] enough = new float[2 * HZ], short_ = new float[2 * HZ - 1];
        foreach (var (values, lower, upper) in new[] { (short_, enough, enough), (enough, short_, enough), (enough, enough, short_) })
        {
            var error = Assert.Throws<ArgumentException>(() => engine.ForecastStaged(values, lower, upper));
            Assert.StartsWith("2 staged windows need 2·2 = 4 floats in each of values, lower and upper.", error.Message);
        }
        float[] v = new float[4], l = new float[4], u = new float[4];
        engine.ForecastStaged(v, l, u);
        var latest = engine.Predict();
        Assert.Equal(latest.Values, v[2..]);
        engine.ClearStaged();
        Assert.Equal(0, engine.StagedCount);
    }

    /// <summary>A forecaster file written by hand: the tiny forecaster's model and its own parts, each replaceable.</summary>
    private static InvalidDataException LoadRefusal(string? header = null, bool withHeader = true, SequenceModelOptions? model = null,
        Func<string, float[], float[]?>? tensor = null)
    {
        var (forecaster, _, _) = TinyForecaster.Value;
        using var saved = new MemoryStream();
        forecaster.Save(saved);
        saved.Position = 0;
        var contents = ModelFile.Read(saved, requireModelFormat: true);
        var metadata = new Dictionary<string, string> { [ModelFile.ConfigurationKey] = SequenceModelFile.ToJson(model ?? forecaster.Model.Options) };
        if (withHeader) metadata["forecaster"] = header ?? contents.Metadata["forecaster"];
        var tensors = new List<(string, int[], ReadOnlyMemory<float>)>();
        foreach (var t in contents.Tensors)
        {
            float[]? data = t.Name.StartsWith("forecaster.", StringComparison.Ordinal) && tensor is not null ? tensor(t.Name, t.Data) : t.Data;
            if (data is not null) tensors.Add((t.Name, data.Length == t.Data.Length ? t.Shape : [data.Length], data));
        }
        using var file = new MemoryStream();
        ModelFile.Write(file, metadata, tensors);
        file.Position = 0;
        return Assert.Throws<InvalidDataException>(() => RecurrentForecaster.Load(file, "f.safetensors"));
    }

    [Fact]
    public void AFileWithoutAUsableForecasterHeader_IsRefusedSayingWhy()
    {
        Assert.StartsWith("f.safetensors has no 'forecaster' metadata; it was not written by RecurrentForecaster.Save.", LoadRefusal(withHeader: false).Message);
        var json = LoadRefusal(header: "{");
        Assert.StartsWith("f.safetensors: the 'forecaster' metadata is not valid JSON (", json.Message);
        Assert.NotNull(json.InnerException);
        Assert.StartsWith("f.safetensors: the 'forecaster' metadata is empty.", LoadRefusal(header: "null").Message);
    }

    [Fact]
    public void AHeaderOfInvalidOptionsOrAnotherShape_IsRefusedSayingWhy()
    {
        var (forecaster, _, _) = TinyForecaster.Value;
        string header = ModelFile.Read(SavedStream(forecaster), requireModelFormat: true).Metadata["forecaster"];
        var invalid = LoadRefusal(header: header.Replace("\"Horizon\":2", "\"Horizon\":0", StringComparison.Ordinal));
        Assert.StartsWith("f.safetensors: the forecaster options are invalid: Horizon is 0;", invalid.Message);
        Assert.IsType<ArgumentOutOfRangeException>(invalid.InnerException);
        Assert.StartsWith("f.safetensors: the model reads 2 features and gives 2 outputs (LastStep); the forecaster needs 3 features and 2 outputs (LastStep).",
            LoadRefusal(header: header.Replace("\"ExogenousFeatures\":1", "\"ExogenousFeatures\":2", StringComparison.Ordinal)).Message);
        Assert.StartsWith("f.safetensors: the model reads 2 features and gives 2 outputs (LastStep); the forecaster needs 2 features and 3 outputs (LastStep).",
            LoadRefusal(header: header.Replace("\"Horizon\":2", "\"Horizon\":3", StringComparison.Ordinal)).Message);
        Assert.StartsWith("f.safetensors: the model reads 2 features and gives 2 outputs (EveryStep); the forecaster needs 2 features and 2 outputs (LastStep).",
            LoadRefusal(model: forecaster.Model.Options with { Readout = SequenceReadout.EveryStep }).Message);
    }

    [Fact]
    public void AMissingShortOrInvalidTensorOfTheForecaster_IsRefusedNamingIt()
    {
        Assert.StartsWith("f.safetensors: tensor 'forecaster.window' is missing.",
            LoadRefusal(tensor: (name, data) => name == "forecaster.window" ? null : data).Message);
        Assert.StartsWith("f.safetensors: tensor 'forecaster.upper_offset' holds 1 values; 2 are expected.",
            LoadRefusal(tensor: (name, data) => name == "forecaster.upper_offset" ? data[..1] : data).Message);
        Assert.StartsWith("f.safetensors: tensor 'forecaster.window_exogenous' holds 2 values; 3 are expected.",
            LoadRefusal(tensor: (name, data) => name == "forecaster.window_exogenous" ? data[..2] : data).Message);
        var scale = LoadRefusal(tensor: (name, data) => name == "forecaster.scale" ? [0f, 1f] : data);
        Assert.StartsWith("f.safetensors: the standardisation is invalid: Feature 0: mean", scale.Message);
        Assert.IsType<ArgumentException>(scale.InnerException);
    }

    private static MemoryStream SavedStream(RecurrentForecaster forecaster)
    {
        var stream = new MemoryStream();
        forecaster.Save(stream);
        stream.Position = 0;
        return stream;
    }
}
