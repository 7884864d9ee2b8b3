using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Logging;

namespace MlNet.Rnn;

/// <summary>
/// The one ML.NET shell every recurrent trainer is: the cell and the options, the output schema, <c>Fit</c> with and
/// without validation data, the seed (the options', else one from the <see cref="MLContext"/>), progress to
/// <see cref="MLContext.Log"/> and the options' logger, and the report of how training ended. A task supplies the shape
/// of its target through two hooks: the columns it adds (after checking the ones it reads), and how it reads the data,
/// trains the core's model through the one training loop and wraps it in its transformer.
/// </summary>
/// <typeparam name="TOptions">The task's options.</typeparam>
/// <typeparam name="TTransformer">What <c>Fit</c> returns.</typeparam>
public abstract class RecurrentEstimator<TOptions, TTransformer> : IEstimator<TTransformer>
    where TOptions : RecurrentTrainerOptionsBase
    where TTransformer : class, ITransformer
{
    private protected RecurrentEstimator(IHostEnvironment env, string registrationName, RecurrentCellType cell, TOptions options)
    {
        Host = Contracts.CheckRef(env, nameof(env)).Register(registrationName);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Cell = cell;
        TrainerOptions = options;
    }

    /// <summary>The cell this trainer trains.</summary>
    public RecurrentCellType Cell { get; }

    /// <summary>The options this trainer was created with.</summary>
    public TOptions TrainerOptions { get; }

    private protected IHost Host { get; }

    /// <summary>The input columns plus the task's output columns; throws naming a missing or mistyped column.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Host.CheckValue(inputSchema, nameof(inputSchema));
        var columns = inputSchema.ToDictionary(column => column.Name);
        foreach (var column in OutputShape(inputSchema)) columns[column.Name] = column;
        return new SchemaShape(columns.Values);
    }

    /// <summary>Trains on <paramref name="input"/>.</summary>
    public TTransformer Fit(IDataView input) => Train(input, null);

    /// <summary>
    /// Trains on <paramref name="trainData"/>, measuring the loss on <paramref name="validationData"/> after every epoch; with
    /// <see cref="RecurrentTrainerOptionsBase.EarlyStoppingPatience"/> &gt; 0 training stops when it no longer improves and the
    /// model keeps the weights of its best epoch.
    /// </summary>
    public TTransformer Fit(IDataView trainData, IDataView validationData)
    {
        Host.CheckValue(validationData, nameof(validationData));
        return Train(trainData, validationData);
    }

    /// <summary>Checks the columns the task reads in <paramref name="inputSchema"/> and describes the columns it adds.</summary>
    private protected abstract IEnumerable<SchemaShape.Column> OutputShape(SchemaShape inputSchema);

    /// <summary>Reads the data, trains through <paramref name="run"/>'s training options and wraps the model.</summary>
    private protected abstract TTransformer Train(FitRun run, IDataView trainData, IDataView? validationData);

    private TTransformer Train(IDataView trainData, IDataView? validationData)
    {
        Host.CheckValue(trainData, nameof(trainData));
        using var channel = Host.Start("Training");
        using var run = new FitRun(channel, TrainerOptions, Cell, TrainerOptions.Seed ?? Host.Rand.Next(), Host);
        try
        {
            return Train(run, trainData, validationData);
        }
        catch (OperationCanceledException exception) when (run.CancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(
                $"{GetType().Name}.Fit was cancelled ({run.CancelledBy}); no model was made, and the rows it had read were dropped with their temporary file.",
                exception, run.CancelledToken);
        }
    }
}

/// <summary>
/// One <c>Fit</c>: its channel, seed and logger, the core's training options, its cancellation, and what it reports.
/// Cancellation comes from the options' <see cref="RecurrentTrainerOptionsBase.CancellationToken"/> or from the
/// <see cref="MLContext"/>'s cancellation (<c>CancelExecution</c>, which ML.NET's AutoML and the Microsoft.ML.Experimental
/// package call), which the run watches every 50 ms (ML.NET's hosts raise no event) through a <see cref="CancellationWatch"/>.
/// </summary>
internal sealed class FitRun : IDisposable
{
    private readonly RecurrentTrainerOptionsBase _options;
    private readonly RecurrentCellType _cell;
    private readonly CancellationTokenSource _cancellation;
    private readonly CancellationWatch? _watch;

    public FitRun(IChannel channel, RecurrentTrainerOptionsBase options, RecurrentCellType cell, int seed, IHost? host = null)
    {
        Channel = channel;
        _options = options;
        _cell = cell;
        Seed = seed;
        Logger = new ProgressLogger(channel, options.Logger);
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken);
        if (host is ICancelable cancelable)
            _watch = new CancellationWatch(_cancellation, TimeSpan.FromMilliseconds(50), () => cancelable.IsCanceled, "MlNet.Rnn Fit: MLContext.CancelExecution");
    }

    public IChannel Channel { get; }

    /// <summary>Cancelled when the options' token or the <see cref="MLContext"/> is; the core checks it between batches.</summary>
    public CancellationToken CancellationToken => _cancellation.Token;

    /// <summary>The token that was cancelled: the options' when it was, else this run's.</summary>
    public CancellationToken CancelledToken => _options.CancellationToken.IsCancellationRequested ? _options.CancellationToken : CancellationToken;

    /// <summary>Who cancelled, for the message.</summary>
    public string CancelledBy => _options.CancellationToken.IsCancellationRequested ? "the options' CancellationToken" : "MLContext.CancelExecution";

    public void Dispose()
    {
        _watch?.Dispose();
        _cancellation.Dispose();
    }

    /// <summary>The seed of initialisation, dropout and shuffling.</summary>
    public int Seed { get; }

    /// <summary>The logger the core reports to: the ML.NET channel and the options' logger.</summary>
    public ILogger Logger { get; }

    /// <summary>The one training loop's settings for this fit.</summary>
    public TrainerOptions TrainingOptions(bool hasValidationData) => _options.ToTrainerOptions(_cell, Seed, hasValidationData, Logger);

    /// <summary>A message to the channel and the options' logger.</summary>
    public void Report(string message)
    {
        Channel.Info(message);
        _options.Logger?.LogInformation("{Message}", message);
    }

    /// <summary>A warning to the channel and the options' logger.</summary>
    public void Warn(string message)
    {
        Channel.Warning(message);
        _options.Logger?.LogWarning("{Message}", message);
    }

    /// <summary>What the fit starts from: "<paramref name="what"/>, N parameters, seed S".</summary>
    public void ReportStart(string what, int parameters) =>
        Report(string.Create(CultureInfo.InvariantCulture, $"{what}, {parameters} parameters, seed {Seed}"));

    /// <summary>How training ended, when not by running every epoch.</summary>
    public void ReportEnd(TrainingHistory history)
    {
        if (history.StoppedEarly)
            Report(string.Create(CultureInfo.InvariantCulture, $"Stopped early after epoch {history.Epochs.Count}; kept epoch {history.BestEpoch}."));
    }
}
