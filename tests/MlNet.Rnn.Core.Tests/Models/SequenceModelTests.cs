using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Models;

/// <summary>
/// The composed model (token embedding or numeric steps → recurrent stack → many-to-one or many-to-many readout → head)
/// against the independent double-precision <see cref="ReferenceSequenceModel"/>: outputs agree in inference and in
/// training with the dropout masks the model drew, and every parameter's gradient matches central differences of the
/// reference (step 1e-6) for <c>L = Σ y⊙R</c>, R random. The cases cover LSTM, GRU and RNN, one and two layers, one and two
/// directions, variable lengths, tokens (with the unknown id 0 and repeated ids) and numeric steps, learned initial states,
/// dropout between layers and before the head, and recurrent dropout.
/// </summary>
public sealed class SequenceModelTests
{
    private const int B = 3;

    /// <summary>One configuration of the covering set.</summary>
    private sealed record ModelCase(RecurrentCellType Cell, bool Tokens, int Layers, bool Bidirectional, SequenceReadout Readout,
        int[] Lengths, bool LearnedInitialState = false, float Dropout = 0f, float RecurrentDropout = 0f,
        RnnActivation Activation = RnnActivation.Tanh);

    private static readonly Dictionary<string, ModelCase> s_cases = new()
    {
        ["LSTM tokens L2 bidirectional last-step learned-state"] =
            new(RecurrentCellType.Lstm, true, 2, true, SequenceReadout.LastStep, [4, 1, 3], LearnedInitialState: true),
        ["GRU steps L1 bidirectional last-step"] = new(RecurrentCellType.Gru, false, 1, true, SequenceReadout.LastStep, [2, 4, 3]),
        ["RNN-tanh steps L2 unidirectional every-step learned-state"] =
            new(RecurrentCellType.Rnn, false, 2, false, SequenceReadout.EveryStep, [4, 1, 3], LearnedInitialState: true),
        ["LSTM tokens L1 bidirectional every-step equal-lengths"] = new(RecurrentCellType.Lstm, true, 1, true, SequenceReadout.EveryStep, [3, 3, 3]),
        ["GRU tokens L2 unidirectional last-step learned-state"] =
            new(RecurrentCellType.Gru, true, 2, false, SequenceReadout.LastStep, [3, 4, 2], LearnedInitialState: true),
        ["RNN-relu steps L1 bidirectional last-step"] =
            new(RecurrentCellType.Rnn, false, 1, true, SequenceReadout.LastStep, [4, 2, 1], Activation: RnnActivation.Relu),
        ["LSTM steps L2 bidirectional last-step dropout recurrent-dropout"] =
            new(RecurrentCellType.Lstm, false, 2, true, SequenceReadout.LastStep, [4, 1, 3], Dropout: 0.3f, RecurrentDropout: 0.4f),
        ["GRU tokens L2 unidirectional every-step dropout recurrent-dropout learned-state"] =
            new(RecurrentCellType.Gru, true, 2, false, SequenceReadout.EveryStep, [2, 4, 3], LearnedInitialState: true, Dropout: 0.3f, RecurrentDropout: 0.4f),
        ["RNN-tanh steps L2 bidirectional every-step recurrent-dropout"] =
            new(RecurrentCellType.Rnn, false, 2, true, SequenceReadout.EveryStep, [4, 3, 1], RecurrentDropout: 0.5f),
        ["LSTM tokens L2 bidirectional mean-over-steps dropout learned-state"] =
            new(RecurrentCellType.Lstm, true, 2, true, SequenceReadout.MeanOverSteps, [4, 1, 3], LearnedInitialState: true, Dropout: 0.3f),
        ["GRU steps L1 unidirectional mean-over-steps"] = new(RecurrentCellType.Gru, false, 1, false, SequenceReadout.MeanOverSteps, [2, 4, 3]),
        ["RNN-tanh steps L1 bidirectional mean-over-steps equal-lengths"] =
            new(RecurrentCellType.Rnn, false, 1, true, SequenceReadout.MeanOverSteps, [3, 3, 3]),
    };

    public static TheoryData<string> Cases() => new(s_cases.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void OutputsAndEveryGradient_MatchTheDoublePrecisionReference(string name)
    {
        var c = s_cases[name];
        var options = new SequenceModelOptions
        {
            Cell = c.Cell, RnnActivation = c.Activation, FeaturesPerStep = 3, VocabularySize = c.Tokens ? 7 : 0, EmbeddingSize = 3, HiddenSize = 4,
            Layers = c.Layers, Bidirectional = c.Bidirectional, LearnedInitialState = c.LearnedInitialState, OutputSize = 3, Readout = c.Readout,
            Dropout = c.Dropout, RecurrentDropout = c.RecurrentDropout, Seed = 4, MaxDegreeOfParallelism = 1,
        };
        var model = new SequenceModel(options);
        var random = new Random(8);
        NetworkFactory.Randomize(model.Parameters, random, 0.6);
        var batch = Batch(c.Tokens, c.Lengths, random);
        int T = batch.Steps, rows = model.OutputRows(batch), O = options.OutputSize;
        int[]? ids = c.Tokens ? batch.Ids.ToArray() : null;
        double[]? steps = c.Tokens ? null : NetworkFactory.Widen(batch.Input);

        // Inference: no dropout.
        var reference = new ReferenceSequenceModel(options, model.Parameters);
        var output = new float[rows * O];
        model.Forward(batch, output, training: false);
        Tolerance.AssertClose(reference.Forward(ids, steps, T, B, c.Lengths).Output, output, 1e-4, 1e-5, $"{name}: inference output");

        // Training: the masks the model drew, replayed in the reference.
        model.Parameters.ZeroGradients();
        model.Forward(batch, output, training: true);
        DropoutMasks.Replay(model, reference, T, B);
        Tolerance.AssertClose(reference.Forward(ids, steps, T, B, c.Lengths).Output, output, 1e-4, 1e-5, $"{name}: training output");

        float[] outputWeights = NetworkFactory.RandomFloats(random, rows * O);
        model.Backward(outputWeights);
        double Loss()
        {
            double[] y = reference.Forward(ids, steps, T, B, c.Lengths).Output;
            double sum = 0;
            for (int i = 0; i < y.Length; i++) sum += y[i] * outputWeights[i];
            return sum;
        }
        CentralDifferences.AssertEveryParameter(model.Parameters, CentralDifferences.Accumulated(model.Parameters), reference.Parameters, Loss, name);
    }

    /// <summary>
    /// A batch of B sequences of the given lengths. Token batches hold the unknown id 0 at a real step and id 5 at three
    /// steps of two sequences, so the embedding gradient must add the rows of repeated ids.
    /// </summary>
    private static SequenceBatch Batch(bool tokens, int[] lengths, Random random)
    {
        int T = lengths.Max();
        var batch = new SequenceBatch();
        batch.Reset(B, T, tokens ? 0 : 3, 1, perStepTargets: false);
        lengths.CopyTo(batch.Lengths);
        if (!tokens)
        {
            NetworkFactory.RandomFloats(random, T * B * 3, 1.5).CopyTo(batch.Input);
            return batch;
        }
        Span<int> ids = batch.Ids;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < lengths[b]; t++) ids[t * B + b] = 1 + random.Next(6);
        int longest = Array.IndexOf(lengths, T), other = (longest + 1) % B;
        ids[0 * B + longest] = 0;
        ids[1 * B + longest] = 5;
        ids[(T - 1) * B + longest] = 5;
        ids[(lengths[other] - 1) * B + other] = 5;
        return batch;
    }

    [Fact]
    public void Dropout_ChangesTrainingOutputsOnly()
    {
        var model = new SequenceModel(new SequenceModelOptions { FeaturesPerStep = 2, HiddenSize = 16, Layers = 2, Dropout = 0.5f, Seed = 1 });
        var data = new SequenceDataset(2, 1);
        var random = new Random(2);
        for (int i = 0; i < 8; i++) data.Add(NetworkFactory.RandomFloats(random, 10), [0f]);
        var batch = new SequenceBatch();
        data.Fill(Enumerable.Range(0, 8).ToArray(), batch);
        float[] Run(bool training)
        {
            var output = new float[8];
            model.Forward(batch, output, training);
            return output;
        }
        Assert.Equal(Run(false), Run(false));
        Assert.NotEqual(Run(true), Run(true));
    }

    [Fact]
    public void SameSeed_GivesIdenticalParameters_DifferentSeed_Different()
    {
        SequenceModel Build(int seed) => new(new SequenceModelOptions { FeaturesPerStep = 2, HiddenSize = 8, Seed = seed });
        Assert.Equal(Build(3).Parameters.Values.ToArray(), Build(3).Parameters.Values.ToArray());
        Assert.NotEqual(Build(3).Parameters.Values.ToArray(), Build(4).Parameters.Values.ToArray());
    }

    [Fact]
    public void InitializationOptions_OrthogonalRecurrentBlocksAndForgetBias()
    {
        const int H = 12;
        var model = new SequenceModel(new SequenceModelOptions
        {
            Cell = RecurrentCellType.Lstm, FeaturesPerStep = 3, HiddenSize = H, Initialization = WeightInitialization.XavierOrthogonal, ForgetGateBias = 1f,
        });
        float[] whh = model.Parameters.ValuesOf(model.Parameters["weight_hh_l0"]).ToArray();
        for (int gate = 0; gate < 4; gate++)
            for (int a = 0; a < H; a++)
                for (int b = 0; b < H; b++)
                {
                    double dot = 0;
                    for (int r = 0; r < H; r++) dot += (double)whh[(gate * H + r) * H + a] * whh[(gate * H + r) * H + b];
                    Assert.True(Math.Abs(dot - (a == b ? 1 : 0)) < 1e-4, $"Gate block {gate}: column {a}·column {b} = {dot}, expected {(a == b ? 1 : 0)}.");
                }
        float[] bih = model.Parameters.ValuesOf(model.Parameters["bias_ih_l0"]).ToArray();
        float[] bhh = model.Parameters.ValuesOf(model.Parameters["bias_hh_l0"]).ToArray();
        Assert.All(bih[H..(2 * H)], v => Assert.Equal(1f, v));
        Assert.All(bhh[H..(2 * H)], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ForgetGateBias_OnAGru_IsRejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new SequenceModel(new SequenceModelOptions { Cell = RecurrentCellType.Gru, ForgetGateBias = 1f }));
        Assert.Equal("ForgetGateBias", error.ParamName);
        Assert.Contains("applies to an LSTM only", error.Message);
    }
}
