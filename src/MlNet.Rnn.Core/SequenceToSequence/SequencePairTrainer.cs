using System.Numerics.Tensors;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// Trains a <see cref="SequenceToSequenceModel"/> on <see cref="SequencePairs"/> with teacher forcing, through the one
/// <see cref="TrainingLoop"/>: epochs of shuffled mini-batches of pairs of similar lengths, softmax cross-entropy over every
/// real target step (the end token included, padded steps weigh 0), backpropagation through decoder, attention and
/// encoder; then everything the loop does (clipping, optimizer, schedule, validation loss and teacher-forced token accuracy,
/// early stopping, reduce-on-plateau, checkpoints, time budget, progress). The same seeds and data give the same weights
/// run after run.
/// </summary>
public sealed class SequencePairTrainer
{
    private readonly SequenceToSequenceModel _model;
    private readonly SoftmaxCrossEntropy _loss;
    private readonly TrainingLoop _loop;
    private readonly PairBatch _batch = new();
    private float[] _logits = [], _gradient = [];

    /// <summary>Prepares training of <paramref name="model"/>; <paramref name="labelSmoothing"/> ε ∈ [0, 1] spreads target mass uniformly.</summary>
    public SequencePairTrainer(SequenceToSequenceModel model, TrainerOptions options, float labelSmoothing = 0f)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        _model = model;
        _loss = new SoftmaxCrossEntropy(labelSmoothing: labelSmoothing);
        _loop = new TrainingLoop(model.Parameters, options, SequenceToSequenceModelFile.ToJson(model.Options), SequenceToSequenceModelFile.KindMetadata());
    }

    /// <summary>The options of this trainer.</summary>
    public TrainerOptions Options => _loop.Options;

    /// <summary>The optimizer built from the options.</summary>
    public Optimizer Optimizer => _loop.Optimizer;

    /// <summary>Reports of every finished epoch; the metric is the teacher-forced token accuracy on the validation pairs.</summary>
    public TrainingHistory History => _loop.History;

    /// <summary>
    /// Trains for <see cref="TrainerOptions.Epochs"/> epochs or until early stopping (which restores the weights of the epoch
    /// with the best validation loss), the epoch callback or the time budget ends it. Checks <paramref name="cancellationToken"/>
    /// between batches.
    /// </summary>
    /// <exception cref="TrainingDivergedException">A loss or gradient became non-finite; the model keeps its last finite weights.</exception>
    public TrainingHistory Train(SequencePairs training, SequencePairs? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        Options.Validate(validation is not null);
        if (training.Count == 0) throw new ArgumentException("The training pairs hold no row.", nameof(training));
        _model.CheckIds(training, nameof(training));
        if (validation is not null) _model.CheckIds(validation, nameof(validation));
        return _loop.Train(new Task(this, training, validation), cancellationToken);
    }

    /// <summary>Writes the model, the optimizer's moments, the best weights and the counters to one file that also loads as a model.</summary>
    public void SaveCheckpoint(string path) => _loop.SaveCheckpoint(path);

    /// <summary>Restores a checkpoint of <see cref="SaveCheckpoint"/>; the next <see cref="Train"/> continues exactly where it left off.</summary>
    public void ResumeFrom(string path) => _loop.ResumeFrom(path);

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

    /// <summary>One training run's pairs as the loop sees them.</summary>
    private sealed class Task(SequencePairTrainer trainer, SequencePairs training, SequencePairs? validation) : ITrainingTask
    {
        private int[][] _batches = [];

        public ParameterSet Parameters => trainer._model.Parameters;

        public string MetricName => "token accuracy";

        public string ExampleName => "pairs";

        public bool HasValidation => validation is not null;

        public int StepsPerEpoch => (training.Count + trainer.Options.BatchSize - 1) / trainer.Options.BatchSize;

        public int BeginEpoch(int epoch, Random? random)
        {
            trainer._model.ReseedDropout(TrainingLoop.Mix(trainer._model.Options.Seed, epoch));
            _batches = Plan(training, trainer.Options.BatchSize, random, trainer.Options.BucketByLength);
            return _batches.Length;
        }

        public (double Loss, double Weight, long Examples) Step(int step)
        {
            var model = trainer._model;
            trainer._batch.Fill(training.Sources, training.Targets, _batches[step], model.Options.StartId, model.Options.EndId);
            var (loss, weight) = trainer.ForwardLoss(training: true);
            if (!double.IsFinite(loss)) return (double.NaN, weight, trainer._batch.BatchSize);
            model.Backward(trainer._gradient.AsSpan(0, trainer._batch.TargetSteps * trainer._batch.BatchSize * model.TargetVocabularySize));
            return (loss, weight, trainer._batch.BatchSize);
        }

        public (double Loss, double? Metric) Evaluate() => trainer.Evaluate(validation!);
    }

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }
}
