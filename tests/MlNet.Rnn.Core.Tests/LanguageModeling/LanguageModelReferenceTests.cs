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
/// moves every parameter by exactly the reference gradients of its chunks; a chunk's loss is its negative log-likelihood per
/// unit of weight; <see cref="LanguageModel.Evaluate(ReadOnlySpan{int}, bool, int)"/> returns the reference log-likelihood (never
/// with the model's dropout, and in the memory of one chunk whatever the text's length); greedy generation reads start and the
/// prompt, without dropout, and picks what the reference's logits pick.
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
    public void AChunksLoss_IsItsNegativeLogLikelihoodPerUnitOfWeight()
    {
        const int B = 2, k = 3;
        var options = Options(RecurrentCellType.Rnn, 1, learnedInitialState: false);
        var model = new SequenceModel(options);
        NetworkFactory.Randomize(model.Parameters, new Random(9), 0.8);
        var reference = new ReferenceSequenceModel(options, model.Parameters);
        // start a b c end start b a end: 8 pairs in 2 streams of 4; the first chunk holds 5 weighted targets (one is the start id).
        int[] sequence = [1, 3, 4, 5, 2, 1, 4, 3, 2];
        var task = new LanguageModelTask(model, s_vocabulary, new StreamingLogits(model), new TokenArray(sequence), null,
            new LanguageModelTrainingOptions { Training = LanguageModelTrainingOptions.DefaultTraining with { BatchSize = B }, ChunkSteps = k });
        Assert.Equal(2, task.BeginEpoch(1, random: null));
        var (inputs, targets, weights, streams, length) = StreamLayout(sequence, B);
        Assert.Equal((2, 4), (streams, length));
        var (ids, chunkTargets, chunkWeights) = Chunk(inputs, targets, weights, B, 0, k);
        var (loss, weight) = CrossEntropy(reference.Forward(ids, null, k, B, [k, k]).Output, chunkTargets, chunkWeights);
        Assert.Equal(5, weight);
        var (mean, stepWeight, examples) = task.Step(0);
        Assert.Equal(weight, stepWeight);
        Assert.Equal(5, examples);
        Tolerance.AssertClose([loss / weight], [(float)mean], 1e-5, 1e-6, "mean loss of the first chunk");
    }

    [Fact]
    public void GenerationAndScoring_ReadStartThenThePrompt_WithoutDropout()
    {
        // Dropout everywhere it can be (between the layers, on the recurrent state, before the head): none of it may apply.
        var options = Options(RecurrentCellType.Lstm, 2, learnedInitialState: false, dropout: 0.5f, recurrentDropout: 0.4f);
        var model = new LanguageModel(s_vocabulary, options);
        NetworkFactory.Randomize(model.Model.Parameters, new Random(7), 1.0);
        var parameters = model.Model.Parameters;
        Span<float> bias = parameters.ValuesOf(parameters["head.bias"]);
        bias.Clear(); // the next id depends on the state alone
        bias[s_vocabulary.EndId] = -30; // never ends: every generation runs to its length
        var reference = new ReferenceSequenceModel(options, parameters); // no masks: no dropout

        // The reference's greedy choice after start, the prompt and the ids so far (reread from the start every time).
        int NextId(List<int> context)
        {
            int T = context.Count, best = -1;
            double[] z = reference.Forward([.. context], null, T, 1, [T]).Output;
            for (int j = 0; j < V; j++)
                if (j != Vocabulary.UnknownId && j != s_vocabulary.StartId && (best < 0 || z[(T - 1) * V + j] > z[(T - 1) * V + best])) best = j;
            return best;
        }

        // Greedy generation of 5 ids after each of 40 prompts: the prompt's reading decides the first, each id read the next.
        var random = new Random(11);
        for (int p = 0; p < 40; p++)
        {
            int[] prompt = [.. Enumerable.Range(0, 1 + p % 5).Select(_ => random.Next(V)).Where(id => id != s_vocabulary.StartId)];
            var context = new List<int> { s_vocabulary.StartId };
            context.AddRange(prompt);
            var expected = new List<int>();
            for (int i = 0; i < 5; i++)
            {
                int next = NextId(context);
                expected.Add(next);
                context.Add(next);
            }
            int[] generated = model.Generate(prompt, 5, temperature: 0f);
            Assert.True(expected.SequenceEqual(generated), $"prompt {string.Join(" ", prompt)}: expected {string.Join(" ", expected)}, generated {string.Join(" ", generated)}");
        }

        int[] scored = [3, 5, 4, 0];
        int[] sequence = [s_vocabulary.StartId, .. scored, s_vocabulary.EndId];
        double[] logits = reference.Forward(sequence[..^1], null, sequence.Length - 1, 1, [sequence.Length - 1]).Output;
        var (negativeLogLikelihood, count) = CrossEntropy(logits, sequence[1..], [.. Enumerable.Repeat(1.0, sequence.Length - 1)]);
        var metrics = model.Evaluate(scored, scoreEnd: true);
        Assert.Equal(count, metrics.TokenCount);
        Tolerance.AssertClose([-negativeLogLikelihood], [(float)metrics.LogLikelihood], 1e-5, 1e-5, "log-likelihood with dropout in the model");
    }

    [Fact]
    public void Scoring_HoldsOneChunkInMemory_WhateverTheTextsLength_AndReusesTheModelsBuffers()
    {
        const int N = 100_000, streams = 64;
        var model = new LanguageModel(s_vocabulary, Options(RecurrentCellType.Lstm, 1, learnedInitialState: false) with { HiddenSize = 16 });
        var random = new Random(8);
        int[] text = [.. Enumerable.Range(0, N).Select(_ => random.Next(3, V))];
        model.Evaluate(text, streams: streams);
        long Pass()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Equal(N, model.Evaluate(text, streams: streams).TokenCount);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        long allocated = Enumerable.Range(0, 3).Min(_ => Pass());
        // The sequence start, text (N + 1 ids) and one chunk of 256 steps × 64 streams of ids, targets and weights; the
        // streams' logits, states and activations (1 MB and more) are the model's, grown by the first call.
        long sequence = (N + 1L) * sizeof(int), chunk = 256L * streams * (2 * sizeof(int) + sizeof(float));
        Assert.True(allocated < sequence + chunk + (64 << 10), $"scoring allocated {allocated:N0} bytes; the sequence is {sequence:N0}, a chunk {chunk:N0}");
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
