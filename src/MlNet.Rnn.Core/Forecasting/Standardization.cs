namespace MlNet.Rnn.Core.Forecasting;

/// <summary>
/// Per-feature standardisation <c>z = (x − μ) / s</c> fitted on the training part of a series: μ the mean, s the population
/// standard deviation (1 when the feature is constant, so z stays finite).
/// </summary>
public sealed class Standardization
{
    private readonly float[] _mean, _scale;

    /// <summary>Wraps given means and scales (one per feature).</summary>
    public Standardization(float[] mean, float[] scale)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(scale);
        if (mean.Length != scale.Length || mean.Length == 0)
            throw new ArgumentException($"mean has {mean.Length} values and scale {scale.Length}; give one of each per feature.");
        for (int f = 0; f < scale.Length; f++)
            if (!(scale[f] > 0 && float.IsFinite(scale[f]) && float.IsFinite(mean[f])))
                throw new ArgumentException($"Feature {f}: mean {mean[f]} and scale {scale[f]}; the mean must be finite and the scale positive.");
        _mean = (float[])mean.Clone();
        _scale = (float[])scale.Clone();
    }

    /// <summary>Fits μ and s of each of the F features of <paramref name="rows"/> <c>[N, F]</c> (step-major).</summary>
    public static Standardization Fit(ReadOnlySpan<float> rows, int features)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        int count = rows.Length / features;
        if (count == 0 || rows.Length % features != 0)
            throw new ArgumentException($"rows holds {rows.Length} values; at least one row of {features} features is needed, and whole rows only.", nameof(rows));
        var mean = new float[features];
        var scale = new float[features];
        for (int f = 0; f < features; f++)
        {
            double sum = 0, squares = 0;
            for (int n = 0; n < count; n++) sum += rows[n * features + f];
            double mu = sum / count;
            for (int n = 0; n < count; n++) squares += Math.Pow(rows[n * features + f] - mu, 2);
            double sigma = Math.Sqrt(squares / count);
            mean[f] = (float)mu;
            scale[f] = sigma > 1e-12 ? (float)sigma : 1f;
        }
        return new Standardization(mean, scale);
    }

    /// <summary>
    /// Fits μ and s over rows added a span at a time (Welford's update in double), for data read in parts; the result is
    /// <see cref="Fit"/>'s up to rounding.
    /// </summary>
    internal sealed class Accumulator(int features)
    {
        private readonly double[] _mean = new double[features], _squares = new double[features];
        private long _count;

        /// <summary>Adds whole rows of the F features.</summary>
        public void Add(ReadOnlySpan<float> rows)
        {
            for (int start = 0; start + _mean.Length <= rows.Length; start += _mean.Length)
            {
                _count++;
                for (int f = 0; f < _mean.Length; f++)
                {
                    double value = rows[start + f], delta = value - _mean[f];
                    _mean[f] += delta / _count;
                    _squares[f] += delta * (value - _mean[f]);
                }
            }
        }

        /// <summary>μ and s of the rows added (s = 1 for a constant feature); null when none was.</summary>
        public Standardization? Result()
        {
            if (_count == 0) return null;
            var scale = new float[_mean.Length];
            for (int f = 0; f < scale.Length; f++)
            {
                double sigma = Math.Sqrt(_squares[f] / _count);
                scale[f] = sigma > 1e-12 ? (float)sigma : 1f;
            }
            return new Standardization([.. _mean.Select(mu => (float)mu)], scale);
        }
    }

    /// <summary>F.</summary>
    public int Features => _mean.Length;

    /// <summary>μ per feature.</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>s per feature.</summary>
    public IReadOnlyList<float> Scale => _scale;

    /// <summary>z = (x − μ_f) / s_f.</summary>
    public float Apply(float value, int feature) => (value - _mean[feature]) / _scale[feature];

    /// <summary>x = z·s_f + μ_f.</summary>
    public float Invert(float value, int feature) => value * _scale[feature] + _mean[feature];
}
