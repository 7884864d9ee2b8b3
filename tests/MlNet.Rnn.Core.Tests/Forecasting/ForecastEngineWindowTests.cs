using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Forecasting;

/// <summary>
/// The engine's exogenous window with K = 2 features per observation (with one feature, a row offset and a float offset
/// coincide): after one observation, after two, and after a block longer than W, it holds the last W rows of every feature
/// value given (read from its checkpoint), each row whole and in place, and the engine forecasts what <c>Forecast</c>
/// forecasts from everything given.
/// </summary>
public sealed class ForecastEngineWindowTests
{
    private const int W = 3, HZ = 2, K = 2, N = 30;

    private static readonly Lazy<(RecurrentForecaster Forecaster, float[] Series, float[] Exogenous)> s_twoFeatures = new(() =>
    {
        float[] series = [.. Enumerable.Range(0, N).Select(t => MathF.Sin(0.7f * t) + 0.05f * t)];
        // Row t holds 10t + 1 and 10t + 2: every value distinct, so a row cut at another float shows.
        float[] exogenous = [.. Enumerable.Range(0, N * K).Select(i => 10f * (i / K) + 1 + i % K)];
        var options = new ForecasterOptions
        {
            WindowSize = W, Horizon = HZ, ExogenousFeatures = K, HiddenSize = 3, Seed = 1, MaxDegreeOfParallelism = 1, RefitOnFullSeries = false,
            Training = new TrainerOptions { Epochs = 1, BatchSize = 8, Seed = 1 },
        };
        return (RecurrentForecaster.Fit(series, options, exogenous), series, exogenous);
    });

    /// <summary>The engine's exogenous window <c>[W, K]</c>, as its checkpoint saves it.</summary>
    private static float[] ExogenousWindow(ForecastEngine engine)
    {
        using var stream = new MemoryStream();
        engine.CheckPoint(stream);
        stream.Position = 0;
        return ModelFile.Read(stream, requireModelFormat: true).Find("forecaster.window_exogenous")!.Data;
    }

    [Fact]
    public void AfterOneTwoAndMoreThanWObservations_TheExogenousWindowIsTheLastWRowsOfEveryValueGiven()
    {
        var (forecaster, series, exogenous) = s_twoFeatures.Value;
        var engine = forecaster.CreateEngine();
        List<float> given = [.. series], givenExogenous = [.. exogenous];

        void AddAndCheck(float[] observations, float[] features)
        {
            engine.Add(observations, features);
            given.AddRange(observations);
            givenExogenous.AddRange(features);
            Assert.Equal(given[^W..], engine.Window);
            Assert.Equal(givenExogenous[^(W * K)..], ExogenousWindow(engine));
            var expected = forecaster.Forecast([.. given], [.. givenExogenous]);
            var actual = engine.Predict();
            Assert.Equal(expected.Values, actual.Values);
            Assert.Equal(expected.LowerBound, actual.LowerBound);
            Assert.Equal(expected.UpperBound, actual.UpperBound);
        }

        Assert.Equal(exogenous[^(W * K)..], ExogenousWindow(engine));
        AddAndCheck([3f], [301f, 302f]); // one row: the window slides by K floats
        AddAndCheck([3.1f, 3.2f], [311f, 312f, 321f, 322f]); // two rows
        AddAndCheck([3.3f, 3.4f, 3.5f, 3.6f, 3.7f], [331f, 332f, 341f, 342f, 351f, 352f, 361f, 362f, 371f, 372f]); // more than W: the last W rows
        Assert.Equal(8, engine.ObservationsAdded);
    }
}
