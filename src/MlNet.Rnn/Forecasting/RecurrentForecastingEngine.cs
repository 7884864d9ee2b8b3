using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Forecasting;

namespace MlNet.Rnn;

/// <summary>
/// Forecasts again as observations arrive, without refitting, as ML.NET's <c>TimeSeriesPredictionEngine</c>:
/// <see cref="Predict(TIn)"/> adds one observation (a <typeparamref name="TIn"/> with the series and exogenous columns, run
/// through the transformers before the forecaster) and forecasts the HZ values after it; <see cref="Predict()"/> forecasts
/// from the latest observations; <see cref="CheckPoint(string)"/> saves the model with the engine's state, so a model
/// loaded from it continues from here. Starts at the end of the fitted (or check-pointed) series. Not thread-safe.
/// </summary>
/// <typeparam name="TIn">A class with the input columns.</typeparam>
/// <typeparam name="TOut">A class that receives the forecast and bound columns (as <c>float[]</c> properties).</typeparam>
public sealed class RecurrentForecastingEngine<TIn, TOut> where TIn : class where TOut : class, new()
{
    private readonly MLContext _mlContext;
    private readonly ITransformer[] _before;
    private readonly RecurrentForecastingTransformer _transformer;
    private readonly ForecastEngine _engine;
    private readonly SchemaDefinition _outputDefinition;

    internal RecurrentForecastingEngine(MLContext mlContext, ITransformer[] before, RecurrentForecastingTransformer transformer)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        _mlContext = mlContext;
        _before = before;
        _transformer = transformer;
        InputSchema = mlContext.Data.LoadFromEnumerable(Array.Empty<TIn>()).Schema;
        var schema = InputSchema;
        foreach (var step in before) schema = step.GetOutputSchema(schema);
        transformer.CheckInput(schema);
        _engine = transformer.Forecaster.CreateEngine();
        _outputDefinition = SchemaDefinition.Create(typeof(OutputRow));
        string?[] names = transformer.OutputNames;
        for (int i = _outputDefinition.Count - 1; i >= 0; i--)
        {
            string? name = names[i];
            if (name is null) _outputDefinition.RemoveAt(i);
            else
            {
                _outputDefinition[i].ColumnName = name;
                _outputDefinition[i].ColumnType = new VectorDataViewType(NumberDataViewType.Single, transformer.Forecaster.Horizon);
            }
        }
    }

    /// <summary>The schema of <typeparamref name="TIn"/>, which a check-pointed model is saved with.</summary>
    public DataViewSchema InputSchema { get; }

    /// <summary>Observations added since the engine was created.</summary>
    public long ObservationsAdded => _engine.ObservationsAdded;

    /// <summary>Adds <paramref name="example"/>'s observation (and exogenous features) and forecasts the HZ values after it.</summary>
    /// <exception cref="InvalidOperationException">The observation or a feature is NaN or infinite (the message names the column and value); nothing is added.</exception>
    public TOut Predict(TIn example)
    {
        ArgumentNullException.ThrowIfNull(example);
        IDataView data = _mlContext.Data.LoadFromEnumerable([example]);
        foreach (var step in _before) data = step.Transform(data);
        var columns = _transformer.Columns;
        using (var cursor = data.GetRowCursor(columns.Active(data.Schema)))
        {
            var reader = columns.CreateReader(cursor, _transformer.Forecaster.ExogenousFeatures);
            if (!cursor.MoveNext()) throw new InvalidOperationException("The example gave no row.");
            reader.Read(_engine.ObservationsAdded);
            _engine.Add(reader.Observation, reader.Exogenous);
        }
        return Predict();
    }

    /// <summary>Forecasts the HZ values after the latest observation, adding none.</summary>
    public TOut Predict()
    {
        var forecast = _engine.Predict();
        var row = new OutputRow { Forecast = forecast.Values, LowerBound = forecast.LowerBound, UpperBound = forecast.UpperBound };
        var view = _mlContext.Data.LoadFromEnumerable([row], _outputDefinition);
        return _mlContext.Data.CreateEnumerable<TOut>(view, reuseRowObject: false, ignoreMissingColumns: true).First();
    }

    /// <summary>The forecast after the latest observation, as the core gives it (values, bounds, confidence level).</summary>
    public Forecast Forecast() => _engine.Predict();

    /// <summary>
    /// Saves the model (the transformers before the forecaster and the forecaster with this engine's latest observations) to
    /// <paramref name="path"/>; <c>mlContext.Model.Load</c> of it forecasts from here.
    /// </summary>
    public void CheckPoint(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.Create(path);
        CheckPoint(stream);
    }

    /// <summary>Saves the model with this engine's state to a stream.</summary>
    public void CheckPoint(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var state = new MemoryStream();
        _engine.CheckPoint(state);
        state.Position = 0;
        var transformer = _transformer.With(RecurrentForecaster.Load(state, "the engine's check-point"));
        ITransformer model = _before.Length == 0 ? transformer : new TransformerChain<ITransformer>([.. _before, transformer]);
        _mlContext.Model.Save(model, InputSchema, stream);
    }

    private sealed class OutputRow
    {
        public float[] Forecast { get; set; } = [];
        public float[] LowerBound { get; set; } = [];
        public float[] UpperBound { get; set; } = [];
    }
}

/// <summary>Forecasting engines from a fitted model (a <see cref="RecurrentForecastingTransformer"/> or a chain ending in one).</summary>
public static class RecurrentForecastingEngineExtensions
{
    /// <summary>
    /// An engine over <paramref name="model"/>: a <see cref="RecurrentForecastingTransformer"/>, or a transformer chain whose last
    /// transformer is one (the ones before it run on every example), as ML.NET's <c>CreateTimeSeriesEngine</c>.
    /// </summary>
    public static RecurrentForecastingEngine<TIn, TOut> CreateForecastingEngine<TIn, TOut>(this ITransformer model, MLContext mlContext)
        where TIn : class where TOut : class, new()
    {
        ArgumentNullException.ThrowIfNull(model);
        var steps = model is IEnumerable<ITransformer> chain ? chain.ToArray() : [model];
        if (steps.Length == 0 || steps[^1] is not RecurrentForecastingTransformer forecaster)
            throw new ArgumentException("The model does not end with a recurrent forecaster (mlContext.Forecasting.ForecastByLstm/Gru/Rnn); " +
                "pass the fitted forecaster or the chain that ends with it.", nameof(model));
        return new RecurrentForecastingEngine<TIn, TOut>(mlContext, steps[..^1], forecaster);
    }
}
