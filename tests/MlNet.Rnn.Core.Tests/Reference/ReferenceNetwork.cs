namespace MlNet.Rnn.Core.Tests.Reference;

/// <summary>
/// The plain double-precision reference: PyTorch's equations written out one sequence, layer, direction and step at
/// a time, with no packing, no GEMM and no vector code. Everything fast is compared with this.
/// </summary>
internal sealed class ReferenceNetwork
{
    public ReferenceNetwork(string mode, int inputSize, int hiddenSize, int layers, bool bidirectional, bool learnedInitialState = false)
    {
        Mode = mode;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        Layers = layers;
        Directions = bidirectional ? 2 : 1;
        LearnedInitialState = learnedInitialState;
    }

    public string Mode { get; }
    public int InputSize { get; }
    public int HiddenSize { get; }
    public int Layers { get; }
    public int Directions { get; }
    public bool LearnedInitialState { get; }
    public bool HasCell => Mode == "LSTM";
    public int Gates => Mode switch { "LSTM" => 4, "GRU" => 3, _ => 1 };

    /// <summary>Parameters by PyTorch name (plus h0_l{k}, c0_l{k} when the initial state is learned).</summary>
    public Dictionary<string, double[]> Parameters { get; } = new();

    public static string Suffix(int layer, int direction) => $"l{layer}{(direction == 1 ? "_reverse" : "")}";

    /// <summary>Runs x [T, B, I] (time-major) with lengths; returns output [T, B, D·H], h_n and c_n [L·D, B, H].</summary>
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
                        if (HasCell) Array.Copy(initialCell!, stateIndex, c, 0, H);
                    }
                    else if (LearnedInitialState)
                    {
                        Array.Copy(Parameters[$"h0_{suffix}"], h, H);
                        if (HasCell) Array.Copy(Parameters[$"c0_{suffix}"], c, H);
                    }
                    for (int k = 0; k < length; k++)
                    {
                        int t = d == 0 ? k : length - 1 - k;
                        var xt = new double[layerInputSize];
                        Array.Copy(layerInput, (t * batch + b) * layerInputSize, xt, 0, layerInputSize);
                        (h, c) = Step(xt, h, c, wih, whh, bih, bhh, layerInputSize);
                        Array.Copy(h, 0, layerOutput, (t * batch + b) * D * H + d * H, H);
                    }
                    Array.Copy(h, 0, finalHidden, stateIndex, H);
                    Array.Copy(c, 0, finalCell, stateIndex, H);
                }
            }
            layerInput = layerOutput;
            layerInputSize = D * H;
        }
        return (layerOutput, finalHidden, finalCell);
    }

    private (double[] H, double[] C) Step(double[] x, double[] hPrev, double[] cPrev, double[] wih, double[] whh, double[] bih, double[] bhh, int inputSize)
    {
        int H = HiddenSize, G = Gates;
        var gi = new double[G * H];
        var gh = new double[G * H];
        for (int r = 0; r < G * H; r++)
        {
            double si = bih[r], sh = bhh[r];
            for (int j = 0; j < inputSize; j++) si += wih[r * inputSize + j] * x[j];
            for (int j = 0; j < H; j++) sh += whh[r * H + j] * hPrev[j];
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
                    double rg = Sigmoid(gi[j] + gh[j]), z = Sigmoid(gi[H + j] + gh[H + j]);
                    double n = Math.Tanh(gi[2 * H + j] + rg * gh[2 * H + j]);
                    h[j] = (1 - z) * n + z * hPrev[j];
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
