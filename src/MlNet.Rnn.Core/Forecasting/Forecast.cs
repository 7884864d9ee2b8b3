namespace MlNet.Rnn.Core.Forecasting;

/// <summary>The next <c>horizon</c> values of a series and their confidence bounds, in the series' own units.</summary>
/// <param name="Values">Forecasts <c>[horizon]</c>: element h is the value h + 1 steps after the last observation.</param>
/// <param name="LowerBound">Lower confidence bounds <c>[horizon]</c>.</param>
/// <param name="UpperBound">Upper confidence bounds <c>[horizon]</c>.</param>
/// <param name="ConfidenceLevel">The share of future values the bounds are meant to cover.</param>
public sealed record Forecast(float[] Values, float[] LowerBound, float[] UpperBound, float ConfidenceLevel)
{
    /// <summary>The number of forecast steps.</summary>
    public int Horizon => Values.Length;
}
