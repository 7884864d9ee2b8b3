// MlNet.Rnn.Parity.Fixtures — writes the PyTorch (libtorch, through TorchSharp 0.107.0) reference
// fixtures that the parity tests in tests/MlNet.Rnn.Core.Tests/Parity compare against.
//
// Regenerate (from the repository root):
//
//     dotnet run --project tests/MlNet.Rnn.Parity.Fixtures -- <output folder>
//
// The output folder defaults to tests/MlNet.Rnn.Core.Tests/Parity/Fixtures under the repository root
// (found by walking up from the working directory, then from the program's folder, to MlNet.Rnn.sln).
//
// This project is deliberately NOT in MlNet.Rnn.sln: it restores libtorch (about 600 MB), which CI
// must not do. The generated JSON files are committed instead. On Debian 12 the first thing Main does
// is TorchSharpNative.EnsureLoadable() (tests/Shared/TorchSharpNative.cs), which marks the unused
// GLIBCXX_3.4.32 requirement of the build output's copy of libLibTorchSharp.so weak.
//
// What each RNN fixture holds: a torch.nn.RNN/LSTM/GRU (CPU, float32, default init, dropout 0,
// batch_first false) under a fixed manual_seed; random input, h0 (and c0), and random upstream
// gradients; the forward results (output, h_n, c_n) and, after backward of
//     loss = sum(output * grad_output) + sum(h_n * grad_h_n) [+ sum(c_n * grad_c_n)],
// the gradients of input, h0, c0 and every parameter ("grad.<name>"). Variable-length cases go through
// pack_padded_sequence(enforce_sorted: false) / pad_packed_sequence(total_length: T), so padded output
// steps are zero. adam_lstm.json records 20 Adam steps of LSTM + Linear head on an MSE loss.

using System.Globalization;
using System.Text;
using System.Text.Json;
using MlNet.Rnn.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace MlNet.Rnn.Parity.Fixtures;

internal static class Program
{
    private static int Main(string[] args)
    {
        // Must run before any TorchSharp type loads its native libraries.
        TorchSharpNative.EnsureLoadable();
        return Generator.Run(args);
    }
}

internal enum Cell
{
    RnnTanh,
    RnnRelu,
    Lstm,
    Gru,
}

internal sealed record CaseSpec(
    string Name,
    Cell Cell,
    int InputSize,
    int HiddenSize,
    int NumLayers,
    bool Bidirectional,
    int SeqLen,
    int Batch,
    int[]? Lengths,
    int Seed);

internal static class Generator
{
    private const int T = 5;
    private const int B = 4;
    private const int I = 6;
    private const int H = 3;

    // Distinct sizes (T != B != I != H) so that a transposed index shows up as a mismatch.
    // Lengths deliberately unsorted and including a length-1 sequence.
    private static readonly int[] SmallLengths = [3, 5, 1, 4];
    private static readonly int[] BigLengths = [4, 7, 1, 6, 3];

    private static readonly CaseSpec[] Cases =
    [
        new("rnn_tanh_l1", Cell.RnnTanh, I, H, 1, false, T, B, null, 101),
        new("rnn_relu_l1", Cell.RnnRelu, I, H, 1, false, T, B, null, 102),
        new("rnn_tanh_l2_bi_varlen", Cell.RnnTanh, I, H, 2, true, T, B, SmallLengths, 103),
        new("lstm_l1", Cell.Lstm, I, H, 1, false, T, B, null, 201),
        new("lstm_l2", Cell.Lstm, I, H, 2, false, T, B, null, 202),
        new("lstm_l1_bi", Cell.Lstm, I, H, 1, true, T, B, null, 203),
        new("lstm_l2_bi_varlen", Cell.Lstm, I, H, 2, true, T, B, SmallLengths, 204),
        new("lstm_l1_varlen", Cell.Lstm, I, H, 1, false, T, B, SmallLengths, 205),
        new("gru_l1", Cell.Gru, I, H, 1, false, T, B, null, 301),
        new("gru_l2", Cell.Gru, I, H, 2, false, T, B, null, 302),
        new("gru_l1_bi", Cell.Gru, I, H, 1, true, T, B, null, 303),
        new("gru_l2_bi_varlen", Cell.Gru, I, H, 2, true, T, B, SmallLengths, 304),
        new("gru_l1_varlen", Cell.Gru, I, H, 1, false, T, B, SmallLengths, 305),
        new("lstm_big_l2_bi_varlen", Cell.Lstm, 6, 8, 2, true, 7, 5, BigLengths, 401),
        new("gru_big_l1", Cell.Gru, 6, 8, 1, false, 7, 5, null, 402),

        // The second layer reads 2H = 10 features, the first I = 3: a layer-1 weight read with the layer-0 input
        // width (or the other way round) shows up here, where the cases above with I = 2H = 6 cannot see it.
        // (LSTM has this shape in lstm_big_l2_bi_varlen: I = 6, 2H = 16.)
        new("rnn_tanh_l2_bi_varlen_i3_h5", Cell.RnnTanh, 3, 5, 2, true, T, B, SmallLengths, 104),
        new("rnn_relu_l2_bi_varlen_i3_h5", Cell.RnnRelu, 3, 5, 2, true, T, B, SmallLengths, 105),
        new("gru_l2_bi_varlen_i3_h5", Cell.Gru, 3, 5, 2, true, T, B, SmallLengths, 306),
    ];

    public static int Run(string[] args)
    {
        string outDir;
        if (args.Length > 0)
        {
            outDir = Path.GetFullPath(args[0]);
        }
        else
        {
            var root = FindRepoRoot(Directory.GetCurrentDirectory()) ?? FindRepoRoot(AppContext.BaseDirectory);
            if (root is null)
            {
                Console.Error.WriteLine("MlNet.Rnn.sln not found above the working directory; pass the output folder.");
                return 2;
            }

            outDir = Path.Combine(root, "tests", "MlNet.Rnn.Core.Tests", "Parity", "Fixtures");
        }

        Directory.CreateDirectory(outDir);
        torch.set_num_threads(1);
        Console.WriteLine($"Writing fixtures to {outDir}");

        foreach (var spec in Cases)
        {
            using var scope = torch.NewDisposeScope();
            var file = Path.Combine(outDir, spec.Name + ".json");
            File.WriteAllText(file, RnnCase(spec));
            Console.WriteLine($"  {spec.Name}.json  {new FileInfo(file).Length,8} bytes");
        }

        using (var scope = torch.NewDisposeScope())
        {
            var file = Path.Combine(outDir, "adam_lstm.json");
            File.WriteAllText(file, AdamCase());
            Console.WriteLine($"  adam_lstm.json  {new FileInfo(file).Length,8} bytes");
        }

        TrainingFixtures.Write(outDir);
        SafetensorsFixtures.Write(outDir);
        return 0;
    }

    private static string? FindRepoRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MlNet.Rnn.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    private static string ModeName(Cell cell) => cell switch
    {
        Cell.RnnTanh => "RNN_TANH",
        Cell.RnnRelu => "RNN_RELU",
        Cell.Lstm => "LSTM",
        Cell.Gru => "GRU",
        _ => throw new ArgumentOutOfRangeException(nameof(cell)),
    };

    private static string RnnCase(CaseSpec s)
    {
        torch.manual_seed(s.Seed);
        var d = s.Bidirectional ? 2 : 1;
        var isLstm = s.Cell == Cell.Lstm;

        // Module first, so its default init draws from the seeded generator in a fixed order.
        nn.Module module = s.Cell switch
        {
            Cell.RnnTanh => nn.RNN(s.InputSize, s.HiddenSize, s.NumLayers, nn.NonLinearities.Tanh, bidirectional: s.Bidirectional),
            Cell.RnnRelu => nn.RNN(s.InputSize, s.HiddenSize, s.NumLayers, nn.NonLinearities.ReLU, bidirectional: s.Bidirectional),
            Cell.Lstm => nn.LSTM(s.InputSize, s.HiddenSize, s.NumLayers, bidirectional: s.Bidirectional),
            Cell.Gru => nn.GRU(s.InputSize, s.HiddenSize, s.NumLayers, bidirectional: s.Bidirectional),
            _ => throw new ArgumentOutOfRangeException(nameof(s)),
        };

        var parameters = module.named_parameters().ToList();

        var input = torch.randn(s.SeqLen, s.Batch, s.InputSize).requires_grad_(true);
        var h0 = torch.randn(s.NumLayers * d, s.Batch, s.HiddenSize).requires_grad_(true);
        var c0 = isLstm ? torch.randn(s.NumLayers * d, s.Batch, s.HiddenSize).requires_grad_(true) : null;
        var gradOutput = torch.randn(s.SeqLen, s.Batch, d * s.HiddenSize);
        var gradHn = torch.randn(s.NumLayers * d, s.Batch, s.HiddenSize);
        var gradCn = isLstm ? torch.randn(s.NumLayers * d, s.Batch, s.HiddenSize) : null;

        Tensor output, hN;
        Tensor? cN = null;
        if (s.Lengths is null)
        {
            switch (module)
            {
                case TorchSharp.Modules.LSTM lstm:
                    (output, hN, cN) = lstm.call(input, (h0, c0!));
                    break;
                case TorchSharp.Modules.GRU gru:
                    (output, hN) = gru.call(input, h0);
                    break;
                case TorchSharp.Modules.RNN rnn:
                    (output, hN) = rnn.call(input, h0);
                    break;
                default:
                    throw new InvalidOperationException();
            }
        }
        else
        {
            var lengths = torch.tensor(s.Lengths.Select(x => (long)x).ToArray(), dtype: ScalarType.Int64);
            var packed = nn.utils.rnn.pack_padded_sequence(input, lengths, batch_first: false, enforce_sorted: false);
            nn.utils.rnn.PackedSequence packedOut;
            switch (module)
            {
                case TorchSharp.Modules.LSTM lstm:
                    (packedOut, hN, cN) = lstm.call(packed, (h0, c0!));
                    break;
                case TorchSharp.Modules.GRU gru:
                    (packedOut, hN) = gru.call(packed, h0);
                    break;
                case TorchSharp.Modules.RNN rnn:
                    (packedOut, hN) = rnn.call(packed, h0);
                    break;
                default:
                    throw new InvalidOperationException();
            }

            (output, _) = nn.utils.rnn.pad_packed_sequence(packedOut, batch_first: false, padding_value: 0.0, total_length: s.SeqLen);
        }

        var loss = (output * gradOutput).sum() + (hN * gradHn).sum();
        if (isLstm)
        {
            loss = loss + (cN! * gradCn!).sum();
        }

        loss.backward();

        var w = new FixtureWriter();
        w.Header(s.Name, "rnn", ModeName(s.Cell), s.InputSize, s.HiddenSize, s.NumLayers, s.Bidirectional, s.SeqLen, s.Batch, s.Lengths);
        w.BeginTensors();
        w.Tensor("input", input);
        w.Tensor("h0", h0);
        if (isLstm)
        {
            w.Tensor("c0", c0!);
        }

        foreach (var (name, p) in parameters)
        {
            w.Tensor(name, p);
        }

        w.Tensor("output", output);
        w.Tensor("h_n", hN);
        if (isLstm)
        {
            w.Tensor("c_n", cN!);
        }

        w.Tensor("grad_output", gradOutput);
        w.Tensor("grad_h_n", gradHn);
        if (isLstm)
        {
            w.Tensor("grad_c_n", gradCn!);
        }

        w.Tensor("grad.input", input.grad!);
        w.Tensor("grad.h0", h0.grad!);
        if (isLstm)
        {
            w.Tensor("grad.c0", c0!.grad!);
        }

        foreach (var (name, p) in parameters)
        {
            w.Tensor("grad." + name, p.grad!);
        }

        return w.Finish();
    }

    private static string AdamCase()
    {
        const int inputSize = 3, hiddenSize = 4, seqLen = 6, batch = 5, steps = 20;
        const double lr = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        torch.manual_seed(501);

        var lstm = nn.LSTM(inputSize, hiddenSize, 1);
        var head = nn.Linear(hiddenSize, 1);
        var named = lstm.named_parameters().ToList();
        named.AddRange(head.named_parameters().Select(p => ("head." + p.name, p.parameter)));

        var input = torch.randn(seqLen, batch, inputSize);
        var target = torch.randn(batch, 1);

        var w = new FixtureWriter();
        w.Header("adam_lstm", "adam_training", "LSTM", inputSize, hiddenSize, 1, false, seqLen, batch, null);
        w.Extra(writer =>
        {
            writer.WriteStartObject("training");
            writer.WriteString("head", "Linear(hidden_size, 1) on output[T-1]");
            writer.WriteString("loss", "mse_mean");
            writer.WriteString("initial_state", "zeros");
            writer.WriteString("optimizer", "Adam");
            writer.WriteNumber("lr", lr);
            writer.WriteNumber("beta1", beta1);
            writer.WriteNumber("beta2", beta2);
            writer.WriteNumber("eps", eps);
            writer.WriteNumber("weight_decay", 0.0);
            writer.WriteNumber("steps", steps);
            writer.WriteEndObject();
        });
        w.BeginTensors();
        w.Tensor("input", input);
        w.Tensor("target", target);
        foreach (var (name, p) in named)
        {
            w.Tensor(name, p);
        }

        var optimizer = torch.optim.Adam(named.Select(p => p.Item2), lr, beta1, beta2, eps);
        var losses = new float[steps];
        for (var step = 0; step < steps; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var (output, _, _) = lstm.call(input);
            var last = output[seqLen - 1];
            var prediction = head.call(last);
            var diff = prediction - target;
            var loss = (diff * diff).mean();
            losses[step] = loss.item<float>();
            loss.backward();
            optimizer.step();
        }

        w.Tensor("losses", [steps], losses);
        foreach (var (name, p) in named)
        {
            w.Tensor("final." + name, p);
        }

        return w.Finish();
    }
}

/// <summary>Writes the fixture JSON: indented structure, each tensor's data on one line.</summary>
internal sealed class FixtureWriter
{
    private readonly MemoryStream _stream = new();
    private readonly Utf8JsonWriter _writer;

    public FixtureWriter()
    {
        _writer = new Utf8JsonWriter(_stream, new JsonWriterOptions { Indented = true });
        _writer.WriteStartObject();
    }

    public void Header(string name, string kind, string mode, int inputSize, int hiddenSize, int numLayers, bool bidirectional, int seqLen, int batch, int[]? lengths)
    {
        _writer.WriteString("case", name);
        _writer.WriteString("kind", kind);
        _writer.WriteString("mode", mode);
        _writer.WriteNumber("input_size", inputSize);
        _writer.WriteNumber("hidden_size", hiddenSize);
        _writer.WriteNumber("num_layers", numLayers);
        _writer.WriteBoolean("bidirectional", bidirectional);
        _writer.WriteNumber("seq_len", seqLen);
        _writer.WriteNumber("batch", batch);
        if (lengths is null)
        {
            _writer.WriteNull("lengths");
        }
        else
        {
            _writer.WritePropertyName("lengths");
            _writer.WriteRawValue("[" + string.Join(", ", lengths) + "]");
        }

        _writer.WriteString("generator", "TorchSharp 0.107.0 / libtorch 2.10.0 CPU, float32");
    }

    public void Extra(Action<Utf8JsonWriter> write) => write(_writer);

    public void BeginTensors() => _writer.WriteStartObject("tensors");

    public void Tensor(string name, Tensor t)
    {
        var c = t.detach().contiguous().to_type(ScalarType.Float32);
        Tensor(name, c.shape.Select(x => (int)x).ToArray(), c.data<float>().ToArray());
    }

    public void Tensor(string name, int[] shape, float[] data)
    {
        long count = 1;
        foreach (var dim in shape)
        {
            count *= dim;
        }

        if (count != data.Length)
        {
            throw new InvalidOperationException($"{name}: shape and data disagree");
        }

        var sb = new StringBuilder(data.Length * 12);
        sb.Append('[');
        for (var i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i]))
            {
                throw new InvalidOperationException($"{name}: non-finite value");
            }

            if (i > 0)
            {
                sb.Append(',');
            }

            // Shortest string that round-trips to the same float.
            sb.Append(data[i].ToString("R", CultureInfo.InvariantCulture));
        }

        sb.Append(']');
        _writer.WriteStartObject(name);
        _writer.WritePropertyName("shape");
        _writer.WriteRawValue("[" + string.Join(", ", shape) + "]");
        _writer.WritePropertyName("data");
        _writer.WriteRawValue(sb.ToString());
        _writer.WriteEndObject();
    }

    public string Finish()
    {
        _writer.WriteEndObject(); // tensors
        _writer.WriteEndObject();
        _writer.Flush();
        return Encoding.UTF8.GetString(_stream.ToArray()) + "\n";
    }
}
