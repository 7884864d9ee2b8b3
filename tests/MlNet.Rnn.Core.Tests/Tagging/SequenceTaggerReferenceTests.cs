using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tagging;
using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Tagging;

/// <summary>
/// The tagger against an independent double-precision reference (<see cref="ReferenceSequenceModel"/>, C logits at every
/// step): predicted probabilities are the reference's per-step softmax; and one epoch of plain SGD through the public
/// <see cref="SequenceTagger.Train"/> on sequences of different lengths moves every parameter by exactly lr times the central
/// differences of the reference's masked loss <c>L = Σ_(b, t &lt; n_b) −ln softmax(z[t, b])[y] / Σ_b n_b</c>: padded steps
/// neither add to the loss nor count in its mean.
/// </summary>
public sealed class SequenceTaggerReferenceTests
{
    private const int C = 3, V = 6;

    private static readonly int[][] s_tokens = [[3, 1, 0, 3], [2], [5, 5, 1], [4, 0]];
    private static readonly int[][] s_tags = [[0, 2, 1, 1], [2], [1, 0, 0], [2, 1]];

    private static SequenceModelOptions Options(bool tokens, RecurrentCellType cell, int layers, bool bidirectional, bool learnedInitialState) => new()
    {
        Cell = cell, VocabularySize = tokens ? V : 0, EmbeddingSize = 3, FeaturesPerStep = 2, HiddenSize = 4, Layers = layers, Bidirectional = bidirectional,
        LearnedInitialState = learnedInitialState, OutputSize = C, Readout = SequenceReadout.EveryStep, Seed = 7, MaxDegreeOfParallelism = 1,
    };

    /// <summary>Numeric twins of the token sequences: two features per step.</summary>
    private static float[][] Steps(Random random) => [.. s_tokens.Select(tokens => NetworkFactory.RandomFloats(random, tokens.Length * 2, 1.5))];

    /// <summary>The examples as one padded time-major batch, in order: ids <c>[T, B]</c> or steps <c>[T, B, 2]</c>, and lengths.</summary>
    private static (int[]? Ids, double[]? Steps, int T, int[] Lengths) Padded(bool tokens, float[][] steps)
    {
        int B = s_tokens.Length, T = s_tokens.Max(s => s.Length);
        int[] lengths = [.. s_tokens.Select(s => s.Length)];
        var ids = new int[T * B];
        var values = new double[T * B * 2];
        for (int b = 0; b < B; b++)
            for (int t = 0; t < lengths[b]; t++)
            {
                ids[t * B + b] = s_tokens[b][t];
                values[(t * B + b) * 2] = steps[b][t * 2];
                values[(t * B + b) * 2 + 1] = steps[b][t * 2 + 1];
            }
        return (tokens ? ids : null, tokens ? null : values, T, lengths);
    }

    public static TheoryData<bool, RecurrentCellType, int, bool, bool> Cases() => new()
    {
        { true, RecurrentCellType.Lstm, 1, true, false },
        { false, RecurrentCellType.Gru, 2, false, true },
        { true, RecurrentCellType.Rnn, 2, true, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OneEpochOfSgd_StepsEveryParameterByTheReferenceGradientOfTheMaskedLoss(bool tokens, RecurrentCellType cell, int layers, bool bidirectional,
        bool learnedInitialState)
    {
        const float rate = 0.5f;
        var options = Options(tokens, cell, layers, bidirectional, learnedInitialState);
        var tagger = new SequenceTagger(options);
        var random = new Random(5);
        NetworkFactory.Randomize(tagger.Model.Parameters, random, 0.6);
        float[] before = tagger.Model.Parameters.Values.ToArray();
        var reference = new ReferenceSequenceModel(options, tagger.Model.Parameters);
        float[][] steps = Steps(random);
        SequenceDataset data = tokens ? TaggedSequences.FromTokens(s_tokens, s_tags, C) : TaggedSequences.FromSteps(steps, 2, s_tags, C);

        tagger.Train(data, null, new TrainerOptions
        {
            Epochs = 1, BatchSize = 16, Optimizer = OptimizerKind.Sgd, LearningRate = rate, GradientClipNorm = 0, Shuffle = false, BucketByLength = false,
        });

        var (ids, values, T, lengths) = Padded(tokens, steps);
        int B = lengths.Length;
        double Loss()
        {
            double[] z = reference.Forward(ids, values, T, B, lengths).Output;
            double total = 0;
            int count = 0;
            for (int b = 0; b < B; b++)
                for (int t = 0; t < lengths[b]; t++, count++) total -= Softmax.Log(z.AsSpan((t * B + b) * C, C))[s_tags[b][t]];
            return total / count;
        }
        CentralDifferences.AssertEveryParameter(tagger.Model.Parameters, CentralDifferences.TakenBySgd(tagger.Model.Parameters, before, rate),
            reference.Parameters, Loss, $"{cell} L={layers} D={(bidirectional ? 2 : 1)} {(tokens ? "tokens" : "steps")}: one SGD step of the tagging loss");
    }

    [Fact]
    public void PredictedProbabilities_AreTheReferenceSoftmaxAtEveryStep_AndTagsItsArgmax()
    {
        var options = Options(tokens: true, RecurrentCellType.Lstm, 2, bidirectional: true, learnedInitialState: true);
        var tagger = new SequenceTagger(options);
        NetworkFactory.Randomize(tagger.Model.Parameters, new Random(6), 0.8);
        var reference = new ReferenceSequenceModel(options, tagger.Model.Parameters);
        int[] sequence = [3, 1, 0, 3, 5];
        var tags = new int[sequence.Length];
        var probabilities = new float[sequence.Length * C];

        tagger.Predict(sequence, tags, probabilities);

        double[] z = reference.Forward(sequence, null, sequence.Length, 1, [sequence.Length]).Output;
        var expected = new double[z.Length];
        for (int t = 0; t < sequence.Length; t++)
        {
            Softmax.Of(z.AsSpan(t * C, C)).CopyTo(expected, t * C);
            int best = Array.IndexOf(expected, expected.AsSpan(t * C, C).ToArray().Max(), t * C) - t * C;
            Assert.True(best == tags[t], $"Step {t}: tagged {tags[t]}, but the reference's most likely tag is {best} (probabilities {string.Join(", ", expected.AsSpan(t * C, C).ToArray())}).");
        }
        Tolerance.AssertClose(expected, probabilities, 1e-4, 1e-5, "per-step tag probabilities");
    }
}
