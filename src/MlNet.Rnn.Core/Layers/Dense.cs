using System.Numerics.Tensors;
using MlNet.Rnn.Core.Kernels;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Layers;

/// <summary>
/// The output layer <c>y = g2(W_ya a + b_y)</c> over rows: <c>a [rows, A]</c>, <c>W_ya [O, A]</c>, <c>b_y [O]</c>,
/// <c>y [rows, O]</c>; g2 identity, sigmoid or softmax. Parameters: <c>{name}.weight</c>, <c>{name}.bias</c>
/// (as <c>torch.nn.Linear</c>). <see cref="Forward"/> writes only its output, so threads may share one layer for inference.
/// </summary>
public sealed class Dense
{
    private readonly ParameterSet _parameters;
    private readonly ParameterTensor _weight, _bias;
    private float[] _scratch = [];

    /// <summary>Creates the layer and registers its parameters.</summary>
    public Dense(ParameterSet parameters, string name, int inputSize, int outputSize, OutputActivation activation)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        _parameters = parameters;
        _weight = parameters.Add($"{name}.weight", outputSize, inputSize);
        _bias = parameters.Add($"{name}.bias", outputSize);
        InputSize = inputSize;
        OutputSize = outputSize;
        Activation = activation;
    }

    /// <summary>A: input width.</summary>
    public int InputSize { get; }

    /// <summary>O: output width.</summary>
    public int OutputSize { get; }

    /// <summary>g2.</summary>
    public OutputActivation Activation { get; }

    /// <summary>PyTorch's <c>nn.Linear</c> default: weight and bias ~ U(−1/√A, 1/√A).</summary>
    public void Initialize(Random random)
    {
        float bound = 1f / MathF.Sqrt(InputSize);
        foreach (var tensor in new[] { _weight, _bias })
        {
            Span<float> values = _parameters.ValuesOf(tensor);
            for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * bound;
        }
    }

    /// <summary>Computes <c>y [rows, O]</c> from <c>a [rows, A]</c>.</summary>
    public void Forward(ReadOnlySpan<float> input, int rows, Span<float> output)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (input.Length < rows * InputSize) throw new ArgumentException($"input holds {input.Length} floats but rows·A = {rows}·{InputSize} are needed.", nameof(input));
        if (output.Length < rows * OutputSize) throw new ArgumentException($"output holds {output.Length} floats but rows·O = {rows}·{OutputSize} are needed.", nameof(output));
        ReadOnlySpan<float> bias = _parameters.ReadOnlyValuesOf(_bias);
        for (int r = 0; r < rows; r++) bias.CopyTo(output.Slice(r * OutputSize, OutputSize));
        Gemm.Multiply(rows, OutputSize, InputSize, input, InputSize, false, _parameters.ReadOnlyValuesOf(_weight), InputSize, true, output, OutputSize, accumulate: true);
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = output.Slice(r * OutputSize, OutputSize);
            if (Activation == OutputActivation.Sigmoid) TensorPrimitives.Sigmoid(row, row);
            else if (Activation == OutputActivation.Softmax)
            {
                // TensorPrimitives.SoftMax does not subtract the maximum; e^z overflows past z ≈ 88 without it.
                TensorPrimitives.Subtract(row, Reductions.Max(row), row);
                Reductions.SoftMax(row, row);
            }
        }
    }

    /// <summary>
    /// Given <c>a</c>, the forward output <c>y</c> and dL/dy, adds dL/dW and dL/db into the gradients and writes dL/da
    /// <c>[rows, A]</c> when <paramref name="inputGradient"/> is not empty.
    /// </summary>
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, int rows, Span<float> inputGradient)
    {
        int O = OutputSize;
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        CheckSize(input, rows * InputSize, nameof(input), "rows·A");
        CheckSize(output, rows * O, nameof(output), "rows·O");
        CheckSize(outputGradient, rows * O, nameof(outputGradient), "rows·O");
        if (!inputGradient.IsEmpty) CheckSize(inputGradient, rows * InputSize, nameof(inputGradient), "rows·A");
        SequenceLayout.EnsureCapacity(ref _scratch, rows * O);
        Span<float> dz = _scratch.AsSpan(0, rows * O);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> y = output.Slice(r * O, O), dy = outputGradient.Slice(r * O, O);
            Span<float> dzRow = dz.Slice(r * O, O);
            switch (Activation)
            {
                case OutputActivation.Identity:
                    dy.CopyTo(dzRow);
                    break;
                case OutputActivation.Sigmoid:
                    // dz = dy⊙y(1−y)
                    TensorPrimitives.Multiply(y, y, dzRow);
                    TensorPrimitives.Subtract(y, dzRow, dzRow);
                    TensorPrimitives.Multiply(dzRow, dy, dzRow);
                    break;
                default:
                    // dz = y⊙(dy − ⟨dy, y⟩)
                    float dot = Reductions.Dot(dy, y);
                    TensorPrimitives.Subtract(dy, dot, dzRow);
                    TensorPrimitives.Multiply(dzRow, y, dzRow);
                    break;
            }
        }
        Gemm.Multiply(O, InputSize, rows, dz, O, true, input, InputSize, false, _parameters.GradientsOf(_weight), InputSize, accumulate: true);
        Span<float> biasGradient = _parameters.GradientsOf(_bias);
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(biasGradient, dz.Slice(r * O, O), biasGradient);
        if (!inputGradient.IsEmpty)
            Gemm.Multiply(rows, InputSize, O, dz, O, false, _parameters.ReadOnlyValuesOf(_weight), InputSize, false, inputGradient, InputSize, accumulate: false);
    }

    private static void CheckSize(ReadOnlySpan<float> span, int needed, string name, string formula)
    {
        if (span.Length < needed) throw new ArgumentException($"{name} holds {span.Length} floats but {formula} = {needed} are needed.", name);
    }
}
