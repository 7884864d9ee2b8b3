namespace MlNet.Rnn.Core.Forecasting;

/// <summary>
/// Confidence bounds from held-out residuals <c>r[n, h] = actual − forecast</c> <c>[N, horizon]</c>, as offsets added to a
/// forecast: <c>lower_h = forecast_h + lowerOffset_h</c>, <c>upper_h = forecast_h + upperOffset_h</c>.
/// </summary>
public static class ForecastIntervals
{
    /// <summary>The lower and upper offsets per horizon step for <paramref name="method"/> at <paramref name="confidenceLevel"/>.</summary>
    public static (float[] Lower, float[] Upper) Offsets(ReadOnlySpan<float> residuals, int horizon, float confidenceLevel, ForecastIntervalMethod method)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(horizon);
        if (!(confidenceLevel > 0 && confidenceLevel < 1))
            throw new ArgumentOutOfRangeException(nameof(confidenceLevel), confidenceLevel, "The confidence level must be in (0, 1), e.g. 0.95.");
        int count = residuals.Length / horizon;
        if (count == 0 || residuals.Length % horizon != 0)
            throw new ArgumentException($"residuals holds {residuals.Length} values; at least one row of {horizon} (the horizon) is needed.", nameof(residuals));
        var lower = new float[horizon];
        var upper = new float[horizon];
        var column = new double[count];
        for (int h = 0; h < horizon; h++)
        {
            for (int n = 0; n < count; n++) column[n] = residuals[n * horizon + h];
            if (method == ForecastIntervalMethod.EmpiricalQuantile)
            {
                Array.Sort(column);
                lower[h] = (float)Quantile(column, (1 - confidenceLevel) / 2.0);
                upper[h] = (float)Quantile(column, (1 + confidenceLevel) / 2.0);
            }
            else
            {
                double squares = 0;
                foreach (double r in column) squares += r * r;
                double width = NormalQuantile((1 + confidenceLevel) / 2.0) * Math.Sqrt(squares / count);
                lower[h] = (float)-width;
                upper[h] = (float)width;
            }
        }
        return (lower, upper);
    }

    /// <summary>The p-quantile of sorted values, linearly interpolated between order statistics (R's type 7, NumPy's default).</summary>
    public static double Quantile(ReadOnlySpan<double> sorted, double p)
    {
        if (sorted.IsEmpty) throw new ArgumentException("No value to take a quantile of.", nameof(sorted));
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "p must be in [0, 1].");
        double position = p * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }

    /// <summary>Φ⁻¹(p), the standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).</summary>
    public static double NormalQuantile(double p)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "p must be in (0, 1).");
        ReadOnlySpan<double> a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        ReadOnlySpan<double> b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        ReadOnlySpan<double> c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        ReadOnlySpan<double> d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        if (p < low || p > 1 - low)
        {
            double q = Math.Sqrt(-2 * Math.Log(p < low ? p : 1 - p));
            double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
            return p < low ? x : -x;
        }
        double s = p - 0.5, r = s * s;
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * s / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
}
