using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Tests.Reference;

/// <summary>
/// The double-precision reference of a whole <see cref="SequenceModel"/>, written from its documented behaviour:
/// <list type="number">
/// <item>tokens: <c>x[t, b] = E[id[t, b]]</c>, a plain row lookup of <c>embedding.weight [V, E]</c> (id 0, unknown, is a row
/// like any other); numeric steps are read as they are;</item>
/// <item>the recurrent stack (<see cref="ReferenceNetwork"/>, reading this model's parameters), with dropout masks when given;</item>
/// <item>readout: many-to-one takes, for sequence b of length n, the forward direction's output at step n − 1 and the
/// reverse direction's output at step 0 (where it ends), <c>a_b = [h_fwd(n−1); h_rev(0)] [D·H]</c>; many-to-many takes
/// every step's top output <c>[T·B, D·H]</c>;</item>
/// <item>head: <c>y = W·(a⊙m) + b</c> (identity; losses apply their link), m the head's dropout mask when given; outputs of
/// padded steps are zero.</item>
/// </list>
/// </summary>
internal sealed class ReferenceSequenceModel
{
    /// <summary>A reference holding exactly <paramref name="parameters"/> (widened), shaped by <paramref name="options"/>.</summary>
    public ReferenceSequenceModel(SequenceModelOptions options, ParameterSet parameters)
    {
        Options = options;
        foreach (var tensor in parameters.Tensors) Parameters[tensor.Name] = NetworkFactory.Widen(parameters.ValuesOf(tensor));
        // I of the stack, derived here from the documented options rather than read from the production's RecurrentInputSize.
        int inputSize = options.VocabularySize > 0 ? options.EmbeddingSize : options.FeaturesPerStep;
        Network = new ReferenceNetwork(NetworkFactory.ModeOf(options.Cell, options.RnnActivation), inputSize, options.HiddenSize,
            options.Layers, options.Bidirectional, options.LearnedInitialState, Parameters);
    }

    public SequenceModelOptions Options { get; }

    /// <summary>Every parameter by its production name; perturb entries in place for central differences.</summary>
    public Dictionary<string, double[]> Parameters { get; } = new(StringComparer.Ordinal);

    /// <summary>The recurrent stack; give it dropout masks to replay a training forward.</summary>
    public ReferenceNetwork Network { get; }

    /// <summary>The head's dropout mask <c>[rows, D·H]</c>, or null.</summary>
    public double[]? HeadMask { get; set; }

    /// <summary>
    /// Outputs <c>[B, O]</c> (many-to-one) or <c>[T, B, O]</c> (many-to-many) for token ids <c>[T, B]</c> or numeric steps
    /// <c>[T, B, I]</c> with lengths <c>[B]</c>, and the stack's final states; initial states <c>[L·D, B, H]</c> may be given.
    /// </summary>
    public (double[] Output, double[] FinalHidden, double[] FinalCell) Forward(int[]? ids, double[]? steps, int T, int B, int[] lengths,
        double[]? initialHidden = null, double[]? initialCell = null)
    {
        int E = Network.InputSize, H = Options.HiddenSize, DH = Network.OutputSize, O = Options.OutputSize;
        double[] x;
        if (ids is not null)
        {
            double[] table = Parameters["embedding.weight"];
            x = new double[T * B * E];
            for (int n = 0; n < T * B; n++) Array.Copy(table, ids[n] * E, x, n * E, E);
        }
        else
        {
            x = steps!;
        }
        var (recurrent, finalHidden, finalCell) = Network.Forward(x, T, B, lengths, initialHidden, initialCell);

        bool lastStep = Options.Readout != SequenceReadout.EveryStep; // one row per sequence
        int rows = lastStep ? B : T * B;
        var features = new double[rows * DH];
        if (Options.Readout == SequenceReadout.MeanOverSteps)
        {
            // The mean of the top layer's outputs (both directions) over each sequence's real steps.
            for (int b = 0; b < B; b++)
                for (int j = 0; j < DH; j++)
                {
                    double sum = 0;
                    for (int t = 0; t < lengths[b]; t++) sum += recurrent[(t * B + b) * DH + j];
                    features[b * DH + j] = sum / lengths[b];
                }
        }
        else if (lastStep)
        {
            for (int b = 0; b < B; b++)
            {
                Array.Copy(recurrent, ((lengths[b] - 1) * B + b) * DH, features, b * DH, H);
                if (Network.Directions == 2) Array.Copy(recurrent, b * DH + H, features, b * DH + H, H);
            }
        }
        else
        {
            Array.Copy(recurrent, features, features.Length);
        }
        if (HeadMask is not null)
            for (int i = 0; i < features.Length; i++) features[i] *= HeadMask[i];

        double[] weight = Parameters["head.weight"], bias = Parameters["head.bias"];
        var output = new double[rows * O];
        for (int r = 0; r < rows; r++)
        {
            if (!lastStep && r / B >= lengths[r % B]) continue;
            for (int o = 0; o < O; o++)
            {
                double sum = bias[o];
                for (int j = 0; j < DH; j++) sum += weight[o * DH + j] * features[r * DH + j];
                output[r * O + o] = sum;
            }
        }
        return (output, finalHidden, finalCell);
    }
}
