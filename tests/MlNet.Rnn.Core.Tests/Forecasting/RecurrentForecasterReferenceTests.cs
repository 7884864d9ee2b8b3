using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Forecasting;

/// <summary>
/// The forecaster against an independent double-precision reference, written from its documented behaviour: the last
/// CalibrationFraction of the series is held out; per-feature standardisation <c>z = (x − μ)/s</c> (population s) is fitted
/// on the rest and is not trained; a window of W standardised rows <c>[series, exogenous…]</c> ending before step j is read
/// by a many-to-one <see cref="ReferenceSequenceModel"/> whose head gives the HZ standardised values of steps j … j+HZ−1;
/// the loss is their mean squared error over every training window (future inside the training part) and horizon step, and
/// the refit trains a fresh model of the same seed on every window of the series with the same scaling. One epoch of plain
/// SGD must move every model parameter by lr times the central differences of that loss, and a forecast must be the
/// reference's output mapped back, <c>ŷ·s + μ</c>.
/// </summary>
public sealed class RecurrentForecasterReferenceTests
{
    private const int N = 32, W = 5, HZ = 2;
    private const float Rate = 0.5f;

    private static (float[] Series, float[] Exogenous) Data(int exogenousFeatures)
    {
        var random = new Random(12);
        var series = new float[N];
        for (int t = 0; t < N; t++) series[t] = (float)(10 + 5 * Math.Sin(2 * Math.PI * t / 7) + random.NextDouble());
        return (series, NetworkFactory.RandomFloats(random, N * exogenousFeatures, 3));
    }

    private static ForecasterOptions Options(RecurrentCellType cell, int layers, int exogenousFeatures, bool refit) => new()
    {
        WindowSize = W, Horizon = HZ, ExogenousFeatures = exogenousFeatures, CalibrationFraction = 0.25, RefitOnFullSeries = refit, Cell = cell,
        HiddenSize = 4, Layers = layers, Seed = 3, MaxDegreeOfParallelism = 1,
        Training = new TrainerOptions
        {
            Epochs = 1, BatchSize = 64, Optimizer = OptimizerKind.Sgd, LearningRate = Rate, GradientClipNorm = 0, Shuffle = false, BucketByLength = false,
        },
    };

    /// <summary>Rows <c>[N, F]</c> of series and exogenous values, standardised with μ and s of the first <paramref name="fitted"/> rows.</summary>
    private static (double[] Standardized, double[] Mean, double[] Scale) Standardize(float[] series, float[] exogenous, int K, int fitted)
    {
        int F = 1 + K;
        double Value(int n, int f) => f == 0 ? series[n] : exogenous[n * K + f - 1];
        var mean = new double[F];
        var scale = new double[F];
        var standardized = new double[N * F];
        for (int f = 0; f < F; f++)
        {
            for (int n = 0; n < fitted; n++) mean[f] += Value(n, f) / fitted;
            for (int n = 0; n < fitted; n++) scale[f] += Math.Pow(Value(n, f) - mean[f], 2) / fitted;
            scale[f] = Math.Sqrt(scale[f]);
            for (int n = 0; n < N; n++) standardized[n * F + f] = (Value(n, f) - mean[f]) / scale[f];
        }
        return (standardized, mean, scale);
    }

    /// <summary>The standardised forecast <c>[HZ]</c> of the window ending before step j.</summary>
    private static double[] Forecast(ReferenceSequenceModel reference, double[] standardized, int F, int j) =>
        reference.Forward(null, standardized[((j - W) * F)..(j * F)], W, 1, [W]).Output;

    public static TheoryData<RecurrentCellType, int, int, bool> Cases() => new()
    {
        { RecurrentCellType.Lstm, 1, 1, false },
        { RecurrentCellType.Gru, 2, 0, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OneEpochOfSgd_StepsEveryModelParameterByTheReferenceGradientOfTheWindowMse(RecurrentCellType cell, int layers, int K, bool refit)
    {
        var (series, exogenous) = Data(K);
        var forecaster = RecurrentForecaster.Fit(series, Options(cell, layers, K, refit), exogenous);

        // 8 of 32 observations are held out; training windows forecast steps j, j+1 ≤ 23; the refit reads every window.
        const int trainingLength = N - 8;
        int F = 1 + K, lastTarget = refit ? N - HZ : trainingLength - HZ;
        var (standardized, mean, scale) = Standardize(series, exogenous, K, trainingLength);
        Tolerance.AssertClose(mean, [.. forecaster.Scaling.Mean], 1e-6, 1e-6, "μ of the training part");
        Tolerance.AssertClose(scale, [.. forecaster.Scaling.Scale], 1e-5, 1e-6, "s of the training part");

        var initial = new SequenceModel(forecaster.Model.Options);
        float[] before = initial.Parameters.Values.ToArray();
        var reference = new ReferenceSequenceModel(forecaster.Model.Options, initial.Parameters);
        double Loss()
        {
            double total = 0;
            for (int j = W; j <= lastTarget; j++)
            {
                double[] forecast = Forecast(reference, standardized, F, j);
                for (int h = 0; h < HZ; h++) total += Math.Pow(forecast[h] - standardized[(j + h) * F], 2);
            }
            return total / ((lastTarget - W + 1) * HZ);
        }
        CentralDifferences.AssertEveryParameter(forecaster.Model.Parameters, CentralDifferences.TakenBySgd(forecaster.Model.Parameters, before, Rate),
            reference.Parameters, Loss, $"{cell} L={layers} K={K} {(refit ? "refit on the full series" : "fit on the training part")}: one SGD step");
    }

    [Fact]
    public void Forecast_IsTheReferenceOutputOfTheStandardisedWindow_MappedBack()
    {
        const int K = 1;
        var (series, exogenous) = Data(K);
        var forecaster = RecurrentForecaster.Fit(series, Options(RecurrentCellType.Lstm, 2, K, refit: false), exogenous);
        NetworkFactory.Randomize(forecaster.Model.Parameters, new Random(9), 0.8);
        var reference = new ReferenceSequenceModel(forecaster.Model.Options, forecaster.Model.Parameters);
        var (standardized, mean, scale) = Standardize(series, exogenous, K, N - 8);

        var forecast = forecaster.Forecast(series, exogenous);

        double[] z = Forecast(reference, standardized, 1 + K, N);
        double[] expected = [.. z.Select(value => value * scale[0] + mean[0])];
        Tolerance.AssertClose(expected, [.. forecast.Values], 1e-5, 1e-4, "forecast of the last window");
        for (int h = 0; h < HZ; h++)
        {
            Assert.Equal(forecast.Values[h] + forecaster.LowerOffsets[h], forecast.LowerBound[h], 5);
            Assert.Equal(forecast.Values[h] + forecaster.UpperOffsets[h], forecast.UpperBound[h], 5);
        }
    }
}
