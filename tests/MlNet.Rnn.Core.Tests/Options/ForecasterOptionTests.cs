using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Options;

/// <summary>
/// Every <see cref="ForecasterOptions"/> property acts as documented: the test rebuilds the fit the documentation describes
/// (hold out the last CalibrationFraction of the series, standardise on the rest, windows of WindowSize steps of the series
/// and its ExogenousFeatures, HZ = Horizon outputs; a model of Cell, HiddenSize, Layers, Dropout, Seed trained by Training
/// with the held-out windows as validation; bounds from the held-out residuals by IntervalMethod at ConfidenceLevel; with
/// RefitOnFullSeries a second model trained on every window for the epochs the first kept) and requires the same weights,
/// bit for bit, and the same bounds. Every option is set away from its default, so a fit that ignored one would differ.
/// </summary>
public sealed class ForecasterOptionTests
{
    private const int N = 60, W = 5, HZ = 2, K = 1, F = 1 + K;

    private static (float[] Series, float[] Exogenous) Data()
    {
        var random = new Random(8);
        var exogenous = new float[N * K];
        var series = new float[N];
        for (int t = 0; t < N; t++)
        {
            exogenous[t] = random.NextSingle() * 2 - 1;
            series[t] = (float)(3 + Math.Sin(t / 2.0) + (t > 0 ? exogenous[t - 1] : 0) + 0.2 * random.NextDouble());
        }
        return (series, exogenous);
    }

    private static ForecasterOptions NonDefault(ForecastIntervalMethod method, bool refit) => new()
    {
        WindowSize = W, Horizon = HZ, ExogenousFeatures = K, ConfidenceLevel = 0.8f, IntervalMethod = method, CalibrationFraction = 0.25,
        RefitOnFullSeries = refit, Cell = RecurrentCellType.Gru, HiddenSize = 5, Layers = 2, Dropout = 0.2f, Seed = 7, MaxDegreeOfParallelism = 1,
        Training = new TrainerOptions { Epochs = 8, BatchSize = 8, LearningRate = 0.1f, Seed = 3, EarlyStoppingPatience = 1 },
    };

    /// <summary>Windows <c>[W, F]</c> ending before step j, with the standardised series at [j, j + HZ) as target, for j in [first, last].</summary>
    private static SequenceDataset Windows(float[] standardized, int first, int last)
    {
        var data = new SequenceDataset(F, HZ);
        for (int j = first; j <= last; j++)
            data.Add(standardized.AsSpan((j - W) * F, W * F), [standardized[j * F], standardized[(j + 1) * F]]);
        return data;
    }

    [Theory]
    [InlineData(ForecastIntervalMethod.Gaussian, false)]
    [InlineData(ForecastIntervalMethod.EmpiricalQuantile, false)]
    [InlineData(ForecastIntervalMethod.Gaussian, true)]
    public void Fit_TrainsTheDocumentedModel_OnTheDocumentedWindows_WithBoundsFromTheHeldOutResiduals(ForecastIntervalMethod method, bool refit)
    {
        var (series, exogenous) = Data();
        var options = NonDefault(method, refit);
        var forecaster = RecurrentForecaster.Fit(series, options, exogenous);

        int held = (int)Math.Round(0.25 * N), trainingLength = N - held;
        var rows = new float[N * F];
        for (int t = 0; t < N; t++) (rows[t * F], rows[t * F + 1]) = (series[t], exogenous[t]);
        var scaling = Standardization.Fit(rows.AsSpan(0, trainingLength * F), F);
        float[] standardized = [.. rows.Select((value, i) => scaling.Apply(value, i % F))];
        var training = Windows(standardized, W, trainingLength - HZ);
        var calibration = Windows(standardized, trainingLength, N - HZ);
        var modelOptions = new SequenceModelOptions
        {
            Cell = RecurrentCellType.Gru, FeaturesPerStep = F, HiddenSize = 5, Layers = 2, Dropout = 0.2f, OutputSize = HZ, Seed = 7, MaxDegreeOfParallelism = 1,
        };
        var model = new SequenceModel(modelOptions);
        var history = new SequenceTrainer(model, new MeanSquaredError(), options.Training).Train(training, calibration);
        Assert.Equal(calibration.Count, forecaster.CalibrationWindows);

        // Residuals r = actual − forecast of the held-out windows, in series units.
        var residuals = new float[calibration.Count * HZ];
        var batch = new SequenceBatch();
        var output = new float[HZ];
        for (int n = 0; n < calibration.Count; n++)
        {
            calibration.Fill([n], batch);
            model.Forward(batch, output, training: false);
            for (int h = 0; h < HZ; h++) residuals[n * HZ + h] = series[trainingLength + n + h] - scaling.Invert(output[h], 0);
        }
        var (lower, upper) = ForecastIntervals.Offsets(residuals, HZ, 0.8f, method);
        Reference.Tolerance.AssertClose(lower, [.. forecaster.LowerOffsets], 1e-5, 1e-6, "lower offsets");
        Reference.Tolerance.AssertClose(upper, [.. forecaster.UpperOffsets], 1e-5, 1e-6, "upper offsets");

        if (refit)
        {
            // Every window, for the epochs the first fit kept, without early stopping.
            Assert.True(history.BestEpoch < options.Training.Epochs, "The first fit was expected to stop early, so the refit's epochs differ from Training.Epochs.");
            model = new SequenceModel(modelOptions);
            new SequenceTrainer(model, new MeanSquaredError(), options.Training with { Epochs = history.BestEpoch, EarlyStoppingPatience = 0 })
                .Train(Windows(standardized, W, N - HZ));
            Assert.Equal(history.BestEpoch, forecaster.History!.Epochs.Count);
        }
        Assert.Equal(model.Parameters.Values.ToArray(), forecaster.Model.Parameters.Values.ToArray());

        // A forecast reads the last W observations only, and its bounds are the forecast plus the offsets.
        var forecast = forecaster.Forecast(series, exogenous);
        float[] window = standardized[((N - W) * F)..];
        var last = new SequenceDataset(F, HZ);
        last.Add(window, new float[HZ]);
        last.Fill([0], batch);
        model.Forward(batch, output, training: false);
        for (int h = 0; h < HZ; h++)
        {
            Assert.Equal(scaling.Invert(output[h], 0), forecast.Values[h], 1e-5f);
            Assert.Equal(forecast.Values[h] + forecaster.LowerOffsets[h], forecast.LowerBound[h], 1e-5f);
            Assert.Equal(forecast.Values[h] + forecaster.UpperOffsets[h], forecast.UpperBound[h], 1e-5f);
        }
        Assert.Equal(0.8f, forecast.ConfidenceLevel);
    }

    [Fact]
    public void WindowSize_AForecastReadsTheLastWObservationsOnly()
    {
        var (series, exogenous) = Data();
        var forecaster = RecurrentForecaster.Fit(series, NonDefault(ForecastIntervalMethod.Gaussian, refit: false) with
        {
            Training = new TrainerOptions { Epochs = 1, BatchSize = 8 },
        }, exogenous);
        float[] before = forecaster.Forecast(series, exogenous).Values;
        float[] older = (float[])series.Clone(), newer = (float[])series.Clone();
        older[N - W - 1] += 5;
        newer[N - W] += 5;
        Assert.Equal(before, forecaster.Forecast(older, exogenous).Values);
        Assert.NotEqual(before, forecaster.Forecast(newer, exogenous).Values);
        Assert.Equal(before, forecaster.Forecast(series.AsSpan(N - W), exogenous.AsSpan((N - W) * K)).Values);
    }

    [Fact]
    public void ConfidenceLevel_ScalesGaussianBoundsByTheNormalQuantileRatio()
    {
        // The same fit at two levels: the offsets are z((1 + c)/2)·RMS(residuals), so their ratio is z(0.9)/z(0.75).
        var (series, exogenous) = Data();
        var options = NonDefault(ForecastIntervalMethod.Gaussian, refit: false);
        var wide = RecurrentForecaster.Fit(series, options, exogenous);
        var narrow = RecurrentForecaster.Fit(series, options with { ConfidenceLevel = 0.5f }, exogenous);
        for (int h = 0; h < HZ; h++)
        {
            Assert.Equal(1.2815515655446004 / 0.6744897501960817, wide.UpperOffsets[h] / (double)narrow.UpperOffsets[h], 1e-5);
            Assert.Equal(-wide.UpperOffsets[h], wide.LowerOffsets[h]);
        }
    }

    [Fact]
    public void CalibrationFractionZero_UsesInSampleResiduals_OfAModelTrainedOnEveryWindow()
    {
        var (series, exogenous) = Data();
        var forecaster = RecurrentForecaster.Fit(series, NonDefault(ForecastIntervalMethod.Gaussian, refit: true) with
        {
            CalibrationFraction = 0, Training = new TrainerOptions { Epochs = 2, BatchSize = 8, Seed = 3 },
        }, exogenous);
        Assert.Equal(0, forecaster.CalibrationWindows);
        // Standardised on the whole series; trained once, on all N − W − HZ + 1 windows.
        Assert.Equal(2, forecaster.History!.Epochs.Count);
        Assert.Equal(series.Average(), forecaster.Scaling.Mean[0], 1e-4f);
    }
}
