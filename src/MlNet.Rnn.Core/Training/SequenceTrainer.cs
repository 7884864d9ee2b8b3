using System.Globalization;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// Trains a <see cref="SequenceModel"/> (classification, regression, tagging, forecasting) through the one
/// <see cref="TrainingLoop"/>: epochs of shuffled (optionally length-bucketed) mini-batches, forward, loss,
/// backpropagation through time, then everything the loop does (clipping, optimizer, schedule, validation, early stopping,
/// reduce-on-plateau, checkpoints, time budget, progress). The same seeds and data give bit-identical weights run after run.
/// </summary>
public sealed class SequenceTrainer
{
    private readonly SequenceModel _model;
    private readonly ILoss _loss;
    private ILoss _trainingLoss; // _loss, or the Huber loss of standardized targets while training
    private readonly TrainingLoop _loop;
    private readonly SequenceBatch _batch = new();
    private float[] _output = [], _gradient = [];
    private SequenceDataset? _evaluationBuffer;
    private StandardizedTraining? _standardized;
    private bool _folded, _training;

    /// <summary>Prepares training of <paramref name="model"/> under <paramref name="loss"/>.</summary>
    public SequenceTrainer(SequenceModel model, ILoss loss, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(options);
        if (options.TruncatedBpttSteps > 0 && model.Options.Bidirectional)
            throw new ArgumentException($"TruncatedBpttSteps is {options.TruncatedBpttSteps} but the model is bidirectional: its reverse direction " +
                "reads the whole sequence. Set TruncatedBpttSteps to 0 or make the model unidirectional.", nameof(options));
        if (options.TruncatedBpttSteps > 0 && model.Options.Readout == SequenceReadout.MeanOverSteps)
            throw new ArgumentException($"TruncatedBpttSteps is {options.TruncatedBpttSteps} but the model reads the mean over every step " +
                "(Readout MeanOverSteps), which needs the whole sequence in one pass. Set TruncatedBpttSteps to 0 or Readout to LastStep.", nameof(options));
        _model = model;
        _loss = _trainingLoss = loss;
        _loop = new TrainingLoop(model.Parameters, options, SequenceModelFile.ToJson(model.Options));
        _onChunkLoss = ChunkLoss;
    }

    /// <summary>The options of this trainer.</summary>
    public TrainerOptions Options => _loop.Options;

    /// <summary>The optimizer built from the options.</summary>
    public Optimizer Optimizer => _loop.Optimizer;

    /// <summary>Reports of every finished epoch.</summary>
    public TrainingHistory History => _loop.History;

    /// <summary>
    /// Trains until <see cref="TrainerOptions.Epochs"/> epochs are done (counting epochs restored from a checkpoint), early
    /// stopping, the epoch callback or the time budget ends it. Checks <paramref name="cancellationToken"/> between batches.
    /// The data may be a <see cref="SequenceDataset"/> in memory or any <see cref="ISequenceSource"/>, such as a
    /// <see cref="SequenceCache"/> on disk: an epoch then reads windows of its parts in a random order (<see cref="SequenceEpoch"/>).
    /// </summary>
    public TrainingHistory Train(ISequenceSource training, ISequenceSource? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        Options.Validate(validation is not null);
        var summary = CheckData(training, nameof(training));
        if (validation is not null) CheckData(validation, nameof(validation));
        if (training.ExampleCount == 0) throw new ArgumentException("The training data holds no example.", nameof(training));
        CheckBatchMemory((int)Math.Min(Options.BatchSize, training.ExampleCount), summary.Longest);
        // Targets are standardized under the squared error, and under Huber with one output (its δ scaled to match).
        bool targets = _loss is MeanSquaredError || (_loss is Huber && training.TargetWidth == 1);
        var standardizing = Options.Standardize ? new StandardizedTraining.Accumulator(training, targets) : null;
        long[]? tokenCounts = _model.Embedding is not null && _model.Options.TokenDropout > 0f ? new long[_model.Options.VocabularySize] : null;
        // Read before the model changes: data that fails to read leaves the model as the last fit left it (folded).
        Survey(training, standardizing, tokenCounts);
        var found = _folded ? _standardized : null; // what the model's weights are folded with, if anything
        found?.Unfold(_model);
        _folded = false;
        _standardized = standardizing?.Result();
        _trainingLoss = _standardized?.LossFor(_loss) ?? _loss;
        if (tokenCounts is not null) _model.UseTokenCounts(tokenCounts);
        _training = true;
        int steps = Optimizer.StepCount;
        try
        {
            return _loop.Train(new Task(this, training, validation), cancellationToken);
        }
        finally
        {
            // The model reads and predicts raw values again, however training ended; a fit that took no step (it failed, or
            // was cancelled, before its first) gives the model back as it found it, not refolded with this data's scales.
            _training = false;
            _trainingLoss = _loss;
            if (Optimizer.StepCount == steps) _standardized = found;
            _standardized?.Fold(_model);
            _folded = _standardized is not null;
        }
    }

    /// <summary>
    /// One pass over every part of <paramref name="training"/> for what training needs before its first step: the
    /// standardization's statistics, and how often each token id occurs (for token dropout by frequency). None when neither is asked.
    /// </summary>
    private static void Survey(ISequenceSource training, StandardizedTraining.Accumulator? standardizing, long[]? tokenCounts)
    {
        if (standardizing is null && tokenCounts is null) return;
        var buffer = new SequenceDataset(training.FeaturesPerStep, training.TargetWidth, training.PerStepTargets);
        for (int p = 0; p < training.PartCount; p++)
        {
            var part = training.ReadPart(p, buffer);
            standardizing?.Add(part);
            if (tokenCounts is not null)
                foreach (int id in part.AllIds) tokenCounts[id]++;
        }
    }

    /// <summary>
    /// Throws before training starts when the largest batch (<paramref name="batchSize"/> sequences of the longest length)
    /// would need more memory than <see cref="TrainerOptions.MaxBatchMemoryMegabytes"/>, saying how much and what reduces it.
    /// </summary>
    private void CheckBatchMemory(int batchSize, int longest)
    {
        long needed = _model.TrainingBytes(batchSize, longest, Options.TruncatedBpttSteps);
        bool automatic = Options.MaxBatchMemoryMegabytes == 0;
        long limit = automatic ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2 : Options.MaxBatchMemoryMegabytes * (1L << 20);
        if (needed <= limit) return;
        string truncate = _model.Options.Bidirectional ? "make the model unidirectional and set TruncatedBpttSteps"
            : _model.Options.Readout == SequenceReadout.MeanOverSteps ? "read the final states (Readout LastStep) and set TruncatedBpttSteps"
            : Options.TruncatedBpttSteps > 0 ? "lower TruncatedBpttSteps" : "set TruncatedBpttSteps (for example 100)";
        string size = string.Create(CultureInfo.InvariantCulture,
            $"A training batch of {batchSize} sequences of {longest} steps needs about {needed >> 20:N0} MB for its activations and gradients, more than the limit of {limit >> 20:N0} MB");
        throw new InvalidOperationException(size + (automatic ? " (MaxBatchMemoryMegabytes, by default half of the available memory). " : " (MaxBatchMemoryMegabytes). ") +
            $"Lower BatchSize, {truncate} so a pass keeps one chunk of steps, cut the sequences shorter, lower HiddenSize or the number of layers, " +
            "or raise MaxBatchMemoryMegabytes.");
    }

    private readonly ReadoutLoss _onChunkLoss;
    private double _batchWeight;

    /// <summary>One training batch by truncated BPTT: the chunks' losses, each weighted by its share of the batch's weight.</summary>
    private double TruncatedLoss()
    {
        _batchWeight = LossWeight(_batch.Targets, _batch.Weights);
        return _model.BackpropagateTruncated(_batch, Options.TruncatedBpttSteps, _onChunkLoss) / Math.Max(_batchWeight, double.Epsilon);
    }

    /// <summary>
    /// A chunk's loss as a share of the batch's mean: the loss's mean over the chunk's rows times their weight, and its gradient
    /// scaled by that weight over the batch's, so the chunks' gradients add up to the gradient of the batch's mean loss.
    /// </summary>
    private double ChunkLoss(ReadOnlySpan<float> output, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, int rows, Span<float> gradient)
    {
        double mean = _trainingLoss.Compute(output, targets, rows, _model.OutputSize, weights, gradient);
        double weight = LossWeight(targets, weights);
        if (weight != _batchWeight) System.Numerics.Tensors.TensorPrimitives.Multiply(gradient, (float)(weight / _batchWeight), gradient);
        return mean * weight;
    }

    /// <summary>The weight behind a loss's mean over these rows: Σ w, or Σ w·c_y with class weights (the loss's own denominator).</summary>
    private double LossWeight(ReadOnlySpan<float> targets, ReadOnlySpan<float> weights)
    {
        double weight = 0;
        var classWeights = (_loss as SoftmaxCrossEntropy)?.ClassWeights;
        for (int r = 0; r < weights.Length; r++) weight += classWeights is null ? weights[r] : weights[r] * classWeights[(int)targets[r]];
        return weight;
    }

    /// <summary>
    /// Writes the model, the optimizer's moments, the best weights so far and the trainer's counters to one model file
    /// (which <see cref="SequenceModelFile.Load(string)"/> also reads as a plain model).
    /// </summary>
    public void SaveCheckpoint(string path) => _loop.SaveCheckpoint(path);

    /// <summary>
    /// Restores a checkpoint written by this kind of trainer for a model with the same options: weights, optimizer state,
    /// best weights, counters and history. The next <see cref="Train"/> continues after the checkpoint's epoch and gives
    /// the same weights as a run that was never interrupted. All is checked before anything changes.
    /// </summary>
    public void ResumeFrom(string path)
    {
        _loop.ResumeFrom(path);
        _folded = false; // a checkpoint holds the weights of the standardized problem
    }

    /// <summary>The weighted mean loss and the metric (accuracy or RMSE) of the model on <paramref name="data"/>.</summary>
    public (double Loss, double Metric) Evaluate(ISequenceSource data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckData(data, nameof(data));
        var (_, kind) = MetricOf(_loss);
        double lossSum = 0, weightSum = 0, metricSum = 0, metricWeight = 0;
        // CheckData holds FeaturesPerStep and PerStepTargets to the model's; the target width may differ under a loss of the caller's.
        if (_evaluationBuffer is null || _evaluationBuffer.TargetWidth != data.TargetWidth)
            _evaluationBuffer = new SequenceDataset(data.FeaturesPerStep, data.TargetWidth, data.PerStepTargets);
        for (int p = 0; p < data.PartCount; p++)
        {
            var part = data.ReadPart(p, _evaluationBuffer);
            foreach (int[] indices in BatchPlanner.Plan(part, Math.Max(Options.BatchSize, 256), null, bucketByLength: false))
            {
                part.Fill(indices, _batch);
                if (_training) _standardized?.Apply(_batch);
                var (loss, weight) = ForwardLoss(training: false);
                lossSum += loss * weight;
                weightSum += weight;
                AccumulateMetric(kind, ref metricSum, ref metricWeight);
            }
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
        if (!TrainingLoop.IsFinite(output)) return (double.NaN, 0);
        double loss = _trainingLoss.Compute(output, _batch.Targets, rows, width, _batch.Weights, _gradient.AsSpan(0, rows * width));
        // The weight that made this batch's mean, so batch means combine into the mean over the data set.
        return (loss, LossWeight(_batch.Targets, _batch.Weights));
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

    /// <summary>
    /// Checks that the data fits the model and the loss, part by part: only a part whose summary shows an out-of-range token or
    /// class is read, to name the first example that holds it. Returns the summary of every part.
    /// </summary>
    private SequenceSummary CheckData(ISequenceSource data, string name)
    {
        var options = _model.Options;
        // "The training data", "The validation data"; Evaluate's argument is just "The data".
        string subject = name == "data" ? "The data" : $"The {name} data";
        bool tokens = data.FeaturesPerStep == 0;
        if (tokens != options.VocabularySize > 0)
            throw new ArgumentException(tokens
                ? $"{subject} holds token sequences but the model reads numeric steps."
                : $"{subject} holds numeric sequences but the model reads token ids.", name);
        if (!tokens && data.FeaturesPerStep != options.FeaturesPerStep)
            throw new ArgumentException($"{subject} has {data.FeaturesPerStep} features per step; the model expects {options.FeaturesPerStep}.", name);
        if (data.PerStepTargets != (options.Readout == SequenceReadout.EveryStep))
            throw new ArgumentException(data.PerStepTargets
                ? $"{subject} has per-step targets but the model reads out the last step only."
                : $"{subject} has one target per sequence but the model reads out every step.", name);
        bool classes = _loss is SoftmaxCrossEntropy;
        if (_loss.TargetWidth(_model.OutputSize) is int width && data.TargetWidth != width)
            throw new ArgumentException(
                $"{subject} has targets of width {data.TargetWidth} but the model's loss ({_loss.GetType().Name}) reads targets of width {width}.", name);
        var all = SequenceSummary.Empty;
        SequenceDataset? buffer = null;
        for (int p = 0; p < data.PartCount; p++)
        {
            var summary = data.PartSummary(p);
            all = all.Merge(summary);
            bool badToken = summary.MaxTokenId >= options.VocabularySize && tokens;
            bool badClass = classes && (summary.MinTarget < 0 || summary.MaxTarget >= options.OutputSize || !summary.WholeTargets);
            if (!badToken && !badClass) continue;
            var part = data.ReadPart(p, buffer ??= new SequenceDataset(data.FeaturesPerStep, data.TargetWidth, data.PerStepTargets));
            if (badToken && part.MaxTokenId() is (int id, int example))
                throw new ArgumentException(
                    $"{subject}'s example {part.NumberOf(example)} holds token id {id}, outside the model's vocabulary [0, {options.VocabularySize - 1}]. " +
                    "Map unseen tokens to 0 (unknown) or build the vocabulary from every data set.", name);
            for (int i = 0; i < part.Count; i++)
                foreach (float target in part.TargetOf(i))
                    if (target < 0 || target >= options.OutputSize || target != MathF.Floor(target))
                        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                            $"{subject}'s example {part.NumberOf(i)} has class target {target}; classes are whole numbers in [0, {options.OutputSize - 1}]."), name);
        }
        return all;
    }

    /// <summary>
    /// One training run's data as the loop sees it: the epoch's batches (<see cref="SequenceEpoch"/>: the data set as
    /// <see cref="BatchPlanner"/> plans it, or a source's parts in random windows), one batch's forward and backward pass.
    /// </summary>
    private sealed class Task(SequenceTrainer trainer, ISequenceSource training, ISequenceSource? validation) : ITrainingTask
    {
        private readonly SequenceEpoch _epoch = new(training, trainer.Options.BatchSize, trainer.Options.BucketByLength);

        public Parameters.ParameterSet Parameters => trainer._model.Parameters;

        public string MetricName => MetricOf(trainer._loss).Name;

        public bool MetricIsAccuracy => MetricOf(trainer._loss).Kind == MetricKind.Accuracy;

        public string ExampleName => "samples";

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
            if (!_epoch.Next(trainer._batch)) throw new InvalidOperationException($"The epoch ran out of batches at step {step}.");
            trainer._standardized?.Apply(trainer._batch);
            if (trainer.Options.TruncatedBpttSteps > 0)
            {
                double truncated = trainer.TruncatedLoss();
                return (double.IsFinite(truncated) ? truncated : double.NaN, trainer._batchWeight, trainer._batch.BatchSize);
            }
            var (loss, weight) = trainer.ForwardLoss(training: true);
            var model = trainer._model;
            Span<float> outputGradient = trainer._gradient.AsSpan(0, model.OutputRows(trainer._batch) * model.OutputSize);
            if (!double.IsFinite(loss) || !TrainingLoop.IsFinite(outputGradient)) return (double.NaN, weight, trainer._batch.BatchSize);
            model.Backward(outputGradient);
            return (loss, weight, trainer._batch.BatchSize);
        }

        public (double Loss, double? Metric) Evaluate() => trainer.Evaluate(validation!);
    }

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }
}
