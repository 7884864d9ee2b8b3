using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// Trains a <see cref="SequenceModel"/>: epochs of shuffled (optionally length-bucketed) mini-batches, forward, loss,
/// backpropagation through time, gradient clipping, an optimizer step under a learning-rate schedule; then validation,
/// early stopping that restores the best weights, reduce-on-plateau, checkpoints, progress to an <see cref="ILogger"/>.
/// A non-finite loss or gradient stops training with <see cref="TrainingDivergedException"/> before the step, so the
/// model keeps its last finite weights. The same seeds and data give bit-identical weights run after run.
/// </summary>
public sealed class SequenceTrainer
{
    private readonly SequenceModel _model;
    private readonly ILoss _loss;
    private readonly SequenceBatch _batch = new();
    private float[] _output = [], _gradient = [];
    private readonly float[] _bestValues;
    private double _bestLoss = double.PositiveInfinity;
    private int _badEpochs, _epochsDone;
    private float _baseRate;
    private readonly ReduceOnPlateau? _plateau;

    /// <summary>Prepares training of <paramref name="model"/> under <paramref name="loss"/>.</summary>
    public SequenceTrainer(SequenceModel model, ILoss loss, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(hasValidationData: true);
        _model = model;
        _loss = loss;
        Options = options;
        _baseRate = options.LearningRate;
        _bestValues = new float[model.Parameters.Count];
        Optimizer = options.Optimizer switch
        {
            OptimizerKind.Sgd => new Sgd(model.Parameters, options.LearningRate, options.Momentum, 0f, options.Nesterov, options.WeightDecay),
            OptimizerKind.AdamW => new AdamW(model.Parameters, options.LearningRate, options.Beta1, options.Beta2, 1e-8f, options.WeightDecay),
            OptimizerKind.RmsProp => new RmsProp(model.Parameters, options.LearningRate, momentum: options.Momentum, weightDecay: options.WeightDecay),
            _ => new Adam(model.Parameters, options.LearningRate, options.Beta1, options.Beta2, 1e-8f, options.WeightDecay),
        };
        if (options.ReduceOnPlateau)
            _plateau = new ReduceOnPlateau(factor: options.PlateauFactor, patience: options.PlateauPatience, minimumRate: options.MinimumLearningRate);
    }

    /// <summary>The options of this trainer.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The optimizer built from the options.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Reports of every finished epoch.</summary>
    public TrainingHistory History { get; } = new();

    /// <summary>
    /// Trains until <see cref="TrainerOptions.Epochs"/> epochs are done (counting epochs restored from a checkpoint) or early
    /// stopping ends it. Checks <paramref name="cancellationToken"/> between batches.
    /// </summary>
    public TrainingHistory Train(SequenceDataset training, SequenceDataset? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        Options.Validate(validation is not null);
        CheckData(training, nameof(training));
        if (validation is not null) CheckData(validation, nameof(validation));
        if (training.Count == 0) throw new ArgumentException("The training data holds no example.", nameof(training));
        var logger = Options.Logger;
        var clock = Stopwatch.StartNew();
        int batchesPerEpoch = (training.Count + Options.BatchSize - 1) / Options.BatchSize;
        ILearningRateSchedule schedule = Options.Schedule switch
        {
            ScheduleKind.StepDecay => new StepDecaySchedule(Options.StepDecayEpochs, Options.StepDecayGamma),
            ScheduleKind.Cosine => new CosineSchedule(Options.Epochs * batchesPerEpoch, Options.WarmupSteps, Options.MinimumLearningRate),
            _ => new ConstantSchedule(),
        };
        int startEpoch = _epochsDone;
        for (int epoch = startEpoch + 1; epoch <= Options.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            // Every epoch draws from its own seeds, so a run resumed from a checkpoint continues exactly as an uninterrupted one.
            _model.ReseedDropout(Mix(_model.Options.Seed, epoch));
            var random = Options.Shuffle ? new Random(Mix(Options.Seed, epoch)) : null;
            int[][] batches = BatchPlanner.Plan(training, Options.BatchSize, random, Options.BucketByLength);
            double lossSum = 0, weightSum = 0, normSum = 0;
            for (int b = 0; b < batches.Length; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Optimizer.LearningRate = schedule.LearningRate(_baseRate, Optimizer.StepCount, batchesPerEpoch);
                training.Fill(batches[b], _batch);
                var (loss, weight) = ForwardLoss(training: true);
                Span<float> outputGradient = _gradient.AsSpan(0, _model.OutputRows(_batch) * _model.OutputSize);
                if (!double.IsFinite(loss) || !IsFinite(outputGradient)) throw new TrainingDivergedException(epoch, b + 1, loss, double.NaN);
                _model.Parameters.ZeroGradients();
                _model.Backward(outputGradient);
                float norm = GradientClipping.GlobalNorm(_model.Parameters.Gradients);
                if (!double.IsFinite(loss) || !float.IsFinite(norm)) throw new TrainingDivergedException(epoch, b + 1, loss, norm);
                if (Options.GradientClipNorm > 0) GradientClipping.ClipByGlobalNorm(_model.Parameters.Gradients, Options.GradientClipNorm);
                if (Options.GradientClipValue > 0) GradientClipping.ClipByValue(_model.Parameters.Gradients, Options.GradientClipValue);
                Optimizer.Step();
                lossSum += loss * weight;
                weightSum += weight;
                normSum += norm;
            }

            double? validationLoss = null, metric = null;
            if (validation is not null) (validationLoss, metric) = Evaluate(validation);
            var (metricName, _) = MetricOf(_loss);
            double seconds = epochClock.Elapsed.TotalSeconds;
            var report = new EpochReport(epoch, weightSum > 0 ? lossSum / weightSum : 0, validationLoss, metric, metricName,
                normSum / batches.Length, Optimizer.LearningRate, training.Count / Math.Max(seconds, 1e-9), clock.Elapsed,
                TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / (epoch - startEpoch) * (Options.Epochs - epoch)));
            History.Epochs.Add(report);
            _epochsDone = epoch;
            Log(logger, report);

            bool stop = false;
            if (validationLoss is double current)
            {
                if (current < _bestLoss)
                {
                    _bestLoss = current;
                    _badEpochs = 0;
                    History.BestEpoch = epoch;
                    _model.Parameters.Values.CopyTo(_bestValues);
                }
                else
                {
                    _badEpochs++;
                    stop = Options.EarlyStoppingPatience > 0 && _badEpochs >= Options.EarlyStoppingPatience;
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
            if (Options.CheckpointEvery > 0 && epoch % Options.CheckpointEvery == 0) SaveCheckpoint(Options.CheckpointPath!);
            if (stop)
            {
                History.StoppedEarly = true;
                logger?.LogInformation("Early stopping after epoch {Epoch}: no better validation loss for {Patience} epochs; restoring epoch {Best}.",
                    epoch, Options.EarlyStoppingPatience, History.BestEpoch);
                break;
            }
        }
        if (Options.EarlyStoppingPatience > 0 && validation is not null && History.BestEpoch > 0 && History.BestEpoch != _epochsDone)
            _bestValues.CopyTo(_model.Parameters.Values);
        return History;
    }

    /// <summary>The weighted mean loss and the metric (accuracy or RMSE) of the model on <paramref name="data"/>.</summary>
    public (double Loss, double Metric) Evaluate(SequenceDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckData(data, nameof(data));
        var (_, kind) = MetricOf(_loss);
        double lossSum = 0, weightSum = 0, metricSum = 0, metricWeight = 0;
        int[][] batches = BatchPlanner.Plan(data, Math.Max(Options.BatchSize, 256), null, bucketByLength: false);
        foreach (int[] indices in batches)
        {
            data.Fill(indices, _batch);
            var (loss, weight) = ForwardLoss(training: false);
            lossSum += loss * weight;
            weightSum += weight;
            AccumulateMetric(kind, ref metricSum, ref metricWeight);
        }
        double metric = metricWeight > 0 ? metricSum / metricWeight : 0;
        return (weightSum > 0 ? lossSum / weightSum : 0, kind == MetricKind.Rmse ? Math.Sqrt(metric) : metric);
    }

    private (double Loss, double Weight) ForwardLoss(bool training)
    {
        int rows = _model.OutputRows(_batch), width = _model.OutputSize;
        Grow(ref _output, rows * width);
        Grow(ref _gradient, rows * width);
        Span<float> output = _output.AsSpan(0, rows * width);
        _model.Forward(_batch, output, training);
        if (!IsFinite(output)) return (double.NaN, 0);
        double loss = _loss.Compute(output, _batch.Targets, rows, width, _batch.Weights, _gradient.AsSpan(0, rows * width));
        // The weight that made this batch's mean: Σ w, or Σ w·c_y with class weights (the loss's own denominator), so batch
        // means combine into the mean over the data set.
        double weight = 0;
        ReadOnlySpan<float> weights = _batch.Weights, targets = _batch.Targets;
        var classWeights = (_loss as SoftmaxCrossEntropy)?.ClassWeights;
        for (int r = 0; r < weights.Length; r++) weight += classWeights is null ? weights[r] : weights[r] * classWeights[(int)targets[r]];
        return (loss, weight);
    }

    private void AccumulateMetric(MetricKind kind, ref double sum, ref double weightSum)
    {
        int rows = _model.OutputRows(_batch), width = _model.OutputSize;
        ReadOnlySpan<float> output = _output.AsSpan(0, rows * width), targets = _batch.Targets, weights = _batch.Weights;
        for (int r = 0; r < rows; r++)
        {
            float w = weights[r];
            if (w == 0) continue;
            ReadOnlySpan<float> prediction = output.Slice(r * width, width);
            switch (kind)
            {
                case MetricKind.Accuracy when width > 1 && targets.Length == rows:
                    sum += w * (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(prediction) == (int)targets[r] ? 1 : 0);
                    weightSum += w;
                    break;
                case MetricKind.Accuracy:
                    for (int j = 0; j < width; j++) sum += w * ((prediction[j] > 0) == (targets[r * width + j] > 0.5f) ? 1 : 0) / width;
                    weightSum += w;
                    break;
                default:
                    for (int j = 0; j < width; j++) sum += w * Math.Pow(prediction[j] - targets[r * width + j], 2) / width;
                    weightSum += w;
                    break;
            }
        }
    }

    private enum MetricKind { Accuracy, Rmse }

    private static (string Name, MetricKind Kind) MetricOf(ILoss loss) =>
        loss is BinaryCrossEntropyWithLogits or SoftmaxCrossEntropy ? ("accuracy", MetricKind.Accuracy) : ("rmse", MetricKind.Rmse);

    private void CheckData(SequenceDataset data, string name)
    {
        var options = _model.Options;
        if (data.Tokens != options.VocabularySize > 0)
            throw new ArgumentException(data.Tokens
                ? $"The {name} data holds token sequences but the model reads numeric steps."
                : $"The {name} data holds numeric sequences but the model reads token ids.", name);
        if (!data.Tokens && data.FeaturesPerStep != options.FeaturesPerStep)
            throw new ArgumentException($"The {name} data has {data.FeaturesPerStep} features per step; the model expects {options.FeaturesPerStep}.", name);
        if (data.Tokens && data.MaxTokenId() is (int id, int example) && id >= options.VocabularySize)
            throw new ArgumentException(
                $"The {name} data's example {example} holds token id {id}, outside the model's vocabulary [0, {options.VocabularySize - 1}]. " +
                "Map unseen tokens to 0 (unknown) or build the vocabulary from every data set.", name);
        if (_loss is SoftmaxCrossEntropy)
            for (int i = 0; i < data.Count; i++)
                foreach (float target in data.TargetOf(i))
                    if (target < 0 || target >= options.OutputSize || target != MathF.Floor(target))
                        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                            $"The {name} data's example {i} has class target {target}; classes are whole numbers in [0, {options.OutputSize - 1}]."), name);
        if (data.PerStepTargets != (options.Readout == SequenceReadout.EveryStep))
            throw new ArgumentException(data.PerStepTargets
                ? $"The {name} data has per-step targets but the model reads out the last step only."
                : $"The {name} data has one target per sequence but the model reads out every step.", name);
    }

    private static void Log(ILogger? logger, EpochReport report)
    {
        if (logger is null) return;
        logger.LogInformation(
            "Epoch {Epoch}: loss {Loss:F4}, validation loss {ValidationLoss}, validation {MetricName} {Metric}, gradient norm {Norm:F3}, " +
            "learning rate {Rate:g3}, {Speed:F0} samples/s, {Remaining:hh\\:mm\\:ss} left",
            report.Epoch, report.TrainingLoss, report.ValidationLoss?.ToString("F4") ?? "-", report.MetricName,
            report.ValidationMetric?.ToString("F4") ?? "-", report.GradientNorm, report.LearningRate, report.SamplesPerSecond, report.Remaining);
    }

    private const string BestTensor = SequenceModelFile.CheckpointPrefix.Trainer + "best";

    /// <summary>
    /// Writes the model, the optimizer's moments, the best weights so far and the trainer's counters to one model file
    /// (which <see cref="SequenceModelFile.Load(string)"/> also reads as a plain model).
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        var state = new Dictionary<string, float[]>(StringComparer.Ordinal);
        Optimizer.SaveState(state);
        var tensors = state.Select(pair => (SequenceModelFile.CheckpointPrefix.Optimizer + pair.Key, new[] { pair.Value.Length }, (ReadOnlyMemory<float>)pair.Value))
            .Append((BestTensor, new[] { _bestValues.Length }, _bestValues))
            .ToArray();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["trainer.optimizer"] = Optimizer.GetType().Name,
            ["trainer.epochs_done"] = _epochsDone.ToString(CultureInfo.InvariantCulture),
            ["trainer.best_loss"] = _bestLoss.ToString("R", CultureInfo.InvariantCulture),
            ["trainer.bad_epochs"] = _badEpochs.ToString(CultureInfo.InvariantCulture),
            ["trainer.base_rate"] = _baseRate.ToString("R", CultureInfo.InvariantCulture),
            ["trainer.history"] = JsonSerializer.Serialize(History.Epochs),
            ["trainer.best_epoch"] = History.BestEpoch.ToString(CultureInfo.InvariantCulture),
        };
        if (_plateau is not null)
        {
            metadata["trainer.plateau_best"] = _plateau.Best.ToString("R", CultureInfo.InvariantCulture);
            metadata["trainer.plateau_bad_epochs"] = _plateau.BadEpochs.ToString(CultureInfo.InvariantCulture);
            metadata["trainer.plateau_cooldown"] = _plateau.CooldownCounter.ToString(CultureInfo.InvariantCulture);
        }
        ModelFile.Save(path, _model.Parameters, SequenceModelFile.ToJson(_model.Options), metadata, tensors);
        Options.Logger?.LogInformation("Checkpoint after epoch {Epoch} written to {Path}.", _epochsDone, path);
    }

    /// <summary>
    /// Restores a checkpoint written by this kind of trainer for a model with the same options: weights, optimizer state,
    /// best weights, counters and history. The next <see cref="Train"/> continues after the checkpoint's epoch and gives
    /// the same weights as a run that was never interrupted. All is checked before anything changes.
    /// </summary>
    public void ResumeFrom(string path)
    {
        var contents = ModelFile.Read(path, requireModelFormat: true);
        string expected = SequenceModelFile.ToJson(_model.Options);
        if (contents.Configuration != expected)
            throw new InvalidDataException($"{path}: the checkpoint's model options differ from this model's. File: {contents.Configuration}; model: {expected}.");
        string Meta(string key) => contents.Metadata.TryGetValue(key, out var value)
            ? value
            : throw new InvalidDataException($"{path}: '{key}' is missing; the file is a model, not a checkpoint of SequenceTrainer.");
        if (Meta("trainer.optimizer") != Optimizer.GetType().Name)
            throw new InvalidDataException($"{path}: the checkpoint was written with {Meta("trainer.optimizer")}, this trainer uses {Optimizer.GetType().Name}.");
        var state = contents.Tensors.Where(t => t.Name.StartsWith(SequenceModelFile.CheckpointPrefix.Optimizer, StringComparison.Ordinal))
            .ToDictionary(t => t.Name[SequenceModelFile.CheckpointPrefix.Optimizer.Length..], t => t.Data, StringComparer.Ordinal);
        var best = contents.Find(BestTensor) ?? throw new InvalidDataException($"{path}: '{BestTensor}' is missing.");
        if (best.Data.Length != _bestValues.Length)
            throw new InvalidDataException($"{path}: '{BestTensor}' holds {best.Data.Length} values; the model has {_bestValues.Length} parameters.");
        var history = JsonSerializer.Deserialize<List<EpochReport>>(Meta("trainer.history"))
            ?? throw new InvalidDataException($"{path}: 'trainer.history' is empty.");
        int epochsDone = int.Parse(Meta("trainer.epochs_done"), CultureInfo.InvariantCulture);
        double bestLoss = double.Parse(Meta("trainer.best_loss"), CultureInfo.InvariantCulture);
        int badEpochs = int.Parse(Meta("trainer.bad_epochs"), CultureInfo.InvariantCulture);
        float baseRate = float.Parse(Meta("trainer.base_rate"), CultureInfo.InvariantCulture);
        int bestEpoch = int.Parse(Meta("trainer.best_epoch"), CultureInfo.InvariantCulture);

        (double Best, int BadEpochs, int Cooldown)? plateau = _plateau is not null && contents.Metadata.ContainsKey("trainer.plateau_best")
            ? (double.Parse(Meta("trainer.plateau_best"), CultureInfo.InvariantCulture),
               int.Parse(Meta("trainer.plateau_bad_epochs"), CultureInfo.InvariantCulture),
               int.Parse(Meta("trainer.plateau_cooldown"), CultureInfo.InvariantCulture))
            : null;

        var snapshot = _model.Parameters.Values.ToArray();
        ModelFile.LoadInto(_model.Parameters, contents, requireAll: true,
            ignorePrefixes: [SequenceModelFile.CheckpointPrefix.Optimizer, SequenceModelFile.CheckpointPrefix.Trainer]);
        try
        {
            Optimizer.LoadState(state);
        }
        catch (ArgumentException exception)
        {
            snapshot.CopyTo(_model.Parameters.Values);
            throw new InvalidDataException($"{path}: the optimizer state does not fit: {exception.Message}", exception);
        }
        best.Data.CopyTo(_bestValues, 0);
        _epochsDone = epochsDone;
        _bestLoss = bestLoss;
        _badEpochs = badEpochs;
        _baseRate = baseRate;
        History.Epochs.Clear();
        History.Epochs.AddRange(history);
        History.BestEpoch = bestEpoch;
        if (_plateau is not null && plateau is var (plateauBest, plateauBad, plateauCooldown))
        {
            _plateau.Best = plateauBest;
            _plateau.BadEpochs = plateauBad;
            _plateau.CooldownCounter = plateauCooldown;
        }
    }

    private static bool IsFinite(ReadOnlySpan<float> values) =>
        values.IsEmpty || float.IsFinite(values[System.Numerics.Tensors.TensorPrimitives.IndexOfMaxMagnitude(values)]);

    /// <summary>Deterministic seed for an epoch (HashCode is randomised per process, so it cannot serve).</summary>
    private static int Mix(int seed, int epoch) => unchecked(seed * 1_000_003 + epoch * 7919 + 17);

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }
}
