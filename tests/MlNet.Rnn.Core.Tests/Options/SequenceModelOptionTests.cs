using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Options;

/// <summary>
/// The shape options of <see cref="SequenceModelOptions"/> act as documented: the model's outputs equal the double-precision
/// reference (<see cref="ReferenceSequenceModel"/>: the <see cref="ReferenceNetwork"/> of that Cell and RnnActivation, with
/// FeaturesPerStep or a VocabularySize × EmbeddingSize lookup as input, HiddenSize, Layers, Bidirectional and
/// LearnedInitialState, followed by the OutputSize-wide head on the final state (LastStep) or on every step (EveryStep, zero
/// at padded steps)). Dropout and RecurrentDropout change
/// training passes only. (Initialization, ForgetGateBias and Seed are checked in Models/SequenceModelTests and
/// Training/InitializationTests; MaxDegreeOfParallelism splits the batch across threads and must change nothing, which
/// the cases below run with 2.)
/// </summary>
public sealed class SequenceModelOptionTests
{
    public static TheoryData<RecurrentCellType, RnnActivation, bool, int, bool, bool, SequenceReadout> Cases() => new()
    {
        // cell, activation, tokens, layers, bidirectional, learned initial state, readout
        { RecurrentCellType.Rnn, RnnActivation.Tanh, false, 1, false, false, SequenceReadout.LastStep },
        { RecurrentCellType.Rnn, RnnActivation.Relu, false, 2, true, false, SequenceReadout.EveryStep },
        { RecurrentCellType.Rnn, RnnActivation.Sigmoid, true, 1, true, true, SequenceReadout.LastStep },
        { RecurrentCellType.Lstm, RnnActivation.Tanh, true, 2, true, true, SequenceReadout.LastStep },
        { RecurrentCellType.Lstm, RnnActivation.Tanh, false, 1, false, false, SequenceReadout.EveryStep },
        { RecurrentCellType.Gru, RnnActivation.Tanh, false, 2, false, true, SequenceReadout.LastStep },
        { RecurrentCellType.Gru, RnnActivation.Tanh, true, 1, true, false, SequenceReadout.EveryStep },
    };

    private const int I = 3, V = 7, E = 2, H = 4, O = 3;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_IsTheReferenceNetworkOfTheOptions_ThenTheHead(
        RecurrentCellType cell, RnnActivation activation, bool tokens, int layers, bool bidirectional, bool learnedInitialState, SequenceReadout readout)
    {
        var options = new SequenceModelOptions
        {
            Cell = cell, RnnActivation = activation, FeaturesPerStep = I, VocabularySize = tokens ? V : 0, EmbeddingSize = E, HiddenSize = H,
            Layers = layers, Bidirectional = bidirectional, LearnedInitialState = learnedInitialState, OutputSize = O, Readout = readout,
            Dropout = 0.3f, RecurrentDropout = 0.3f, Seed = 5, MaxDegreeOfParallelism = 2,
        };
        var model = new SequenceModel(options);
        var random = new Random(6);
        NetworkFactory.Randomize(model.Parameters, random, 0.7);

        int[] lengths = [4, 1, 3];
        int B = lengths.Length, T = lengths.Max();
        var data = new SequenceDataset(tokens ? 0 : I, O, readout == SequenceReadout.EveryStep);
        var ids = new int[T * B];
        var x = new double[T * B * I];
        for (int b = 0; b < B; b++)
        {
            var target = new float[readout == SequenceReadout.EveryStep ? lengths[b] * O : O];
            if (tokens)
            {
                int[] sequence = [.. Enumerable.Range(0, lengths[b]).Select(_ => random.Next(V))];
                data.AddTokens(sequence, target);
                for (int t = 0; t < sequence.Length; t++) ids[t * B + b] = sequence[t];
            }
            else
            {
                float[] steps = NetworkFactory.RandomFloats(random, lengths[b] * I);
                data.Add(steps, target);
                for (int t = 0; t < lengths[b]; t++)
                    for (int i = 0; i < I; i++) x[(t * B + b) * I + i] = steps[t * I + i];
            }
        }
        var batch = new SequenceBatch();
        data.Fill([0, 1, 2], batch);
        var output = new float[model.OutputRows(batch) * O];
        model.Forward(batch, output, training: false);

        var reference = new ReferenceSequenceModel(options, model.Parameters);
        double[] expected = reference.Forward(tokens ? ids : null, tokens ? null : x, T, B, lengths).Output;
        Tolerance.AssertClose(expected, output, 1e-5, 1e-6,
            $"{NetworkFactory.ModeOf(cell, activation)} tokens={tokens} L={layers} D={(bidirectional ? 2 : 1)} h0={learnedInitialState} {readout}");
    }

    [Theory]
    [InlineData(0.5f, 0f)]
    [InlineData(0f, 0.5f)]
    public void Dropout_AndRecurrentDropout_ChangeTrainingPassesOnly(float dropout, float recurrentDropout)
    {
        SequenceModel Build(float p, float q) => new(new SequenceModelOptions
        {
            FeaturesPerStep = 2, HiddenSize = 8, Layers = 2, Dropout = p, RecurrentDropout = q, Seed = 1, MaxDegreeOfParallelism = 1,
        });
        var data = new SequenceDataset(2, 1);
        var random = new Random(2);
        for (int i = 0; i < 4; i++) data.Add(NetworkFactory.RandomFloats(random, 10), [0f]);
        var batch = new SequenceBatch();
        data.Fill([0, 1, 2, 3], batch);
        float[] Run(SequenceModel model, bool training)
        {
            var output = new float[4];
            model.Forward(batch, output, training);
            return output;
        }
        var plain = Build(0, 0);
        var dropped = Build(dropout, recurrentDropout);
        Assert.Equal(plain.Parameters.Values.ToArray(), dropped.Parameters.Values.ToArray());
        Assert.Equal(Run(plain, training: false), Run(dropped, training: false));
        Assert.Equal(Run(plain, training: false), Run(plain, training: true));
        Assert.NotEqual(Run(plain, training: true), Run(dropped, training: true));
    }
}
