using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Logging;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// One configuration of an experiment: a model and its trainer per fold (one fold without cross-validation), trained in
/// stretches of epochs. Between stretches nothing of it stays in memory but its metrics: a paused trial is a checkpoint
/// of the core's trainer per fold (weights, optimizer moments, counters, history), from which a promotion continues
/// bit-identically to a run that trained all its epochs at once; the weights of its best epoch are a file beside it.
/// </summary>
internal sealed class Trial : IRungTrial
{
    private readonly PreparedSequenceData[] _data;
    private readonly Func<RecurrentCellType, RecurrentTrainerOptions, PreparedSequenceData, int, SequenceModelOptions> _modelOptions;
    private readonly Func<int, ILoss> _createLoss;
    private readonly ILogger? _logger;
    private readonly string _folder;
    private readonly RecurrentExperimentMetric _metric;
    private readonly TrainingHistory[] _histories;
    private readonly List<double> _metricPerEpoch = [];
    private readonly Stopwatch _clock = new();
    private double _bestScore = double.NegativeInfinity;
    private bool _checkpointed, _hasBestWeights;

    private sealed record Fold(SequenceModel Model, SequenceTrainer Trainer, EpochWatch Watch);

    public Trial(int id, RecurrentCellType cell, RecurrentTrainerOptions options, RecurrentExperimentMetric metric,
        PreparedSequenceData[] data,
        Func<RecurrentCellType, RecurrentTrainerOptions, PreparedSequenceData, int, SequenceModelOptions> modelOptions, Func<int, ILoss> createLoss,
        ILogger? logger, string folder)
    {
        Id = id;
        Cell = cell;
        Options = options;
        _metric = metric;
        _data = data;
        _modelOptions = modelOptions;
        _createLoss = createLoss;
        _logger = logger;
        _folder = folder;
        _histories = data.Select(_ => new TrainingHistory()).ToArray();
    }

    public int Id { get; }

    public RecurrentCellType Cell { get; }

    /// <summary>The trial's options; their seed seeds its models and trainers.</summary>
    public RecurrentTrainerOptions Options { get; }

    public RecurrentTrialStatus Status { get; private set; } = RecurrentTrialStatus.Paused;

    /// <summary>The highest rung this trial reached; −1 before its first stretch.</summary>
    public int Rung { get; set; } = -1;

    public int Epochs => _metricPerEpoch.Count;

    public Exception? Exception { get; private set; }

    /// <summary>The best epoch (1-based) by the metric, 0 before any.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>The metric at <see cref="BestEpoch"/>, NaN before any epoch.</summary>
    public double BestMetric => BestEpoch > 0 ? _metricPerEpoch[BestEpoch - 1] : double.NaN;

    /// <summary>The best metric turned so that larger is better (−∞ before any epoch and after divergence).</summary>
    public double Score => Status == RecurrentTrialStatus.Diverged ? double.NegativeInfinity : RecurrentExperimentRanking.Score(_metric, BestMetric);

    /// <summary>The first fold's training history.</summary>
    public TrainingHistory History => _histories[0];

    /// <summary>
    /// Trains every fold until it has done <paramref name="targetEpochs"/> epochs, its early stopping ends it, it diverges, or
    /// <paramref name="experimentToken"/> (budget or caller) is cancelled mid-epoch; then writes what a later stretch or the
    /// result needs and lets go of the models. Returns false when the experiment's token cut the stretch.
    /// </summary>
    public bool Advance(int targetEpochs, CancellationToken experimentToken)
    {
        _clock.Start();
        bool interrupted = false, finished = false;
        var folds = Load();
        try
        {
            for (int f = 0; f < folds.Length; f++)
            {
                var fold = folds[f];
                fold.Watch.Arm(targetEpochs);
                try
                {
                    var history = fold.Trainer.Train(_data[f].Training, _data[f].Validation, experimentToken);
                    finished |= history.StoppedEarly || history.Epochs.Count >= Options.EpochsOrDefault;
                    // The budget ran out during the stretch's last epoch: the search ends here, as if cut before the next batch.
                    if (experimentToken.IsCancellationRequested && !finished)
                    {
                        interrupted = true;
                        break;
                    }
                }
                catch (OperationCanceledException)
                {
                    interrupted = true;
                    break;
                }
                catch (TrainingDivergedException exception)
                {
                    Exception = exception;
                    Status = RecurrentTrialStatus.Diverged;
                    break;
                }
            }
        }
        finally
        {
            _clock.Stop();
        }
        UpdateMetrics();
        if (Status != RecurrentTrialStatus.Diverged)
        {
            if (interrupted) Status = RecurrentTrialStatus.Interrupted;
            else if (finished)
                Status = folds.Any(fold => fold.Trainer.History.StoppedEarly) ? RecurrentTrialStatus.EarlyStopped : RecurrentTrialStatus.Completed;
        }
        Unload(folds);
        return !interrupted;
    }

    /// <summary>A model of the first fold's shape holding the weights of the trial's best epoch.</summary>
    public SequenceModel BestModel()
    {
        var model = new SequenceModel(ModelOptions(0));
        if (_hasBestWeights) MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(BestWeightsPath)).CopyTo(model.Parameters.Values);
        return model;
    }

    public RecurrentRunDetail Detail() => new(Id, Cell, Options, BestMetric, _metric, _metricPerEpoch.ToArray(), BestEpoch, Status,
        _clock.Elapsed.TotalSeconds, Exception);

    private string BestWeightsPath => Path.Combine(_folder, $"trial-{Id}-best.bin");

    private string CheckpointPath(int fold) => Path.Combine(_folder, $"trial-{Id}-fold-{fold}.safetensors");

    private SequenceModelOptions ModelOptions(int fold) => _modelOptions(Cell, Options, _data[fold], Options.Seed!.Value);

    /// <summary>Builds each fold's model and trainer, from its checkpoint after the first stretch.</summary>
    private Fold[] Load() => _data.Select((data, f) =>
    {
        var model = new SequenceModel(ModelOptions(f));
        var watch = new EpochWatch(model, _metric, keepBestWeights: f == 0, f == 0 ? _bestScore : double.NegativeInfinity);
        // With cross-validation the folds must train the same epochs, so their own early stopping is off; halving stops trials.
        var trainerOptions = Options.ToTrainerOptions(Cell, Options.Seed!.Value, hasValidationData: true, _logger is null ? null : new DebugLogger(_logger))
            with { EpochCallback = watch.OnEpoch };
        if (_data.Length > 1) trainerOptions = trainerOptions with { EarlyStoppingPatience = 0 };
        var trainer = new SequenceTrainer(model, _createLoss(data.OutputSize), trainerOptions);
        if (_checkpointed) trainer.ResumeFrom(CheckpointPath(f));
        watch.History = trainer.History;
        _histories[f] = trainer.History;
        return new Fold(model, trainer, watch);
    }).ToArray();

    /// <summary>Writes the best weights (when a better epoch came) and, when the trial may continue, a checkpoint per fold.</summary>
    private void Unload(Fold[] folds)
    {
        var first = folds[0].Watch;
        _bestScore = first.BestScore;
        if (first.BestWeights is { } best)
        {
            using var stream = File.Create(BestWeightsPath);
            stream.Write(MemoryMarshal.AsBytes(best.AsSpan()));
            _hasBestWeights = true;
        }
        if (Status != RecurrentTrialStatus.Paused) return;
        for (int f = 0; f < folds.Length; f++) folds[f].Trainer.SaveCheckpoint(CheckpointPath(f));
        _checkpointed = true;
    }

    /// <summary>The metric of each epoch every fold finished, averaged over the folds, and the best epoch.</summary>
    private void UpdateMetrics()
    {
        int epochs = _histories.Min(history => history.Epochs.Count);
        for (int e = _metricPerEpoch.Count; e < epochs; e++)
        {
            double sum = 0;
            foreach (var history in _histories) sum += RecurrentExperimentRanking.Value(_metric, history.Epochs[e]);
            _metricPerEpoch.Add(sum / _histories.Length);
            double score = RecurrentExperimentRanking.Score(_metric, _metricPerEpoch[e]);
            if (BestEpoch == 0 || score > RecurrentExperimentRanking.Score(_metric, _metricPerEpoch[BestEpoch - 1])) BestEpoch = e + 1;
        }
    }
}
