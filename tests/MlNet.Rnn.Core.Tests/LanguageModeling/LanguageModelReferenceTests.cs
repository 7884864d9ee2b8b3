using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.LanguageModeling;

/// <summary>
/// The language model against an independent double-precision reference (<see cref="ReferenceSequenceModel"/> with a
/// V-way head at every step): next-token logits and the loss <c>L = Σ w·(ln Σ e^z − z_y) / Σ w</c> of a chunk read from the
/// state the previous chunk ended in; the gradient of every parameter by central differences of that loss with the carried
/// state held constant (truncated BPTT); one epoch of plain SGD through the public <see cref="LanguageModel.Train(IReadOnlyList{int[]}, IReadOnlyList{int[]}?, LanguageModelTrainingOptions, CancellationToken)"/>
/// moves every parameter by exactly the reference gradients of its chunks; and <see cref="LanguageModel.Evaluate(ReadOnlySpan{int}, bool, int)"/>
/// returns the reference log-likelihood.
/// </summary>
public sealed class LanguageModelReferenceTests
{
    private static readonly Vocabulary s_vocabulary = new(["a", "b", "c"], VocabularyLevel.Characters);
    private const int V = 6;

    private static SequenceModelOptions Options(RecurrentCellType cell, int layers, bool learnedInitialState, float dropout = 0f, float recurrentDropout = 0f) => new()
    {
        Cell = cell, VocabularySize = V, EmbeddingSize = 3, HiddenSize = 4, Layers = layers, OutputSize = V, Readout = SequenceReadout.EveryStep,
        LearnedInitialState = learnedInitialState, Dropout = dropout, RecurrentDropout = recurrentDropout, Seed = 5, MaxDegreeOfParallelism = 1,
    };

    /// <summary>
    /// The documented stream layout, derived here independently: the pairs <c>(s[i], s[i+1])</c> of the sequence are cut into
    /// B streams of <c>L = ⌈P/B⌉</c> consecutive pairs; step t of stream b is pair <c>b·L + t</c>. A pair whose target is the
    /// start id weighs 0; past the end a stream reads id 0 with weight 0.
    /// </summary>
    private static (int[] Inputs, int[] Targets, double[] Weights, int Streams, int Length) StreamLayout(int[] sequence, int streams)
    {
        int pairs = sequence.Length - 1, length = (pairs + streams - 1) / streams, count = (pairs + length - 1) / length;
        var inputs = new int[length * count];
        var targets = new int[length * count];
        var weights = new double[length * count];
        for (int b = 0; b < count; b++)
            for (int t = 0; t < length; t++)
            {
                int pair = b * length + t, row = t * count + b;
                if (pair >= pairs) continue;
                inputs[row] = sequence[pair];
                targets[row] = sequence[pair + 1];
                weights[row] = sequence[pair + 1] == s_vocabulary.StartId ? 0 : 1;
            }
        return (inputs, targets, weights, count, length);
    }

    /// <summary>Σ w·(−ln softmax(z)_y) and Σ w over rows of logits <c>[rows, V]</c>.</summary>
    private static (double NegativeLogLikelihood, double Weight) CrossEntropy(double[] logits, int[] targets, double[] weights)
    {
        double total = 0, weightSum = 0;
        for (int r = 0; r < targets.Length; r++)
        {
            total -= weights[r] * Softmax.Log(logits.AsSpan(r * V, V))[targets[r]];
            weightSum += weights[r];
        }
        return (total, weightSum);
    }

    /// <summary>Steps [first, first + k) of every stream: their ids, targets and weights, time-major.</summary>
    private static (int[] Inputs, int[] Targets, double[] Weights) Chunk(int[] inputs, int[] targets, double[] weights, int streams, int first, int k) =>
        (inputs[(first * streams)..((first + k) * streams)], targets[(first * streams)..((first + k) * streams)], weights[(first * streams)..((first + k) * streams)]);

    public static TheoryData<RecurrentCellType, int, bool> TrainingCases() => new()
    {
        { RecurrentCellType.Lstm, 1, true },
        { RecurrentCellType.Gru, 2, false },
        { RecurrentCellType.Rnn, 1, true },
    };

    [Theory]
    [MemberData(nameof(TrainingCases))]
    public void OneEpochOfSgd_StepsEveryParameterByTheReferenceGradientOfEachChunk_WithTheStateCarried(RecurrentCellType cell, int layers, bool learnedInitialState)
    {
        const float rate = 0.5f;
        const int streams = 3, k = 3;
        var options = Options(cell, layers, learnedInitialState);
        var model = new LanguageModel(s_vocabulary, options);
        NetworkFactory.Randomize(model.Model.Parameters, new Random(2), 0.6);
        float[] before = model.Model.Parameters.Values.ToArray();
        var reference = new ReferenceSequenceModel(options, model.Model.Parameters);
        int[][] documents = [[3, 4, 0, 3, 5, 3, 3], [4, 4, 5]];

        model.Train(documents, null, new LanguageModelTrainingOptions
        { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 1, BatchSize = streams, Optimizer = OptimizerKind.Sgd, LearningRate = rate, GradientClipNorm = 0, Shuffle = false }, ChunkSteps = k });

        // start d1 end start d2 end: 13 pairs in 3 streams of 5 (the last has 3), read in chunks of 3 and 2 steps. The second
        // chunk holds the pair whose target is the second start id and the two steps past the last stream's end (weight 0).
        int[] sequence = [s_vocabulary.StartId, .. documents[0], s_vocabulary.EndId, s_vocabulary.StartId, .. documents[1], s_vocabulary.EndId];
        var (inputs, targets, weights, B, length) = StreamLayout(sequence, streams);
        Assert.Equal((3, 5), (B, length));
        var expected = reference.Parameters.Keys.ToDictionary(name => name, name => new double[reference.Parameters[name].Length]);
        double[]? carriedHidden = null, carriedCell = null;
        for (int first = 0; first < length; first += k)
        {
            int steps = Math.Min(k, length - first);
            var (ids, chunkTargets, chunkWeights) = Chunk(inputs, targets, weights, B, first, steps);
            double[]? startHidden = carriedHidden, startCell = carriedCell;
            double Loss()
            {
                double[] z = reference.Forward(ids, null, steps, B, [.. Enumerable.Repeat(steps, B)], startHidden, startCell).Output;
                var (loss, weight) = CrossEntropy(z, chunkTargets, chunkWeights);
                return loss / weight;
            }
            // This chunk's gradient at the parameters it starts from, the carried state a constant; then the SGD step.
            var gradients = reference.Parameters.ToDictionary(pair => pair.Key, pair => CentralDifferences.Of(pair.Value, Loss));
            (_, carriedHidden, carriedCell) = reference.Forward(ids, null, steps, B, [.. Enumerable.Repeat(steps, B)], startHidden, startCell);
            foreach (var (name, gradient) in gradients)
                for (int i = 0; i < gradient.Length; i++)
                {
                    expected[name][i] += gradient[i];
                    reference.Parameters[name][i] -= rate * gradient[i];
                }
        }

        var taken = CentralDifferences.TakenBySgd(model.Model.Parameters, before, rate);
        foreach (var tensor in model.Model.Parameters.Tensors)
            Tolerance.AssertClose(expected[tensor.Name], taken(tensor), CentralDifferences.Relative, CentralDifferences.Absolute,
                $"{cell} L={layers} {(learnedInitialState ? "learned" : "zero")} initial state, two chunks of SGD: Σ chunk gradients of {tensor.Name}");
    }

    [Fact]
    public void ChunkFromTheCarriedState_WithDropout_LogitsLossAndGradientsMatchTheReference()
    {
        const int B = 2;
        var options = Options(RecurrentCellType.Lstm, 2, learnedInitialState: true, dropout: 0.3f, recurrentDropout: 0.4f);
        var model = new SequenceModel(options);
        NetworkFactory.Randomize(model.Parameters, new Random(3), 0.6);
        var reference = new ReferenceSequenceModel(options, model.Parameters);
        var logits = new StreamingLogits(model);
        logits.Reset(B);
        logits.ReseedDropout(9);
        int[] firstIds = [1, 1, 3, 4, 0, 3], secondIds = [5, 3, 3, 3];
        int[] targets = [3, 1, 3, 2];
        float[] weights = [1, 0, 1, 1];

        // Chunk 1 from the learned initial state: the reference, given its masks, must end in the state the model carries.
        float[] firstLogits = logits.Forward(firstIds, 3, training: true).ToArray();
        DropoutMasks.Replay(model.Network, reference.Network, 3, B);
        reference.HeadMask = DropoutMasks.AssertDrops(NetworkFactory.Widen(logits.HeadDropoutMask), "head mask of chunk 1");
        var (z1, carriedHidden, carriedCell) = reference.Forward(firstIds, null, 3, B, [3, 3]);
        Tolerance.AssertClose(z1, firstLogits, 1e-4, 1e-5, "chunk 1 logits");

        // Chunk 2 from the carried state, with its own masks.
        float[] secondLogits = logits.Forward(secondIds, 2, training: true).ToArray();
        DropoutMasks.Replay(model.Network, reference.Network, 2, B);
        reference.HeadMask = DropoutMasks.AssertDrops(NetworkFactory.Widen(logits.HeadDropoutMask), "head mask of chunk 2");
        double[] referenceWeights = NetworkFactory.Widen(weights);
        double Loss()
        {
            var (loss, weight) = CrossEntropy(reference.Forward(secondIds, null, 2, B, [2, 2], carriedHidden, carriedCell).Output, targets, referenceWeights);
            return loss / weight;
        }
        Tolerance.AssertClose(reference.Forward(secondIds, null, 2, B, [2, 2], carriedHidden, carriedCell).Output, secondLogits, 1e-4, 1e-5,
            "chunk 2 logits from the carried state");

        var gradient = new float[secondLogits.Length];
        var (negativeLogLikelihood, weightSum) = NextTokenLoss.Compute(secondLogits, targets, weights, V, gradient, default);
        Assert.Equal(3.0, weightSum);
        Tolerance.AssertClose([Loss()], [(float)(negativeLogLikelihood / weightSum)], 1e-5, 1e-6, "chunk 2 mean loss");
        model.Parameters.ZeroGradients();
        logits.Backward(gradient);
        CentralDifferences.AssertEveryParameter(model.Parameters, CentralDifferences.Accumulated(model.Parameters), reference.Parameters, Loss,
            "LSTM L=2 dropout 0.3 recurrent dropout 0.4, chunk 2 from the carried state");
    }

    [Fact]
    public void Evaluate_ReturnsTheReferenceLogLikelihood_StreamByStream()
    {
        var options = Options(RecurrentCellType.Gru, 1, learnedInitialState: true);
        var model = new LanguageModel(s_vocabulary, options);
        NetworkFactory.Randomize(model.Model.Parameters, new Random(4), 0.8);
        var reference = new ReferenceSequenceModel(options, model.Model.Parameters);
        int[] text = [3, 4, 0, 5, 3, 3, 4];

        var metrics = model.Evaluate(text, scoreEnd: true, streams: 2);

        var (inputs, targets, weights, B, length) = StreamLayout([s_vocabulary.StartId, .. text, s_vocabulary.EndId], 2);
        double[] z = reference.Forward(inputs, null, length, B, [.. Enumerable.Repeat(length, B)]).Output;
        var (negativeLogLikelihood, count) = CrossEntropy(z, targets, weights);
        Assert.Equal(8, count);
        Assert.Equal(8, metrics.TokenCount);
        Tolerance.AssertClose([-negativeLogLikelihood], [(float)metrics.LogLikelihood], 1e-5, 1e-5, "log-likelihood of start, text, end in 2 streams");
    }
}
