using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Tests.Persistence;

namespace MlNet.Rnn.Tests.Forecasting;

/// <summary>One observation of a series, with an exogenous feature.</summary>
public sealed class Observation
{
    public float Value { get; set; }
    public float Temperature { get; set; }
}

/// <summary>What a forecaster outputs.</summary>
public sealed class ForecastOutput
{
    public float[] Forecast { get; set; } = [];
    public float[] ForecastLower { get; set; } = [];
    public float[] ForecastUpper { get; set; } = [];
}

/// <summary>mlContext.Forecasting.ForecastByRnn/Lstm/Gru: Fit, Transform, engine, check-point, Save/Load in a fresh process, bad input.</summary>
public sealed class ForecastingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-forecasting-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A sine of period 12 plus a little noise; Temperature is a cosine of the same period.</summary>
    public static Observation[] Series(int count, int start = 0, int seed = 0)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(start, count).Select(n => new Observation
        {
            Value = (float)(Math.Sin(2 * Math.PI * n / 12) + 0.05 * (random.NextDouble() - 0.5)),
            Temperature = (float)Math.Cos(2 * Math.PI * n / 12),
        })];
    }

    private static RecurrentForecastingEstimator.Options SmallOptions(int horizon = 3) => new()
    {
        OutputColumnName = "Forecast", InputColumnName = nameof(Observation.Value), WindowSize = 12, Horizon = horizon,
        ConfidenceLowerBoundColumn = "ForecastLower", ConfidenceUpperBoundColumn = "ForecastUpper", HiddenSize = 12, NumberOfEpochs = 25,
        LearningRate = 0.01f, Seed = 1,
    };

    [Fact]
    public void ForecastsTheSeriesAfterEveryRowWithBoundsAndScoresTheSameInAFreshProcess()
    {
        var mlContext = new MLContext(seed: 1);
        var history = mlContext.Data.LoadFromEnumerable(Series(160));
        var futureRows = Series(24, start: 160, seed: 1);
        var future = mlContext.Data.LoadFromEnumerable(futureRows);

        var model = mlContext.Forecasting.ForecastByLstm(SmallOptions()).Fit(history);
        var scored = model.Transform(future);
        var forecasts = scored.GetColumn<float[]>("Forecast").ToArray();
        var lower = scored.GetColumn<float[]>("ForecastLower").ToArray();
        var upper = scored.GetColumn<float[]>("ForecastUpper").ToArray();

        Assert.Equal(futureRows.Length, forecasts.Length);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 3), scored.Schema["Forecast"].Type);
        double error = 0, naive = 0;
        for (int r = 0; r + 1 < futureRows.Length; r++)
        {
            Assert.Equal(3, forecasts[r].Length);
            for (int h = 0; h < 3; h++) Assert.True(lower[r][h] <= forecasts[r][h] && forecasts[r][h] <= upper[r][h]);
            error += Math.Abs(forecasts[r][0] - futureRows[r + 1].Value);
            naive += Math.Abs(futureRows[r].Value - futureRows[r + 1].Value);
        }
        Assert.True(error < 0.5 * naive, $"one-step MAE {error / 23:F3}, naive {naive / 23:F3}");

        string path = Path.Combine(_folder, "forecaster.zip");
        mlContext.Model.Save(model, history.Schema, path);
        var loaded = SavedModelProbe.ScoreInFreshProcess(mlContext, path, future, _folder);
        foreach (string name in new[] { "Forecast", "ForecastLower", "ForecastUpper" })
            Assert.Equal(Fingerprint.Of(scored, name), Fingerprint.Of(loaded, name));
    }

    [Fact]
    public void TheEngineForecastsAsTransformDoesAndItsCheckPointContinuesFromItsState()
    {
        var mlContext = new MLContext(seed: 1);
        var history = mlContext.Data.LoadFromEnumerable(Series(120));
        var futureRows = Series(10, start: 120, seed: 1);
        var model = mlContext.Forecasting.ForecastByGru(SmallOptions(horizon: 2)).Fit(history);
        var transformed = Fingerprint.Of(model.Transform(mlContext.Data.LoadFromEnumerable(futureRows)), "Forecast");

        var engine = model.CreateForecastingEngine<Observation, ForecastOutput>(mlContext);
        for (int r = 0; r < 6; r++)
            Assert.Equal(transformed[r], string.Join(',', engine.Predict(futureRows[r]).Forecast.Select(Fingerprint.Bits)));
        Assert.Equal(6, engine.ObservationsAdded);

        string path = Path.Combine(_folder, "checkpoint.zip");
        engine.CheckPoint(path);
        var resumed = mlContext.Model.Load(path, out _).CreateForecastingEngine<Observation, ForecastOutput>(mlContext);
        Assert.Equal(engine.Predict().Forecast, resumed.Predict().Forecast);
        for (int r = 6; r < 10; r++)
            Assert.Equal(transformed[r], string.Join(',', resumed.Predict(futureRows[r]).Forecast.Select(Fingerprint.Bits)));
    }

    [Fact]
    public void ExogenousColumnsAreReadWithTheSeriesAndAPipelineBeforeTheForecasterRunsInTheEngine()
    {
        var mlContext = new MLContext(seed: 1);
        var history = mlContext.Data.LoadFromEnumerable(Series(100));
        var pipeline = mlContext.Transforms.CopyColumns("Heat", nameof(Observation.Temperature))
            .Append(mlContext.Forecasting.ForecastByRnn("Forecast", nameof(Observation.Value), windowSize: 6, horizon: 2,
                exogenousColumnNames: ["Heat"], hiddenSize: 8, numberOfEpochs: 5));

        var model = pipeline.Fit(history);
        var forecaster = model.LastTransformer;

        Assert.Equal(1, forecaster.Forecaster.ExogenousFeatures);
        Assert.Equal(["Heat"], forecaster.ExogenousColumnNames);
        var engine = model.CreateForecastingEngine<Observation, ForecastOutput>(mlContext);
        var output = engine.Predict(new Observation { Value = 0.5f, Temperature = 0.8f });
        Assert.Equal(2, output.Forecast.Length);
        Assert.Empty(output.ForecastLower); // no bound columns were asked for
        Assert.ThrowsAny<Exception>(() => mlContext.Model.CreatePredictionEngine<Observation, ForecastOutput>(model));
    }

    [Fact]
    public void BadInputIsAnErrorNamingTheValue()
    {
        var mlContext = new MLContext(seed: 1);
        var horizon = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Forecasting.ForecastByLstm("Forecast", "Value", windowSize: 4, horizon: 0));
        Assert.Contains("Horizon is 0", horizon.Message);

        var shortSeries = mlContext.Data.LoadFromEnumerable(Series(10));
        var tooShort = Assert.Throws<InvalidOperationException>(() =>
            mlContext.Forecasting.ForecastByGru("Forecast", "Value", windowSize: 12, horizon: 1, numberOfEpochs: 1).Fit(shortSeries));
        Assert.Contains("'Value'", tooShort.Message);
        Assert.Contains("10 observations", tooShort.Message);
        Assert.Contains("windowSize 12", tooShort.Message);

        var rows = Series(40);
        rows[17].Value = float.NaN;
        var withNaN = mlContext.Data.LoadFromEnumerable(rows);
        var nan = Assert.Throws<InvalidOperationException>(() =>
            mlContext.Forecasting.ForecastByRnn("Forecast", "Value", windowSize: 4, horizon: 1, numberOfEpochs: 1).Fit(withNaN));
        Assert.Contains("Row 17", nan.Message);
        Assert.Contains("NaN", nan.Message);

        var model = mlContext.Forecasting.ForecastByRnn("Forecast", "Value", windowSize: 4, horizon: 1, numberOfEpochs: 1).Fit(mlContext.Data.LoadFromEnumerable(Series(40)));
        var scoredNaN = model.Transform(withNaN);
        var transformError = Assert.Throws<InvalidOperationException>(() => scoredNaN.GetColumn<float[]>("Forecast").ToArray());
        Assert.Contains("Row 17", transformError.Message);
        var engine = model.CreateForecastingEngine<Observation, ForecastOutput>(mlContext);
        Assert.Throws<InvalidOperationException>(() => engine.Predict(new Observation { Value = float.PositiveInfinity }));
        Assert.Equal(0, engine.ObservationsAdded);
    }

    [Fact]
    public void EveryCatalogArgumentReachesTheOptions()
    {
        var mlContext = new MLContext();
        var estimator = mlContext.Forecasting.ForecastByGru("Out", "In", windowSize: 7, horizon: 4, confidenceLevel: 0.8f, confidenceLowerBoundColumn: "Lo",
            confidenceUpperBoundColumn: "Up", exogenousColumnNames: ["X"], hiddenSize: 5, numberOfEpochs: 3, learningRate: 0.1f);
        var o = estimator.TrainerOptions;
        Assert.Equal((RecurrentCellType.Gru, "Out", "In", 7, 4, 0.8f, "Lo", "Up", "X", 5, 3, 0.1f),
            (estimator.Cell, o.OutputColumnName, o.InputColumnName, o.WindowSize, o.Horizon, o.ConfidenceLevel, o.ConfidenceLowerBoundColumn,
                o.ConfidenceUpperBoundColumn, string.Join(",", o.ExogenousColumnNames), o.HiddenSize, o.NumberOfEpochs, o.LearningRate));
        Assert.Equal(RecurrentCellType.Lstm, mlContext.Forecasting.ForecastByLstm("a", "b", 3, 1).Cell);
        Assert.Equal(RecurrentCellType.Rnn, mlContext.Forecasting.ForecastByRnn(new RecurrentForecastingEstimator.Options()).Cell);
    }
}
