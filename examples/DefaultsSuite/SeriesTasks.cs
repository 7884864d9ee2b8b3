using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Examples.DefaultsSuite;

/// <summary>
/// Next-value forecasting over a window of 12: the default LSTM regressor on the window vector and the default ForecastByLstm,
/// against SDCA and ordinary least squares on the same window, the naive and the seasonal-naive forecasts.
/// </summary>
internal static class SeriesTasks
{
    public const int WindowSize = 12;

    public static float[] Sunspots() => StatsmodelsSeries.Sunspots().Values;

    /// <summary>The task's split: windows of <see cref="WindowSize"/> values before each target, the last fifth of the targets to test.</summary>
    public static (WindowRow[] Train, WindowRow[] Test) Windows(float[] series)
    {
        int n = series.Length, testStart = n - n / 5;
        WindowRow Row(int t) => new() { Window = series[(t - WindowSize)..t], Label = series[t] };
        return ([.. Enumerable.Range(WindowSize, testStart - WindowSize).Select(Row)], [.. Enumerable.Range(testStart, n - testStart).Select(Row)]);
    }

    public static IReadOnlyList<TaskResult> Run(string task, string description, float[] series, int? season, int seeds)
    {
        int n = series.Length, testStart = n - n / 5;
        var (train, test) = Windows(series);
        float[] actual = [.. test.Select(r => r.Label)];
        Console.WriteLine($"{task}: {description}, {n} values; {train.Length} training windows (targets {WindowSize}–{testStart - 1}), {test.Length} test windows");

        var mlContext = new MLContext(seed: 1);
        IDataView trainView = mlContext.Data.LoadFromEnumerable(train), testView = mlContext.Data.LoadFromEnumerable(test);

        var lstmForecasts = new List<float[]>();
        var rolledForecasts = new List<float[]>();
        double lstmSeconds = 0, forecasterSeconds = 0;
        var clock = new Stopwatch();
        for (int seed = 1; seed <= seeds; seed++)
        {
            var seeded = new MLContext(seed: seed);
            clock.Restart();
            var lstm = seeded.Regression.Trainers.Lstm(featureColumnName: "Window").Fit(seeded.Data.LoadFromEnumerable(train));
            lstmSeconds += clock.Elapsed.TotalSeconds / seeds;
            lstmForecasts.Add(Scores(lstm.Transform(seeded.Data.LoadFromEnumerable(test))));

            clock.Restart();
            var forecaster = seeded.Forecasting.ForecastByLstm("Forecast", "Value", windowSize: WindowSize, horizon: 1)
                .Fit(seeded.Data.LoadFromEnumerable(series[..testStart].Select(v => new ValueRow { Value = v })));
            forecasterSeconds += clock.Elapsed.TotalSeconds / seeds;
            var engine = forecaster.Forecaster.CreateEngine();
            var rolled = new float[test.Length];
            for (int i = 0; i < test.Length; i++)
            {
                rolled[i] = engine.Predict().Values[0];
                engine.Add(actual[i]);
            }
            rolledForecasts.Add(rolled);
        }

        var sdca = mlContext.Transforms.NormalizeMeanVariance("Window")
            .Append(mlContext.Regression.Trainers.Sdca(featureColumnName: "Window")).Fit(trainView);
        float[] sdcaForecast = Scores(sdca.Transform(testView));
        double[] ols = LeastSquares(train);
        float[] olsForecast = [.. test.Select(r => (float)(ols[0] + r.Window.Select((v, j) => v * ols[j + 1]).Sum()))];
        float[] naive = [.. test.Select(r => r.Window[^1])];
        float[]? seasonal = season is int s ? [.. test.Select(r => r.Window[^s])] : null;

        var baselines = new List<(string Name, float[] Forecast)> { ("SDCA", sdcaForecast), ("OLS", olsForecast), ("naive", naive) };
        if (seasonal is not null) baselines.Add(($"seasonal naive ({season})", seasonal));
        string Rmses(List<float[]> ours) => string.Join(", ", baselines.Select(b => $"{b.Name} {Rmse(b.Forecast, actual):F3}")
            .Prepend($"ours {ours.Average(f => Rmse(f, actual)):F3}"));
        List<double> Maes(List<float[]> forecasts) => [.. forecasts.Select(f => Mae(f, actual))];
        Console.WriteLine($"{task}: MAE Lstm {string.Join(" ", Maes(lstmForecasts).Select(m => m.ToString("F3", CultureInfo.InvariantCulture)))} ({lstmSeconds:F1} s), " +
            $"ForecastByLstm {string.Join(" ", Maes(rolledForecasts).Select(m => m.ToString("F3", CultureInfo.InvariantCulture)))} ({forecasterSeconds:F1} s), " +
            string.Join(", ", baselines.Select(b => $"{b.Name} {Mae(b.Forecast, actual):F3}")));

        Score[] baselineMaes = [.. baselines.Select(b => new Score(b.Name, Mae(b.Forecast, actual)))];
        return
        [
            new(task, "`Regression.Trainers.Lstm(featureColumnName: \"Window\")`", train.Length, "MAE", false, Maes(lstmForecasts), baselineMaes, lstmSeconds,
                string.Create(CultureInfo.InvariantCulture, $"{test.Length} test windows; RMSE {Rmses(lstmForecasts)}")),
            new(task, "`Forecasting.ForecastByLstm(\"Forecast\", \"Value\", windowSize: 12, horizon: 1)`", testStart, "MAE", false, Maes(rolledForecasts), baselineMaes, forecasterSeconds,
                string.Create(CultureInfo.InvariantCulture, $"fitted on the {testStart} values before the test; RMSE {Rmses(rolledForecasts)}")),
        ];
    }

    private static float[] Scores(IDataView scored) => [.. scored.GetColumn<float>("Score")];

    private static double Mae(float[] forecast, float[] actual) => forecast.Zip(actual).Average(p => Math.Abs((double)p.First - p.Second));

    private static double Rmse(float[] forecast, float[] actual) => Math.Sqrt(forecast.Zip(actual).Average(p => Math.Pow((double)p.First - p.Second, 2)));

    /// <summary>Ordinary least squares with an intercept: the normal equations (XᵀX) β = Xᵀy solved in double by Gaussian elimination.</summary>
    private static double[] LeastSquares(WindowRow[] rows)
    {
        int p = WindowSize + 1;
        var a = new double[p, p + 1];
        var x = new double[p];
        foreach (var row in rows)
        {
            x[0] = 1;
            for (int j = 0; j < WindowSize; j++) x[j + 1] = row.Window[j];
            for (int i = 0; i < p; i++)
            {
                for (int j = 0; j < p; j++) a[i, j] += x[i] * x[j];
                a[i, p] += x[i] * row.Label;
            }
        }
        for (int c = 0; c < p; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < p; r++) if (Math.Abs(a[r, c]) > Math.Abs(a[pivot, c])) pivot = r;
            for (int k = 0; k <= p; k++) (a[c, k], a[pivot, k]) = (a[pivot, k], a[c, k]);
            for (int r = 0; r < p; r++)
            {
                if (r == c) continue;
                double factor = a[r, c] / a[c, c];
                for (int k = c; k <= p; k++) a[r, k] -= factor * a[c, k];
            }
        }
        var beta = new double[p];
        for (int i = 0; i < p; i++) beta[i] = a[i, p] / a[i, i];
        return beta;
    }
}

/// <summary>A window of the series and the value after it.</summary>
public sealed class WindowRow
{
    [VectorType(SeriesTasks.WindowSize)]
    public float[] Window { get; set; } = [];

    public float Label { get; set; }
}

/// <summary>One observation of the series.</summary>
public sealed class ValueRow
{
    public float Value { get; set; }
}
