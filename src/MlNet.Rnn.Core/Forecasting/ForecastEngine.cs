namespace MlNet.Rnn.Core.Forecasting;

/// <summary>
/// Forecasts again as new observations arrive, without refitting: it keeps the last W observations (and their exogenous
/// features), <see cref="Add(float, ReadOnlySpan{float})"/> slides that window, and <see cref="Predict()"/> runs the fitted
/// model on it. The counterpart of ML.NET's <c>TimeSeriesPredictionEngine</c>: <see cref="Predict(float, ReadOnlySpan{float})"/>
/// takes an observation and forecasts, <see cref="CheckPoint(string)"/> saves the forecaster with the updated window.
/// </summary>
/// <remarks>Not thread-safe; the model's weights never change.</remarks>
public sealed class ForecastEngine
{
    private readonly float[] _window, _windowExogenous;

    internal ForecastEngine(RecurrentForecaster forecaster, float[] window, float[] windowExogenous)
    {
        Forecaster = forecaster;
        _window = window;
        _windowExogenous = windowExogenous;
    }

    /// <summary>The fitted forecaster.</summary>
    public RecurrentForecaster Forecaster { get; }

    /// <summary>Observations added since the engine was created.</summary>
    public long ObservationsAdded { get; private set; }

    /// <summary>The last W observations, oldest first.</summary>
    public IReadOnlyList<float> Window => _window;

    /// <summary>Appends one observation, with its K exogenous feature values when the forecaster has them.</summary>
    /// <exception cref="ArgumentException">The observation or a feature is not finite, or the feature count is not K.</exception>
    public void Add(float observation, ReadOnlySpan<float> exogenous = default) => Add([observation], exogenous);

    /// <summary>Appends observations in time order, with their exogenous features <c>[count, K]</c> when K &gt; 0.</summary>
    public void Add(ReadOnlySpan<float> observations, ReadOnlySpan<float> exogenous = default)
    {
        int W = _window.Length, K = Forecaster.ExogenousFeatures;
        try
        {
            RecurrentForecaster.CheckFinite(observations, exogenous, K, nameof(observations));
        }
        catch (ArgumentException exception)
        {
            throw new ArgumentException($"{exception.Message} (counting from observation {ObservationsAdded} added to this engine; nothing was added)",
                exception.ParamName, exception);
        }
        int count = observations.Length;
        if (count >= W)
        {
            observations.Slice(count - W).CopyTo(_window);
            if (K > 0) exogenous.Slice((count - W) * K).CopyTo(_windowExogenous);
        }
        else if (count > 0)
        {
            _window.AsSpan(count).CopyTo(_window);
            observations.CopyTo(_window.AsSpan(W - count));
            if (K > 0)
            {
                _windowExogenous.AsSpan(count * K).CopyTo(_windowExogenous);
                exogenous.CopyTo(_windowExogenous.AsSpan((W - count) * K));
            }
        }
        ObservationsAdded += count;
    }

    /// <summary>Forecasts the HZ values after the latest observation.</summary>
    public Forecast Predict() => Forecaster.ForecastWindow(_window, _windowExogenous);

    /// <summary>Adds <paramref name="observation"/> and forecasts the HZ values after it.</summary>
    public Forecast Predict(float observation, ReadOnlySpan<float> exogenous = default)
    {
        Add(observation, exogenous);
        return Predict();
    }

    /// <summary>Saves the forecaster with this engine's window, so <see cref="RecurrentForecaster.Load(string)"/> resumes from here.</summary>
    public void CheckPoint(string path) => Forecaster.Save(path, _window, _windowExogenous);

    /// <summary>Saves the forecaster with this engine's window to a stream.</summary>
    public void CheckPoint(Stream stream) => Forecaster.Save(stream, _window, _windowExogenous);
}
