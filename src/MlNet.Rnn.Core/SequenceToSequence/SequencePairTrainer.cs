using System.Numerics.Tensors;
using MlNet.Rnn.Core.Kernels;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// Trains a <see cref="SequenceToSequenceModel"/> on <see cref="SequencePairs"/> (or a cache of them that may live on disk) with
/// teacher forcing, through the one <see cref="TrainingLoop"/>: epochs of shuffled mini-batches of pairs of similar lengths
/// (bucketed by source length, then target length), softmax cross-entropy over every
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
    private readonly SequenceDataset _buffer = SequencePairs.Create();
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
    /// between batches. The pairs are <see cref="SequencePairs"/> in memory or a cache of <see cref="SequencePairs.CreateCache"/>
    /// that may have spilled to disk: an epoch reads windows of its parts in a random order (<see cref="SequenceEpoch"/>), and
    /// every pair is checked first, a part at a time.
    /// </summary>
    /// <exception cref="TrainingDivergedException">A loss or gradient became non-finite; the model keeps its last finite weights.</exception>
    public TrainingHistory Train(ISequenceSource training, ISequenceSource? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        Options.Validate(validation is not null);
        SequencePairs.CheckShape(training, nameof(training));
        if (validation is not null) SequencePairs.CheckShape(validation, nameof(validation));
        if (training.ExampleCount == 0) throw new ArgumentException("The training pairs hold no row.", nameof(training));
        Check(training, nameof(training));
        if (validation is not null) Check(validation, nameof(validation));
        return _loop.Train(new Task(this, training, validation), cancellationToken);
    }

    /// <summary>Writes the model, the optimizer's moments, the best weights and the counters to one file that also loads as a model.</summary>
    public void SaveCheckpoint(string path) => _loop.SaveCheckpoint(path);

    /// <summary>Restores a checkpoint of <see cref="SaveCheckpoint"/>; the next <see cref="Train"/> continues exactly where it left off.</summary>
    public void ResumeFrom(string path) => _loop.ResumeFrom(path);

    /// <summary>
    /// The teacher-forced loss (per real target step, end token included) and token accuracy on <paramref name="data"/>
    /// (<see cref="SequencePairs"/> or a cache of them), read a part at a time and each part checked before it is used.
    /// </summary>
    public (double Loss, double TokenAccuracy) Evaluate(ISequenceSource data)
    {
        ArgumentNullException.ThrowIfNull(data);
        SequencePairs.CheckShape(data, nameof(data));
        return Evaluate(data, nameof(data));
    }

    /// <summary>Evaluates part after part; checks each part's pairs first when <paramref name="checkAs"/> names the data.</summary>
    private (double Loss, double TokenAccuracy) Evaluate(ISequenceSource data, string? checkAs)
    {
        double lossSum = 0, weightSum = 0, correct = 0;
        int V = _model.TargetVocabularySize;
        for (int p = 0; p < data.PartCount; p++)
        {
            var part = data.ReadPart(p, _buffer);
            if (checkAs is not null) _model.CheckIds(part, checkAs);
            foreach (int[] rows in BatchPlanner.Plan(part, Math.Max(Options.BatchSize, 256), null, bucketByLength: true, SequencePairs.BucketKey))
            {
                _batch.Fill(part, rows, _model.Options.StartId, _model.Options.EndId);
                var (loss, weight) = ForwardLoss(training: false);
                lossSum += loss * weight;
                weightSum += weight;
                int steps = _batch.TargetSteps * _batch.BatchSize;
                for (int r = 0; r < steps; r++)
                    if (_batch.Weights[r] > 0 && TensorPrimitives.IndexOfMax(_logits.AsSpan(r * V, V)) == (int)_batch.Targets[r]) correct++;
            }
        }
        return (weightSum > 0 ? lossSum / weightSum : 0, weightSum > 0 ? correct / weightSum : 0);
    }

    /// <summary>Checks every pair of <paramref name="data"/> against the model, a part at a time, naming the first bad row.</summary>
    private void Check(ISequenceSource data, string name)
    {
        for (int p = 0; p < data.PartCount; p++) _model.CheckIds(data.ReadPart(p, _buffer), name);
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
        return (loss, Reductions.Sum(_batch.Weights.AsSpan(0, rows)));
    }

    /// <summary>One training run's pairs as the loop sees them.</summary>
    private sealed class Task(SequencePairTrainer trainer, ISequenceSource training, ISequenceSource? validation) : ITrainingTask
    {
        private readonly SequenceEpoch _epoch = new(training, trainer.Options.BatchSize, trainer.Options.BucketByLength, SequencePairs.BucketKey);

        public ParameterSet Parameters => trainer._model.Parameters;

        public string MetricName => "token accuracy";

        public string ExampleName => "pairs";

        public bool HasValidation => validation is not null;

        public int StepsPerEpoch => _epoch.BatchCount;

        public int BeginEpoch(int epoch, Random? random)
        {
            trainer._model.ReseedDropout(TrainingLoop.Mix(trainer._model.Options.Seed, epoch));
            _epoch.Begin(random);
            return _epoch.BatchCount;
        }

        public (double Loss, double Weight, long Examples) Step(int step)
        {
            var model = trainer._model;
            if (!_epoch.Next(out var pairs, out int[] indices)) throw new InvalidOperationException($"The epoch ran out of batches at step {step}.");
            trainer._batch.Fill(pairs, indices, model.Options.StartId, model.Options.EndId);
            var (loss, weight) = trainer.ForwardLoss(training: true);
            if (!double.IsFinite(loss)) return (double.NaN, weight, trainer._batch.BatchSize);
            model.Backward(trainer._gradient.AsSpan(0, trainer._batch.TargetSteps * trainer._batch.BatchSize * model.TargetVocabularySize));
            return (loss, weight, trainer._batch.BatchSize);
        }

        // The validation pairs were checked when training began.
        public (double Loss, double? Metric) Evaluate() => trainer.Evaluate(validation!, checkAs: null);
    }

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }
}
