namespace MlNet.Rnn.Core.Tests.Models;

/// <summary>
/// A double-precision recurrent stack written out one sequence, layer, direction and step at a time (PyTorch's equations,
/// gate order i,f,g,o and r,z,n), with the two dropouts of training given as fixed masks:
/// <list type="bullet">
/// <item>recurrent (variational) dropout: <c>W_hh</c> reads <c>h'⊙m</c>, m <c>[D, B, H]</c> one mask per sequence and direction
/// for every step; the carried state, the LSTM cell and the GRU's direct path <c>z⊙h'</c> stay unmasked;</item>
/// <item>dropout between layers: layer l+1 reads layer l's output <c>⊙ M_l</c>, <c>M_l [T, B, D·H]</c>.</item>
/// </list>
/// Shapes: x <c>[T, B, I]</c> time-major, output <c>[T, B, D·H]</c> (zeros past a sequence's length), final states
/// <c>[L·D, B, H]</c>. The reverse direction of a sequence of length n reads steps n−1 … 0, so its final state is its
/// output at step 0. Parameters by PyTorch name; <c>h0_l{k}</c> / <c>c0_l{k}</c> are used when present and no state is given.
/// Written for the tests, independently of the production code and of <c>Reference/ReferenceNetwork</c>.
/// </summary>
internal sealed class ReferenceRecurrentStack
{
    public ReferenceRecurrentStack(Dictionary<string, double[]> parameters, string mode, int inputSize, int hiddenSize, int layers, bool bidirectional)
    {
        Parameters = parameters;
        Mode = mode;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        Layers = layers;
        Directions = bidirectional ? 2 : 1;
        RecurrentMasks = new double[]?[layers];
        OutputMasks = new double[]?[layers];
    }

    /// <summary>Shared with the model around the stack, so a perturbation of any entry is seen by the next forward.</summary>
    public Dictionary<string, double[]> Parameters { get; }

    /// <summary>LSTM, GRU, RNN_TANH, RNN_RELU or RNN_SIGMOID.</summary>
    public string Mode { get; }

    public int InputSize { get; }
    public int HiddenSize { get; }
    public int Layers { get; }
    public int Directions { get; }
    public int OutputSize => Directions * HiddenSize;
    public bool HasCell => Mode == "LSTM";

    /// <summary>Per layer: the mask <c>[D, B, H]</c> on h' entering W_hh, or null (no recurrent dropout).</summary>
    public double[]?[] RecurrentMasks { get; }

    /// <summary>Per layer below the top: the mask <c>[T, B, D·H]</c> on its output as the next layer reads it, or null.</summary>
    public double[]?[] OutputMasks { get; }

    public static string Suffix(int layer, int direction) => $"l{layer}{(direction == 1 ? "_reverse" : "")}";

    public (double[] Output, double[] FinalHidden, double[] FinalCell) Forward(double[] x, int steps, int batch, int[] lengths,
        double[]? initialHidden = null, double[]? initialCell = null)
    {
        int H = HiddenSize, D = Directions;
        var finalHidden = new double[Layers * D * batch * H];
        var finalCell = new double[Layers * D * batch * H];
        double[] layerInput = x, output = [];
        int inputWidth = InputSize;
        for (int l = 0; l < Layers; l++)
        {
            output = new double[steps * batch * D * H];
            for (int d = 0; d < D; d++)
            {
                string suffix = Suffix(l, d);
                double[] wih = Parameters[$"weight_ih_{suffix}"], whh = Parameters[$"weight_hh_{suffix}"];
                double[] bih = Parameters[$"bias_ih_{suffix}"], bhh = Parameters[$"bias_hh_{suffix}"];
                for (int b = 0; b < batch; b++)
                {
                    int state = ((l * D + d) * batch + b) * H;
                    var h = new double[H];
                    var c = new double[H];
                    if (initialHidden is not null)
                    {
                        Array.Copy(initialHidden, state, h, 0, H);
                        if (HasCell) Array.Copy(initialCell!, state, c, 0, H);
                    }
                    else if (Parameters.TryGetValue($"h0_{suffix}", out var h0))
                    {
                        Array.Copy(h0, h, H);
                        if (HasCell) Array.Copy(Parameters[$"c0_{suffix}"], c, H);
                    }
                    var mask = new double[H];
                    for (int j = 0; j < H; j++) mask[j] = RecurrentMasks[l]?[(d * batch + b) * H + j] ?? 1;
                    int length = lengths[b];
                    for (int k = 0; k < length; k++)
                    {
                        int t = d == 0 ? k : length - 1 - k;
                        var xt = new double[inputWidth];
                        Array.Copy(layerInput, (t * batch + b) * inputWidth, xt, 0, inputWidth);
                        (h, c) = Step(xt, h, c, mask, wih, whh, bih, bhh);
                        Array.Copy(h, 0, output, (t * batch + b) * D * H + d * H, H);
                    }
                    Array.Copy(h, 0, finalHidden, state, H);
                    Array.Copy(c, 0, finalCell, state, H);
                }
            }
            layerInput = output;
            if (OutputMasks[l] is double[] outputMask && l + 1 < Layers)
            {
                layerInput = new double[output.Length];
                for (int i = 0; i < output.Length; i++) layerInput[i] = output[i] * outputMask[i];
            }
            inputWidth = D * H;
        }
        return (output, finalHidden, finalCell);
    }

    private (double[] H, double[] C) Step(double[] x, double[] hPrev, double[] cPrev, double[] mask, double[] wih, double[] whh, double[] bih, double[] bhh)
    {
        int H = HiddenSize, G = Mode switch { "LSTM" => 4, "GRU" => 3, _ => 1 }, I = x.Length;
        // gi = W_ih·x + b_ih, gh = W_hh·(h'⊙m) + b_hh, kept apart because the GRU's candidate needs r⊙gh alone.
        var gi = new double[G * H];
        var gh = new double[G * H];
        for (int r = 0; r < G * H; r++)
        {
            double si = bih[r], sh = bhh[r];
            for (int j = 0; j < I; j++) si += wih[r * I + j] * x[j];
            for (int j = 0; j < H; j++) sh += whh[r * H + j] * hPrev[j] * mask[j];
            gi[r] = si;
            gh[r] = sh;
        }
        var h = new double[H];
        var c = new double[H];
        for (int j = 0; j < H; j++)
        {
            switch (Mode)
            {
                case "LSTM":
                    double i = Sigmoid(gi[j] + gh[j]), f = Sigmoid(gi[H + j] + gh[H + j]);
                    double g = Math.Tanh(gi[2 * H + j] + gh[2 * H + j]), o = Sigmoid(gi[3 * H + j] + gh[3 * H + j]);
                    c[j] = f * cPrev[j] + i * g;
                    h[j] = o * Math.Tanh(c[j]);
                    break;
                case "GRU":
                    double reset = Sigmoid(gi[j] + gh[j]), update = Sigmoid(gi[H + j] + gh[H + j]);
                    double candidate = Math.Tanh(gi[2 * H + j] + reset * gh[2 * H + j]);
                    h[j] = (1 - update) * candidate + update * hPrev[j];
                    break;
                case "RNN_TANH": h[j] = Math.Tanh(gi[j] + gh[j]); break;
                case "RNN_RELU": h[j] = Math.Max(0, gi[j] + gh[j]); break;
                case "RNN_SIGMOID": h[j] = Sigmoid(gi[j] + gh[j]); break;
                default: throw new ArgumentException($"Unknown mode {Mode}.");
            }
        }
        return (h, c);
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
