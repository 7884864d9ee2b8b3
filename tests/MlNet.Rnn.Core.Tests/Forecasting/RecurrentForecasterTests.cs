using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Forecasting;

/// <summary>The forecaster learns a seasonal series, its bounds cover what they claim, its engine forecasts without refitting.</summary>
public sealed class RecurrentForecasterTests
{
    /// <summary>y_t = 10 + 5·sin(2πt/12) + ε_t, ε ~ N(0, σ²).</summary>
    internal static float[] Seasonal(int length, double noise, int seed)
    {
        var random = new Random(seed);
        var series = new float[length];
        for (int t = 0; t < length; t++) series[t] = (float)(10 + 5 * Math.Sin(2 * Math.PI * t / 12) + noise * Gaussian(random));
        return series;
    }

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static ForecasterOptions Options(int horizon, int epochs = 30) => new()
    {
        WindowSize = 24, Horizon = horizon, HiddenSize = 16, Seed = 1,
        Training = new TrainerOptions { Epochs = epochs, BatchSize = 16, LearningRate = 0.01f, Seed = 1 },
    };

    private static readonly Lazy<(RecurrentForecaster Forecaster, float[] Series)> s_seasonal = new(() =>
    {
        float[] series = Seasonal(420, 0.3, 1);
        return (RecurrentForecaster.Fit(series.AsSpan(0, 360), Options(horizon: 6)), series);
    });

    [Fact]
    public void Forecaster_BeatsNaiveForecast_OnHeldOutSeasonalSeries()
    {
        var (forecaster, series) = s_seasonal.Value;
        var engine = forecaster.CreateEngine();
        double modelError = 0, naiveError = 0, seasonalError = 0, meanError = 0;
        double mean = series.Take(360).Average(v => (double)v);
        int count = 0;
        for (int origin = 360; origin + 6 <= series.Length; origin++)
        {
            var forecast = engine.Predict();
            for (int h = 0; h < 6; h++)
            {
                modelError += Math.Abs(forecast.Values[h] - series[origin + h]);
                naiveError += Math.Abs(series[origin - 1] - series[origin + h]);
                seasonalError += Math.Abs(series[origin + h - 12] - series[origin + h]);
                meanError += Math.Abs(mean - series[origin + h]);
                count++;
            }
            engine.Add(series[origin]);
        }
        modelError /= count;
        naiveError /= count;
        seasonalError /= count;
        meanError /= count;
        // The seasonal naive forecast (the value a period back) carries the noise of two observations: the model, which
        // averages the noise away, must beat it too.
        Assert.True(modelError < seasonalError && modelError < 0.2 * meanError,
            $"Held-out MAE {modelError:F3}; seasonal naive {seasonalError:F3}, mean of the training series {meanError:F3}.");
        Assert.True(modelError < 0.3 * naiveError,
            $"Held-out MAE over 6 steps {modelError:F3} vs naive {naiveError:F3}: ratio {modelError / naiveError:F3}, expected below 0.3.");
        Assert.True(modelError < 0.6, $"Held-out MAE {modelError:F3}; the noise alone gives about 0.24 (σ = 0.3), so expected below 0.6.");
    }

    [Theory]
    [InlineData(ForecastIntervalMethod.Gaussian)]
    [InlineData(ForecastIntervalMethod.EmpiricalQuantile)]
    public void Bounds_CoverAboutTheStatedFraction_OfHeldOutNoise(ForecastIntervalMethod method)
    {
        float[] series = Seasonal(1000, 1.0, 2);
        var forecaster = RecurrentForecaster.Fit(series.AsSpan(0, 600),
            Options(horizon: 1, epochs: 15) with { ConfidenceLevel = 0.9f, IntervalMethod = method, CalibrationFraction = 0.25 });
        Assert.Equal(150, forecaster.CalibrationWindows);
        var engine = forecaster.CreateEngine();
        int covered = 0, count = 0;
        double width = 0;
        for (int t = 600; t < series.Length; t++)
        {
            var forecast = engine.Predict(); // forecasts step t from steps before t
            if (series[t] >= forecast.LowerBound[0] && series[t] <= forecast.UpperBound[0]) covered++;
            width += forecast.UpperBound[0] - forecast.LowerBound[0];
            count++;
            engine.Add(series[t]);
        }
        double coverage = (double)covered / count;
        Assert.True(coverage is > 0.83 and < 0.96,
            $"{method} 90% bounds covered {coverage:F3} of {count} held-out values ({coverage - 0.9:+0.000;-0.000} from 0.9); mean width {width / count:F3} " +
            $"(the noise alone needs 2·1.645·σ = 3.29).");
    }

    [Fact]
    public void Engine_UpdateAndForecast_EqualsForecastFromTheSameWindow_WithoutChangingWeights()
    {
        var (forecaster, series) = s_seasonal.Value;
        float[] weights = forecaster.Model.Parameters.Values.ToArray();
        var engine = forecaster.CreateEngine();
        Assert.Equal(series.AsSpan(360 - 24, 24).ToArray(), engine.Window);
        Assert.Equal(forecaster.Forecast(series.AsSpan(0, 360)), engine.Predict(), ForecastComparer.Instance);

        engine.Add(series.AsSpan(360, 5));
        var afterBlock = engine.Predict();
        Assert.Equal(forecaster.Forecast(series.AsSpan(0, 365)), afterBlock, ForecastComparer.Instance);
        var afterOne = engine.Predict(series[365]);
        Assert.Equal(forecaster.Forecast(series.AsSpan(0, 366)), afterOne, ForecastComparer.Instance);
        Assert.Equal(6, engine.ObservationsAdded);
        Assert.True(weights.AsSpan().SequenceEqual(forecaster.Model.Parameters.Values), "The engine changed the model's weights; it must never refit.");
        for (int h = 0; h < 6; h++)
            Assert.True(afterOne.LowerBound[h] <= afterOne.Values[h] && afterOne.Values[h] <= afterOne.UpperBound[h],
                $"Step {h}: forecast {afterOne.Values[h]} outside its bounds [{afterOne.LowerBound[h]}, {afterOne.UpperBound[h]}].");
    }

    [Fact]
    public void CheckPoint_SavesTheEnginesWindow_AndLoadResumesFromIt()
    {
        var (forecaster, series) = s_seasonal.Value;
        var engine = forecaster.CreateEngine();
        engine.Add(series.AsSpan(360, 10));
        using var stream = new MemoryStream();
        engine.CheckPoint(stream);
        stream.Position = 0;
        var loaded = RecurrentForecaster.Load(stream);
        Assert.Equal(engine.Predict(), loaded.CreateEngine().Predict(), ForecastComparer.Instance);
        Assert.Equal(forecaster.LowerOffsets, loaded.LowerOffsets);
        Assert.Equal(forecaster.Options.WindowSize, loaded.Options.WindowSize);
        Assert.Equal(forecaster.Forecast(series.AsSpan(0, 400)), loaded.Forecast(series.AsSpan(0, 400)), ForecastComparer.Instance);
    }

    [Fact]
    public void ExogenousFeature_IsRead()
    {
        // y_t = 3·x_(t−1) + small noise: unpredictable from y alone, predictable from the exogenous x.
        var random = new Random(3);
        int N = 400;
        var x = new float[N];
        var y = new float[N];
        for (int t = 0; t < N; t++)
        {
            x[t] = (float)Gaussian(random);
            y[t] = t == 0 ? 0 : (float)(3 * x[t - 1] + 0.1 * Gaussian(random));
        }
        var forecaster = RecurrentForecaster.Fit(y.AsSpan(0, 300), Options(horizon: 1, epochs: 20) with { WindowSize = 4, ExogenousFeatures = 1 }, x.AsSpan(0, 300));
        var engine = forecaster.CreateEngine();
        double error = 0, spread = 0;
        for (int t = 300; t < N; t++)
        {
            error += Math.Abs(engine.Predict().Values[0] - y[t]);
            spread += Math.Abs(y[t]);
            engine.Add(y[t], [x[t]]);
        }
        Assert.True(error < 0.25 * spread, $"MAE {error / 100:F3} with the exogenous feature vs mean |y| {spread / 100:F3}: ratio {error / spread:F3}, expected below 0.25.");
    }

    [Fact]
    public void Refit_KeepsTheHeldOutBounds_AndTrainsOnTheWholeSeries()
    {
        float[] series = Seasonal(200, 0.3, 6);
        var options = Options(horizon: 2, epochs: 5);
        var once = RecurrentForecaster.Fit(series, options with { RefitOnFullSeries = false });
        var refit = RecurrentForecaster.Fit(series, options);
        Assert.Equal(once.LowerOffsets, refit.LowerOffsets);
        Assert.Equal(once.UpperOffsets, refit.UpperOffsets);
        Assert.Equal(39, refit.CalibrationWindows); // 40 held-out years, windows whose 2-step future lies in them
        Assert.Equal(5, refit.History!.Epochs.Count);
        Assert.False(once.Model.Parameters.Values.SequenceEqual(refit.Model.Parameters.Values),
            "The refit model has the first fit's weights; it should have trained again on every window.");
    }

    [Fact]
    public void WindowOfOneStep_Works()
    {
        var forecaster = RecurrentForecaster.Fit(Seasonal(60, 0.1, 4), Options(horizon: 2, epochs: 2) with { WindowSize = 1 });
        Assert.Equal(2, forecaster.CreateEngine().Predict(3f).Horizon);
    }

    [Fact]
    public void BadInput_IsRejectedWithIndexValueAndLengths()
    {
        float[] series = Seasonal(40, 0.1, 5);
        var horizon = Assert.Throws<ArgumentOutOfRangeException>(() => RecurrentForecaster.Fit(series, Options(horizon: 0)));
        Assert.Contains("Horizon is 0", horizon.Message);
        var budget = Assert.Throws<ArgumentOutOfRangeException>(() => RecurrentForecaster.Fit(series, Options(horizon: 1) with { TrainingDataMemoryMegabytes = 0 }));
        Assert.Contains("TrainingDataMemoryMegabytes is 0; it must be at least 1.", budget.Message);

        var shortSeries = Assert.Throws<ArgumentException>(() => RecurrentForecaster.Fit(series.AsSpan(0, 10), Options(horizon: 3) with { WindowSize = 8 }));
        Assert.Contains("The series has 10 observations; windowSize 8 + horizon 3 = 11 are needed", shortSeries.Message);

        var calibration = Assert.Throws<ArgumentException>(() =>
            RecurrentForecaster.Fit(series.AsSpan(0, 20), Options(horizon: 5) with { WindowSize = 10, CalibrationFraction = 0.5 }));
        Assert.Contains("holds out the last 10", calibration.Message);

        float[] withNaN = (float[])series.Clone();
        withNaN[17] = float.NaN;
        var nan = Assert.Throws<ArgumentException>(() => RecurrentForecaster.Fit(withNaN, Options(horizon: 1)));
        Assert.Contains("Observation 17 of the series is NaN", nan.Message);

        var exogenous = Assert.Throws<ArgumentException>(() => RecurrentForecaster.Fit(series, Options(horizon: 1) with { ExogenousFeatures = 2 }, new float[40]));
        Assert.Contains("40 observations × 2 features = 80 are needed", exogenous.Message);

        var (forecaster, _) = s_seasonal.Value;
        var engine = forecaster.CreateEngine();
        var window = engine.Window.ToArray();
        var infinite = Assert.Throws<ArgumentException>(() => engine.Add([1f, float.PositiveInfinity]));
        Assert.Contains("Observation 1 of the series is Infinity", infinite.Message);
        Assert.Equal(window, engine.Window);
        var tooFew = Assert.Throws<ArgumentException>(() => forecaster.Forecast(series.AsSpan(0, 5)));
        Assert.Contains("5 recent observations", tooFew.Message);
    }

    private sealed class ForecastComparer : IEqualityComparer<Forecast>
    {
        public static readonly ForecastComparer Instance = new();

        public bool Equals(Forecast? x, Forecast? y) => x is not null && y is not null && x.Values.SequenceEqual(y.Values) &&
            x.LowerBound.SequenceEqual(y.LowerBound) && x.UpperBound.SequenceEqual(y.UpperBound) && x.ConfidenceLevel == y.ConfidenceLevel;

        public int GetHashCode(Forecast obj) => obj.Values.Length;
    }
}
