using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Models;

/// <summary>
/// The composed model (embedding → recurrent stack → head, many-to-one or many-to-many) against central differences
/// of itself; its parts are checked against double-precision references elsewhere, so this checks the wiring.
/// </summary>
public sealed class SequenceModelTests
{
    public static TheoryData<RecurrentCellType, bool, bool, SequenceReadout> Cases() => new()
    {
        { RecurrentCellType.Lstm, false, true, SequenceReadout.LastStep },
        { RecurrentCellType.Gru, true, true, SequenceReadout.LastStep },
        { RecurrentCellType.Rnn, false, false, SequenceReadout.EveryStep },
        { RecurrentCellType.Lstm, true, true, SequenceReadout.EveryStep },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_MatchCentralDifferences(RecurrentCellType cell, bool tokens, bool bidirectional, SequenceReadout readout)
    {
        var model = new SequenceModel(new SequenceModelOptions
        {
            Cell = cell, FeaturesPerStep = 3, VocabularySize = tokens ? 7 : 0, EmbeddingSize = 4, HiddenSize = 5, Layers = 2,
            Bidirectional = bidirectional, LearnedInitialState = true, OutputSize = 3, Readout = readout, Seed = 4,
        });
        var random = new Random(8);
        foreach (var tensor in model.Parameters.Tensors)
            NetworkFactory.RandomFloats(random, tensor.Length, 0.5).CopyTo(model.Parameters.ValuesOf(tensor));
        var data = new SequenceDataset(tokens ? 0 : 3, 3, readout == SequenceReadout.EveryStep);
        int[] lengths = [4, 1, 3];
        foreach (int length in lengths)
        {
            var target = new float[readout == SequenceReadout.EveryStep ? length * 3 : 3];
            if (tokens) data.AddTokens(Enumerable.Range(0, length).Select(_ => random.Next(7)).ToArray(), target);
            else data.Add(NetworkFactory.RandomFloats(random, length * 3), target);
        }
        var batch = new SequenceBatch();
        data.Fill([0, 1, 2], batch);
        int rows = model.OutputRows(batch);
        float[] weights = NetworkFactory.RandomFloats(random, rows * 3);
        var output = new float[rows * 3];
        double Loss()
        {
            model.Forward(batch, output, training: false);
            double sum = 0;
            for (int i = 0; i < output.Length; i++) sum += (double)output[i] * weights[i];
            return sum;
        }
        model.Parameters.ZeroGradients();
        model.Forward(batch, output, training: true);
        model.Backward(weights);
        float[] analytic = model.Parameters.Gradients.ToArray();
        var numeric = new double[analytic.Length];
        Span<float> values = model.Parameters.Values;
        for (int i = 0; i < values.Length; i++)
        {
            float saved = values[i];
            values[i] = saved + 1e-2f; double plus = Loss();
            values[i] = saved - 1e-2f; double minus = Loss();
            values[i] = saved;
            numeric[i] = (plus - minus) / 2e-2;
        }
        Tolerance.AssertClose(numeric, analytic, 1e-2, 2e-3, $"{cell} tokens={tokens} D={(bidirectional ? 2 : 1)} {readout}: dθ");
        if (readout == SequenceReadout.EveryStep)
            for (int t = 0; t < batch.Steps; t++)
                for (int b = 0; b < 3; b++)
                    if (t >= lengths[b]) Assert.All(output.AsSpan((t * 3 + b) * 3, 3).ToArray(), v => Assert.Equal(0f, v));
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
