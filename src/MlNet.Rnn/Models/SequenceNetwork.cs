using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Data;

namespace MlNet.Rnn.Models;

/// <summary>
/// A recurrent network with a linear head on its top layer's final hidden state, both directions concatenated
/// (PyTorch's <c>h_n[-D:]</c>): <c>a [B, D·H]</c>, logits <c>z [B, O] = a W_ya^T + b_y</c>. One flat
/// <see cref="ParameterSet"/> holds the network's tensors (PyTorch names) and the head's (<c>head.weight</c>, <c>head.bias</c>).
/// Not thread-safe: it owns its workspaces; every scoring thread builds its own from the same values.
/// </summary>
internal sealed class SequenceNetwork
{
    private readonly IRecurrentNetwork _network;
    private readonly Dense _head;
    private float[] _output = [], _finalHidden = [], _lastHidden = [], _lastHiddenGradient = [], _finalHiddenGradient = [], _outputGradient = [];
    private int _batch, _steps;

    /// <summary>Builds the network of <paramref name="shape"/> with zero parameters.</summary>
    public SequenceNetwork(SequenceNetworkShape shape, int maxDegreeOfParallelism)
    {
        Shape = shape;
        Parameters = new ParameterSet();
        var options = new RecurrentNetworkOptions
        {
            InputSize = shape.FeaturesPerStep,
            HiddenSize = shape.HiddenSize,
            Layers = shape.Layers,
            Bidirectional = shape.Bidirectional,
            LearnedInitialState = shape.LearnedInitialState,
            MaxDegreeOfParallelism = maxDegreeOfParallelism,
        };
        _network = shape.Cell switch
        {
            RecurrentCellType.Rnn => new RecurrentNetwork<RnnCell>(options, new RnnCell(shape.RnnActivation), Parameters),
            RecurrentCellType.Lstm => new RecurrentNetwork<LstmCell>(options, default, Parameters),
            RecurrentCellType.Gru => new RecurrentNetwork<GruCell>(options, default, Parameters),
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape.Cell, "The cell must be Rnn, Lstm or Gru."),
        };
        _head = new Dense(Parameters, "head", shape.Directions * shape.HiddenSize, shape.Outputs, OutputActivation.Identity);
    }

    /// <summary>The architecture.</summary>
    public SequenceNetworkShape Shape { get; }

    /// <summary>Every parameter, flat, with gradients in the same layout.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>PyTorch's default initialisation of the network and the head.</summary>
    public void Initialize(Random random)
    {
        _network.Initialize(random);
        _head.Initialize(random);
    }

    /// <summary>Computes the logits <c>[B, O]</c> of a batch; with <paramref name="training"/>, <see cref="Backward"/> may follow.</summary>
    public void Forward(SequenceBatch batch, Span<float> logits, bool training)
    {
        int B = batch.Count, T = batch.Steps, H = Shape.HiddenSize, D = Shape.Directions, states = _network.StateCount;
        Grow(ref _output, T * B * D * H);
        Grow(ref _finalHidden, states * B * H);
        Grow(ref _lastHidden, B * D * H);
        _network.Forward(batch.Input, B, batch.Lengths, _output.AsSpan(0, T * B * D * H), _finalHidden.AsSpan(0, states * B * H),
            training: training);
        // a[b, d·H + h] = h_n[(L−1)·D + d, b, h]
        for (int d = 0; d < D; d++)
        {
            int state = states - D + d;
            for (int b = 0; b < B; b++)
                _finalHidden.AsSpan((state * B + b) * H, H).CopyTo(_lastHidden.AsSpan((b * D + d) * H, H));
        }
        _head.Forward(_lastHidden.AsSpan(0, B * D * H), B, logits);
        _batch = B;
        _steps = T;
    }

    /// <summary>
    /// Given dL/dz <c>[B, O]</c> for the last training <see cref="Forward"/> and its <paramref name="logits"/>, adds every
    /// parameter's gradient into <see cref="ParameterSet.Gradients"/>.
    /// </summary>
    public void Backward(ReadOnlySpan<float> logits, ReadOnlySpan<float> logitGradient)
    {
        int B = _batch, T = _steps, H = Shape.HiddenSize, D = Shape.Directions, states = _network.StateCount;
        Grow(ref _lastHiddenGradient, B * D * H);
        _head.Backward(_lastHidden.AsSpan(0, B * D * H), logits, logitGradient, B, _lastHiddenGradient.AsSpan(0, B * D * H));
        Grow(ref _finalHiddenGradient, states * B * H);
        Span<float> finalHiddenGradient = _finalHiddenGradient.AsSpan(0, states * B * H);
        finalHiddenGradient.Clear();
        for (int d = 0; d < D; d++)
        {
            int state = states - D + d;
            for (int b = 0; b < B; b++)
                _lastHiddenGradient.AsSpan((b * D + d) * H, H).CopyTo(finalHiddenGradient.Slice((state * B + b) * H, H));
        }
        // Only the final state feeds the head: dL/d(output) is zero at every step.
        Grow(ref _outputGradient, T * B * D * H);
        Span<float> outputGradient = _outputGradient.AsSpan(0, T * B * D * H);
        outputGradient.Clear();
        _network.Backward(outputGradient, finalHiddenGradient);
    }

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }
}
