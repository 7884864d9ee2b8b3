namespace MlNet.Rnn.Core.Tests.Reference;

/// <summary>
/// The plain double-precision reference: PyTorch's equations (gate order i,f,g,o and r,z,n) written out one sequence,
/// layer, direction and step at a time, with no packing, no GEMM and no vector code. Everything fast is compared with this.
/// Shapes: x <c>[T, B, I]</c> time-major, output <c>[T, B, D·H]</c> (zeros past a sequence's length), states
/// <c>[L·D, B, H]</c>. The reverse direction of a sequence of length n reads steps n−1 … 0, so its final state is its
/// output at step 0. The two dropouts of training are given as fixed masks:
/// <list type="bullet">
/// <item>recurrent (variational) dropout: <c>W_hh</c> reads <c>h'⊙m</c>, m <c>[D, B, H]</c> one mask per sequence and
/// direction for every step; the carried state, the LSTM cell and the GRU's direct path <c>z⊙h'</c> stay unmasked;</item>
/// <item>dropout between layers: layer l+1 reads layer l's output <c>⊙ M_l</c>, <c>M_l [T, B, D·H]</c>.</item>
/// </list>
/// </summary>
internal sealed class ReferenceNetwork
{
    /// <summary>
    /// A network reading its parameters from <paramref name="parameters"/>: shared with a model around the network, so that
    /// a perturbation of any entry is seen by the next forward; a new dictionary when null.
    /// </summary>
    public ReferenceNetwork(string mode, int inputSize, int hiddenSize, int layers, bool bidirectional, bool learnedInitialState = false,
        Dictionary<string, double[]>? parameters = null)
    {
        Mode = mode;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        Layers = layers;
        Directions = bidirectional ? 2 : 1;
        LearnedInitialState = learnedInitialState;
        Parameters = parameters ?? new(StringComparer.Ordinal);
        RecurrentMasks = new double[]?[layers];
        OutputMasks = new double[]?[layers];
    }

    /// <summary>LSTM, GRU, RNN_TANH, RNN_RELU or RNN_SIGMOID.</summary>
    public string Mode { get; }

    public int InputSize { get; }
    public int HiddenSize { get; }
    public int Layers { get; }
    public int Directions { get; }
    public int OutputSize => Directions * HiddenSize;
    public bool LearnedInitialState { get; }
    public bool HasCell => Mode == "LSTM";
    public int Gates => GatesOf(Mode);

    /// <summary>Parameters by PyTorch name (plus h0_l{k}, c0_l{k} when the initial state is learned).</summary>
    public Dictionary<string, double[]> Parameters { get; }

    /// <summary>Per layer: the mask <c>[D, B, H]</c> on h' entering W_hh, or null (no recurrent dropout).</summary>
    public double[]?[] RecurrentMasks { get; }

    /// <summary>Per layer below the top: the mask <c>[T, B, D·H]</c> on its output as the next layer reads it, or null.</summary>
    public double[]?[] OutputMasks { get; }

    public static string Suffix(int layer, int direction) => $"l{layer}{(direction == 1 ? "_reverse" : "")}";

    public static int GatesOf(string mode) => mode switch { "LSTM" => 4, "GRU" => 3, _ => 1 };

    /// <summary>
    /// Runs x <c>[T, B, I]</c> with lengths (all T when null); returns output <c>[T, B, D·H]</c>, h_n and c_n <c>[L·D, B, H]</c>.
    /// The initial state is <paramref name="initialHidden"/> and <paramref name="initialCell"/> (zeros when null) if given,
    /// else the learned one, else zeros.
    /// </summary>
    public (double[] Output, double[] FinalHidden, double[] FinalCell) Forward(double[] x, int steps, int batch, int[]? lengths,
        double[]? initialHidden = null, double[]? initialCell = null)
    {
        int H = HiddenSize, D = Directions;
        var finalHidden = new double[Layers * D * batch * H];
        var finalCell = new double[Layers * D * batch * H];
        var layerInput = x;
        int layerInputSize = InputSize;
        double[] layerOutput = [];
        for (int l = 0; l < Layers; l++)
        {
            layerOutput = new double[steps * batch * D * H];
            for (int d = 0; d < D; d++)
            {
                string suffix = Suffix(l, d);
                var wih = Parameters[$"weight_ih_{suffix}"];
                var whh = Parameters[$"weight_hh_{suffix}"];
                var bih = Parameters[$"bias_ih_{suffix}"];
                var bhh = Parameters[$"bias_hh_{suffix}"];
                for (int b = 0; b < batch; b++)
                {
                    int length = lengths?[b] ?? steps;
                    int stateIndex = ((l * D + d) * batch + b) * H;
                    var h = new double[H];
                    var c = new double[H];
                    if (initialHidden is not null)
                    {
                        Array.Copy(initialHidden, stateIndex, h, 0, H);
                        if (HasCell && initialCell is not null) Array.Copy(initialCell, stateIndex, c, 0, H);
                    }
                    else if (LearnedInitialState)
                    {
                        Array.Copy(Parameters[$"h0_{suffix}"], h, H);
                        if (HasCell) Array.Copy(Parameters[$"c0_{suffix}"], c, H);
                    }
                    var mask = new double[H];
                    for (int j = 0; j < H; j++) mask[j] = RecurrentMasks[l]?[(d * batch + b) * H + j] ?? 1;
                    for (int k = 0; k < length; k++)
                    {
                        int t = d == 0 ? k : length - 1 - k;
                        var xt = new double[layerInputSize];
                        Array.Copy(layerInput, (t * batch + b) * layerInputSize, xt, 0, layerInputSize);
                        (h, c) = Step(xt, h, c, mask, wih, whh, bih, bhh);
                        Array.Copy(h, 0, layerOutput, (t * batch + b) * D * H + d * H, H);
                    }
                    Array.Copy(h, 0, finalHidden, stateIndex, H);
                    Array.Copy(c, 0, finalCell, stateIndex, H);
                }
            }
            layerInput = layerOutput;
            if (OutputMasks[l] is double[] outputMask && l + 1 < Layers)
            {
                layerInput = new double[layerOutput.Length];
                for (int i = 0; i < layerOutput.Length; i++) layerInput[i] = layerOutput[i] * outputMask[i];
            }
            layerInputSize = D * H;
        }
        return (layerOutput, finalHidden, finalCell);
    }

    /// <summary>
    /// Whether the products are int8 dynamically quantized, as inference with <see cref="Layers.InferencePrecision.Int8"/> does:
    /// each row of <c>W_ih</c> and <c>W_hh</c>, each input row and each step's <c>h'</c> replaced by <c>s·round(v / s)</c> with
    /// <c>s = max|v| / 127</c> (<see cref="QuantizeRow"/>), the product of the replaced values then exact in double.
    /// </summary>
    public bool Int8 { get; set; }

    /// <summary>Symmetric int8 quantization of one row, dequantized: <c>s·round(v / s)</c>, <c>s = max|v| / 127</c>, ties to even.</summary>
    public static double[] QuantizeRow(ReadOnlySpan<double> row)
    {
        double max = 0;
        foreach (double v in row) max = Math.Max(max, Math.Abs(v));
        var result = new double[row.Length];
        if (max == 0) return result;
        double scale = max / 127;
        for (int i = 0; i < row.Length; i++) result[i] = scale * Math.Round(row[i] / scale, MidpointRounding.ToEven);
        return result;
    }

    /// <summary>A [rows × columns] matrix with every row quantized by <see cref="QuantizeRow"/>.</summary>
    public static double[] QuantizeRows(double[] matrix, int columns)
    {
        var result = new double[matrix.Length];
        for (int r = 0; r * columns < matrix.Length; r++) QuantizeRow(matrix.AsSpan(r * columns, columns)).CopyTo(result, r * columns);
        return result;
    }

    /// <summary>One step: <c>gi = W_ih·x + b_ih</c>, <c>gh = W_hh·(h'⊙m) + b_hh</c>, then <see cref="Unit"/> for every unit.</summary>
    private (double[] H, double[] C) Step(double[] x, double[] hPrev, double[] cPrev, double[] mask, double[] wih, double[] whh, double[] bih, double[] bhh)
    {
        int H = HiddenSize, G = Gates, I = x.Length;
        if (Int8)
        {
            var masked = new double[H];
            for (int j = 0; j < H; j++) masked[j] = hPrev[j] * mask[j];
            x = QuantizeRow(x);
            wih = QuantizeRows(wih, I);
            whh = QuantizeRows(whh, H);
            var quantizedHidden = QuantizeRow(masked);
            mask = new double[H];
            for (int j = 0; j < H; j++)
            {
                // h' enters the product quantized; the cell still reads the float h'.
                mask[j] = 1;
                masked[j] = quantizedHidden[j];
            }
            return StepProducts(x, masked, hPrev, cPrev, mask, wih, whh, bih, bhh);
        }
        return StepProducts(x, hPrev, hPrev, cPrev, mask, wih, whh, bih, bhh);
    }

    private (double[] H, double[] C) StepProducts(double[] x, double[] productHidden, double[] hPrev, double[] cPrev, double[] mask, double[] wih, double[] whh,
        double[] bih, double[] bhh)
    {
        int H = HiddenSize, G = Gates, I = x.Length;
        // Kept apart because the GRU's candidate needs r⊙gh alone.
        var gi = new double[G * H];
        var gh = new double[G * H];
        for (int r = 0; r < G * H; r++)
        {
            double si = bih[r], sh = bhh[r];
            for (int j = 0; j < I; j++) si += wih[r * I + j] * x[j];
            for (int j = 0; j < H; j++) sh += whh[r * H + j] * productHidden[j] * mask[j];
            gi[r] = si;
            gh[r] = sh;
        }
        var h = new double[H];
        var c = new double[H];
        Span<double> unitInput = stackalloc double[G], unitRecurrent = stackalloc double[G];
        for (int j = 0; j < H; j++)
        {
            for (int g = 0; g < G; g++)
            {
                unitInput[g] = gi[g * H + j];
                unitRecurrent[g] = gh[g * H + j];
            }
            (h[j], c[j]) = Unit(Mode, unitInput, unitRecurrent, hPrev[j], cPrev[j]);
        }
        return (h, c);
    }

    /// <summary>
    /// The cell equations of one hidden unit, from its G input pre-activations <paramref name="gi"/> (<c>W_ih·x + b_ih</c>)
    /// and recurrent pre-activations <paramref name="gh"/> (<c>W_hh·h' + b_hh</c>): LSTM <c>c = f⊙c' + i⊙g, h = o⊙tanh(c)</c>;
    /// GRU <c>n = tanh(gi_n + r⊙gh_n), h = (1 − z)⊙n + z⊙h'</c>; RNN <c>h = act(gi + gh)</c>. Returns (h, c); c is 0
    /// without a cell state.
    /// </summary>
    public static (double H, double C) Unit(string mode, ReadOnlySpan<double> gi, ReadOnlySpan<double> gh, double hPrev, double cPrev)
    {
        switch (mode)
        {
            case "LSTM":
                double i = Sigmoid(gi[0] + gh[0]), f = Sigmoid(gi[1] + gh[1]), g = Math.Tanh(gi[2] + gh[2]), o = Sigmoid(gi[3] + gh[3]);
                double c = f * cPrev + i * g;
                return (o * Math.Tanh(c), c);
            case "GRU":
                double reset = Sigmoid(gi[0] + gh[0]), update = Sigmoid(gi[1] + gh[1]);
                double candidate = Math.Tanh(gi[2] + reset * gh[2]);
                return ((1 - update) * candidate + update * hPrev, 0);
            case "RNN_TANH": return (Math.Tanh(gi[0] + gh[0]), 0);
            case "RNN_RELU": return (Math.Max(0, gi[0] + gh[0]), 0);
            case "RNN_SIGMOID": return (Sigmoid(gi[0] + gh[0]), 0);
            default: throw new ArgumentException($"Unknown mode {mode}.", nameof(mode));
        }
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
