using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Forecasting;

/// <summary>
/// The forecaster's windows are made from the series when read: every window is read exactly once, with the values and
/// targets the test cuts from the series itself, whether they fit the memory budget (one part) or not (parts of consecutive
/// windows); the part summaries hold the targets' range; and a forecaster whose windows pass its budget trains from parts
/// and still beats the seasonal naive forecast, while the option changes how it trains.
/// </summary>
public sealed class SeriesWindowsTests
{
    [Theory]
    [InlineData(1L << 30, 1)]
    [InlineData(1, 387)] // a budget smaller than a window: parts of one window
    [InlineData(40 * 1024, 43)]
    public void EveryWindowIsReadOnce_WithTheSeriesValuesBeforeItsStepAndTheFirstFeatureAfter(long budget, int expectedParts)
    {
        const int N = 400, F = 3, W = 7, HZ = 4, first = 9, last = 395;
        var random = new Random(5);
        var series = new float[N * F];
        for (int i = 0; i < series.Length; i++) series[i] = (float)Math.Round(random.NextDouble() * 20 - 10, 2);
        // 387 windows of 132 bytes take 51 KB: over 40 KB they are parts of 40 KB / 32 = 1280 bytes, 9 windows each.
        var windows = new SeriesWindows(series, F, W, HZ, first, last, budget);

        Assert.Equal(last - first + 1, windows.ExampleCount);
        Assert.Equal(expectedParts, windows.PartCount);
        var seen = new int[last - first + 1];
        var buffer = new SequenceDataset(F, HZ);
        for (int p = 0; p < windows.PartCount; p++)
        {
            var part = windows.ReadPart(p, buffer);
            Assert.Equal(windows.PartSize(p), part.Count);
            float low = float.PositiveInfinity, high = float.NegativeInfinity;
            for (int i = 0; i < part.Count; i++)
            {
                long n = part.NumberOf(i);
                seen[n]++;
                int j = first + (int)n;
                Assert.Equal(W, part.LengthOf(i));
                Assert.Equal(series[((j - W) * F)..(j * F)], part.ValuesOf(i).ToArray());
                float[] target = [.. Enumerable.Range(0, HZ).Select(h => series[(j + h) * F])];
                Assert.Equal(target, part.TargetOf(i).ToArray());
                low = Math.Min(low, target.Min());
                high = Math.Max(high, target.Max());
            }
            var summary = windows.PartSummary(p);
            Assert.Equal((W, -1, low, high, false), (summary.Longest, summary.MaxTokenId, summary.MinTarget, summary.MaxTarget, summary.WholeTargets));
        }
        Assert.All(seen, count => Assert.Equal(1, count));
    }

    [Fact]
    public void AForecasterWhoseWindowsPassTheBudget_TrainsFromParts_AndStillBeatsTheSeasonalNaiveForecast()
    {
        // 10,000 windows of 24 steps take 1.3 MB: over a budget of 1 MB they are 41 parts of 248, read in windows of 16.
        float[] series = RecurrentForecasterTests.Seasonal(10_300, 0.3, 4);
        var options = new ForecasterOptions
        {
            WindowSize = 24, Horizon = 1, HiddenSize = 8, Seed = 1, CalibrationFraction = 0, MaxDegreeOfParallelism = 1,
            Training = new TrainerOptions { Epochs = 2, BatchSize = 32, LearningRate = 0.01f, Seed = 1 },
        };
        Assert.Equal(41, new SeriesWindows(series, 1, 24, 1, 24, 10_023, 1L << 20).PartCount);
        var fromParts = RecurrentForecaster.Fit(series.AsSpan(0, 10_024), options with { TrainingDataMemoryMegabytes = 1 });
        var whole = RecurrentForecaster.Fit(series.AsSpan(0, 10_024), options);

        double Error(RecurrentForecaster forecaster)
        {
            var engine = forecaster.CreateEngine();
            double error = 0;
            for (int t = 10_024; t < series.Length; t++)
            {
                error += Math.Abs(engine.Predict().Values[0] - series[t]);
                engine.Add(series[t]);
            }
            return error / (series.Length - 10_024);
        }
        double seasonal = Enumerable.Range(10_024, series.Length - 10_024).Average(t => Math.Abs(series[t] - series[t - 12]));
        double partsError = Error(fromParts), wholeError = Error(whole);
        // The noise alone gives 0.24 (σ = 0.3); the seasonal naive forecast carries two observations' noise, 0.34.
        Assert.True(partsError < 0.9 * seasonal && wholeError < 0.9 * seasonal,
            $"Held-out MAE from parts {partsError:F3}, from all windows {wholeError:F3}; seasonal naive {seasonal:F3}.");
        // The bounds come from every window's residual, read part by part: as wide as those of the model that read them whole.
        Assert.InRange(fromParts.UpperOffsets[0], 0.9 * whole.UpperOffsets[0], 1.1 * whole.UpperOffsets[0]);
        // The parts mix windows from 16 parts at a time, not from the whole series: another order, other weights.
        Assert.NotEqual(Weights(whole), Weights(fromParts));
    }

    private static float[] Weights(RecurrentForecaster forecaster) => forecaster.Model.Parameters.ReadOnlyValues.ToArray();
}
