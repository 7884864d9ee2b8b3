using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Tests.SequenceToSequence;

namespace MlNet.Rnn.Core.Tests.Models;

/// <summary>
/// Inference in a workspace over a shared, read-only model: a workspace scores exactly as the model's own inference does (every
/// cell, layers, directions, readouts, tokens and steps, variable lengths, a workspace reused across batch sizes); workspaces on
/// several threads at once give the one-thread outputs bit for bit; after the weights change a workspace reads the new ones;
/// creating a workspace copies nothing; a loaded model that only scores never allocates gradient buffers; and the task workspaces
/// (sequence to sequence, language model documents, forecasts of staged windows) give what the models' own methods give.
/// </summary>
public sealed class InferenceWorkspaceTests
{
    private static SequenceModelOptions Options(RecurrentCellType cell, bool tokens, int layers, bool bidirectional, SequenceReadout readout,
        bool learnedInitialState = false, RnnActivation activation = RnnActivation.Tanh, int hiddenSize = 5) => new()
    {
        Cell = cell, RnnActivation = activation, FeaturesPerStep = 3, VocabularySize = tokens ? 9 : 0, EmbeddingSize = 4, HiddenSize = hiddenSize,
        Layers = layers, Bidirectional = bidirectional, LearnedInitialState = learnedInitialState, OutputSize = 3, Readout = readout,
        Dropout = 0.3f, Seed = 4, MaxDegreeOfParallelism = 1,
    };

    private static readonly Dictionary<string, SequenceModelOptions> s_cases = new()
    {
        ["LSTM tokens L2 bidirectional last-step learned-state"] = Options(RecurrentCellType.Lstm, true, 2, true, SequenceReadout.LastStep, learnedInitialState: true),
        ["GRU steps L1 unidirectional every-step"] = Options(RecurrentCellType.Gru, false, 1, false, SequenceReadout.EveryStep),
        ["RNN-relu steps L2 bidirectional every-step learned-state"] =
            Options(RecurrentCellType.Rnn, false, 2, true, SequenceReadout.EveryStep, learnedInitialState: true, activation: RnnActivation.Relu),
        ["GRU tokens L2 bidirectional last-step"] = Options(RecurrentCellType.Gru, true, 2, true, SequenceReadout.LastStep),
        ["LSTM tokens L2 bidirectional mean-over-steps"] = Options(RecurrentCellType.Lstm, true, 2, true, SequenceReadout.MeanOverSteps),
    };

    [Fact]
    public void AWorkspaceReadingTheMean_ScoresARowOfNoStepAsTheHeadOfZeros()
    {
        // Scoring accepts a row of no step (an empty text): its mean over no step is the zero vector, so its output is the
        // head's bias, finite, and the other rows score as they do without it.
        var model = new SequenceModel(Options(RecurrentCellType.Gru, false, 1, true, SequenceReadout.MeanOverSteps));
        var random = new Random(5);
        NetworkFactory.Randomize(model.Parameters, random, 0.6);
        var batch = new SequenceBatch();
        batch.Reset(3, 4, 3, 1, perStepTargets: false);
        int[] lengths = [4, 0, 2];
        lengths.CopyTo(batch.Lengths);
        float[] steps = NetworkFactory.RandomFloats(random, 4 * 3 * 3, 1.5);
        for (int t = 0; t < 4; t++)
            for (int b = 0; b < 3; b++)
                if (t < lengths[b]) steps.AsSpan((t * 3 + b) * 3, 3).CopyTo(batch.Input.Slice((t * 3 + b) * 3, 3));
        var workspace = model.CreateWorkspace();
        float[] output = InWorkspace(workspace, batch);

        Assert.All(workspace.ReadoutFeatures.Slice(1 * 10, 10).ToArray(), value => Assert.Equal(0f, value));
        float[] bias = model.Parameters.ReadOnlyValuesOf(model.Parameters["head.bias"]).ToArray();
        Assert.Equal(bias, output.AsSpan(3, 3).ToArray());
        // ReadoutFeatures are what the head read: the head applied to them gives every row's output.
        float[] weight = model.Parameters.ReadOnlyValuesOf(model.Parameters["head.weight"]).ToArray(), features = workspace.ReadoutFeatures.ToArray();
        Assert.Equal(3 * 10, features.Length);
        double[] head = [.. Enumerable.Range(0, 3 * 3).Select(i => bias[i % 3] + Enumerable.Range(0, 10).Sum(j => (double)weight[i % 3 * 10 + j] * features[i / 3 * 10 + j]))];
        Tolerance.AssertClose(head, output, 1e-5, 1e-6, "the head of the readout features");
        var reference = new ReferenceSequenceModel(model.Options, model.Parameters);
        double[] expected = reference.Forward(null, NetworkFactory.Widen(batch.Input), 4, 3, [4, 1, 2]).Output; // row 1 aside
        Tolerance.AssertClose([.. expected[..3], .. expected[6..]], [.. output[..3], .. output[6..]], 1e-4, 1e-5, "the other rows");
    }

    public static TheoryData<string> Cases() => new(s_cases.Keys);

    /// <summary>A batch of <paramref name="lengths"/>.Length sequences of those lengths (ids in [0, 9) or steps of 3 floats).</summary>
    private static SequenceBatch Batch(bool tokens, int[] lengths, Random random)
    {
        var data = new SequenceDataset(tokens ? 0 : 3, 1);
        foreach (int length in lengths)
        {
            if (tokens) data.AddTokens([.. Enumerable.Range(0, length).Select(_ => random.Next(9))], [0f]);
            else data.Add(NetworkFactory.RandomFloats(random, 3 * length, 1.5), [0f]);
        }
        var batch = new SequenceBatch();
        data.Fill([.. Enumerable.Range(0, lengths.Length)], batch);
        return batch;
    }

    private static float[] OwnInference(SequenceModel model, SequenceBatch batch)
    {
        var output = new float[model.OutputRows(batch) * model.OutputSize];
        model.Forward(batch, output, training: false);
        return output;
    }

    private static float[] InWorkspace(SequenceModelWorkspace workspace, SequenceBatch batch)
    {
        var output = new float[workspace.Model.OutputRows(batch) * workspace.Model.OutputSize];
        workspace.Forward(batch, output);
        return output;
    }

    private static int[] Bits(ReadOnlySpan<float> values) => [.. values.ToArray().Select(BitConverter.SingleToInt32Bits)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void AWorkspaceScoresExactlyAsTheModelsOwnInference(string name)
    {
        var options = s_cases[name];
        var model = new SequenceModel(options);
        var random = new Random(3);
        NetworkFactory.Randomize(model.Parameters, random, 0.6);
        bool tokens = options.VocabularySize > 0;
        var workspace = model.CreateWorkspace();
        // Large, small, then large again: a workspace keeps its grown buffers, and nothing of one batch leaks into the next.
        foreach (int[] lengths in new[] { new[] { 5, 1, 3, 5, 2 }, new[] { 2 }, new[] { 1, 6, 6, 4 } })
        {
            var batch = Batch(tokens, lengths, random);
            float[] expected = OwnInference(model, batch);
            Assert.Equal(Bits(expected), Bits(InWorkspace(workspace, batch)));
            Assert.Equal(Bits(model.LastReadoutFeatures), Bits(workspace.ReadoutFeatures));
        }
    }

    [Fact]
    public void WorkspacesOnSeveralThreadsGiveTheOneThreadOutputsBitForBit()
    {
        var model = new SequenceModel(Options(RecurrentCellType.Lstm, true, 2, true, SequenceReadout.EveryStep, hiddenSize: 24));
        var random = new Random(11);
        var batches = Enumerable.Range(0, 24).Select(_ => Batch(true, [.. Enumerable.Range(0, 1 + random.Next(6)).Select(_ => 1 + random.Next(30))], random)).ToArray();
        var expected = batches.Select(batch => Bits(OwnInference(model, batch))).ToArray();
        const int threads = 4;
        int[] strides = [1, 5, 7, 11]; // coprime with the 24 batches: each thread visits every batch, in its own order
        using var barrier = new Barrier(threads);
        var results = new int[threads][][];
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var workers = Enumerable.Range(0, threads).Select(thread => new Thread(() =>
        {
            try
            {
                var workspace = model.CreateWorkspace();
                var mine = new int[batches.Length][];
                barrier.SignalAndWait();
                for (int round = 0; round < 3; round++)
                    for (int i = 0; i < batches.Length; i++)
                    {
                        int b = (i * strides[thread] + round) % batches.Length;
                        mine[b] = Bits(InWorkspace(workspace, batches[b]));
                    }
                results[thread] = mine;
            }
            catch (Exception exception)
            {
                failures.Enqueue(exception);
            }
        })).ToArray();
        foreach (var worker in workers) worker.Start();
        foreach (var worker in workers) worker.Join();
        Assert.Empty(failures);
        for (int thread = 0; thread < threads; thread++)
            for (int b = 0; b < batches.Length; b++) Assert.True(expected[b].SequenceEqual(results[thread][b]), $"thread {thread}, batch {b} differs");
    }

    [Fact]
    public void AfterTheWeightsChangeAWorkspaceReadsTheNewWeights()
    {
        var model = new SequenceModel(Options(RecurrentCellType.Gru, false, 2, true, SequenceReadout.LastStep));
        var batch = Batch(false, [4, 2, 3], new Random(2));
        var workspace = model.CreateWorkspace();
        float[] before = InWorkspace(workspace, batch);
        // W_hh and the biases are what the time loop reads packed; change them through a writable span.
        foreach (var tensor in model.Parameters.Tensors.Where(t => t.Name.StartsWith("weight_hh", StringComparison.Ordinal) || t.Name.StartsWith("bias_hh", StringComparison.Ordinal)))
        {
            Span<float> values = model.Parameters.ValuesOf(tensor);
            for (int i = 0; i < values.Length; i++) values[i] = -0.5f * values[i] + 0.01f;
        }
        float[] after = InWorkspace(workspace, batch);
        Assert.NotEqual(Bits(before), Bits(after));
        Assert.Equal(Bits(OwnInference(model, batch)), Bits(after));
    }

    [Fact]
    public void CreatingAWorkspaceCopiesNothingAndALoadedModelThatScoresHasNoGradientBuffers()
    {
        var options = new SequenceModelOptions { VocabularySize = 50_000, EmbeddingSize = 16, HiddenSize = 8, Seed = 1, MaxDegreeOfParallelism = 1 };
        var trained = new SequenceModel(options);
        using var file = new MemoryStream();
        SequenceModelFile.Save(trained, file);
        file.Position = 0;
        var loaded = SequenceModelFile.Load(file);
        long weightBytes = 4L * loaded.Parameters.Count;

        loaded.CreateWorkspace();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var workspace = loaded.CreateWorkspace();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < weightBytes / 1000, $"CreateWorkspace allocated {allocated:N0} bytes; the weights hold {weightBytes:N0}.");

        var batch = Batch(true, [3, 5], new Random(1));
        Assert.Equal(Bits(OwnInference(trained, batch)), Bits(InWorkspace(workspace, batch)));
        Assert.False(loaded.Parameters.HasGradients, "Scoring a loaded model allocated its gradient buffers; only training should.");
        trained.Parameters.ZeroGradients();
        Assert.True(trained.Parameters.HasGradients);
    }

    [Theory]
    [InlineData(AttentionKind.Luong, 1)]
    [InlineData(AttentionKind.Bahdanau, 1)]
    [InlineData(AttentionKind.Luong, 3)]
    [InlineData(AttentionKind.Bahdanau, 3)]
    public void SequenceToSequenceWorkspacesOnThreadsTranslateAsTheModelDoes(AttentionKind attention, int beamWidth)
    {
        var model = new SequenceToSequenceModel(SequenceToSequenceLearningTests.SmallOptions with { Attention = attention, Bidirectional = true, HiddenSize = 12 });
        var sources = SequenceToSequenceLearningTests.ReversedDigits(20, seed: 6).Sources;
        var options = new DecodingOptions { BeamWidth = beamWidth, MaxLength = 9 };
        string[] expected = [.. model.Translate(sources, options).Select(Describe)];
        var staged = new SequenceDataset(0, 1);
        foreach (int[] source in sources) staged.AddTokens(source, [0f]);
        var results = new string[3][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = results.Length },
            thread => results[thread] = [.. model.CreateWorkspace().Translate(staged, options).Select(Describe)]);
        foreach (var result in results) Assert.Equal(expected, result);
        var loaded = SequenceToSequenceModelFile.Load(Saved(model));
        Assert.Equal(expected, loaded.CreateWorkspace().Translate(staged, options).Select(Describe));
        Assert.False(loaded.Parameters.HasGradients);

        static string Describe(Translation t) => $"{string.Join(' ', t.Tokens)} | {BitConverter.DoubleToInt64Bits(t.LogProbability)} | {t.Ended}";
        static MemoryStream Saved(SequenceToSequenceModel model)
        {
            var stream = new MemoryStream();
            SequenceToSequenceModelFile.Save(model, stream);
            stream.Position = 0;
            return stream;
        }
    }

    [Fact]
    public void ALanguageModelWorkspaceScoresEachDocumentAsEvaluateDoesAcrossChunks()
    {
        var vocabulary = Vocabulary.FromCharacters("abcdefgh ");
        var model = new LanguageModel(vocabulary, LanguageModel.DefaultOptions(vocabulary) with
        {
            EmbeddingSize = 4, HiddenSize = 6, Layers = 2, LearnedInitialState = true, Seed = 3, MaxDegreeOfParallelism = 1,
        });
        var random = new Random(4);
        // Longer and shorter than a chunk (256 steps): the long ones carry their state over, the short ones have ended by then.
        int[][] documents = [.. new[] { 600, 0, 3, 257, 255, 40 }.Select(length => Enumerable.Range(0, length).Select(_ => random.Next(vocabulary.Count)).ToArray())];
        // The head in one block per chunk, and in blocks of 7 rows, which split documents.
        foreach (int maxLogits in new[] { 1 << 20, 7 * vocabulary.Count })
        {
            var workspace = model.CreateWorkspace();
            workspace.MaxLogits = maxLogits;
            foreach (int[] document in documents) workspace.Add(document);
            workspace.Score();
            for (int d = 0; d < documents.Length; d++)
            {
                var expected = model.Evaluate(documents[d], scoreEnd: true);
                var actual = workspace.Metrics(d);
                Assert.Equal(expected.TokenCount, actual.TokenCount);
                Assert.Equal(BitConverter.DoubleToInt64Bits(expected.LogLikelihood), BitConverter.DoubleToInt64Bits(actual.LogLikelihood));
            }
        }
    }

    [Fact]
    public void AForecastEngineForecastsStagedWindowsInOnePassAsPredictDoes()
    {
        var series = Enumerable.Range(0, 60).Select(t => MathF.Sin(0.5f * t) + 0.1f * (t % 3)).ToArray();
        var exogenous = Enumerable.Range(0, 60).Select(t => (float)(t % 4)).ToArray();
        var forecaster = RecurrentForecaster.Fit(series, new ForecasterOptions
        {
            WindowSize = 5, Horizon = 3, ExogenousFeatures = 1, HiddenSize = 8, Training = new() { Epochs = 2, Seed = 1 }, MaxDegreeOfParallelism = 1,
            RefitOnFullSeries = false,
        }, exogenous);
        var one = forecaster.CreateEngine();
        var batched = forecaster.CreateEngine();
        var expected = new List<float>();
        for (int t = 0; t < 12; t++)
        {
            var forecast = one.Predict(t, [t % 4]);
            expected.AddRange([.. forecast.Values, .. forecast.LowerBound, .. forecast.UpperBound]);
            batched.Add(t, [t % 4]);
            batched.Stage();
        }
        var values = new float[12 * 3];
        var lower = new float[12 * 3];
        var upper = new float[12 * 3];
        batched.ForecastStaged(values, lower, upper);
        var actual = Enumerable.Range(0, 12).SelectMany(r => values.Skip(3 * r).Take(3).Concat(lower.Skip(3 * r).Take(3)).Concat(upper.Skip(3 * r).Take(3)));
        Assert.Equal(Bits([.. expected]), Bits([.. actual]));
        // The engine's own Predict reads the same window the forecaster's Forecast is given.
        float[] lastWindow = [7, 8, 9, 10, 11], lastExogenous = [3, 0, 1, 2, 3];
        Assert.Equal(Bits(forecaster.Forecast(lastWindow, lastExogenous).Values), Bits(one.Predict().Values));
    }
}
