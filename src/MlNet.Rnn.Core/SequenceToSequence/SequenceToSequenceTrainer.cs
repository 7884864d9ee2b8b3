using System.Diagnostics;
using System.Numerics.Tensors;
using Microsoft.Extensions.Logging;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// Trains a <see cref="SequenceToSequenceModel"/> with teacher forcing: epochs of shuffled mini-batches of pairs of similar
/// lengths, softmax cross-entropy over every real target step (the end token included, padded steps weigh 0), backpropagation
/// through decoder, attention and encoder, global-norm clipping over both parameter sets, an optimizer step under a
/// learning-rate schedule; then validation loss and teacher-forced token accuracy, early stopping that restores the best
/// weights, reduce-on-plateau, and progress to an <see cref="ILogger"/>. Takes the same <see cref="TrainerOptions"/> as
/// <see cref="SequenceTrainer"/> (checkpoints excepted). The same seeds and data give the same weights run after run.
/// </summary>
public sealed class SequenceToSequenceTrainer
{
    private readonly SequenceToSequenceModel _model;
    private readonly SoftmaxCrossEntropy _loss;
    private readonly Optimizer[] _optimizers;
    private readonly PairBatch _batch = new();
    private readonly float[][] _bestValues;
    private readonly ReduceOnPlateau? _plateau;
    private float[] _logits = [], _gradient = [];
    private double _bestLoss = double.PositiveInfinity;
    private int _badEpochs;
    private float _baseRate;

    /// <summary>Prepares training of <paramref name="model"/>; <paramref name="labelSmoothing"/> ε ∈ [0, 1] spreads target mass uniformly.</summary>
    public SequenceToSequenceTrainer(SequenceToSequenceModel model, TrainerOptions options, float labelSmoothing = 0f)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(hasValidationData: true);
        if (options.CheckpointEvery > 0)
            throw new ArgumentException("CheckpointEvery is set, but sequence-to-sequence training writes no checkpoints yet; set it to 0 " +
                "and save the trained model with SequenceToSequenceModelFile.Save.", nameof(options));
        _model = model;
        _loss = new SoftmaxCrossEntropy(labelSmoothing: labelSmoothing);
        Options = options;
        _baseRate = options.LearningRate;
        _optimizers = model.ParameterSets.Select(parameters => CreateOptimizer(parameters, options)).ToArray();
        _bestValues = model.ParameterSets.Select(parameters => new float[parameters.Count]).ToArray();
        if (options.ReduceOnPlateau)
            _plateau = new ReduceOnPlateau(factor: options.PlateauFactor, patience: options.PlateauPatience, minimumRate: options.MinimumLearningRate);
    }

    /// <summary>The options of this trainer.</summary>
    public TrainerOptions Options { get; }

    /// <summary>Reports of every finished epoch; the metric is the teacher-forced token accuracy on the validation pairs.</summary>
    public TrainingHistory History { get; } = new();

    /// <summary>
    /// Trains for <see cref="TrainerOptions.Epochs"/> epochs or until early stopping ends it (which restores the weights of the
    /// epoch with the best validation loss). Checks <paramref name="cancellationToken"/> between batches.
    /// </summary>
    /// <exception cref="TrainingDivergedException">A loss or gradient became non-finite; the model keeps its last finite weights.</exception>
    public TrainingHistory Train(SequencePairs training, SequencePairs? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        Options.Validate(validation is not null);
        if (training.Count == 0) throw new ArgumentException("The training pairs hold no row.", nameof(training));
        _model.CheckIds(training, nameof(training));
        if (validation is not null) _model.CheckIds(validation, nameof(validation));
        var logger = Options.Logger;
        var clock = Stopwatch.StartNew();
        int batchesPerEpoch = (training.Count + Options.BatchSize - 1) / Options.BatchSize;
        ILearningRateSchedule schedule = Options.Schedule switch
        {
            ScheduleKind.StepDecay => new StepDecaySchedule(Options.StepDecayEpochs, Options.StepDecayGamma),
            ScheduleKind.Cosine => new CosineSchedule(Options.Epochs * batchesPerEpoch, Options.WarmupSteps, Options.MinimumLearningRate),
            _ => new ConstantSchedule(),
        };
        int startEpoch = History.Epochs.Count;
        for (int epoch = startEpoch + 1; epoch <= Options.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            _model.ReseedDropout(Mix(_model.Options.Seed, epoch));
            var random = Options.Shuffle ? new Random(Mix(Options.Seed, epoch)) : null;
            double lossSum = 0, weightSum = 0, normSum = 0;
            int[][] batches = Plan(training, Options.BatchSize, random, Options.BucketByLength);
            for (int b = 0; b < batches.Length; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                float rate = schedule.LearningRate(_baseRate, _optimizers[0].StepCount, batchesPerEpoch);
                foreach (var optimizer in _optimizers) optimizer.LearningRate = rate;
                _batch.Fill(training.Sources, training.Targets, batches[b], _model.Options.StartId, _model.Options.EndId);
                var (loss, weight) = ForwardLoss(training: true);
                if (!double.IsFinite(loss)) throw new TrainingDivergedException(epoch, b + 1, loss, double.NaN);
                foreach (var parameters in _model.ParameterSets) parameters.ZeroGradients();
                _model.Backward(_gradient.AsSpan(0, _batch.TargetSteps * _batch.BatchSize * _model.TargetVocabularySize));
                float norm = ClipGlobalNorm(_model.ParameterSets, Options.GradientClipNorm);
                if (!float.IsFinite(norm)) throw new TrainingDivergedException(epoch, b + 1, loss, norm);
                if (Options.GradientClipValue > 0)
                    foreach (var parameters in _model.ParameterSets) GradientClipping.ClipByValue(parameters.Gradients, Options.GradientClipValue);
                foreach (var optimizer in _optimizers) optimizer.Step();
                lossSum += loss * weight;
                weightSum += weight;
                normSum += norm;
            }

            double? validationLoss = null, accuracy = null;
            if (validation is not null) (validationLoss, accuracy) = Evaluate(validation);
            double seconds = epochClock.Elapsed.TotalSeconds;
            var report = new EpochReport(epoch, weightSum > 0 ? lossSum / weightSum : 0, validationLoss, accuracy, "token accuracy",
                normSum / batches.Length, _optimizers[0].LearningRate, training.Count / Math.Max(seconds, 1e-9), clock.Elapsed,
                TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / (epoch - startEpoch) * (Options.Epochs - epoch)));
            History.Epochs.Add(report);
            logger?.LogInformation(
                "Epoch {Epoch}: loss {Loss:F4}, validation loss {ValidationLoss}, validation token accuracy {Accuracy}, gradient norm {Norm:F3}, " +
                "learning rate {Rate:g3}, {Speed:F0} pairs/s, {Remaining:hh\\:mm\\:ss} left",
                epoch, report.TrainingLoss, validationLoss?.ToString("F4") ?? "-", accuracy?.ToString("F4") ?? "-", report.GradientNorm,
                report.LearningRate, report.SamplesPerSecond, report.Remaining);

            bool stop = false;
            if (validationLoss is double current)
            {
                if (current < _bestLoss)
                {
                    _bestLoss = current;
                    _badEpochs = 0;
                    History.BestEpoch = epoch;
                    for (int s = 0; s < _bestValues.Length; s++) _model.ParameterSets[s].Values.CopyTo(_bestValues[s]);
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
            if (stop)
            {
                History.StoppedEarly = true;
                logger?.LogInformation("Early stopping after epoch {Epoch}: no better validation loss for {Patience} epochs; restoring epoch {Best}.",
                    epoch, Options.EarlyStoppingPatience, History.BestEpoch);
                break;
            }
        }
        if (Options.EarlyStoppingPatience > 0 && validation is not null && History.BestEpoch > 0 && History.BestEpoch != History.Epochs.Count)
            for (int s = 0; s < _bestValues.Length; s++) _bestValues[s].CopyTo(_model.ParameterSets[s].Values);
        return History;
    }

    /// <summary>The teacher-forced loss (per real target step, end token included) and token accuracy on <paramref name="data"/>.</summary>
    public (double Loss, double TokenAccuracy) Evaluate(SequencePairs data)
    {
        ArgumentNullException.ThrowIfNull(data);
        _model.CheckIds(data, nameof(data));
        double lossSum = 0, weightSum = 0, correct = 0;
        int V = _model.TargetVocabularySize;
        foreach (int[] rows in Plan(data, Math.Max(Options.BatchSize, 256), null, bucketByLength: true))
        {
            _batch.Fill(data.Sources, data.Targets, rows, _model.Options.StartId, _model.Options.EndId);
            var (loss, weight) = ForwardLoss(training: false);
            lossSum += loss * weight;
            weightSum += weight;
            int steps = _batch.TargetSteps * _batch.BatchSize;
            for (int r = 0; r < steps; r++)
                if (_batch.Weights[r] > 0 && TensorPrimitives.IndexOfMax(_logits.AsSpan(r * V, V)) == (int)_batch.Targets[r]) correct++;
        }
        return (weightSum > 0 ? lossSum / weightSum : 0, weightSum > 0 ? correct / weightSum : 0);
    }

    private (double Loss, double Weight) ForwardLoss(bool training)
    {
        int rows = _batch.TargetSteps * _batch.BatchSize, V = _model.TargetVocabularySize;
        Grow(ref _logits, rows * V);
        Grow(ref _gradient, rows * V);
        Span<float> logits = _logits.AsSpan(0, rows * V);
        _model.Forward(_batch, logits, training);
        if (!float.IsFinite(logits[TensorPrimitives.IndexOfMaxMagnitude(logits)])) return (double.NaN, 0);
        double loss = _loss.Compute(logits, _batch.Targets.AsSpan(0, rows), rows, V, _batch.Weights.AsSpan(0, rows), _gradient.AsSpan(0, rows * V));
        return (loss, TensorPrimitives.Sum(_batch.Weights.AsSpan(0, rows)));
    }

    /// <summary>‖g‖₂ over every set, before clipping; scales every set by <c>maxNorm / (‖g‖ + 10⁻⁶)</c> when that is below 1 (0 = off).</summary>
    internal static float ClipGlobalNorm(IReadOnlyList<ParameterSet> sets, float maxNorm)
    {
        double squares = 0;
        foreach (var parameters in sets)
        {
            double norm = GradientClipping.GlobalNorm(parameters.Gradients);
            squares += norm * norm;
        }
        float total = (float)Math.Sqrt(squares);
        if (maxNorm > 0 && float.IsFinite(total))
        {
            float coefficient = maxNorm / (total + 1e-6f);
            if (coefficient < 1)
                foreach (var parameters in sets) TensorPrimitives.Multiply(parameters.Gradients, coefficient, parameters.Gradients);
        }
        return total;
    }

    /// <summary>
    /// One epoch's batches, as <see cref="Data.BatchPlanner"/> plans them for single sequences: shuffled, and when bucketing,
    /// sorted by (source length, target length) within pools of <see cref="Data.BatchPlanner.BucketPoolBatches"/> batches.
    /// </summary>
    private static int[][] Plan(SequencePairs data, int batchSize, Random? random, bool bucketByLength)
    {
        int count = data.Count;
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        random?.Shuffle(order);
        if (bucketByLength)
        {
            int pool = batchSize * Data.BatchPlanner.BucketPoolBatches;
            for (int start = 0; start < count; start += pool)
            {
                var slice = order.AsSpan(start, Math.Min(pool, count - start));
                var keys = new long[slice.Length];
                for (int i = 0; i < slice.Length; i++) keys[i] = ((long)data.Sources[slice[i]].Length << 32) | (uint)data.Targets[slice[i]].Length;
                keys.AsSpan().Sort(slice);
            }
        }
        var batches = new int[(count + batchSize - 1) / batchSize][];
        for (int b = 0; b < batches.Length; b++) batches[b] = order.AsSpan(b * batchSize, Math.Min(batchSize, count - b * batchSize)).ToArray();
        if (bucketByLength) random?.Shuffle(batches);
        return batches;
    }

    private static Optimizer CreateOptimizer(ParameterSet parameters, TrainerOptions options) => options.Optimizer switch
    {
        OptimizerKind.Sgd => new Sgd(parameters, options.LearningRate, options.Momentum, 0f, options.Nesterov, options.WeightDecay),
        OptimizerKind.AdamW => new AdamW(parameters, options.LearningRate, options.Beta1, options.Beta2, 1e-8f, options.WeightDecay),
        OptimizerKind.RmsProp => new RmsProp(parameters, options.LearningRate, momentum: options.Momentum, weightDecay: options.WeightDecay),
        _ => new Adam(parameters, options.LearningRate, options.Beta1, options.Beta2, 1e-8f, options.WeightDecay),
    };

    /// <summary>Deterministic seed for an epoch.</summary>
    private static int Mix(int seed, int epoch) => unchecked(seed * 1_000_003 + epoch * 7919 + 17);

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }
}
