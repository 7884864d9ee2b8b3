using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests.Forecasting;

/// <summary>An engine's output class with the model's own column names and the names of columns it does not have.</summary>
public sealed class NamedForecast
{
    public float[] Next { get; set; } = [];
    public float[] Low { get; set; } = [];
    public float[] High { get; set; } = [];
    public float[] Forecast { get; set; } = [];
    public float[] LowerBound { get; set; } = [];
    public float[] UpperBound { get; set; } = [];
}

/// <summary>An input class without the series column.</summary>
public sealed class LevelOnly
{
    public float Level { get; set; }
}

/// <summary>
/// The forecasting engine: it fills exactly the columns the model outputs, under their names; it refuses null arguments, a model
/// that does not end with a forecaster, an input class without the series and an example that a step before the forecaster drops,
/// by name; its check-point loads as the model it came from (a bare forecaster, or the chain with the steps before it) and
/// continues from the engine's state.
/// </summary>
public sealed class ForecastingEngineTests
{
    private static readonly MLContext s_mlContext = new(seed: 1);
    private static readonly IDataView s_history = s_mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(40));

    private static RecurrentForecastingEstimator.Options Options(string? lower = null, string? upper = null, string[]? exogenous = null) => new()
    {
        OutputColumnName = "Next", InputColumnName = nameof(Observation.Value), ConfidenceLowerBoundColumn = lower, ConfidenceUpperBoundColumn = upper,
        ExogenousColumnNames = exogenous ?? [], WindowSize = 4, Horizon = 2, HiddenSize = 3, NumberOfEpochs = 1, Seed = 1, MaxDegreeOfParallelism = 1,
    };

    private static readonly Lazy<RecurrentForecastingTransformer> s_bounded = new(() => s_mlContext.Forecasting.ForecastByLstm(Options("Low", "High")).Fit(s_history));

    [Fact]
    public void TheEngineFillsExactlyTheColumnsTheModelOutputs_UnderTheirNames()
    {
        var observation = new Observation { Value = 0.3f, Temperature = 0.1f };
        var bounded = s_bounded.Value;
        var output = bounded.CreateForecastingEngine<Observation, NamedForecast>(s_mlContext).Predict(observation);
        var scored = bounded.Transform(s_mlContext.Data.LoadFromEnumerable(new[] { observation }));
        Assert.Equal(Fingerprint.Of(scored, "Next").Single(), string.Join(',', output.Next.Select(Fingerprint.Bits)));
        Assert.Equal(Fingerprint.Of(scored, "Low").Single(), string.Join(',', output.Low.Select(Fingerprint.Bits)));
        Assert.Equal(Fingerprint.Of(scored, "High").Single(), string.Join(',', output.High.Select(Fingerprint.Bits)));
        Assert.Equal(2, output.Next.Length);
        Assert.True(output.Low[0] < output.Next[0] && output.Next[0] < output.High[0]);
        Assert.Equal((0, 0, 0), (output.Forecast.Length, output.LowerBound.Length, output.UpperBound.Length));

        var plain = s_mlContext.Forecasting.ForecastByLstm(Options()).Fit(s_history);
        var unbounded = plain.CreateForecastingEngine<Observation, NamedForecast>(s_mlContext).Predict(observation);
        Assert.Equal(2, unbounded.Next.Length);
        Assert.Equal((0, 0, 0, 0, 0), (unbounded.Low.Length, unbounded.High.Length, unbounded.Forecast.Length, unbounded.LowerBound.Length, unbounded.UpperBound.Length));
    }

    [Fact]
    public void NullArgumentsAModelThatIsNoForecasterAndAnInputWithoutTheSeriesAreRefusedByName()
    {
        var model = s_bounded.Value;
        Assert.Equal("mlContext", Assert.Throws<ArgumentNullException>(() => model.CreateForecastingEngine<Observation, NamedForecast>(null!)).ParamName);
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => ((ITransformer)null!).CreateForecastingEngine<Observation, NamedForecast>(s_mlContext)).ParamName);
        var copy = s_mlContext.Transforms.CopyColumns("Copy", nameof(Observation.Value)).Fit(s_history);
        var notAForecaster = Assert.Throws<ArgumentException>(() => copy.CreateForecastingEngine<Observation, NamedForecast>(s_mlContext));
        Assert.Equal("model", notAForecaster.ParamName);
        Assert.StartsWith("The model does not end with a recurrent forecaster (mlContext.Forecasting.ForecastByLstm/Gru/Rnn); " +
            "pass the fitted forecaster or the chain that ends with it.", notAForecaster.Message);
        Assert.Contains("Could not find input column 'Value'",
            Assert.Throws<ArgumentOutOfRangeException>(() => model.CreateForecastingEngine<LevelOnly, NamedForecast>(s_mlContext)).Message);

        var engine = model.CreateForecastingEngine<Observation, NamedForecast>(s_mlContext);
        Assert.Equal("example", Assert.Throws<ArgumentNullException>(() => engine.Predict(null!)).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentException>(() => engine.CheckPoint("   ")).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentNullException>(() => engine.CheckPoint((Stream)null!)).ParamName);
        Assert.Equal(0, engine.ObservationsAdded);
    }

    [Fact]
    public void AnExampleThatAStepBeforeTheForecasterDropsIsAnErrorAndAddsNothing()
    {
        var chain = new TransformerChain<ITransformer>(new DropNegativeValues(s_mlContext), s_bounded.Value);
        var engine = chain.CreateForecastingEngine<Observation, NamedForecast>(s_mlContext);
        Assert.Equal(2, engine.Predict(new Observation { Value = 0.5f }).Next.Length);
        Assert.Equal("The example gave no row.", Assert.Throws<InvalidOperationException>(() => engine.Predict(new Observation { Value = -0.5f })).Message);
        Assert.Equal(1, engine.ObservationsAdded);
    }

    [Fact]
    public void ACheckPointLoadsAsTheModelItCameFromAndContinuesFromTheEnginesState()
    {
        var future = ForecastingTests.Series(4, start: 40, seed: 2);
        var bare = s_bounded.Value.CreateForecastingEngine<Observation, NamedForecast>(s_mlContext);
        bare.Predict(future[0]);
        var bareState = new MemoryStream();
        bare.CheckPoint(bareState);
        bareState.Position = 0;
        var loadedBare = Assert.IsType<RecurrentForecastingTransformer>(s_mlContext.Model.Load(bareState, out _));
        Assert.Equal(bare.Predict().Next, loadedBare.CreateForecastingEngine<Observation, NamedForecast>(s_mlContext).Predict().Next);

        // A step before the forecaster makes the feature column it reads; the check-point keeps the step.
        var model = s_mlContext.Transforms.CopyColumns("Heat", nameof(Observation.Temperature))
            .Append(s_mlContext.Forecasting.ForecastByGru(Options(exogenous: ["Heat"]))).Fit(s_history);
        var engine = model.CreateForecastingEngine<Observation, NamedForecast>(s_mlContext);
        engine.Predict(future[0]);
        engine.Predict(future[1]);
        var state = new MemoryStream();
        engine.CheckPoint(state);
        state.Position = 0;
        var resumed = s_mlContext.Model.Load(state, out _).CreateForecastingEngine<Observation, NamedForecast>(s_mlContext);
        Assert.Equal(engine.Predict().Next, resumed.Predict().Next);
        Assert.Equal(engine.Predict(future[2]).Next, resumed.Predict(future[2]).Next);
    }

    /// <summary>A step that keeps the rows whose Value is at least 0 (it cannot be saved).</summary>
    private sealed class DropNegativeValues(MLContext mlContext) : ITransformer
    {
        public bool IsRowToRowMapper => false;

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new NotSupportedException();

        public IDataView Transform(IDataView input) => mlContext.Data.FilterRowsByColumn(input, nameof(Observation.Value), lowerBound: 0);

        public void Save(ModelSaveContext ctx) => throw new NotSupportedException();
    }
}
