using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// Initialisations of the recurrent tensors of a <see cref="ParameterSet"/>, found by their PyTorch names:
/// <c>weight_ih_l{k}[_reverse]</c> <c>[G·H, I]</c>, <c>weight_hh_l{k}[_reverse]</c> <c>[G·H, H]</c>, <c>bias_ih_…</c> and
/// <c>bias_hh_…</c> <c>[G·H]</c>. Other tensors (learned initial states, embeddings, dense heads) are left alone.
/// Every method is deterministic given the state of <see cref="Random"/>, and draws in tensor registration order.
/// </summary>
public static class Initialization
{
    private const string InputWeights = "weight_ih_l", RecurrentWeights = "weight_hh_l", InputBias = "bias_ih_l", RecurrentBias = "bias_hh_l";

    /// <summary>
    /// PyTorch's default for <c>nn.RNN/LSTM/GRU</c>: every weight and bias ~ U(−1/√H, 1/√H). Draws as
    /// <c>RecurrentNetwork.Initialize</c> does, so the same <see cref="Random"/> state gives the same values.
    /// </summary>
    public static void PyTorchDefault(ParameterSet parameters, Random random, int hiddenSize)
    {
        CheckArguments(parameters, random, hiddenSize);
        float bound = 1f / MathF.Sqrt(hiddenSize);
        int found = 0;
        foreach (var tensor in parameters.Tensors)
        {
            if (!IsRecurrent(parameters, tensor)) continue;
            found++;
            Fill(parameters.ValuesOf(tensor), random, bound);
        }
        CheckFound(parameters, found, "weight_ih_l*, weight_hh_l*, bias_ih_l* or bias_hh_l*");
    }

    /// <summary>
    /// Glorot (Xavier) uniform for every <c>weight_ih_*</c> taken as one matrix, as <c>torch.nn.init.xavier_uniform_(weight_ih)</c>:
    /// U(−a, a) with <c>a = gain·√(6 / (I + G·H))</c> (fan-in I, fan-out G·H).
    /// </summary>
    public static void Xavier(ParameterSet parameters, Random random, float gain = 1f)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(random);
        CheckGain(gain);
        int found = 0;
        foreach (var tensor in parameters.Tensors)
        {
            if (!parameters.LocalName(tensor).StartsWith(InputWeights, StringComparison.Ordinal)) continue;
            found++;
            int fanOut = tensor.Shape[0], fanIn = tensor.Shape[1];
            Fill(parameters.ValuesOf(tensor), random, gain * MathF.Sqrt(6f / (fanIn + fanOut)));
        }
        CheckFound(parameters, found, "weight_ih_l*");
    }

    /// <summary>
    /// Orthogonal recurrent weights: each H×H gate block of every <c>weight_hh_*</c> <c>[G·H, H]</c> is <c>gain·Q</c>, with Q
    /// the orthogonal factor of the QR decomposition of a standard Gaussian matrix, signs fixed so diag(R) &gt; 0 (as
    /// <c>torch.nn.init.orthogonal_</c> applied per block). Q comes from modified Gram–Schmidt in double precision over the
    /// columns, which yields exactly that factor. The Gaussian entries are drawn block by block (tensors in registration
    /// order, gates in order), row-major, each by Box–Muller from two draws: <c>√(−2 ln u1)·cos(2π u2)</c> with
    /// <c>u1 = 1 − NextDouble()</c>, <c>u2 = NextDouble()</c>.
    /// </summary>
    public static void Orthogonal(ParameterSet parameters, Random random, int hiddenSize, float gain = 1f)
    {
        CheckArguments(parameters, random, hiddenSize);
        CheckGain(gain);
        int H = hiddenSize, found = 0;
        var block = new double[H * H];
        foreach (var tensor in parameters.Tensors)
        {
            if (!parameters.LocalName(tensor).StartsWith(RecurrentWeights, StringComparison.Ordinal)) continue;
            found++;
            if (tensor.Shape.Length != 2 || tensor.Shape[1] != H || tensor.Shape[0] % H != 0)
                throw new ArgumentException(
                    $"'{tensor.Name}' has shape [{string.Join(", ", tensor.Shape)}], not [G·H, H] for H = {H}; pass the network's hidden size.", nameof(hiddenSize));
            Span<float> values = parameters.ValuesOf(tensor);
            for (int gate = 0; gate < tensor.Shape[0] / H; gate++)
            {
                OrthogonalBlock(random, H, block);
                for (int i = 0; i < block.Length; i++) values[gate * H * H + i] = (float)(gain * block[i]);
            }
        }
        CheckFound(parameters, found, "weight_hh_l*");
    }

    /// <summary>
    /// Sets the forget-gate block (rows H..2H, gate order i, f, g, o) of every LSTM <c>bias_ih_*</c> to
    /// <paramref name="value"/> and of every <c>bias_hh_*</c> to 0, so the summed forget bias is <paramref name="value"/>.
    /// </summary>
    public static void ForgetGateBias(ParameterSet parameters, int hiddenSize, float value = 1f)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (hiddenSize < 1) throw new ArgumentOutOfRangeException(nameof(hiddenSize), hiddenSize, "hiddenSize must be ≥ 1.");
        if (!float.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "The forget-gate bias must be finite.");
        int H = hiddenSize, found = 0;
        foreach (var tensor in parameters.Tensors)
        {
            bool input = parameters.LocalName(tensor).StartsWith(InputBias, StringComparison.Ordinal);
            if (!input && !parameters.LocalName(tensor).StartsWith(RecurrentBias, StringComparison.Ordinal)) continue;
            if (tensor.Length != 4 * H)
                throw new ArgumentException(
                    $"'{tensor.Name}' holds {tensor.Length} values, not 4·H = {4 * H}: it is not the bias of an LSTM with H = {H}; the forget-gate bias applies to LSTMs only.",
                    nameof(parameters));
            found++;
            parameters.ValuesOf(tensor).Slice(H, H).Fill(input ? value : 0f);
        }
        CheckFound(parameters, found, "bias_ih_l* or bias_hh_l*");
    }

    private static bool IsRecurrent(ParameterSet parameters, ParameterTensor tensor)
    {
        string name = parameters.LocalName(tensor);
        return name.StartsWith(InputWeights, StringComparison.Ordinal) || name.StartsWith(RecurrentWeights, StringComparison.Ordinal) ||
            name.StartsWith(InputBias, StringComparison.Ordinal) || name.StartsWith(RecurrentBias, StringComparison.Ordinal);
    }

    private static void Fill(Span<float> values, Random random, float bound)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * bound;
    }

    /// <summary>Writes an orthogonal H×H matrix (row-major) into <paramref name="q"/>: Gram–Schmidt on a Gaussian matrix's columns.</summary>
    private static void OrthogonalBlock(Random random, int H, double[] q)
    {
        for (int i = 0; i < q.Length; i++) q[i] = Gaussian(random);
        for (int column = 0; column < H; column++)
        {
            // Twice (re-orthogonalisation) keeps QᵀQ = I to double rounding even for nearly dependent columns.
            for (int pass = 0; pass < 2; pass++)
                for (int previous = 0; previous < column; previous++)
                {
                    double projection = 0;
                    for (int r = 0; r < H; r++) projection += q[r * H + previous] * q[r * H + column];
                    for (int r = 0; r < H; r++) q[r * H + column] -= projection * q[r * H + previous];
                }
            double norm = 0;
            for (int r = 0; r < H; r++) norm += q[r * H + column] * q[r * H + column];
            norm = Math.Sqrt(norm);
            for (int r = 0; r < H; r++) q[r * H + column] /= norm;
        }
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    private static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static void CheckArguments(ParameterSet parameters, Random random, int hiddenSize)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(random);
        if (hiddenSize < 1) throw new ArgumentOutOfRangeException(nameof(hiddenSize), hiddenSize, "hiddenSize must be ≥ 1.");
    }

    private static void CheckGain(float gain)
    {
        if (!(gain > 0 && float.IsFinite(gain))) throw new ArgumentOutOfRangeException(nameof(gain), gain, "gain must be a finite number > 0.");
    }

    private static void CheckFound(ParameterSet parameters, int found, string names)
    {
        if (found == 0)
            throw new ArgumentException(
                $"The parameter set has no tensor named {names}; it holds: {string.Join(", ", parameters.Tensors.Select(t => t.Name))}.", nameof(parameters));
    }
}
