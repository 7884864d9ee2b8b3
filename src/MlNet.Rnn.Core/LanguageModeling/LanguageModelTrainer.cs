using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// Truncated BPTT over a long text: every epoch cuts the training sequence into B streams (<see cref="TokenStreams"/>) and
/// reads them k steps at a time; each chunk runs forward from the state the previous chunk ended in, backpropagates through
/// its own k steps, clips the gradient and steps the optimizer. After each epoch: validation bits per token, early stopping
/// that restores the best weights, reduce-on-plateau, progress to the logger. A non-finite loss or gradient stops training
/// with <see cref="TrainingDivergedException"/> before the step.
/// </summary>
/// <remarks>
/// Why streams rather than <c>IRecurrentNetwork.BackpropagateTruncated</c> over the whole text: the latter needs the embedded
/// input of every step up front (<c>[N, B, E]</c>, hundreds of MB for a book) and gives no gradient for its input, so the
/// embedding would not learn; with streams, memory is one chunk, every chunk is one batched GEMM per step over B streams,
/// and the time budget and cancellation are checked between chunks.
/// </remarks>
internal sealed class LanguageModelTrainer(SequenceModel model, LanguageModelTrainingOptions options)
{
    /// <summary>Fewest tokens per validation stream, so the cold start of each stream barely moves the score.</summary>
    public const int MinimumValidationStreamLength = 1000;

    private readonly StreamingLogits _logits = new(model);

    public TrainingHistory Train(int[] training, int[]? validation, CancellationToken cancellationToken)
    {
        var history = new TrainingHistory();
        var parameters = model.Parameters;
        int V = model.OutputSize, k = options.ChunkSteps;
        var optimizer = CreateOptimizer();
        var plateau = options.ReduceOnPlateau
            ? new ReduceOnPlateau(factor: options.PlateauFactor, patience: options.PlateauPatience, minimumRate: options.MinimumLearningRate)
            : null;
        var best = new float[parameters.Count];
        double bestLoss = double.PositiveInfinity;
        int badEpochs = 0, lastEpoch = 0;
        float rate = options.LearningRate;
        var logger = options.Logger;
        var time = options.TimeProvider;
        long start = time.GetTimestamp();
        int capacity = Math.Min(k, training.Length) * Math.Min(options.Streams, training.Length);
        var inputs = new int[capacity];
        var targets = new int[capacity];
        var weights = new float[capacity];
        var gradient = new float[capacity * V];
        int streamLength = new TokenStreams(training, 0, options.Streams).StreamLength;
        double totalChunks = (double)((streamLength + k - 1) / k) * options.Epochs;
        long chunksDone = 0;

        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            model.ReseedDropout(Mix(model.Options.Seed, epoch));
            _logits.ReseedDropout(Mix(model.Options.Seed, -epoch));
            int pairs = training.Length - 1;
            int offset = options.RandomOffsets ? new Random(Mix(options.Seed, epoch)).Next(Math.Min(k, pairs)) : 0;
            var streams = new TokenStreams(training, offset, options.Streams);
            int B = streams.Streams;
            _logits.Reset(B);
            double lossSum = 0, weightSum = 0, normSum = 0;
            int chunks = 0;
            bool outOfTime = false;
            for (int step = 0; step < streams.StreamLength; step += k)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int steps = Math.Min(k, streams.StreamLength - step), rows = steps * B;
                streams.Fill(step, steps, inputs, targets, weights);
                ReadOnlySpan<float> z = _logits.Forward(inputs.AsSpan(0, rows), steps, training: true);
                var (loss, weight) = NextTokenLoss.Compute(z, targets.AsSpan(0, rows), weights.AsSpan(0, rows), V, gradient.AsSpan(0, rows * V), default);
                double meanLoss = weight > 0 ? loss / weight : 0;
                if (!double.IsFinite(meanLoss)) throw new TrainingDivergedException(epoch, chunks + 1, meanLoss, double.NaN);
                parameters.ZeroGradients();
                _logits.Backward(gradient.AsSpan(0, rows * V));
                float norm = GradientClipping.GlobalNorm(parameters.Gradients);
                if (!float.IsFinite(norm)) throw new TrainingDivergedException(epoch, chunks + 1, meanLoss, norm);
                if (options.GradientClipNorm > 0) GradientClipping.ClipByGlobalNorm(parameters.Gradients, options.GradientClipNorm);
                optimizer.LearningRate = options.Schedule == ScheduleKind.Cosine ? Cosine(rate, chunksDone / totalChunks, time.GetElapsedTime(start)) : rate;
                optimizer.Step();
                chunksDone++;
                lossSum += loss;
                weightSum += weight;
                normSum += norm;
                chunks++;
                if (options.MaxTrainingTime is TimeSpan budget && time.GetElapsedTime(start) >= budget) { outOfTime = true; break; }
            }
            lastEpoch = epoch;

            double? validationLoss = null, validationBits = null;
            if (validation is not null)
            {
                int validationStreams = Math.Clamp((validation.Length - 1) / MinimumValidationStreamLength, 1, options.ValidationStreams);
                var metrics = LikelihoodScorer.Score(_logits, validation, validationStreams, V);
                validationLoss = metrics.CrossEntropy;
                validationBits = metrics.BitsPerToken;
            }
            double seconds = epochClock.Elapsed.TotalSeconds;
            var elapsed = time.GetElapsedTime(start);
            var remaining = TimeSpan.FromSeconds(elapsed.TotalSeconds / epoch * (options.Epochs - epoch));
            if (options.MaxTrainingTime is TimeSpan limit && limit - elapsed < remaining)
                remaining = limit > elapsed ? limit - elapsed : TimeSpan.Zero;
            var report = new EpochReport(epoch, weightSum > 0 ? lossSum / weightSum : 0, validationLoss, validationBits, "bits per token",
                chunks > 0 ? normSum / chunks : 0, optimizer.LearningRate, weightSum / Math.Max(seconds, 1e-9), elapsed, outOfTime ? TimeSpan.Zero : remaining);
            history.Epochs.Add(report);
            logger?.LogInformation(
                "Epoch {Epoch}: training {TrainingBits:F4} bits/token, validation {ValidationBits} bits/token, gradient norm {Norm:F3}, " +
                "learning rate {Rate:g3}, {Speed:F0} tokens/s, {Elapsed:hh\\:mm\\:ss} elapsed, {Remaining:hh\\:mm\\:ss} left",
                epoch, report.TrainingLoss / Math.Log(2), validationBits?.ToString("F4", System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                report.GradientNorm, report.LearningRate, report.SamplesPerSecond, report.Elapsed, report.Remaining);

            bool stop = false;
            if (validationLoss is double current)
            {
                if (current < bestLoss)
                {
                    bestLoss = current;
                    badEpochs = 0;
                    history.BestEpoch = epoch;
                    parameters.Values.CopyTo(best);
                }
                else
                {
                    badEpochs++;
                    stop = options.EarlyStoppingPatience > 0 && badEpochs >= options.EarlyStoppingPatience;
                }
                if (plateau is not null)
                {
                    float reduced = plateau.Update(current, rate);
                    if (reduced < rate) logger?.LogInformation("Validation loss has not improved: learning rate {Old:g3} → {New:g3}.", rate, reduced);
                    rate = reduced;
                }
            }
            else
            {
                history.BestEpoch = epoch;
            }
            if (stop)
            {
                history.StoppedEarly = true;
                logger?.LogInformation("Early stopping after epoch {Epoch}: no better validation loss for {Patience} epochs; restoring epoch {Best}.",
                    epoch, options.EarlyStoppingPatience, history.BestEpoch);
                break;
            }
            if (outOfTime)
            {
                logger?.LogInformation("Training time limit {Limit} reached during epoch {Epoch}.", options.MaxTrainingTime, epoch);
                break;
            }
        }
        if (options.EarlyStoppingPatience > 0 && validation is not null && history.BestEpoch > 0 && history.BestEpoch != lastEpoch)
        {
            best.CopyTo(parameters.Values);
            logger?.LogInformation("Restored the weights of epoch {Best}, the best validation loss.", history.BestEpoch);
        }
        return history;
    }

    /// <summary>
    /// <c>min + (base − min)·(1 + cos(π·p))/2</c>, p the larger of the share of chunks and of the time budget used, capped
    /// below 1 so the rate stays positive.
    /// </summary>
    private float Cosine(float baseRate, double chunkProgress, TimeSpan elapsed)
    {
        double progress = chunkProgress;
        if (options.MaxTrainingTime is TimeSpan budget) progress = Math.Max(progress, elapsed / budget);
        progress = Math.Min(progress, 0.999);
        double minimum = Math.Min(options.MinimumLearningRate, baseRate);
        return (float)(minimum + (baseRate - minimum) * (1 + Math.Cos(Math.PI * progress)) / 2);
    }

    private Optimizer CreateOptimizer() => options.Optimizer switch
    {
        OptimizerKind.Sgd => new Sgd(model.Parameters, options.LearningRate, options.Momentum, 0f, false, options.WeightDecay),
        OptimizerKind.AdamW => new AdamW(model.Parameters, options.LearningRate, options.Beta1, options.Beta2, 1e-8f, options.WeightDecay),
        OptimizerKind.RmsProp => new RmsProp(model.Parameters, options.LearningRate, momentum: options.Momentum, weightDecay: options.WeightDecay),
        _ => new Adam(model.Parameters, options.LearningRate, options.Beta1, options.Beta2, 1e-8f, options.WeightDecay),
    };

    /// <summary>Deterministic seed for an epoch (HashCode is randomised per process, so it cannot serve).</summary>
    private static int Mix(int seed, int epoch) => unchecked(seed * 1_000_003 + epoch * 7919 + 17);
}
