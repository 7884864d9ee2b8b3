using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Models;

/// <summary>
/// The contract of <see cref="SequenceModel"/> around its computation: argument checks by name and message (null and foreign
/// workspaces, null batches, token/numeric and feature-count mismatches, an output buffer exactly large enough accepted and one
/// float short refused), <see cref="SequenceModel.Backward"/> only after a training pass (refused before it adds any gradient); head dropout keeps each unit with
/// probability 1 − p at scale 1/(1 − p), shows its mask only in training, and <see cref="SequenceModel.ReseedDropout"/> restarts
/// every mask sequence exactly as a model built with that seed; Xavier initialisation bounds the input weights; an overflowing
/// gradient becomes NaN everywhere; a token model's gradient reaches the embedding rows of the training batch's ids only, whatever
/// was scored before; gradients depend on the last pass only; and a workspace's readout features are what its head read.
/// </summary>
public sealed class SequenceModelContractTests
{
    private static SequenceModelOptions Numeric(int features = 3, SequenceReadout readout = SequenceReadout.LastStep) => new()
    {
        Cell = RecurrentCellType.Lstm, FeaturesPerStep = features, HiddenSize = 4, OutputSize = 3, Readout = readout, Seed = 2, MaxDegreeOfParallelism = 1,
    };

    private static SequenceModelOptions Tokens() => Numeric() with { VocabularySize = 12, EmbeddingSize = 3 };

    private static SequenceBatch NumericBatch(int features, int[] lengths, int seed)
    {
        var random = new Random(seed);
        var data = new SequenceDataset(features, 1);
        foreach (int length in lengths) data.Add(NetworkFactory.RandomFloats(random, length * features, 1.5), [0f]);
        var batch = new SequenceBatch();
        data.Fill([.. Enumerable.Range(0, lengths.Length)], batch);
        return batch;
    }

    private static SequenceBatch TokenBatch(params int[][] sequences)
    {
        var data = new SequenceDataset(0, 1);
        foreach (int[] ids in sequences) data.AddTokens(ids, [0f]);
        var batch = new SequenceBatch();
        data.Fill([.. Enumerable.Range(0, sequences.Length)], batch);
        return batch;
    }

    private static SequenceModel Model(SequenceModelOptions options, int seed = 5)
    {
        var model = new SequenceModel(options);
        NetworkFactory.Randomize(model.Parameters, new Random(seed), 0.6);
        return model;
    }

    [Fact]
    public void Forward_RefusesNullAndForeignWorkspacesAndNullBatches_ByName()
    {
        var model = Model(Numeric());
        var other = Model(Numeric());
        var batch = NumericBatch(3, [2, 1], 1);
        var output = new float[6];
        Assert.Equal("workspace", Assert.Throws<ArgumentNullException>(() => model.Forward(null!, batch, output)).ParamName);
        var foreign = Assert.Throws<ArgumentException>(() => model.Forward(other.CreateWorkspace(), batch, output));
        Assert.Equal("workspace", foreign.ParamName);
        Assert.Contains("The workspace was made by another model; make one with this model's CreateWorkspace.", foreign.Message);
        Assert.Equal("batch", Assert.Throws<ArgumentNullException>(() => model.Forward(null!, output, training: false)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentNullException>(() => model.CreateWorkspace().Forward(null!, output)).ParamName);
        model.Forward(model.CreateWorkspace(), batch, output);
    }

    [Fact]
    public void Forward_RefusesABatchOfTheOtherKindOrWidth_SayingWhy()
    {
        var numeric = Model(Numeric());
        var tokens = Model(Tokens());
        var tokenBatch = TokenBatch([1, 2], [3]);
        var output = new float[6];
        var idsToNumeric = Assert.Throws<ArgumentException>(() => numeric.Forward(tokenBatch, output, training: false));
        Assert.Equal("batch", idsToNumeric.ParamName);
        Assert.Contains("The batch holds token ids but the model reads numeric steps (VocabularySize is 0).", idsToNumeric.Message);
        var stepsToTokens = Assert.Throws<ArgumentException>(() => tokens.Forward(NumericBatch(3, [2, 1], 1), output, training: false));
        Assert.Equal("batch", stepsToTokens.ParamName);
        Assert.Contains("The batch holds numeric steps but the model reads token ids (VocabularySize > 0).", stepsToTokens.Message);
        var width = Assert.Throws<ArgumentException>(() => numeric.Forward(NumericBatch(2, [2, 1], 1), output, training: false));
        Assert.Equal("batch", width.ParamName);
        Assert.Contains("The batch has 2 features per step; the model expects 3.", width.Message);
        tokens.Forward(tokenBatch, output, training: false);
    }

    [Theory]
    [InlineData(SequenceReadout.LastStep)]
    [InlineData(SequenceReadout.EveryStep)]
    public void Forward_AcceptsAnOutputOfExactlyRowsTimesO_AndRefusesOneFloatLess(SequenceReadout readout)
    {
        var model = Model(Numeric(readout: readout));
        var batch = NumericBatch(3, [3, 1], 1);
        int rows = readout == SequenceReadout.LastStep ? 2 : 6;
        Assert.Equal(rows, model.OutputRows(batch));
        model.Forward(batch, new float[rows * 3], training: false);
        model.Forward(model.CreateWorkspace(), batch, new float[rows * 3]);
        var error = Assert.Throws<ArgumentException>(() => model.Forward(batch, new float[rows * 3 - 1], training: false));
        Assert.Equal("output", error.ParamName);
        Assert.Contains($"output holds {rows * 3 - 1} floats but {rows}·3 are needed.", error.Message);
    }

    [Fact]
    public void Backward_NeedsATrainingForwardFirst()
    {
        var model = Model(Numeric());
        var batch = NumericBatch(3, [2, 1], 1);
        var output = new float[6];
        const string Message = "Backward needs a Forward with training: true first.";
        Assert.Equal(Message, Assert.Throws<InvalidOperationException>(() => model.Backward(new float[6])).Message);
        model.Forward(batch, output, training: true);
        model.Backward(new float[6]);
        // After an inference pass the refusal comes before anything is added: every gradient stays zero.
        model.Parameters.ZeroGradients();
        model.Forward(batch, output, training: false);
        Assert.Equal(Message, Assert.Throws<InvalidOperationException>(() => model.Backward([1f, 2f, 3f, 4f, 5f, 6f])).Message);
        Assert.All(model.Parameters.Gradients.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void HeadDropout_KeepsEachUnitWithProbabilityOneMinusP_AtScaleOneOverOneMinusP_InTrainingOnly()
    {
        var model = Model(Numeric() with { Dropout = 0.25f, HiddenSize = 8 });
        var batch = NumericBatch(3, [.. Enumerable.Repeat(1, 100)], 1);
        var output = new float[300];
        model.Forward(batch, output, training: true);
        float[] mask = model.HeadDropoutMask.ToArray();
        Assert.Equal(100 * 8, mask.Length);
        Assert.All(mask, value => Assert.True(value == 0f || value == 1f / 0.75f, $"mask value {value}"));
        double kept = mask.Count(value => value > 0f) / (double)mask.Length;
        Assert.InRange(kept, 0.70, 0.80);

        model.Forward(batch, output, training: false);
        Assert.True(model.HeadDropoutMask.IsEmpty);
        var noDropout = Model(Numeric());
        noDropout.Forward(batch, output, training: true);
        Assert.True(noDropout.HeadDropoutMask.IsEmpty);
    }

    /// <summary>
    /// Runs a training pass over one-token sequences and tells, row by row, whether the stack read the row's token or the
    /// unknown one (0): its output equals the scoring output of exactly one of the two. The pass may be backpropagated after.
    /// </summary>
    private static bool[] ReadAsUnknown(SequenceModel model, int[][] sequences)
    {
        int n = sequences.Length, O = model.Options.OutputSize;
        var batch = TokenBatch(sequences);
        var asGiven = new float[n * O];
        model.Forward(batch, asGiven, training: false);
        var unknown = new float[n * O];
        model.Forward(TokenBatch([.. sequences.Select(_ => new[] { 0 })]), unknown, training: false);
        var training = new float[n * O];
        model.Forward(batch, training, training: true);
        var dropped = new bool[n];
        for (int r = 0; r < n; r++)
        {
            bool Reads(float[] output) => training.AsSpan(r * O, O).ToArray().Zip(output.AsSpan(r * O, O).ToArray()).All(p => Math.Abs(p.First - p.Second) <= 1e-6f);
            bool readOwn = Reads(asGiven), readUnknown = Reads(unknown);
            Assert.True(readOwn != readUnknown, $"row {r} read neither its token nor the unknown one (or both look alike)");
            dropped[r] = readUnknown;
        }
        return dropped;
    }

    [Fact]
    public void TokenDropout_ReadsEachTrainingTokenAsUnknownWithProbabilityP_AndTrainsTheUnknownRow_NeverInScoring()
    {
        var model = Model(Tokens() with { TokenDropout = 0.25f });
        bool[] dropped = ReadAsUnknown(model, [.. Enumerable.Range(0, 400).Select(n => new[] { 1 + n % 11 })]);
        Assert.InRange(dropped.Count(d => d) / 400.0, 0.18, 0.32);

        model.Parameters.ZeroGradients();
        model.Backward(Enumerable.Repeat(1f, 400 * 3).ToArray());
        float[] unknownRow = model.Parameters.GradientsOf(model.Parameters["embedding.weight"]).ToArray()[..3];
        Assert.Contains(unknownRow, g => g != 0f);
    }

    [Fact]
    public void TokenDropout_AtAHighRate_ReadsNearlyEveryTrainingToken_AsUnknown_DrawingOncePerToken()
    {
        // p = 0.99 over 300 tokens: about 297 dropped. One draw per token and no more: a draw past the last token would, at this
        // rate, almost surely "drop" a token the batch does not hold.
        var model = Model(Tokens() with { TokenDropout = 0.99f });
        bool[] dropped = ReadAsUnknown(model, [.. Enumerable.Range(0, 300).Select(n => new[] { 1 + n % 11 })]);
        Assert.InRange(dropped.Count(d => d), 290, 300);
    }

    [Fact]
    public void TokenDropoutByCounts_DropsATokenSeenNTimes_WithProbabilityAlphaOverAlphaPlusN()
    {
        // p = 0.5: α = 1, so a token seen once is dropped with probability 1/2, one seen 99 times with 1/100.
        var model = Model(Tokens() with { TokenDropout = 0.5f });
        long[] counts = [0, 1, 99, 5, 5, 5, 5, 5, 5, 5, 5, 5];
        model.UseTokenCounts(counts);
        Assert.Equal(0.5f, model.TokenDropoutOf(1));
        Assert.Equal(0.01f, model.TokenDropoutOf(2), 1e-7f);
        Assert.Equal(1f / 6, model.TokenDropoutOf(3), 1e-7f);

        int[][] sequences = [.. Enumerable.Range(0, 800).Select(n => new[] { 1 + n % 2 })];
        bool[] dropped = ReadAsUnknown(model, sequences);
        Assert.InRange(Enumerable.Range(0, 800).Count(n => dropped[n] && sequences[n][0] == 1) / 400.0, 0.42, 0.58);
        Assert.InRange(Enumerable.Range(0, 800).Count(n => dropped[n] && sequences[n][0] == 2) / 400.0, 0, 0.04);
        var error = Assert.Throws<ArgumentException>("counts", () => model.UseTokenCounts(counts.AsSpan(1)));
        Assert.StartsWith("counts holds 11 values but the vocabulary has 12 ids.", error.Message);
        Model(Numeric() with { TokenDropout = 0.5f }).UseTokenCounts([1, 2]); // ignored by a numeric model, whatever its length
    }

    [Fact]
    public void ATokenModelWithoutTokenDropout_DrawsNothingForItsTokens_ItsHeadMaskIsTheNumericModelsOfTheSameSeed()
    {
        // Both models draw their head dropout masks from one generator seeded alike; drawing for tokens would shift the masks.
        var tokens = Model(Tokens() with { Dropout = 0.3f, HiddenSize = 8 });
        var numeric = Model(Numeric() with { Dropout = 0.3f, HiddenSize = 8 });
        tokens.Forward(TokenBatch([.. Enumerable.Range(0, 50).Select(n => new[] { 1 + n % 11, 2 })]), new float[50 * 3], training: true);
        numeric.Forward(NumericBatch(3, [.. Enumerable.Repeat(2, 50)], 1), new float[50 * 3], training: true);
        Assert.Equal(numeric.HeadDropoutMask.ToArray(), tokens.HeadDropoutMask.ToArray());
    }

    [Fact]
    public void ReseedDropout_RestartsEveryMaskSequence_AsAModelBuiltWithThatSeed()
    {
        var options = Numeric() with { Layers = 2, Dropout = 0.4f, RecurrentDropout = 0.3f, Seed = 1 };
        var model = Model(options);
        var fresh = new SequenceModel(options with { Seed = 6 });
        model.Parameters.Values.CopyTo(fresh.Parameters.Values);
        var batch = NumericBatch(3, [3, 2, 4, 1], 1);
        float[] Train(SequenceModel m)
        {
            var output = new float[12];
            m.Forward(batch, output, training: true);
            return output;
        }
        float[] before = Train(model);
        model.ReseedDropout(6);
        float[] first = Train(model), second = Train(model);
        Assert.Equal(Train(fresh), first);
        Assert.Equal(Train(fresh), second);
        Assert.NotEqual(first, second);
        Assert.NotEqual(before, first);
        model.ReseedDropout(6);
        Assert.Equal(first, Train(model));
    }

    [Fact]
    public void XavierOrthogonal_DrawsTheInputWeightsWithinTheGlorotBound()
    {
        // LSTM, I = 40, H = 2: Glorot's bound √(6 / (I + 4H)) = 0.354 lies well inside PyTorch's default 1/√H = 0.707.
        var model = new SequenceModel(new SequenceModelOptions
        {
            FeaturesPerStep = 40, HiddenSize = 2, Initialization = WeightInitialization.XavierOrthogonal, Seed = 3, MaxDegreeOfParallelism = 1,
        });
        float bound = MathF.Sqrt(6f / (40 + 8));
        float[] weights = model.Parameters.ValuesOf(model.Parameters["weight_ih_l0"]).ToArray();
        Assert.Equal(8 * 40, weights.Length);
        Assert.All(weights, w => Assert.InRange(MathF.Abs(w), 0f, bound));
        Assert.True(weights.Max(MathF.Abs) > 0.9f * bound);
    }

    [Fact]
    public void AnOverflowingGradient_MakesEveryGradientNaN()
    {
        var model = Model(Numeric());
        model.Parameters.ValuesOf(model.Parameters["head.weight"]).Fill(1e30f);
        var batch = NumericBatch(3, [2, 1], 1);
        var output = new float[6];
        model.Parameters.ZeroGradients();
        model.Forward(batch, output, training: true);
        model.Backward([1e30f, 1e30f, 1e30f, 1e30f, 1e30f, 1e30f]);
        Assert.All(model.Parameters.Gradients.ToArray(), g => Assert.True(float.IsNaN(g), $"gradient {g}"));
    }

    [Fact]
    public void ATokenModelsGradient_ReachesTheEmbeddingRowsOfTheTrainingBatchOnly()
    {
        var model = Model(Tokens());
        var output = new float[6];
        // Score other ids first: nothing of that inference may reach the training pass.
        model.Forward(TokenBatch([7, 8, 9], [10, 11]), output, training: false);
        model.Parameters.ZeroGradients();
        model.Forward(TokenBatch([1, 2, 3], [4, 2]), output, training: true);
        model.Backward([1f, -2f, 0.5f, 3f, 1f, -1f]);
        var gradient = model.Parameters.GradientsOf(model.Parameters["embedding.weight"]).ToArray();
        int[] present = [1, 2, 3, 4];
        for (int id = 0; id < 12; id++)
        {
            float[] row = gradient[(id * 3)..(id * 3 + 3)];
            if (present.Contains(id)) Assert.Contains(row, g => g != 0f);
            else Assert.All(row, g => Assert.Equal(0f, g));
        }
    }

    [Theory]
    [InlineData(SequenceReadout.LastStep)]
    [InlineData(SequenceReadout.EveryStep)]
    public void Gradients_DependOnTheLastPassOnly(SequenceReadout readout)
    {
        var options = Numeric(readout: readout) with { Layers = 2 };
        var used = Model(options);
        var fresh = Model(options);
        var earlier = NumericBatch(3, [4], 7);
        var batch = NumericBatch(3, [3, 1, 2], 8);
        float[] Pass(SequenceModel model, SequenceBatch b)
        {
            model.Parameters.ZeroGradients();
            var output = new float[model.OutputRows(b) * 3];
            model.Forward(b, output, training: true);
            model.Backward(NetworkFactory.RandomFloats(new Random(b.BatchSize), output.Length));
            return model.Parameters.Gradients.ToArray();
        }
        Pass(used, earlier);
        Assert.Equal(Pass(fresh, batch), Pass(used, batch));
    }

    [Theory]
    [InlineData(SequenceReadout.LastStep)]
    [InlineData(SequenceReadout.EveryStep)]
    public void AWorkspacesReadoutFeatures_AreWhatItsHeadRead(SequenceReadout readout)
    {
        var model = Model(Numeric(readout: readout));
        var batch = NumericBatch(3, [3, 1, 2], 4);
        int rows = model.OutputRows(batch);
        var workspace = model.CreateWorkspace();
        var output = new float[rows * 3];
        workspace.Forward(batch, output);
        float[] features = workspace.ReadoutFeatures.ToArray();
        Assert.Equal(rows * 4, features.Length);
        float[] weight = model.Parameters.ValuesOf(model.Parameters["head.weight"]).ToArray(), bias = model.Parameters.ValuesOf(model.Parameters["head.bias"]).ToArray();
        for (int r = 0; r < rows; r++)
        {
            bool padded = readout == SequenceReadout.EveryStep && r / 3 >= batch.Lengths[r % 3];
            for (int o = 0; o < 3; o++)
            {
                double y = bias[o];
                for (int j = 0; j < 4; j++) y += (double)weight[o * 4 + j] * features[r * 4 + j];
                Assert.Equal(padded ? 0 : y, output[r * 3 + o], 1e-5);
            }
        }
        var own = new float[rows * 3];
        model.Forward(batch, own, training: false);
        Assert.Equal(features, model.LastReadoutFeatures.ToArray());
    }

    [Fact]
    public void NullOptions_AreRefusedByName()
        => Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => new SequenceModel(null!)).ParamName);

    [Fact]
    public void TheEmbedding_StartsStandardNormal_AsPyTorchsDoes()
    {
        // nn.Embedding draws its table from N(0, 1); 1,600 draws put the sample mean within ±0.1 and the deviation within ±0.1 of 1.
        var model = new SequenceModel(Tokens() with { VocabularySize = 200, EmbeddingSize = 8 });
        float[] table = model.Parameters.ReadOnlyValuesOf(model.Parameters["embedding.weight"]).ToArray();
        double mean = table.Average(v => (double)v);
        double deviation = Math.Sqrt(table.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -0.1, 0.1);
        Assert.InRange(deviation, 0.9, 1.1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TrainingAndScoringAShapeSeenBefore_AllocateNoBuffers(bool tokens)
    {
        // Every buffer of a pass grows to the largest batch seen and is then reused. A pass over 64 sequences of 20 steps
        // needs over 20 KB of buffers; what is left is a small constant (the layers' delegates), as in WorkspaceTests.
        var model = Model(tokens ? Tokens() : Numeric());
        var random = new Random(9);
        int[] lengths = [.. Enumerable.Range(0, 64).Select(b => 1 + b % 20)];
        var batch = tokens
            ? TokenBatch([.. lengths.Select(length => Enumerable.Range(0, length).Select(_ => random.Next(12)).ToArray())])
            : NumericBatch(3, lengths, 9);
        var workspace = model.CreateWorkspace();
        var output = new float[model.OutputRows(batch) * 3];
        var gradient = new float[output.Length];
        long Pass()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            model.Forward(batch, output, training: true);
            model.Backward(gradient);
            model.Forward(workspace, batch, output);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Pass();
        long fewest = Enumerable.Range(0, 3).Min(_ => Pass());
        Assert.True(fewest < 2048, $"A training and a scoring pass over a batch seen before allocated {fewest} bytes.");
    }
}
