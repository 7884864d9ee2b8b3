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
/// <remarks>
/// The gradient buffer is allocated on first use (a model that is only scored never has one). Inference reads the
/// values through <see cref="ReadOnlyValues"/> and <see cref="ReadOnlyValuesOf"/>, which leave <see cref="Version"/>
/// alone; <see cref="Values"/> and <see cref="ValuesOf"/> hand out writable spans and advance it, so a copy derived
/// from the values (the packed recurrent weights of inference) is rebuilt before its next use. Write through a
/// writable span before the next inference call, not after it: a span kept across that call writes unseen.
/// </remarks>
public sealed class ParameterSet
{
    private readonly List<ParameterTensor> _tensors = [];
    private readonly Dictionary<string, ParameterTensor> _byName = new(StringComparer.Ordinal);
    private float[] _values = [];
    private float[] _gradients = [];
    private int _version;

    /// <summary>The parameters, in registration order.</summary>
    public IReadOnlyList<ParameterTensor> Tensors => _tensors;

    /// <summary>Total number of scalar parameters.</summary>
    public int Count { get; private set; }

    /// <summary>Every parameter value, flat, writable: advances <see cref="Version"/>.</summary>
    public Span<float> Values
    {
        get
        {
            _version++;
            return _values.AsSpan(0, Count);
        }
    }

    /// <summary>Every parameter value, flat, for reading.</summary>
    public ReadOnlySpan<float> ReadOnlyValues => _values.AsSpan(0, Count);

    /// <summary>
    /// Advances whenever a writable span of the values is handed out (<see cref="Values"/>, <see cref="ValuesOf"/>);
    /// what is derived from the values at one version stays valid while the version stays.
    /// </summary>
    public int Version => _version;

    /// <summary>Gradients, in the layout of <see cref="Values"/>, allocated (zero) on first use. Backward passes add into it.</summary>
    public Span<float> Gradients => EnsureGradients().AsSpan(0, Count);

    /// <summary>Whether the gradient buffer exists yet (it is allocated by the first training pass, never by inference).</summary>
    public bool HasGradients => _gradients.Length >= Count && Count > 0;

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
        Count += tensor.Length;
        _version++;
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

    /// <summary>The values of one tensor, writable: advances <see cref="Version"/>.</summary>
    public Span<float> ValuesOf(ParameterTensor tensor)
    {
        _version++;
        return _values.AsSpan(tensor.Offset, tensor.Length);
    }

    /// <summary>The values of one tensor, for reading.</summary>
    public ReadOnlySpan<float> ReadOnlyValuesOf(ParameterTensor tensor) => _values.AsSpan(tensor.Offset, tensor.Length);

    /// <summary>The gradient of one tensor (the gradient buffer is allocated on first use).</summary>
    public Span<float> GradientsOf(ParameterTensor tensor) => EnsureGradients().AsSpan(tensor.Offset, tensor.Length);

    /// <summary>Sets every gradient to zero (once per optimisation step; backward passes accumulate).</summary>
    public void ZeroGradients() => Gradients.Clear();

    private float[] EnsureGradients()
    {
        if (_gradients.Length < Count) Array.Resize(ref _gradients, Count);
        return _gradients;
    }
}
