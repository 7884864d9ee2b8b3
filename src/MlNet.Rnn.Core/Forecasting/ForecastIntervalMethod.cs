namespace MlNet.Rnn.Core.Forecasting;

/// <summary>How a <see cref="RecurrentForecaster"/> turns held-out residuals <c>r = actual − forecast</c> into confidence bounds.</summary>
public enum ForecastIntervalMethod
{
    /// <summary>
    /// Symmetric Gaussian bounds per horizon step h: <c>forecast ± z·σ_h</c>, with <c>z = Φ⁻¹((1 + level)/2)</c> and
    /// <c>σ_h = sqrt(mean r_h²)</c> (root mean square, so a bias widens the bounds). Stable with few residuals; the same kind of
    /// bounds ML.NET's <c>ForecastBySsa</c> gives.
    /// </summary>
    Gaussian,
    /// <summary>
    /// Empirical quantiles per horizon step h: <c>[forecast + Q_h((1 − level)/2), forecast + Q_h((1 + level)/2)]</c> of the
    /// residuals (linear interpolation between order statistics). Follows skewed errors; needs many residuals.
    /// </summary>
    EmpiricalQuantile,
}
