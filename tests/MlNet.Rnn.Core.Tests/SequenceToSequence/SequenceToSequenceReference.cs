using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// The plain double-precision reference of <see cref="SequenceToSequenceModel"/>, one pair at a time (no batch, so no
/// padding) and one decoder step at a time, written from the equations in the production XML docs with no call into
/// production math. Encoder: <c>m, (h_n, c_n) = RNN_enc(E_s[x])</c> (the recurrent stacks are the core's
/// <see cref="ReferenceNetwork"/>). Bridge: decoder layer l starts from <c>Σ_d h_n[l·D + d]</c> (and likewise c for LSTM).
/// Decoder step t reads <c>E_t[y_(t−1)]</c> (y_0 = start), with Bahdanau's context
/// <c>c = Σ_s softmax_s(vᵀ tanh(W_q q + W_m m_s + b_a)) m_s</c> (q the previous top-layer state) appended; Luong turns the
/// decoder's output h into <c>tanh(W_c [Σ_s softmax_s(h·W_a m_s) m_s; h] + b_c)</c>; logits <c>z = W_o h + b_o</c>.
/// Loss: softmax cross-entropy (with label smoothing ε as <c>torch.nn.CrossEntropyLoss</c>) summed over every target step
/// of every pair (y_1 … y_n, end) and divided by the number of those steps.
/// Parameters are keyed <c>encoder.{name}</c> and <c>decoder.{name}</c> with the production names, as in model files.
/// </summary>
internal sealed class SequenceToSequenceReference
{
    private readonly ReferenceNetwork _encoder, _decoder;

    public SequenceToSequenceReference(SequenceToSequenceOptions options)
    {
        Options = options;
        string mode = NetworkFactory.ModeOf(options.Cell, options.RnnActivation);
        int E = options.EmbeddingSize, H = options.HiddenSize, M = MemoryWidth;
        _encoder = new ReferenceNetwork(mode, E, H, options.Layers, options.Bidirectional);
        _decoder = new ReferenceNetwork(mode, E + (options.Attention == AttentionKind.Bahdanau ? M : 0), H, options.Layers, bidirectional: false);

        Declare("encoder.embedding.weight", options.SourceVocabularySize * E);
        DeclareStack("encoder.", _encoder);
        Declare("decoder.embedding.weight", options.TargetVocabularySize * E);
        DeclareStack("decoder.", _decoder);
        if (options.Attention == AttentionKind.Luong)
        {
            Declare("decoder.attention.weight", H * M);
            Declare("decoder.attention.combine.weight", H * (M + H));
            Declare("decoder.attention.combine.bias", H);
        }
        if (options.Attention == AttentionKind.Bahdanau)
        {
            Declare("decoder.attention.query.weight", H * H);
            Declare("decoder.attention.memory.weight", H * M);
            Declare("decoder.attention.bias", H);
            Declare("decoder.attention.v", H);
        }
        Declare("decoder.output.weight", options.TargetVocabularySize * H);
        Declare("decoder.output.bias", options.TargetVocabularySize);
    }

    public SequenceToSequenceOptions Options { get; }

    /// <summary>Every parameter by name; the recurrent stacks read the same arrays, so changing an entry here changes the model.</summary>
    public Dictionary<string, double[]> Parameters { get; } = new();

    private int MemoryWidth => Options.Directions * Options.HiddenSize;

    /// <summary>A reference holding the production model's parameters widened to double; the two must name the same tensors.</summary>
    public static SequenceToSequenceReference Of(SequenceToSequenceModel model)
    {
        var reference = new SequenceToSequenceReference(model.Options);
        var copied = new HashSet<string>();
        var set = model.Parameters;
        foreach (var tensor in set.Tensors)
        {
            string name = tensor.Name;
            Assert.True(reference.Parameters.TryGetValue(name, out var values), $"The reference has no parameter {name}.");
            Assert.Equal(values!.Length, tensor.Length);
            ReadOnlySpan<float> source = set.ValuesOf(tensor);
            for (int i = 0; i < values.Length; i++) values[i] = source[i];
            copied.Add(name);
        }
        Assert.Equal(reference.Parameters.Keys.Order(), copied.Order());
        return reference;
    }

    /// <summary>Teacher-forced logits <c>[n + 1][V_t]</c> of one pair: step t is fed start, y_1 … y_n and predicts y_1 … y_n, end.</summary>
    public double[][] Logits(int[] source, int[] target)
    {
        var state = Encode(source);
        var logits = new double[target.Length + 1][];
        for (int t = 0; t <= target.Length; t++) logits[t] = Step(state, t == 0 ? Options.StartId : target[t - 1]);
        return logits;
    }

    /// <summary>Mean over every target step of every pair of <c>(1 − ε)(−log p_y) + (ε/V)·Σ_k (−log p_k)</c>.</summary>
    public double Loss(IReadOnlyList<int[]> sources, IReadOnlyList<int[]> targets, double labelSmoothing = 0)
    {
        double total = 0;
        int steps = 0;
        for (int row = 0; row < sources.Count; row++)
        {
            double[][] logits = Logits(sources[row], targets[row]);
            for (int t = 0; t < logits.Length; t++)
            {
                double[] logProbabilities = Softmax.Log(logits[t]);
                int y = t < targets[row].Length ? targets[row][t] : Options.EndId;
                total -= (1 - labelSmoothing) * logProbabilities[y] + labelSmoothing / logProbabilities.Length * logProbabilities.Sum();
                steps++;
            }
        }
        return total / steps;
    }

    /// <summary>log P(y_1 … y_n, end | source).</summary>
    public double LogProbability(int[] source, int[] target)
    {
        double[][] logits = Logits(source, target);
        double total = 0;
        for (int t = 0; t < logits.Length; t++) total += Softmax.Log(logits[t])[t < target.Length ? target[t] : Options.EndId];
        return total;
    }

    /// <summary>
    /// Greedy decoding: from start, feed back the most likely token that may be emitted (every target id but the unknown id 0
    /// and the start id; the first of equal maxima) until end or <paramref name="maxLength"/> tokens (end included); tokens
    /// exclude end; log P sums the chosen tokens' log-probabilities (over the whole target vocabulary).
    /// </summary>
    public (int[] Tokens, double LogProbability, bool Ended) Greedy(int[] source, int maxLength)
    {
        var state = Encode(source);
        var tokens = new List<int>();
        double logProbability = 0;
        int previous = Options.StartId;
        for (int step = 0; step < maxLength; step++)
        {
            double[] logProbabilities = Softmax.Log(Step(state, previous));
            int best = -1;
            for (int k = 0; k < logProbabilities.Length; k++)
                if (k != 0 && k != Options.StartId && (best < 0 || logProbabilities[k] > logProbabilities[best])) best = k;
            logProbability += logProbabilities[best];
            if (best == Options.EndId) return (tokens.ToArray(), logProbability, true);
            tokens.Add(best);
            previous = best;
        }
        return (tokens.ToArray(), logProbability, false);
    }

    /// <summary>
    /// Beam search as <see cref="DecodingOptions"/> and <see cref="Translation"/> document it, each hypothesis re-scored from
    /// the source and its prefix: every live hypothesis (one, empty, at the start) is extended by every id that may be emitted;
    /// the candidates in order of log P (ties by hypothesis, then id) fill up to <paramref name="width"/> live hypotheses,
    /// while an end id among the first <paramref name="width"/> candidates finishes its hypothesis. The search stops when the
    /// likeliest candidate is an end id, when (α = 0) every live hypothesis is no likelier than the likeliest finished one, or
    /// after <paramref name="maxLength"/> steps (the live hypotheses then finish without an end id). The result is the finished
    /// hypothesis of highest log P / n^α, n the emitted ids with the end id, at least 1 (the first of equals).
    /// </summary>
    public (int[] Tokens, double LogProbability, bool Ended) Beam(int[] source, int width, double alpha, int maxLength)
    {
        var live = new List<(int[] Tokens, double LogProbability)> { ([], 0) };
        var finished = new List<(int[] Tokens, double LogProbability, bool Ended)>();
        for (int step = 0; step < maxLength && live.Count > 0; step++)
        {
            var candidates = new List<(double LogProbability, int Hypothesis, int Token)>();
            for (int h = 0; h < live.Count; h++)
            {
                double[] next = Softmax.Log(Logits(source, live[h].Tokens)[^1]);
                for (int token = 0; token < next.Length; token++)
                    if (token != 0 && token != Options.StartId) candidates.Add((live[h].LogProbability + next[token], h, token));
            }
            var ordered = candidates.OrderByDescending(c => c.LogProbability).ThenBy(c => c.Hypothesis).ThenBy(c => c.Token).ToArray();
            var extended = new List<(int[] Tokens, double LogProbability)>();
            for (int c = 0; c < ordered.Length && extended.Count < width; c++)
            {
                var (logProbability, h, token) = ordered[c];
                if (token != Options.EndId) extended.Add(([.. live[h].Tokens, token], logProbability));
                else if (c < width) finished.Add((live[h].Tokens, logProbability, true));
            }
            live = extended;
            if (ordered[0].Token == Options.EndId) return Best();
            if (alpha == 0 && finished.Count > 0 && live.All(h => h.LogProbability <= finished.Max(f => f.LogProbability))) return Best();
        }
        foreach (var (tokens, logProbability) in live) finished.Add((tokens, logProbability, false));
        return Best();

        (int[] Tokens, double LogProbability, bool Ended) Best() => finished.MaxBy(f =>
            alpha == 0 ? f.LogProbability : f.LogProbability / Math.Pow(Math.Max(f.Tokens.Length + (f.Ended ? 1 : 0), 1), alpha));
    }

    /// <summary>The encoder's memory <c>[S][D·H]</c> and the bridged decoder state of one source.</summary>
    private sealed class DecoderState(double[][] memory, double[] hidden, double[] cell)
    {
        public double[][] Memory { get; } = memory;
        public double[] Hidden { get; set; } = hidden;
        public double[] Cell { get; set; } = cell;
    }

    private DecoderState Encode(int[] source)
    {
        int S = source.Length, E = Options.EmbeddingSize, H = Options.HiddenSize, L = Options.Layers, D = Options.Directions, M = MemoryWidth;
        var x = new double[S * E];
        for (int s = 0; s < S; s++) Array.Copy(Parameters["encoder.embedding.weight"], source[s] * E, x, s * E, E);
        var (output, finalHidden, finalCell) = _encoder.Forward(x, S, 1, null);
        var memory = new double[S][];
        for (int s = 0; s < S; s++) memory[s] = output[(s * M)..((s + 1) * M)];
        var hidden = new double[L * H];
        var cell = new double[L * H];
        for (int l = 0; l < L; l++)
            for (int d = 0; d < D; d++)
                for (int j = 0; j < H; j++)
                {
                    hidden[l * H + j] += finalHidden[(l * D + d) * H + j];
                    cell[l * H + j] += finalCell[(l * D + d) * H + j];
                }
        return new DecoderState(memory, hidden, cell);
    }

    /// <summary>One decoder step from <paramref name="state"/> (advanced in place) fed <paramref name="previous"/>: the logits <c>[V_t]</c>.</summary>
    private double[] Step(DecoderState state, int previous)
    {
        int E = Options.EmbeddingSize, H = Options.HiddenSize, M = MemoryWidth, V = Options.TargetVocabularySize;
        var input = new double[_decoder.InputSize];
        Array.Copy(Parameters["decoder.embedding.weight"], previous * E, input, 0, E);
        if (Options.Attention == AttentionKind.Bahdanau)
        {
            double[] query = state.Hidden[((Options.Layers - 1) * H)..];
            Array.Copy(BahdanauContext(query, state.Memory), 0, input, E, M);
        }
        var (output, hidden, cell) = _decoder.Forward(input, 1, 1, null, state.Hidden, state.Cell);
        state.Hidden = hidden;
        state.Cell = cell;
        double[] features = Options.Attention == AttentionKind.Luong ? LuongOutput(output, state.Memory) : output;
        return Affine(Parameters["decoder.output.weight"], Parameters["decoder.output.bias"], features, V);
    }

    /// <summary><c>tanh(W_c [c; h] + b_c)</c> with <c>c = Σ_s softmax_s(h · W_a m_s) m_s</c>.</summary>
    private double[] LuongOutput(double[] h, double[][] memory)
    {
        int H = Options.HiddenSize;
        double[] weight = Parameters["decoder.attention.weight"];
        var scores = new double[memory.Length];
        for (int s = 0; s < memory.Length; s++)
        {
            double[] key = Affine(weight, new double[H], memory[s], H);
            for (int j = 0; j < H; j++) scores[s] += h[j] * key[j];
        }
        double[] context = WeightedSum(Softmax.Of(scores), memory);
        double[] concatenated = [.. context, .. h];
        double[] combined = Affine(Parameters["decoder.attention.combine.weight"], Parameters["decoder.attention.combine.bias"], concatenated, H);
        for (int j = 0; j < H; j++) combined[j] = Math.Tanh(combined[j]);
        return combined;
    }

    /// <summary><c>c = Σ_s softmax_s(vᵀ tanh(W_q q + W_m m_s + b_a)) m_s</c>.</summary>
    private double[] BahdanauContext(double[] query, double[][] memory)
    {
        int A = Options.HiddenSize;
        double[] projectedQuery = Affine(Parameters["decoder.attention.query.weight"], new double[A], query, A);
        double[] v = Parameters["decoder.attention.v"];
        var scores = new double[memory.Length];
        for (int s = 0; s < memory.Length; s++)
        {
            double[] key = Affine(Parameters["decoder.attention.memory.weight"], Parameters["decoder.attention.bias"], memory[s], A);
            for (int j = 0; j < A; j++) scores[s] += v[j] * Math.Tanh(key[j] + projectedQuery[j]);
        }
        return WeightedSum(Softmax.Of(scores), memory);
    }

    /// <summary><c>W x + b</c> for <c>W [rows, x.Length]</c>.</summary>
    private static double[] Affine(double[] weight, double[] bias, double[] x, int rows)
    {
        var result = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double sum = bias[r];
            for (int j = 0; j < x.Length; j++) sum += weight[r * x.Length + j] * x[j];
            result[r] = sum;
        }
        return result;
    }

    private static double[] WeightedSum(double[] weights, double[][] rows)
    {
        var result = new double[rows[0].Length];
        for (int s = 0; s < rows.Length; s++)
            for (int j = 0; j < result.Length; j++) result[j] += weights[s] * rows[s][j];
        return result;
    }

    private void Declare(string name, int length) => Parameters[name] = new double[length];

    /// <summary>Registers a stack's PyTorch-named tensors under <paramref name="prefix"/>, sharing the arrays the stack reads.</summary>
    private void DeclareStack(string prefix, ReferenceNetwork network)
    {
        int G = network.Gates, H = network.HiddenSize;
        for (int l = 0; l < network.Layers; l++)
            for (int d = 0; d < network.Directions; d++)
            {
                int inputSize = l == 0 ? network.InputSize : network.Directions * H;
                string suffix = ReferenceNetwork.Suffix(l, d);
                foreach (var (name, length) in new[]
                {
                    ($"weight_ih_{suffix}", G * H * inputSize), ($"weight_hh_{suffix}", G * H * H),
                    ($"bias_ih_{suffix}", G * H), ($"bias_hh_{suffix}", G * H),
                })
                {
                    var values = new double[length];
                    network.Parameters[name] = values;
                    Parameters[prefix + name] = values;
                }
            }
    }
}
