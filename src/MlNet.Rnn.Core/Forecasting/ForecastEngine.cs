using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Core.Forecasting;

/// <summary>
/// Forecasts again as new observations arrive, without refitting: it keeps the last W observations (and their exogenous
/// features), <see cref="Add(float, ReadOnlySpan{float})"/> slides that window, and <see cref="Predict()"/> runs the fitted
/// model on it. The counterpart of ML.NET's <c>TimeSeriesPredictionEngine</c>: <see cref="Predict(float, ReadOnlySpan{float})"/>
/// takes an observation and forecasts, <see cref="CheckPoint(string)"/> saves the forecaster with the updated window.
/// To forecast after each of many observations in one forward pass, <see cref="Stage"/> after each and call
/// <see cref="ForecastStaged"/> once: the staged windows form one batch (a <see cref="SequenceDataset"/>).
/// </summary>
/// <remarks>
/// Not thread-safe; the model's weights never change. The engine scores in a <see cref="SequenceModelWorkspace"/> of its own
/// and never copies the model, so any number of engines may run on one forecaster at once.
/// </remarks>
public sealed class ForecastEngine
{
    private readonly float[] _window, _windowExogenous;
    private readonly SequenceModelWorkspace _workspace;
    private readonly SequenceDataset _staged;
    private readonly SequenceBatch _batch = new();
    private readonly float[] _noTarget = [0f];
    private float[] _steps = [], _output = [];
    private int[] _indices = [];

    internal ForecastEngine(RecurrentForecaster forecaster, float[] window, float[] windowExogenous)
    {
        Forecaster = forecaster;
        _window = window;
        _windowExogenous = windowExogenous;
        _workspace = forecaster.Model.CreateWorkspace();
        _staged = new SequenceDataset(1 + forecaster.ExogenousFeatures, targetWidth: 1);
    }

    /// <summary>The fitted forecaster.</summary>
    public RecurrentForecaster Forecaster { get; }

    /// <summary>Observations added since the engine was created.</summary>
    public long ObservationsAdded { get; private set; }

    /// <summary>The last W observations, oldest first.</summary>
    public IReadOnlyList<float> Window => _window;

    /// <summary>Windows staged since the last <see cref="ClearStaged"/>.</summary>
    public int StagedCount => _staged.Count;

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
            // Message ends in " (Parameter '…')"; the new exception adds it again, at the end.
            string message = exception.ParamName is { } name && exception.Message.EndsWith($" (Parameter '{name}')", StringComparison.Ordinal)
                ? exception.Message[..^$" (Parameter '{name}')".Length] : exception.Message;
            throw new ArgumentException($"{message} (counting from observation {ObservationsAdded} added to this engine; nothing was added)",
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
    public Forecast Predict()
    {
        int W = Forecaster.WindowSize, HZ = Forecaster.Horizon;
        _batch.Reset(1, W, 1 + Forecaster.ExogenousFeatures, targetWidth: 1, perStepTargets: false);
        Forecaster.Standardize(_window, _windowExogenous, _batch.Input);
        _batch.Lengths[0] = W;
        Grow(ref _output, HZ);
        _workspace.Forward(_batch, _output);
        return Forecaster.ToForecast(_output.AsSpan(0, HZ));
    }

    /// <summary>Adds <paramref name="observation"/> and forecasts the HZ values after it.</summary>
    public Forecast Predict(float observation, ReadOnlySpan<float> exogenous = default)
    {
        Add(observation, exogenous);
        return Predict();
    }

    /// <summary>Stages the window as it is now, for <see cref="ForecastStaged"/> to forecast the values after the latest observation.</summary>
    public void Stage()
    {
        int F = 1 + Forecaster.ExogenousFeatures, length = Forecaster.WindowSize * F;
        Grow(ref _steps, length);
        Forecaster.Standardize(_window, _windowExogenous, _steps);
        _staged.Add(_steps.AsSpan(0, length), _noTarget);
    }

    /// <summary>Forgets the staged windows.</summary>
    public void ClearStaged() => _staged.Clear();

    /// <summary>
    /// Forecasts every staged window in one forward pass, each as <see cref="Predict()"/> would have forecast it then, bit for bit:
    /// writes the forecasts and their bounds, <c>[StagedCount, HZ]</c> each, in series units.
    /// </summary>
    public void ForecastStaged(Span<float> values, Span<float> lower, Span<float> upper)
    {
        int B = _staged.Count, HZ = Forecaster.Horizon;
        if (values.Length < B * HZ || lower.Length < B * HZ || upper.Length < B * HZ)
            throw new ArgumentException($"{B} staged windows need {B}·{HZ} = {B * HZ} floats in each of values, lower and upper.");
        if (B == 0) return;
        Grow(ref _indices, B);
        for (int b = 0; b < B; b++) _indices[b] = b;
        _staged.Fill(_indices.AsSpan(0, B), _batch);
        Grow(ref _output, B * HZ);
        _workspace.Forward(_batch, _output);
        for (int b = 0; b < B; b++)
            Forecaster.Unstandardize(_output.AsSpan(b * HZ, HZ), values.Slice(b * HZ, HZ), lower.Slice(b * HZ, HZ), upper.Slice(b * HZ, HZ));
    }

    /// <summary>Saves the forecaster with this engine's window, so <see cref="RecurrentForecaster.Load(string)"/> resumes from here.</summary>
    public void CheckPoint(string path) => Forecaster.Save(path, _window, _windowExogenous);

    /// <summary>Saves the forecaster with this engine's window to a stream.</summary>
    public void CheckPoint(Stream stream) => Forecaster.Save(stream, _window, _windowExogenous);

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[Math.Max(length, 2 * buffer.Length)];
    }

    private static void Grow(ref int[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new int[Math.Max(length, 2 * buffer.Length)];
    }
}
