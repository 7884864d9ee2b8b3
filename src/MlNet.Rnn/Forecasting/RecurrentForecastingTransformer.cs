using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Forecasting;
using MlNet.Rnn.Scoring;

[assembly: LoadableClass(typeof(RecurrentForecastingTransformer), null, typeof(SignatureLoadModel),
    "Recurrent forecasting transformer (RNN, LSTM, GRU)", RecurrentForecastingTransformer.LoaderSignature)]

namespace MlNet.Rnn;

/// <summary>
/// A fitted recurrent forecaster in a pipeline. <see cref="Transform"/> reads the rows in order as the observations that
/// follow the fitted series and, after each row, outputs the forecast of the HZ values that follow it (a vector of HZ), with
/// the lower and upper confidence bounds when asked, as ML.NET's SSA forecasting transformer does; the model is never
/// refitted. <see cref="CreateForecastingEngine{TIn, TOut}(MLContext)"/> gives an engine that takes observations one at a
/// time and can check-point its state. Saved and loaded by <c>mlContext.Model.Save/Load</c>, the forecaster inside as the
/// core's model file.
/// </summary>
public sealed class RecurrentForecastingTransformer : ITransformer, ICanSaveModel, IBatchScoringTask
{
    internal const string LoaderSignature = "MlNetRnnForecaster";
    private const string ForecasterStream = "RecurrentForecaster.safetensors";
    private const uint Version = 0x00010001; // initial

    /// <summary>Rows whose forecasts one forward pass computes (as many as <see cref="RecurrentTrainerOptionsBase.ScoringBatchSize"/>'s default).</summary>
    private const int ScoringBatchSize = 256;

    private readonly IHost _host;
    private readonly Lazy<byte[]> _snapshot;

    internal RecurrentForecastingTransformer(IHostEnvironment env, RecurrentForecaster forecaster, SeriesColumns columns, string outputColumnName,
        string? confidenceLowerBoundColumn, string? confidenceUpperBoundColumn)
    {
        _host = Contracts.CheckRef(env, nameof(env)).Register(nameof(RecurrentForecastingTransformer));
        Forecaster = forecaster;
        Columns = columns;
        OutputColumnName = outputColumnName;
        ConfidenceLowerBoundColumn = confidenceLowerBoundColumn;
        ConfidenceUpperBoundColumn = confidenceUpperBoundColumn;
        _snapshot = new(() =>
        {
            using var stream = new MemoryStream();
            forecaster.Save(stream);
            return stream.ToArray();
        });
    }

    /// <summary>The fitted forecaster (its own methods are not thread-safe; scoring runs in engines over it and never changes it).</summary>
    public RecurrentForecaster Forecaster { get; }

    /// <summary>The series column.</summary>
    public string InputColumnName => Columns.InputColumnName;

    /// <summary>The exogenous feature columns.</summary>
    public IReadOnlyList<string> ExogenousColumnNames => Columns.ExogenousColumnNames;

    /// <summary>The forecast column: a vector of HZ.</summary>
    public string OutputColumnName { get; }

    /// <summary>The lower-bound column, or null.</summary>
    public string? ConfidenceLowerBoundColumn { get; }

    /// <summary>The upper-bound column, or null.</summary>
    public string? ConfidenceUpperBoundColumn { get; }

    /// <summary>False: a forecast depends on the rows before it; use <see cref="CreateForecastingEngine{TIn, TOut}(MLContext)"/> for one row at a time.</summary>
    public bool IsRowToRowMapper => false;

    internal SeriesColumns Columns { get; }

    /// <summary>The output columns: forecast, lower bound, upper bound (null when not asked for).</summary>
    internal string?[] OutputNames => [OutputColumnName, ConfidenceLowerBoundColumn, ConfidenceUpperBoundColumn];

    DataViewSchema.DetachedColumn[] IBatchScoringTask.OutputColumns =>
        [.. OutputNames.OfType<string>().Select(name => new DataViewSchema.DetachedColumn(name, new VectorDataViewType(NumberDataViewType.Single, Forecaster.Horizon)))];

    int IBatchScoringTask.ScoringBatchSize => ScoringBatchSize;

    int IBatchScoringTask.MaxDegreeOfParallelism => Forecaster.Model.Options.MaxDegreeOfParallelism;

    bool IBatchScoringTask.InOrder => true;

    IEnumerable<DataViewSchema.Column> IBatchScoringTask.Dependencies(DataViewSchema inputSchema) => Columns.Active(inputSchema);

    IBatchScorer IBatchScoringTask.CreateScorer(DataViewRow input, int maxDegreeOfParallelism) => new ForecastScorer(this, input);

    /// <summary>The input schema followed by the forecast and bound columns; throws when an input column is missing or mistyped.</summary>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        CheckInput(inputSchema);
        return BatchScoredDataView.AppendTo(inputSchema, this);
    }

    /// <summary>
    /// A lazy view of <paramref name="input"/> with the forecast after each row: rows are read in order by one cursor, and the
    /// forecasts of a batch of rows are computed in one forward pass.
    /// </summary>
    public IDataView Transform(IDataView input)
    {
        _host.CheckValue(input, nameof(input));
        CheckInput(input.Schema);
        return new BatchScoredDataView(input, this);
    }

    /// <summary>Not offered: a forecast depends on the rows before it. Use <see cref="CreateForecastingEngine{TIn, TOut}(MLContext)"/>.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new NotSupportedException(
        "A recurrent forecaster's output depends on the rows before it, so it has no row-to-row mapper (and no PredictionEngine); " +
        "use transformer.CreateForecastingEngine<TIn, TOut>(mlContext), which keeps the latest observations.");

    /// <summary>
    /// An engine that starts at the end of the fitted series, takes new observations one at a time (<c>TIn</c> has the series
    /// and exogenous columns), forecasts again without refitting (<c>TOut</c> receives the forecast and bound columns), and
    /// check-points its state, as ML.NET's <c>TimeSeriesPredictionEngine</c>.
    /// </summary>
    public RecurrentForecastingEngine<TIn, TOut> CreateForecastingEngine<TIn, TOut>(MLContext mlContext)
        where TIn : class where TOut : class, new() => new(mlContext, [], this);

    /// <summary>The exogenous feature count <paramref name="schema"/> gives; throws when it differs from the fitted one.</summary>
    internal int CheckInput(DataViewSchema schema)
    {
        int K = Columns.Check(_host, schema);
        if (K != Forecaster.ExogenousFeatures)
            throw _host.Except($"The exogenous columns ({string.Join(", ", Columns.ExogenousColumnNames)}) hold {K} values per row; the forecaster was fitted with {Forecaster.ExogenousFeatures}.");
        return K;
    }

    /// <summary>This transformer with another forecaster (a check-pointed state).</summary>
    internal RecurrentForecastingTransformer With(RecurrentForecaster forecaster) =>
        new(_host, forecaster, Columns, OutputColumnName, ConfidenceLowerBoundColumn, ConfidenceUpperBoundColumn);

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "RNNFCAST",
        verWrittenCur: Version,
        verReadableCur: Version,
        verWeCanReadBack: Version,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(RecurrentForecastingTransformer).Assembly.GetName().Name);

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        _host.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        // *** Binary format ***
        // string: input column; int: exogenous column count, then each name
        // string: output column; string or null: lower-bound column; string or null: upper-bound column
        // stream RecurrentForecaster.safetensors: the forecaster with its latest window, as the core's model file
        ctx.SaveNonEmptyString(Columns.InputColumnName);
        ctx.Writer.Write(Columns.ExogenousColumnNames.Length);
        foreach (string name in Columns.ExogenousColumnNames) ctx.SaveNonEmptyString(name);
        ctx.SaveNonEmptyString(OutputColumnName);
        ctx.SaveStringOrNull(ConfidenceLowerBoundColumn);
        ctx.SaveStringOrNull(ConfidenceUpperBoundColumn);
        ctx.SaveBinaryStream(ForecasterStream, stream => stream.Write(_snapshot.Value));
    }

    /// <summary>The loader ML.NET finds through <c>[LoadableClass]</c>.</summary>
    internal static RecurrentForecastingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel(GetVersionInfo());
        string input = ctx.LoadNonEmptyString();
        int count = ctx.Reader.ReadInt32();
        env.CheckDecode(count >= 0, "bad exogenous column count");
        var exogenous = new string[count];
        for (int i = 0; i < count; i++) exogenous[i] = ctx.LoadNonEmptyString();
        string output = ctx.LoadNonEmptyString();
        string? lower = ctx.LoadStringOrNull(), upper = ctx.LoadStringOrNull();
        RecurrentForecaster? forecaster = null;
        if (!ctx.TryLoadBinaryStream(ForecasterStream, stream =>
            {
                try
                {
                    forecaster = RecurrentForecaster.Load(stream.BaseStream, $"the forecaster of the saved model ({ForecasterStream})");
                }
                catch (InvalidDataException exception)
                {
                    throw env.Except(exception, $"The saved model's forecaster cannot be read: {exception.Message}");
                }
            }) || forecaster is null)
            throw env.ExceptDecode($"The saved model has no {ForecasterStream}; it was not saved by MlNet.Rnn.");
        env.CheckDecode(forecaster.ExogenousFeatures >= count, "the forecaster does not match its exogenous columns");
        return new RecurrentForecastingTransformer(env, forecaster, new SeriesColumns(input, exogenous), output, lower, upper);
    }
}
