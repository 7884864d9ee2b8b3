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
/// <c>Fit(trainData, validationData)</c> reads the validation data as the rows that follow the training rows:
/// they are the held-out tail the bounds are measured on (and early stopping watches), in place of
/// <see cref="Options.CalibrationFraction"/>.
/// </summary>
public sealed class RecurrentForecastingEstimator : RecurrentEstimator<RecurrentForecastingEstimator.Options, RecurrentForecastingTransformer>
{
    /// <summary>
    /// Options of <see cref="RecurrentForecastingEstimator"/>; names follow ML.NET's <c>ForecastBySsa</c>. Legend: W window, HZ
    /// horizon, K exogenous features. The network and training options are every recurrent trainer's, with the forecaster's
    /// defaults (H = 32, 60 epochs, batches of 16 windows, learning rate 0.005, no early stopping);
    /// <see cref="RecurrentTrainerOptionsBase.EmbeddingSize"/> and <see cref="RecurrentTrainerOptionsBase.BucketByLength"/>
    /// do not apply (the series is numeric and every window has W steps).
    /// </summary>
    public sealed class Options : RecurrentTrainerOptionsBase
    {
        /// <summary>Options with the forecaster's defaults.</summary>
        public Options()
        {
            FeatureColumnName = "Value";
            HiddenSize = 64;
            NumberOfEpochs = 60;
            BatchSize = 16;
            LearningRate = 0.005f;
            EarlyStoppingPatience = 0;
        }

        /// <summary>The output column: a vector of HZ forecasts.</summary>
        public string OutputColumnName { get; set; } = "Forecast";

        /// <summary>The series: a Single column, one observation per row, rows in time order (another name for <see cref="RecurrentTrainerOptionsBase.FeatureColumnName"/>).</summary>
        public string InputColumnName { get => FeatureColumnName; set => FeatureColumnName = value; }

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

        /// <summary>The core's options (the forecaster's and its training loop's), after checking the column names; the core checks the rest.</summary>
        internal ForecasterOptions ToForecasterOptions(RecurrentCellType cell, int exogenousFeatures, int seed, ILogger? logger) => new()
        {
            WindowSize = WindowSize, Horizon = Horizon, ExogenousFeatures = exogenousFeatures, ConfidenceLevel = ConfidenceLevel,
            IntervalMethod = IntervalMethod, CalibrationFraction = CalibrationFraction, RefitOnFullSeries = RefitOnFullSeries, Cell = cell,
            HiddenSize = HiddenSize, Layers = NumberOfLayers, Dropout = Dropout, Seed = seed, MaxDegreeOfParallelism = MaxDegreeOfParallelism,
            TrainingDataMemoryMegabytes = TrainingDataMemoryMegabytes, Training = ToTrainerOptions(cell, seed, hasValidationData: CalibrationFraction > 0, logger),
        };

        internal override void Validate()
        {
            base.Validate();
            Check(!string.IsNullOrWhiteSpace(OutputColumnName), nameof(OutputColumnName), OutputColumnName, "must name a column");
            Check(!string.IsNullOrWhiteSpace(InputColumnName), nameof(InputColumnName), InputColumnName, "must name a column");
            Check(ConfidenceLowerBoundColumn is null || ConfidenceLowerBoundColumn.Trim().Length > 0, nameof(ConfidenceLowerBoundColumn),
                ConfidenceLowerBoundColumn, "must name a column, or be null for none");
            Check(ConfidenceUpperBoundColumn is null || ConfidenceUpperBoundColumn.Trim().Length > 0, nameof(ConfidenceUpperBoundColumn),
                ConfidenceUpperBoundColumn, "must name a column, or be null for none");
            Check(ExogenousColumnNames is not null && ExogenousColumnNames.All(name => !string.IsNullOrWhiteSpace(name)), nameof(ExogenousColumnNames),
                ExogenousColumnNames is null ? null : string.Join(", ", ExogenousColumnNames), "must name columns (an empty array for none)");
            // Horizon, window, confidence level, calibration: checked where the core defines them, with its messages.
            ToForecasterOptions(RecurrentCellType.Lstm, ExogenousColumnNames!.Length, seed: 0, logger: null).Validate();
        }
    }

    internal RecurrentForecastingEstimator(IHostEnvironment env, RecurrentCellType cell, Options options)
        : base(env, nameof(RecurrentForecastingEstimator), cell, options)
    {
    }

    private SeriesColumns Columns => new(TrainerOptions.InputColumnName, TrainerOptions.ExogenousColumnNames);

    /// <summary>Checks the series and exogenous columns; adds the forecast column and the bound columns asked for.</summary>
    private protected override IEnumerable<SchemaShape.Column> OutputShape(SchemaShape inputSchema)
    {
        Columns.Check(Host, inputSchema);
        var options = TrainerOptions;
        foreach (string? name in new[] { options.OutputColumnName, options.ConfidenceLowerBoundColumn, options.ConfidenceUpperBoundColumn })
            if (name is not null) yield return new SchemaShape.Column(name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
    }

    /// <summary>Reads the series (every row, in order; then the validation rows, the held-out tail) and fits the forecaster.</summary>
    private protected override RecurrentForecastingTransformer Train(FitRun run, IDataView trainData, IDataView? validationData)
    {
        var options = TrainerOptions;
        var columns = Columns;
        int K = columns.Check(Host, trainData.Schema);
        var (series, exogenous) = ReadSeries(trainData, columns, K);
        var forecasterOptions = options.ToForecasterOptions(Cell, K, run.Seed, run.Logger);
        if (validationData is not null)
        {
            if (columns.Check(Host, validationData.Schema) != K)
                throw Host.Except("The validation data's exogenous columns hold a different number of features than the training data's.");
            var (tail, tailExogenous) = ReadSeries(validationData, columns, K);
            if (tail.Length == 0) throw Host.Except("The validation data has no row; pass the rows that follow the training rows, or call Fit(trainData).");
            // The validation rows are the held-out tail: early stopping and reduce-on-plateau watch them whatever CalibrationFraction says.
            forecasterOptions = forecasterOptions with
            {
                CalibrationFraction = (double)tail.Length / (series.Length + tail.Length), Training = run.TrainingOptions(hasValidationData: true),
            };
            series = [.. series, .. tail];
            exogenous = [.. exogenous, .. tailExogenous];
        }
        // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
        run.Report(string.Create(CultureInfo.InvariantCulture,
            $"{Cell} forecaster: {series.Length} observations of '{columns.InputColumnName}', {K} exogenous features, window {options.WindowSize}, " +
            $"horizon {options.Horizon}, seed {run.Seed}"));
        RecurrentForecaster forecaster;
        try
        {
            forecaster = RecurrentForecaster.Fit(series, forecasterOptions, exogenous, run.CancellationToken);
        }
        catch (ArgumentException exception) when (exception is not ArgumentOutOfRangeException)
        {
            throw new InvalidOperationException($"Column '{columns.InputColumnName}': {exception.Message}", exception);
        }
        if (forecaster.History is { } history) run.ReportEnd(history);
        return new RecurrentForecastingTransformer(Host, forecaster, columns, options.OutputColumnName, options.ConfidenceLowerBoundColumn,
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
