using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Forecasting;
using MlNet.Rnn.Logging;

namespace MlNet.Rnn;

/// <summary>
/// Fits the core's <see cref="RecurrentForecaster"/> to a series read from one Single column, rows in time order (plus
/// optional exogenous feature columns observed with each row): a recurrent network reads the last W observations and gives
/// the next HZ values at once; held-out residuals give the confidence bounds. The fitted
/// <see cref="RecurrentForecastingTransformer"/> outputs, after each row, the forecast of the HZ values that follow it.
/// Create it with <c>mlContext.Forecasting.ForecastByRnn/ForecastByLstm/ForecastByGru</c>, beside ML.NET's <c>ForecastBySsa</c>.
/// </summary>
public sealed class RecurrentForecastingEstimator : IEstimator<RecurrentForecastingTransformer>
{
    /// <summary>Options of <see cref="RecurrentForecastingEstimator"/>; names follow ML.NET's <c>ForecastBySsa</c>. Legend: W window, HZ horizon, K exogenous features.</summary>
    public sealed class Options
    {
        /// <summary>The output column: a vector of HZ forecasts.</summary>
        public string OutputColumnName { get; set; } = "Forecast";

        /// <summary>The series: a Single column, one observation per row, rows in time order.</summary>
        public string InputColumnName { get; set; } = "Value";

        /// <summary>W: past observations the model reads for one forecast.</summary>
        public int WindowSize { get; set; } = 24;

        /// <summary>HZ: future values forecast at once.</summary>
        public int Horizon { get; set; } = 1;

        /// <summary>The share of future values the bounds should cover, in (0, 1).</summary>
        public float ConfidenceLevel { get; set; } = 0.95f;

        /// <summary>The lower-bound column (a vector of HZ), or null for none.</summary>
        public string? ConfidenceLowerBoundColumn { get; set; }

        /// <summary>The upper-bound column (a vector of HZ), or null for none.</summary>
        public string? ConfidenceUpperBoundColumn { get; set; }

        /// <summary>Exogenous feature columns (Single, or fixed-size Single vectors) observed with each observation; their past values are read with the series'.</summary>
        public string[] ExogenousColumnNames { get; set; } = [];

        /// <summary>How held-out residuals become bounds.</summary>
        public ForecastIntervalMethod IntervalMethod { get; set; } = ForecastIntervalMethod.Gaussian;

        /// <summary>The share of the series, at its end, held out to measure the residuals behind the bounds.</summary>
        public double CalibrationFraction { get; set; } = 0.2;

        /// <summary>Train the final model again on the whole series once the bounds are measured.</summary>
        public bool RefitOnFullSeries { get; set; } = true;

        /// <summary>H: hidden units per layer.</summary>
        public int HiddenSize { get; set; } = 32;

        /// <summary>Stacked recurrent layers.</summary>
        public int NumberOfLayers { get; set; } = 1;

        /// <summary>Dropout between recurrent layers and before the head, in training; in [0, 1).</summary>
        public float Dropout { get; set; }

        /// <summary>Passes over the training windows.</summary>
        public int NumberOfEpochs { get; set; } = 60;

        /// <summary>Windows per optimisation step.</summary>
        public int BatchSize { get; set; } = 16;

        /// <summary>Adam's learning rate.</summary>
        public float LearningRate { get; set; } = 0.005f;

        /// <summary>Stop after this many epochs without a better loss on the held-out windows (keeping the best weights); 0 turns it off.</summary>
        public int EarlyStoppingPatience { get; set; }

        /// <summary>Seed of initialisation, dropout and shuffling; null takes one from the <see cref="MLContext"/>'s seed.</summary>
        public int? Seed { get; set; }

        /// <summary>Threads a batch may be split across.</summary>
        public int MaxDegreeOfParallelism { get; set; } = Environment.ProcessorCount;

        /// <summary>Also receives the progress messages that go to <see cref="MLContext.Log"/>.</summary>
        public ILogger? Logger { get; set; }

        /// <summary>The core's options (the forecaster's and its training loop's), after checking the column names; the core checks the rest.</summary>
        internal ForecasterOptions ToForecasterOptions(RecurrentCellType cell, int exogenousFeatures, int seed, ILogger? logger)
        {
            var options = new ForecasterOptions
            {
                WindowSize = WindowSize, Horizon = Horizon, ExogenousFeatures = exogenousFeatures, ConfidenceLevel = ConfidenceLevel,
                IntervalMethod = IntervalMethod, CalibrationFraction = CalibrationFraction, RefitOnFullSeries = RefitOnFullSeries, Cell = cell,
                HiddenSize = HiddenSize, Layers = NumberOfLayers, Dropout = Dropout, Seed = seed, MaxDegreeOfParallelism = MaxDegreeOfParallelism,
                Training = new TrainerOptions
                {
                    Epochs = NumberOfEpochs, BatchSize = BatchSize, LearningRate = LearningRate, EarlyStoppingPatience = EarlyStoppingPatience,
                    Seed = seed, Logger = logger,
                },
            };
            return options;
        }

        internal void Validate(RecurrentCellType cell)
        {
            Check(!string.IsNullOrWhiteSpace(OutputColumnName), nameof(OutputColumnName), OutputColumnName, "must name a column");
            Check(!string.IsNullOrWhiteSpace(InputColumnName), nameof(InputColumnName), InputColumnName, "must name a column");
            Check(ConfidenceLowerBoundColumn is null || ConfidenceLowerBoundColumn.Trim().Length > 0, nameof(ConfidenceLowerBoundColumn),
                ConfidenceLowerBoundColumn, "must name a column, or be null for none");
            Check(ConfidenceUpperBoundColumn is null || ConfidenceUpperBoundColumn.Trim().Length > 0, nameof(ConfidenceUpperBoundColumn),
                ConfidenceUpperBoundColumn, "must name a column, or be null for none");
            Check(ExogenousColumnNames is not null && ExogenousColumnNames.All(name => !string.IsNullOrWhiteSpace(name)), nameof(ExogenousColumnNames),
                ExogenousColumnNames is null ? null : string.Join(", ", ExogenousColumnNames), "must name columns (an empty array for none)");
            Check(NumberOfLayers >= 1, nameof(NumberOfLayers), NumberOfLayers, "must be at least 1");
            Check(HiddenSize >= 1, nameof(HiddenSize), HiddenSize, "must be at least 1");
            Check(NumberOfEpochs >= 1, nameof(NumberOfEpochs), NumberOfEpochs, "must be at least 1");
            Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
            Check(LearningRate > 0 && float.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be a positive finite number");
            Check(MaxDegreeOfParallelism >= 1, nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "must be at least 1");
            Check(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), EarlyStoppingPatience, "must be ≥ 0 (0 = off)");
            // Horizon, window, confidence level, calibration: checked where the core defines them, with its messages.
            var options = ToForecasterOptions(cell, ExogenousColumnNames!.Length, seed: 0, logger: null);
            options.Validate();
            options.Training.Validate(hasValidationData: true);
        }

        private static void Check(bool valid, string name, object? value, string rule)
        {
            if (!valid)
                throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} = {value ?? "null"} {rule}."));
        }
    }

    private readonly IHost _host;

    internal RecurrentForecastingEstimator(IHostEnvironment env, RecurrentCellType cell, Options options)
    {
        _host = Contracts.CheckRef(env, nameof(env)).Register(nameof(RecurrentForecastingEstimator));
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(cell);
        Cell = cell;
        EstimatorOptions = options;
    }

    /// <summary>The recurrent cell.</summary>
    public RecurrentCellType Cell { get; }

    /// <summary>The options this estimator was created with.</summary>
    public Options EstimatorOptions { get; }

    private SeriesColumns Columns => new(EstimatorOptions.InputColumnName, EstimatorOptions.ExogenousColumnNames);

    /// <summary>The input columns plus the forecast column and the bound columns asked for.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        Columns.Check(_host, inputSchema);
        var columns = inputSchema.ToDictionary(column => column.Name);
        foreach (string? name in new[] { EstimatorOptions.OutputColumnName, EstimatorOptions.ConfidenceLowerBoundColumn, EstimatorOptions.ConfidenceUpperBoundColumn })
            if (name is not null) columns[name] = new SchemaShape.Column(name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(columns.Values);
    }

    /// <summary>Reads the series (every row, in order) and fits the forecaster.</summary>
    public RecurrentForecastingTransformer Fit(IDataView input)
    {
        _host.CheckValue(input, nameof(input));
        var options = EstimatorOptions;
        var columns = Columns;
        int K = columns.Check(_host, input.Schema);
        using var channel = _host.Start("Fitting a forecaster");
        var (series, exogenous) = ReadSeries(input, columns, K);
        int seed = options.Seed ?? _host.Rand.Next();
        var logger = new ProgressLogger(channel, options.Logger);
        var forecasterOptions = options.ToForecasterOptions(Cell, K, seed, logger);
        string message = string.Create(CultureInfo.InvariantCulture,
            $"{Cell} forecaster: {series.Length} observations of '{columns.InputColumnName}', {K} exogenous features, window {options.WindowSize}, horizon {options.Horizon}, seed {seed}");
        channel.Info(message);
        options.Logger?.LogInformation("{Message}", message);
        RecurrentForecaster forecaster;
        try
        {
            forecaster = RecurrentForecaster.Fit(series, forecasterOptions, exogenous);
        }
        catch (ArgumentException exception) when (exception is not ArgumentOutOfRangeException)
        {
            throw new InvalidOperationException($"Column '{columns.InputColumnName}': {exception.Message}", exception);
        }
        return new RecurrentForecastingTransformer(_host, forecaster, columns, options.OutputColumnName, options.ConfidenceLowerBoundColumn,
            options.ConfidenceUpperBoundColumn);
    }

    /// <summary>The series <c>[N]</c> and its exogenous values <c>[N, K]</c> (step-major), every row of <paramref name="input"/> in order.</summary>
    internal static (float[] Series, float[] Exogenous) ReadSeries(IDataView input, SeriesColumns columns, int exogenousFeatures)
    {
        var series = new List<float>();
        var exogenous = new List<float>();
        using (var cursor = input.GetRowCursor(columns.Active(input.Schema)))
        {
            var reader = columns.CreateReader(cursor, exogenousFeatures);
            while (cursor.MoveNext())
            {
                reader.Read(cursor.Position);
                series.Add(reader.Observation);
                foreach (float value in reader.Exogenous) exogenous.Add(value);
            }
        }
        return (series.ToArray(), exogenous.ToArray());
    }
}
