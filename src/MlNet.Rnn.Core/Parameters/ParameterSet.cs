namespace MlNet.Rnn.Core.Parameters;

/// <summary>A named view into the flat parameter buffer: <c>Values[Offset..Offset+Length]</c>, row-major with <see cref="Shape"/>.</summary>
/// <param name="Name">PyTorch <c>state_dict</c> key, e.g. <c>weight_ih_l0_reverse</c>.</param>
/// <param name="Offset">First element in the flat buffer.</param>
/// <param name="Shape">Dimensions, outermost first.</param>
public sealed record ParameterTensor(string Name, int Offset, int[] Shape)
{
    /// <summary>Number of elements.</summary>
    public int Length { get; } = Shape.Aggregate(1, (product, dimension) => product * dimension);
}

/// <summary>
/// All trainable parameters of a model in one flat buffer, with gradients in the same layout, so an optimizer is
/// one loop over <see cref="Values"/> and <see cref="Gradients"/>. Components register their tensors by name.
/// </summary>
public sealed class ParameterSet
{
    private readonly List<ParameterTensor> _tensors = [];
    private readonly Dictionary<string, ParameterTensor> _byName = new(StringComparer.Ordinal);
    private float[] _values = [];
    private float[] _gradients = [];

    /// <summary>The parameters, in registration order.</summary>
    public IReadOnlyList<ParameterTensor> Tensors => _tensors;

    /// <summary>Total number of scalar parameters.</summary>
    public int Count { get; private set; }

    /// <summary>Every parameter value, flat.</summary>
    public Span<float> Values => _values.AsSpan(0, Count);

    /// <summary>Gradients, in the layout of <see cref="Values"/>. Backward passes add into it.</summary>
    public Span<float> Gradients => _gradients.AsSpan(0, Count);

    /// <summary>Registers a tensor of the given shape, zero-initialised.</summary>
    public ParameterTensor Add(string name, params int[] shape)
    {
        if (_byName.ContainsKey(name))
            throw new ArgumentException($"A parameter named '{name}' is already registered; names must be unique.", nameof(name));
        ArgumentNullException.ThrowIfNull(shape);
        foreach (int dimension in shape)
            if (dimension <= 0)
                throw new ArgumentOutOfRangeException(nameof(shape), $"Parameter '{name}' has dimension {dimension}; every dimension must be positive.");
        long elements = 1;
        foreach (int dimension in shape) elements *= dimension;
        if (Count + elements > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(shape),
                $"Parameter '{name}' has {elements} elements; with the {Count} already registered that exceeds the {Array.MaxLength} a buffer can hold.");
        var tensor = new ParameterTensor(name, Count, (int[])shape.Clone());
        Array.Resize(ref _values, Count + tensor.Length);
        Array.Resize(ref _gradients, Count + tensor.Length);
        Count += tensor.Length;
        _tensors.Add(tensor);
        _byName.Add(name, tensor);
        return tensor;
    }

    /// <summary>Finds a tensor by its name.</summary>
    public ParameterTensor this[string name] =>
        _byName.TryGetValue(name, out var tensor)
            ? tensor
            : throw new KeyNotFoundException($"No parameter named '{name}'. Known: {string.Join(", ", _byName.Keys)}.");

    /// <summary>Whether a tensor of that name exists.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The values of one tensor.</summary>
    public Span<float> ValuesOf(ParameterTensor tensor) => _values.AsSpan(tensor.Offset, tensor.Length);

    /// <summary>The gradient of one tensor.</summary>
    public Span<float> GradientsOf(ParameterTensor tensor) => _gradients.AsSpan(tensor.Offset, tensor.Length);

    /// <summary>Sets every gradient to zero (once per optimisation step; backward passes accumulate).</summary>
    public void ZeroGradients() => Gradients.Clear();
}
