using Microsoft.ML.Data;
using MlNet.Rnn;
using MlNet.Rnn.Core.Models;

namespace Microsoft.ML;

/// <summary>
/// Recurrent forecasters on <c>mlContext.Forecasting</c>, beside ML.NET's <c>ForecastBySsa</c> and with its parameter names:
/// <c>ForecastByLstm</c>, <c>ForecastByGru</c> and <c>ForecastByRnn</c>, each with simple arguments or
/// <see cref="RecurrentForecastingEstimator.Options"/>.
/// </summary>
public static class RecurrentForecastingCatalog
{
    /// <summary>An LSTM forecaster of the series in <paramref name="inputColumnName"/> (rows in time order): the next <paramref name="horizon"/> values from the last <paramref name="windowSize"/>.</summary>
    /// <param name="catalog">The forecasting catalog.</param>
    /// <param name="outputColumnName">The forecast column: a vector of <paramref name="horizon"/> values.</param>
    /// <param name="inputColumnName">The series: a Single column, one observation per row.</param>
    /// <param name="windowSize">W: past observations the model reads for one forecast.</param>
    /// <param name="horizon">HZ: future values forecast at once (at least 1).</param>
    /// <param name="confidenceLevel">The share of future values the bounds should cover, in (0, 1).</param>
    /// <param name="confidenceLowerBoundColumn">The lower-bound column (a vector of HZ), or null for none.</param>
    /// <param name="confidenceUpperBoundColumn">The upper-bound column (a vector of HZ), or null for none.</param>
    /// <param name="exogenousColumnNames">Exogenous feature columns (Single or fixed-size Single vectors) observed with each row, or null for none.</param>
    /// <param name="hiddenSize">H: hidden units per layer (64: on the four statsmodels series of the defaults suite, six seeds each, 64 gave a lower
    /// mean one-step MAE than 32 on every series, and than 128 on three of them).</param>
    /// <param name="numberOfEpochs">Passes over the training windows.</param>
    /// <param name="learningRate">Adam's learning rate.</param>
    /// <example><code>
    /// var forecaster = mlContext.Forecasting.ForecastByLstm("Forecast", "Sunspots", windowSize: 24, horizon: 5,
    ///     confidenceLowerBoundColumn: "Lower", confidenceUpperBoundColumn: "Upper").Fit(history);
    /// var engine = forecaster.CreateForecastingEngine&lt;Observation, Prediction&gt;(mlContext);
    /// var next = engine.Predict(new Observation { Sunspots = 93.4f });   // adds the observation and forecasts again
    /// engine.CheckPoint("sunspots.zip");
    /// </code></example>
    public static RecurrentForecastingEstimator ForecastByLstm(this ForecastingCatalog catalog, string outputColumnName, string inputColumnName,
        int windowSize, int horizon, float confidenceLevel = 0.95f, string? confidenceLowerBoundColumn = null, string? confidenceUpperBoundColumn = null,
        string[]? exogenousColumnNames = null, int hiddenSize = 64, int numberOfEpochs = 60, float learningRate = 0.005f) =>
        Create(catalog, RecurrentCellType.Lstm, Fill(outputColumnName, inputColumnName, windowSize, horizon, confidenceLevel, confidenceLowerBoundColumn,
            confidenceUpperBoundColumn, exogenousColumnNames, hiddenSize, numberOfEpochs, learningRate));

    /// <summary>An LSTM forecaster with every option.</summary>
    /// <param name="catalog">The forecasting catalog.</param>
    /// <param name="options">The options.</param>
    public static RecurrentForecastingEstimator ForecastByLstm(this ForecastingCatalog catalog, RecurrentForecastingEstimator.Options options) =>
        Create(catalog, RecurrentCellType.Lstm, options);

    /// <summary>A GRU forecaster of the series in <paramref name="inputColumnName"/> (rows in time order): the next <paramref name="horizon"/> values from the last <paramref name="windowSize"/>.</summary>
    /// <inheritdoc cref="ForecastByLstm(ForecastingCatalog, string, string, int, int, float, string?, string?, string[], int, int, float)"/>
    public static RecurrentForecastingEstimator ForecastByGru(this ForecastingCatalog catalog, string outputColumnName, string inputColumnName,
        int windowSize, int horizon, float confidenceLevel = 0.95f, string? confidenceLowerBoundColumn = null, string? confidenceUpperBoundColumn = null,
        string[]? exogenousColumnNames = null, int hiddenSize = 64, int numberOfEpochs = 60, float learningRate = 0.005f) =>
        Create(catalog, RecurrentCellType.Gru, Fill(outputColumnName, inputColumnName, windowSize, horizon, confidenceLevel, confidenceLowerBoundColumn,
            confidenceUpperBoundColumn, exogenousColumnNames, hiddenSize, numberOfEpochs, learningRate));

    /// <summary>A GRU forecaster with every option.</summary>
    /// <param name="catalog">The forecasting catalog.</param>
    /// <param name="options">The options.</param>
    public static RecurrentForecastingEstimator ForecastByGru(this ForecastingCatalog catalog, RecurrentForecastingEstimator.Options options) =>
        Create(catalog, RecurrentCellType.Gru, options);

    /// <summary>An Elman RNN forecaster of the series in <paramref name="inputColumnName"/> (rows in time order): the next <paramref name="horizon"/> values from the last <paramref name="windowSize"/>.</summary>
    /// <inheritdoc cref="ForecastByLstm(ForecastingCatalog, string, string, int, int, float, string?, string?, string[], int, int, float)"/>
    public static RecurrentForecastingEstimator ForecastByRnn(this ForecastingCatalog catalog, string outputColumnName, string inputColumnName,
        int windowSize, int horizon, float confidenceLevel = 0.95f, string? confidenceLowerBoundColumn = null, string? confidenceUpperBoundColumn = null,
        string[]? exogenousColumnNames = null, int hiddenSize = 64, int numberOfEpochs = 60, float learningRate = 0.005f) =>
        Create(catalog, RecurrentCellType.Rnn, Fill(outputColumnName, inputColumnName, windowSize, horizon, confidenceLevel, confidenceLowerBoundColumn,
            confidenceUpperBoundColumn, exogenousColumnNames, hiddenSize, numberOfEpochs, learningRate));

    /// <summary>An Elman RNN forecaster with every option.</summary>
    /// <param name="catalog">The forecasting catalog.</param>
    /// <param name="options">The options.</param>
    public static RecurrentForecastingEstimator ForecastByRnn(this ForecastingCatalog catalog, RecurrentForecastingEstimator.Options options) =>
        Create(catalog, RecurrentCellType.Rnn, options);

    private static RecurrentForecastingEstimator.Options Fill(string outputColumnName, string inputColumnName, int windowSize, int horizon,
        float confidenceLevel, string? confidenceLowerBoundColumn, string? confidenceUpperBoundColumn, string[]? exogenousColumnNames, int hiddenSize,
        int numberOfEpochs, float learningRate) => new()
    {
        OutputColumnName = outputColumnName, InputColumnName = inputColumnName, WindowSize = windowSize, Horizon = horizon,
        ConfidenceLevel = confidenceLevel, ConfidenceLowerBoundColumn = confidenceLowerBoundColumn, ConfidenceUpperBoundColumn = confidenceUpperBoundColumn,
        ExogenousColumnNames = exogenousColumnNames ?? [], HiddenSize = hiddenSize, NumberOfEpochs = numberOfEpochs, LearningRate = learningRate,
    };

    private static RecurrentForecastingEstimator Create(ForecastingCatalog catalog, RecurrentCellType cell, RecurrentForecastingEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new RecurrentForecastingEstimator(((IInternalCatalog)catalog).Environment, cell, options);
    }
}
