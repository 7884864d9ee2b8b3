using System.Globalization;
using System.Numerics.Tensors;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// The one training loop every task trains through. An epoch: the task plans its steps (shuffled, bucketed, or streams at
/// a random offset); each step sets the learning rate from the schedule, zeroes the gradients, lets the task run forward,
/// loss and backward, stops with <see cref="TrainingDivergedException"/> on a non-finite loss or gradient (before the
/// optimizer step, so the model keeps its last finite weights), clips by global norm and by value, and steps the optimizer.
/// After the epoch: validation, early stopping that restores the best weights, reduce-on-plateau, the epoch callback,
/// checkpoints, progress to the logger; the time budget and cancellation are checked between steps. The same seeds and
/// data give bit-identical weights, and a run resumed from a checkpoint continues exactly as an uninterrupted one.
/// </summary>
/// <remarks>
/// The loop keeps its state (optimizer moments, best weights, counters, history) between calls to <see cref="Train"/>, so
/// a second call continues after the epochs already done, up to <see cref="TrainerOptions.Epochs"/>.
/// </remarks>
public sealed class TrainingLoop
{
    private const string BestTensor = ModelFile.CheckpointPrefix.Trainer + "best";

    private readonly ParameterSet _parameters;
    private readonly string _configuration;
    private readonly IReadOnlyDictionary<string, string>? _modelMetadata;
    private readonly ReduceOnPlateau? _plateau;
    private readonly float[] _bestValues;
    private double _bestLoss = double.PositiveInfinity, _bestAccuracy = double.NegativeInfinity;
    private int _badEpochs, _epochsDone;
    private float _baseRate;

    /// <summary>Prepares training of <paramref name="parameters"/> (a whole model's set) under <paramref name="options"/>.</summary>
    /// <param name="parameters">The parameters the tasks given to <see cref="Train"/> train.</param>
    /// <param name="options">The options; checked here, and again against each task's data.</param>
    /// <param name="configurationJson">The model's configuration, written into checkpoints and checked on resume.</param>
    /// <param name="modelMetadata">What else the model's own file holds in its metadata (e.g. a vocabulary), so a checkpoint also loads as a model.</param>
    public TrainingLoop(ParameterSet parameters, TrainerOptions options, string configurationJson, IReadOnlyDictionary<string, string>? modelMetadata = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configurationJson);
        if (parameters.Prefix.Length > 0)
            throw new ArgumentException($"The parameters are the scope '{parameters.Prefix}' of a model; train the model's whole set.", nameof(parameters));
        options.Validate(hasValidationData: true);
        _parameters = parameters;
        _configuration = configurationJson;
        _modelMetadata = modelMetadata;
        Options = options;
        _baseRate = options.LearningRate;
        _bestValues = new float[parameters.Count];
        Optimizer = Optimizer.Create(parameters, options);
        if (options.ReduceOnPlateau)
            _plateau = new ReduceOnPlateau(factor: options.PlateauFactor, patience: options.PlateauPatience, minimumRate: options.MinimumLearningRate);
    }

    /// <summary>The options of this loop.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The optimizer built from the options.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Reports of every finished epoch, and how the last run ended.</summary>
    public TrainingHistory History { get; } = new();

    /// <summary>
    /// Trains until <see cref="TrainerOptions.Epochs"/> epochs are done (counting epochs restored from a checkpoint), early
    /// stopping or the epoch callback ends it, or <see cref="TrainerOptions.MaxTrainingTime"/> runs out. Checks
    /// <paramref name="cancellationToken"/> before every step.
    /// </summary>
    /// <exception cref="TrainingDivergedException">A loss or gradient became non-finite; the model keeps its last finite weights.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Train(ITrainingTask task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (task.Parameters.Prefix.Length > 0 || task.Parameters.Count != _parameters.Count)
            throw new ArgumentException("The task trains other parameters than this loop was made for.", nameof(task));
        Options.Validate(task.HasValidation);
        var logger = Options.Logger;
        var time = Options.TimeProvider ?? TimeProvider.System;
        long start = time.GetTimestamp();
        int stepsPerEpoch = Math.Max(1, task.StepsPerEpoch);
        long plannedSteps = (long)Options.Epochs * stepsPerEpoch;
        ILearningRateSchedule schedule = Options.Schedule switch
        {
            ScheduleKind.StepDecay => new StepDecaySchedule(Options.StepDecayEpochs, Options.StepDecayGamma),
            ScheduleKind.Cosine => new CosineSchedule((int)Math.Min(plannedSteps, int.MaxValue), Math.Min(Options.WarmupSteps, (int)Math.Min(plannedSteps, int.MaxValue) - 1),
                Options.MinimumLearningRate),
            _ => new ConstantSchedule(),
        };
        var stopReason = TrainingStopReason.EpochsCompleted;
        // How the kept epoch was judged: a best accuracy is recorded only when accuracy judged it (a run resumed at its last
        // epoch trains none, and still says so).
        bool byAccuracy = _bestAccuracy > double.NegativeInfinity;
        int startEpoch = _epochsDone;
        for (int epoch = startEpoch + 1; epoch <= Options.Epochs; epoch++)
        {
            long epochStart = time.GetTimestamp();
            // Every epoch draws from its own seeds, so a run resumed from a checkpoint continues exactly as an uninterrupted one.
            int steps = task.BeginEpoch(epoch, Options.Shuffle ? new Random(Mix(Options.Seed, epoch)) : null);
            double lossSum = 0, weightSum = 0, normSum = 0;
            long examples = 0;
            int done = 0;
            bool outOfTime = false;
            for (int step = 0; step < steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Optimizer.LearningRate = Rate(schedule, stepsPerEpoch, plannedSteps, time.GetElapsedTime(start));
                _parameters.ZeroGradients();
                var (loss, weight, read) = task.Step(step);
                if (!double.IsFinite(loss)) throw new TrainingDivergedException(epoch, step + 1, loss, double.NaN);
                float norm = GradientClipping.GlobalNorm(_parameters.Gradients);
                if (!float.IsFinite(norm)) throw new TrainingDivergedException(epoch, step + 1, loss, norm);
                if (Options.GradientClipNorm > 0) GradientClipping.ClipByGlobalNorm(_parameters.Gradients, Options.GradientClipNorm);
                if (Options.GradientClipValue > 0) GradientClipping.ClipByValue(_parameters.Gradients, Options.GradientClipValue);
                Optimizer.Step();
                lossSum += loss * weight;
                weightSum += weight;
                normSum += norm;
                examples += read;
                done++;
                if (Options.MaxTrainingTime is TimeSpan budget && time.GetElapsedTime(start) >= budget)
                {
                    outOfTime = true;
                    break;
                }
            }

            double? validationLoss = null, metric = null;
            if (task.HasValidation) (validationLoss, metric) = task.Evaluate();
            var elapsed = time.GetElapsedTime(start);
            double seconds = time.GetElapsedTime(epochStart).TotalSeconds;
            var report = new EpochReport(epoch, weightSum > 0 ? lossSum / weightSum : 0, validationLoss, metric, task.MetricName,
                done > 0 ? normSum / done : 0, Optimizer.LearningRate, examples / Math.Max(seconds, 1e-9), elapsed,
                outOfTime ? TimeSpan.Zero : Remaining(elapsed, epoch - startEpoch, Options.Epochs - epoch));
            History.Epochs.Add(report);
            _epochsDone = epoch;
            Log(logger, report, task.ExampleName);

            bool stop = false;
            if (validationLoss is double current)
            {
                byAccuracy = Options.EarlyStoppingOnAccuracy && task.MetricIsAccuracy && metric is not null;
                double accuracy = metric ?? double.NegativeInfinity;
                if (byAccuracy ? accuracy > _bestAccuracy || (accuracy == _bestAccuracy && current < _bestLoss) : current < _bestLoss)
                {
                    _bestLoss = current;
                    _bestAccuracy = byAccuracy ? accuracy : double.NegativeInfinity;
                    _badEpochs = 0;
                    History.BestEpoch = epoch;
                    _parameters.ReadOnlyValues.CopyTo(_bestValues);
                }
                else
                {
                    _badEpochs++;
                    stop = Options.EarlyStoppingPatience > 0 && _badEpochs >= Options.EarlyStoppingPatience && Optimizer.StepCount >= Options.MinimumSteps;
                }
                if (_plateau is not null)
                {
                    float reduced = _plateau.Update(current, _baseRate);
                    if (reduced < _baseRate) logger?.LogInformation("Validation loss has not improved: learning rate {Old:g3} → {New:g3}.", _baseRate, reduced);
                    _baseRate = reduced;
                }
            }
            else
            {
                History.BestEpoch = epoch;
            }
            var decision = Options.EpochCallback?.Invoke(report) ?? EpochDecision.Continue;
            if ((Options.CheckpointEvery > 0 && epoch % Options.CheckpointEvery == 0) || decision.HasFlag(EpochDecision.Checkpoint))
                SaveCheckpoint(Options.CheckpointPath
                    ?? throw new InvalidOperationException("The epoch callback asked for a checkpoint but CheckpointPath is not set."));
            if (stop) stopReason = TrainingStopReason.EarlyStopping;
            else if (outOfTime) stopReason = TrainingStopReason.TimeBudget;
            else if (decision.HasFlag(EpochDecision.Stop)) stopReason = TrainingStopReason.Callback;
            else continue;
            break;
        }
        History.StoppedEarly = stopReason == TrainingStopReason.EarlyStopping;
        History.StopReason = stopReason;
        History.Steps = Optimizer.StepCount;
        // A stop asked by the callback is a pause: the weights stay as they are, so a checkpoint now continues exactly.
        bool restore = stopReason != TrainingStopReason.Callback && Options.EarlyStoppingPatience > 0 && task.HasValidation
            && History.BestEpoch > 0 && History.BestEpoch != _epochsDone;
        if (restore) _bestValues.CopyTo(_parameters.Values);
        string judged = byAccuracy ? "accuracy" : "loss";
        logger?.LogInformation("Training stopped: {Reason} after {Epochs} epochs and {Steps} optimizer steps{Restored}.",
            Describe(stopReason, judged), _epochsDone, History.Steps,
            restore ? string.Create(CultureInfo.InvariantCulture, $"; restored the weights of epoch {History.BestEpoch}, the best validation {judged}") : "");
        return History;
    }

    /// <summary>
    /// Writes the model, the optimizer's moments, the best weights so far and the loop's counters to one model file (which
    /// the model's own loader also reads as a plain model), atomically.
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var state = new Dictionary<string, float[]>(StringComparer.Ordinal);
        Optimizer.SaveState(state);
        var tensors = state.Select(pair => (ModelFile.CheckpointPrefix.Optimizer + pair.Key, new[] { pair.Value.Length }, (ReadOnlyMemory<float>)pair.Value))
            .Append((BestTensor, new[] { _bestValues.Length }, _bestValues))
            .ToArray();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (_modelMetadata is not null)
            foreach (var (key, value) in _modelMetadata) metadata[key] = value;
        metadata["trainer.optimizer"] = Optimizer.GetType().Name;
        metadata["trainer.epochs_done"] = _epochsDone.ToString(CultureInfo.InvariantCulture);
        metadata["trainer.best_loss"] = _bestLoss.ToString("R", CultureInfo.InvariantCulture);
        metadata["trainer.best_accuracy"] = _bestAccuracy.ToString("R", CultureInfo.InvariantCulture);
        metadata["trainer.bad_epochs"] = _badEpochs.ToString(CultureInfo.InvariantCulture);
        metadata["trainer.base_rate"] = _baseRate.ToString("R", CultureInfo.InvariantCulture);
        metadata["trainer.history"] = JsonSerializer.Serialize(History.Epochs);
        metadata["trainer.best_epoch"] = History.BestEpoch.ToString(CultureInfo.InvariantCulture);
        if (_plateau is not null)
        {
            metadata["trainer.plateau_best"] = _plateau.Best.ToString("R", CultureInfo.InvariantCulture);
            metadata["trainer.plateau_bad_epochs"] = _plateau.BadEpochs.ToString(CultureInfo.InvariantCulture);
            metadata["trainer.plateau_cooldown"] = _plateau.CooldownCounter.ToString(CultureInfo.InvariantCulture);
        }
        ModelFile.Save(path, _parameters, _configuration, metadata, tensors);
        Options.Logger?.LogInformation("Checkpoint after epoch {Epoch} written to {Path}.", _epochsDone, path);
    }

    /// <summary>
    /// Restores a checkpoint written by <see cref="SaveCheckpoint"/> for a model with the same configuration: weights,
    /// optimizer state, best weights, counters and history. The next <see cref="Train"/> continues after the checkpoint's
    /// epoch and gives the same weights as a run that was never interrupted. All is checked before anything changes.
    /// </summary>
    public void ResumeFrom(string path)
    {
        var contents = ModelFile.Read(path, requireModelFormat: true);
        if (contents.Configuration != _configuration)
            throw new InvalidDataException($"{path}: the checkpoint's model options differ from this model's. File: {contents.Configuration}; model: {_configuration}.");
        string Meta(string key) => contents.Metadata.TryGetValue(key, out var value)
            ? value
            : throw new InvalidDataException($"{path}: '{key}' is missing; the file is a model, not a training checkpoint.");
        if (Meta("trainer.optimizer") != Optimizer.GetType().Name)
            throw new InvalidDataException($"{path}: the checkpoint was written with {Meta("trainer.optimizer")}, this trainer uses {Optimizer.GetType().Name}.");
        var state = contents.Tensors.Where(t => t.Name.StartsWith(ModelFile.CheckpointPrefix.Optimizer, StringComparison.Ordinal))
            .ToDictionary(t => t.Name[ModelFile.CheckpointPrefix.Optimizer.Length..], t => t.Data, StringComparer.Ordinal);
        var best = contents.Find(BestTensor) ?? throw new InvalidDataException($"{path}: '{BestTensor}' is missing.");
        if (best.Data.Length != _bestValues.Length)
            throw new InvalidDataException($"{path}: '{BestTensor}' holds {best.Data.Length} values; the model has {_bestValues.Length} parameters.");
        var history = JsonSerializer.Deserialize<List<EpochReport>>(Meta("trainer.history"))
            ?? throw new InvalidDataException($"{path}: 'trainer.history' is empty.");
        int epochsDone = int.Parse(Meta("trainer.epochs_done"), CultureInfo.InvariantCulture);
        double bestLoss = double.Parse(Meta("trainer.best_loss"), CultureInfo.InvariantCulture);
        // Checkpoints written before epochs could be judged by accuracy have none.
        double bestAccuracy = contents.Metadata.ContainsKey("trainer.best_accuracy")
            ? double.Parse(Meta("trainer.best_accuracy"), CultureInfo.InvariantCulture) : double.NegativeInfinity;
        int badEpochs = int.Parse(Meta("trainer.bad_epochs"), CultureInfo.InvariantCulture);
        float baseRate = float.Parse(Meta("trainer.base_rate"), CultureInfo.InvariantCulture);
        int bestEpoch = int.Parse(Meta("trainer.best_epoch"), CultureInfo.InvariantCulture);
        (double Best, int BadEpochs, int Cooldown)? plateau = _plateau is not null && contents.Metadata.ContainsKey("trainer.plateau_best")
            ? (double.Parse(Meta("trainer.plateau_best"), CultureInfo.InvariantCulture),
               int.Parse(Meta("trainer.plateau_bad_epochs"), CultureInfo.InvariantCulture),
               int.Parse(Meta("trainer.plateau_cooldown"), CultureInfo.InvariantCulture))
            : null;

        var snapshot = _parameters.ReadOnlyValues.ToArray();
        ModelFile.LoadInto(_parameters, contents, requireAll: true,
            ignorePrefixes: [ModelFile.CheckpointPrefix.Optimizer, ModelFile.CheckpointPrefix.Trainer]);
        try
        {
            Optimizer.LoadState(state);
        }
        catch (ArgumentException exception)
        {
            snapshot.CopyTo(_parameters.Values);
            throw new InvalidDataException($"{path}: the optimizer state does not fit: {exception.Message}", exception);
        }
        best.Data.CopyTo(_bestValues, 0);
        _epochsDone = epochsDone;
        _bestLoss = bestLoss;
        _bestAccuracy = bestAccuracy;
        _badEpochs = badEpochs;
        _baseRate = baseRate;
        History.Epochs.Clear();
        History.Epochs.AddRange(history);
        History.BestEpoch = bestEpoch;
        History.Steps = Optimizer.StepCount;
        if (_plateau is not null && plateau is var (plateauBest, plateauBad, plateauCooldown))
        {
            _plateau.Best = plateauBest;
            _plateau.BadEpochs = plateauBad;
            _plateau.CooldownCounter = plateauCooldown;
        }
    }

    /// <summary>
    /// The rate of the next step. With a time budget and the cosine schedule, progress is the larger of the share of the
    /// planned steps and the share of the budget used, so the rate reaches its minimum when either runs out.
    /// </summary>
    private float Rate(ILearningRateSchedule schedule, int stepsPerEpoch, long plannedSteps, TimeSpan elapsed)
    {
        int step = Optimizer.StepCount;
        if (schedule is CosineSchedule && Options.MaxTrainingTime is TimeSpan budget && step >= Options.WarmupSteps)
            step = (int)Math.Min(Math.Max(step, elapsed / budget * plannedSteps), plannedSteps - 1);
        return schedule.LearningRate(_baseRate, step, stepsPerEpoch);
    }

    /// <summary>Time for the remaining epochs at the pace so far, capped by what is left of the time budget.</summary>
    private TimeSpan Remaining(TimeSpan elapsed, int epochsRun, int epochsLeft)
    {
        var remaining = TimeSpan.FromSeconds(elapsed.TotalSeconds / Math.Max(1, epochsRun) * epochsLeft);
        if (Options.MaxTrainingTime is TimeSpan budget && budget - elapsed < remaining)
            remaining = budget > elapsed ? budget - elapsed : TimeSpan.Zero;
        return remaining;
    }

    private static void Log(ILogger? logger, EpochReport report, string examples)
    {
        if (logger is null) return;
        logger.LogInformation(
            "Epoch {Epoch}: loss {Loss:F4}, validation loss {ValidationLoss}, validation {MetricName} {Metric}, gradient norm {Norm:F3}, " +
            "learning rate {Rate:g3}, {Speed:F0} {Examples}/s, {Remaining:hh\\:mm\\:ss} left",
            report.Epoch, report.TrainingLoss, report.ValidationLoss?.ToString("F4", CultureInfo.InvariantCulture) ?? "-", report.MetricName,
            report.ValidationMetric?.ToString("F4", CultureInfo.InvariantCulture) ?? "-", report.GradientNorm, report.LearningRate,
            report.SamplesPerSecond, examples, report.Remaining);
    }

    private static string Describe(TrainingStopReason reason, string judged) => reason switch
    {
        TrainingStopReason.EarlyStopping => $"the validation {judged} stopped improving",
        TrainingStopReason.TimeBudget => "the training time budget ran out",
        TrainingStopReason.Callback => "the epoch callback asked to stop",
        _ => "every epoch ran",
    };

    /// <summary>A deterministic seed for an epoch (HashCode is randomised per process, so it cannot serve).</summary>
    internal static int Mix(int seed, int epoch) => unchecked(seed * 1_000_003 + epoch * 7919 + 17);

    /// <summary>Whether every value is finite (the largest magnitude is).</summary>
    internal static bool IsFinite(ReadOnlySpan<float> values) =>
        values.IsEmpty || float.IsFinite(values[TensorPrimitives.IndexOfMaxMagnitude(values)]);
}
