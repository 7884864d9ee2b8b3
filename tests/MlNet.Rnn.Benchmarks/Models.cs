using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MlNet.Rnn.Benchmarks;

/// <summary>
/// What both implementations start from for one workload: the weights (PyTorch's default init drawn by our
/// <c>Initialize</c>, seeded), the input <c>[T, B, I]</c> and the regression target <c>[B]</c>, plus TorchSharp's reference
/// results (inference output, the losses of two training steps) that every benchmark checks itself against before timing.
/// </summary>
internal sealed class Fixture
{
    public const float LearningRate = 1e-3f;
    public const int CheckSteps = 2;

    private static readonly Dictionary<string, Fixture> Cache = [];
    private static readonly object Gate = new();

    private Fixture(Workload workload)
    {
        Workload = workload;
        var random = new Random(20240607 + workload.Name[0]);
        var ours = new OursModel(workload, threads: 1, weights: null, input: null, target: null);
        ours.Network.Initialize(random);
        ours.Head.Initialize(random);
        Weights = ours.Parameters.Tensors.Select(t => (t.Name, t.Shape, ours.Parameters.ValuesOf(t).ToArray())).ToArray();
        Input = new float[workload.T * workload.B * workload.I];
        for (int i = 0; i < Input.Length; i++) Input[i] = (float)(random.NextDouble() * 2 - 1);
        Target = new float[workload.B];
        for (int i = 0; i < Target.Length; i++) Target[i] = (float)(random.NextDouble() * 2 - 1);

        // The reference: TorchSharp with the same weights (2 threads for speed; the checks allow for thread-count noise).
        int previousThreads = torch.get_num_threads();
        torch.set_num_threads(Math.Min(2, Environment.ProcessorCount));
        try
        {
            using var reference = new TorchModel(this);
            ReferenceOutput = reference.InferToArray();
            ReferenceLosses = new float[CheckSteps];
            for (int s = 0; s < CheckSteps; s++) ReferenceLosses[s] = reference.TrainStep();
        }
        finally
        {
            torch.set_num_threads(previousThreads);
        }
    }

    public Workload Workload { get; }

    public (string Name, int[] Shape, float[] Values)[] Weights { get; }

    public float[] Input { get; }

    public float[] Target { get; }

    public float[] ReferenceOutput { get; }

    public float[] ReferenceLosses { get; }

    public static Fixture For(Workload workload)
    {
        lock (Gate)
        {
            if (!Cache.TryGetValue(workload.Name, out var fixture))
            {
                fixture = new Fixture(workload);
                Cache[workload.Name] = fixture;
            }
            return fixture;
        }
    }

    /// <summary>Throws unless every output agrees with TorchSharp's to max abs diff &lt; 1e-4.</summary>
    public void CheckOutput(ReadOnlySpan<float> output, string who)
    {
        if (output.Length != ReferenceOutput.Length)
            throw new InvalidOperationException($"{Workload.Name} {who}: output holds {output.Length} floats, TorchSharp's {ReferenceOutput.Length}.");
        double max = 0;
        int at = 0;
        for (int i = 0; i < output.Length; i++)
        {
            double d = Math.Abs(output[i] - ReferenceOutput[i]);
            if (!(d <= max)) { max = d; at = i; }
        }
        if (!(max < 1e-4))
            throw new InvalidOperationException(
                $"{Workload.Name} {who}: inference output differs from TorchSharp's by {max:G3} at index {at} ({output[at]} vs {ReferenceOutput[at]}); limit 1e-4.");
        Console.WriteLine($"// check {Workload.Name} {who}: inference output max |diff| vs TorchSharp = {max:G3} (limit 1e-4)");
    }

    /// <summary>Throws unless the losses of the first training steps agree with TorchSharp's (abs diff &lt; 1e-4·max(1, |loss|)).</summary>
    public void CheckLosses(ReadOnlySpan<float> losses, string who)
    {
        for (int s = 0; s < CheckSteps; s++)
        {
            double d = Math.Abs(losses[s] - ReferenceLosses[s]), limit = 1e-4 * Math.Max(1, Math.Abs(ReferenceLosses[s]));
            if (!(d < limit))
                throw new InvalidOperationException(
                    $"{Workload.Name} {who}: training step {s + 1} loss {losses[s]} differs from TorchSharp's {ReferenceLosses[s]} by {d:G3}; limit {limit:G3}.");
        }
        Console.WriteLine(
            $"// check {Workload.Name} {who}: training losses {string.Join(", ", losses.ToArray().Select(l => l.ToString("G7")))} vs TorchSharp " +
            $"{string.Join(", ", ReferenceLosses.Select(l => l.ToString("G7")))}");
    }
}

/// <summary>
/// MlNet.Rnn: the recurrent network plus a <see cref="Dense"/> head [D·H → 1], MSE loss and <see cref="Adam"/>, every buffer
/// allocated here so that <see cref="Infer"/> and <see cref="TrainStep"/> allocate nothing themselves.
/// </summary>
internal sealed class OursModel
{
    private readonly Workload _w;
    private readonly float[] _input, _target, _output, _prediction, _predictionGradient, _lastGradient, _outputGradient;
    private readonly int _lastOffset, _lastLength;

    public OursModel(Workload workload, int threads, (string Name, int[] Shape, float[] Values)[]? weights, float[]? input, float[]? target)
    {
        _w = workload;
        Parameters = new ParameterSet();
        var options = new RecurrentNetworkOptions
        {
            InputSize = workload.I, HiddenSize = workload.H, Layers = workload.Layers, Bidirectional = workload.Bidirectional,
            MaxDegreeOfParallelism = threads,
        };
        Network = workload.Cell switch
        {
            CellKind.Lstm => new RecurrentNetwork<LstmCell>(options, default, Parameters),
            CellKind.Gru => new RecurrentNetwork<GruCell>(options, default, Parameters),
            _ => new RecurrentNetwork<RnnCell>(options, new RnnCell(RnnActivation.Tanh), Parameters),
        };
        int width = Network.OutputSize;
        Head = new Dense(Parameters, "head", width, 1, OutputActivation.Identity);
        if (weights is not null)
        {
            if (weights.Length != Parameters.Tensors.Count) throw new InvalidOperationException("Weight count mismatch.");
            foreach (var (name, shape, values) in weights)
            {
                var tensor = Parameters[name];
                if (!tensor.Shape.SequenceEqual(shape)) throw new InvalidOperationException($"{name}: shape mismatch.");
                values.CopyTo(Parameters.ValuesOf(tensor));
            }
        }
        Optimizer = new Adam(Parameters, Fixture.LearningRate);
        _input = input ?? [];
        _target = target ?? [];
        _output = new float[workload.T * workload.B * width];
        _prediction = new float[workload.B];
        _predictionGradient = new float[workload.B];
        _lastLength = workload.B * width;
        _lastOffset = (workload.T - 1) * _lastLength;
        _lastGradient = new float[_lastLength];
        _outputGradient = new float[_output.Length]; // zero except the last step, which every step overwrites
    }

    public ParameterSet Parameters { get; }

    public IRecurrentNetwork Network { get; }

    public Dense Head { get; }

    public Adam Optimizer { get; }

    public float[] Output => _output;

    /// <summary>Forward over the whole batch, no gradient bookkeeping.</summary>
    public void Infer() => Network.Forward(_input, _w.B, default, _output);

    /// <summary>Forward, head on the last step's top output, MSE, backward, Adam step, gradients zeroed; returns the loss.</summary>
    public float TrainStep()
    {
        int B = _w.B;
        Network.Forward(_input, B, default, _output, training: true);
        ReadOnlySpan<float> last = _output.AsSpan(_lastOffset, _lastLength);
        Head.Forward(last, B, _prediction);
        float loss = 0;
        for (int b = 0; b < B; b++)
        {
            float error = _prediction[b] - _target[b];
            loss += error * error / B;
            _predictionGradient[b] = 2 * error / B;
        }
        Head.Backward(last, _prediction, _predictionGradient, B, _lastGradient);
        _lastGradient.CopyTo(_outputGradient.AsSpan(_lastOffset, _lastLength));
        Network.Backward(_outputGradient);
        Optimizer.Step();
        Parameters.ZeroGradients();
        return loss;
    }
}

/// <summary>
/// TorchSharp (libtorch): torch.nn.LSTM/GRU/RNN (batch_first false) + nn.Linear head, MSE, torch.optim.Adam, loaded with
/// the fixture's weights by state_dict name.
/// </summary>
internal sealed class TorchModel : IDisposable
{
    private readonly Workload _w;
    private readonly nn.Module _rnn;
    private readonly TorchSharp.Modules.Linear _head;
    private readonly Func<Tensor, Tensor> _forward;
    private readonly Tensor _input, _target;
    private readonly optim.Optimizer _optimizer;

    public TorchModel(Fixture fixture)
    {
        var w = _w = fixture.Workload;
        switch (w.Cell)
        {
            case CellKind.Lstm:
                var lstm = nn.LSTM(w.I, w.H, w.Layers, bidirectional: w.Bidirectional);
                _rnn = lstm;
                _forward = x => lstm.call(x).Item1;
                break;
            case CellKind.Gru:
                var gru = nn.GRU(w.I, w.H, w.Layers, bidirectional: w.Bidirectional);
                _rnn = gru;
                _forward = x => gru.call(x).Item1;
                break;
            default:
                var rnn = nn.RNN(w.I, w.H, w.Layers, nn.NonLinearities.Tanh, bidirectional: w.Bidirectional);
                _rnn = rnn;
                _forward = x => rnn.call(x).Item1;
                break;
        }
        _head = nn.Linear(w.Directions * w.H, 1);

        var named = _rnn.named_parameters().ToList();
        named.AddRange(_head.named_parameters().Select(p => ("head." + p.name, p.parameter)));
        var byName = fixture.Weights.ToDictionary(t => t.Name);
        if (named.Count != byName.Count)
            throw new InvalidOperationException(
                $"TorchSharp has {named.Count} parameters ({string.Join(", ", named.Select(p => p.Item1))}), ours {byName.Count}.");
        using (torch.no_grad())
        {
            foreach (var (name, parameter) in named)
            {
                if (!byName.TryGetValue(name, out var ours)) throw new InvalidOperationException($"TorchSharp parameter {name} has no counterpart in ours.");
                if (!parameter.shape.SequenceEqual(ours.Shape.Select(d => (long)d)))
                    throw new InvalidOperationException($"{name}: TorchSharp shape [{string.Join(", ", parameter.shape)}], ours [{string.Join(", ", ours.Shape)}].");
                using var values = torch.tensor(ours.Values, parameter.shape);
                parameter.copy_(values);
            }
        }
        _input = torch.tensor(fixture.Input, new long[] { w.T, w.B, w.I });
        _target = torch.tensor(fixture.Target, new long[] { w.B, 1 });
        _optimizer = optim.Adam(named.Select(p => p.Item2), Fixture.LearningRate);
    }

    /// <summary>Forward over the whole batch in inference mode; the output tensor is released at once.</summary>
    public void Infer()
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        _forward(_input);
    }

    public float[] InferToArray()
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        return _forward(_input).contiguous().data<float>().ToArray();
    }

    /// <summary>Forward, head on output[T-1], MSE, backward, Adam step, gradients zeroed; returns the loss.</summary>
    public float TrainStep()
    {
        using var scope = torch.NewDisposeScope();
        var output = _forward(_input);
        var prediction = _head.call(output[_w.T - 1]);
        var diff = prediction - _target;
        var loss = (diff * diff).mean();
        loss.backward();
        _optimizer.step();
        _optimizer.zero_grad();
        return loss.item<float>();
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _input.Dispose();
        _target.Dispose();
        _head.Dispose();
        _rnn.Dispose();
    }
}
