namespace MlNet.Rnn.Benchmarks;

/// <summary>The recurrent cell of a workload.</summary>
public enum CellKind
{
    /// <summary>torch.nn.LSTM.</summary>
    Lstm,

    /// <summary>torch.nn.GRU.</summary>
    Gru,

    /// <summary>torch.nn.RNN with tanh.</summary>
    RnnTanh,
}

/// <summary>
/// One workload of the table in BENCHMARKS.md (Workloads): B batch, T steps, I input size, H hidden size.
/// </summary>
public sealed record Workload(string Name, CellKind Cell, int Layers, bool Bidirectional, int B, int T, int I, int H)
{
    /// <summary>S: LSTM, 1 layer, B 32, T 32, I 16, H 64.</summary>
    public static readonly Workload S = new("S", CellKind.Lstm, 1, false, 32, 32, 16, 64);

    /// <summary>M: LSTM, 1 layer, B 64, T 64, I 64, H 256.</summary>
    public static readonly Workload M = new("M", CellKind.Lstm, 1, false, 64, 64, 64, 256);

    /// <summary>L: LSTM, 2 layers, B 64, T 64, I 256, H 512.</summary>
    public static readonly Workload L = new("L", CellKind.Lstm, 2, false, 64, 64, 256, 512);

    /// <summary>G: GRU, 2 layers, bidirectional, B 32, T 100, I 32, H 128.</summary>
    public static readonly Workload G = new("G", CellKind.Gru, 2, true, 32, 100, 32, 128);

    /// <summary>R: RNN tanh, 1 layer, B 64, T 128, I 32, H 128.</summary>
    public static readonly Workload R = new("R", CellKind.RnnTanh, 1, false, 64, 128, 32, 128);

    /// <summary>All workloads in table order.</summary>
    public static readonly Workload[] All = [S, M, L, G, R];

    /// <summary>The workload called <paramref name="name"/>.</summary>
    public static Workload Get(string name) =>
        All.FirstOrDefault(w => w.Name == name) ?? throw new ArgumentException($"Unknown workload '{name}'.", nameof(name));

    /// <summary>D: directions.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>G: gates per cell.</summary>
    public int Gates => Cell switch { CellKind.Lstm => 4, CellKind.Gru => 3, _ => 1 };

    /// <summary>
    /// Matrix-product FLOPs of one forward pass over the batch, as BENCHMARKS.md counts them: per step, sample, layer and
    /// direction 2·G·H·(I_l + H), I_l the layer's input size.
    /// </summary>
    public double ForwardFlops
    {
        get
        {
            double total = 0;
            for (int l = 0; l < Layers; l++)
            {
                int inputSize = l == 0 ? I : Directions * H;
                total += 2.0 * Gates * H * (inputSize + H) * Directions;
            }
            return total * T * B;
        }
    }

    /// <summary>Training counts 3× forward.</summary>
    public double TrainingFlops => 3 * ForwardFlops;

    /// <summary>A one-line description, e.g. "LSTM, 2 layers, B 64, T 64, I 256, H 512".</summary>
    public string Description =>
        $"{Cell switch { CellKind.Lstm => "LSTM", CellKind.Gru => "GRU", _ => "RNN tanh" }}, {Layers} layer{(Layers > 1 ? "s" : "")}" +
        $"{(Bidirectional ? ", bidirectional" : "")}, B {B}, T {T}, I {I}, H {H}";
}
