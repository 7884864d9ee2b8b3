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
/// <para>
/// A model made of parts that each use their own names (two recurrent stacks both register <c>weight_ih_l0</c>) gives
/// each part a <see cref="Scope"/>: a view of the same buffer that prefixes the names its part registers and looks up,
/// and whose <see cref="Tensors"/>, <see cref="Values"/> and <see cref="Gradients"/> are the part's own. The whole model
/// keeps one buffer, one optimizer and one gradient norm.
/// </para>
/// <para>
/// The value buffer is allocated on first use, after the tensors are registered (a model built from a file's configuration
/// allocates nothing before the file's tensors are checked against it), and the gradient buffer on first use too (a model
/// that is only scored never has one). Inference reads the
/// values through <see cref="ReadOnlyValues"/> and <see cref="ReadOnlyValuesOf"/>, which leave <see cref="Version"/>
/// alone; <see cref="Values"/> and <see cref="ValuesOf"/> hand out writable spans and advance it, so a copy derived
/// from the values (the packed recurrent weights of inference) is rebuilt before its next use. Write through a
/// writable span before the next inference call, not after it: a span kept across that call writes unseen.
/// </para>
/// </remarks>
public sealed class ParameterSet
{
    private readonly ParameterSet? _root;
    private readonly string _prefix = "";
    private readonly List<ParameterTensor> _tensors = [];
    private readonly Dictionary<string, ParameterTensor> _byName = new(StringComparer.Ordinal);
    private float[] _values = [];
    private float[] _gradients = [];
    private int _count, _version;

    /// <summary>An empty set.</summary>
    public ParameterSet()
    {
    }

    private ParameterSet(ParameterSet root, string prefix)
    {
        _root = root;
        _prefix = prefix;
    }

    /// <summary>The names this set registers and finds start with this (empty for a whole set).</summary>
    public string Prefix => _prefix;

    /// <summary>The parameters, in registration order (a scope's: those under its prefix).</summary>
    public IReadOnlyList<ParameterTensor> Tensors => _root is null ? _tensors : _root._tensors.FindAll(tensor => tensor.Name.StartsWith(_prefix, StringComparison.Ordinal));

    /// <summary>Total number of scalar parameters (a scope's: of its own tensors).</summary>
    public int Count => _root is null ? _count : ScopeRange().Length;

    /// <summary>Every parameter value, flat, writable: advances <see cref="Version"/> (a scope's: the contiguous range its tensors occupy).</summary>
    public Span<float> Values
    {
        get
        {
            var (root, offset, length) = Range();
            root._version++;
            return root.Buffer().AsSpan(offset, length);
        }
    }

    /// <summary>Every parameter value, flat, for reading.</summary>
    public ReadOnlySpan<float> ReadOnlyValues
    {
        get
        {
            var (root, offset, length) = Range();
            return root.Buffer().AsSpan(offset, length);
        }
    }

    /// <summary>
    /// Advances whenever a writable span of the values is handed out (<see cref="Values"/>, <see cref="ValuesOf"/>);
    /// what is derived from the values at one version stays valid while the version stays. Scopes share their set's.
    /// </summary>
    public int Version => (_root ?? this)._version;

    /// <summary>Gradients, in the layout of <see cref="Values"/>, allocated (zero) on first use. Backward passes add into it.</summary>
    public Span<float> Gradients
    {
        get
        {
            var (root, offset, length) = Range();
            return root.EnsureGradients().AsSpan(offset, length);
        }
    }

    /// <summary>Whether the gradient buffer exists yet (it is allocated by the first training pass, never by inference).</summary>
    public bool HasGradients
    {
        get
        {
            var root = _root ?? this;
            return root._gradients.Length >= root._count && root._count > 0;
        }
    }

    /// <summary>
    /// A view of this set for one part of a model: it registers and finds names under <c>Prefix + prefix</c> in the same
    /// buffer. A part registers all its tensors before the next part starts, so each scope's values stay contiguous.
    /// </summary>
    public ParameterSet Scope(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        return new ParameterSet(_root ?? this, _prefix + prefix);
    }

    /// <summary>Registers a tensor of the given shape, zero-initialised, under <c>Prefix + name</c>.</summary>
    public ParameterTensor Add(string name, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_root is not null) return _root.Add(_prefix + name, shape);
        if (_byName.ContainsKey(name))
            throw new ArgumentException($"A parameter named '{name}' is already registered; names must be unique.", nameof(name));
        ArgumentNullException.ThrowIfNull(shape);
        foreach (int dimension in shape)
            if (dimension <= 0)
                throw new ArgumentOutOfRangeException(nameof(shape), $"Parameter '{name}' has dimension {dimension}; every dimension must be positive.");
        long elements = 1;
        foreach (int dimension in shape) elements *= dimension;
        if (_count + elements > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(shape),
                $"Parameter '{name}' has {elements} elements; with the {_count} already registered that exceeds the {Array.MaxLength} a buffer can hold.");
        var tensor = new ParameterTensor(name, _count, (int[])shape.Clone());
        _count += tensor.Length;
        _version++;
        _tensors.Add(tensor);
        _byName.Add(name, tensor);
        return tensor;
    }

    /// <summary>Finds a tensor by its name (under this set's prefix).</summary>
    public ParameterTensor this[string name]
    {
        get
        {
            var root = _root ?? this;
            return root._byName.TryGetValue(_prefix + name, out var tensor)
                ? tensor
                : throw new KeyNotFoundException($"No parameter named '{_prefix + name}'. Known: {string.Join(", ", root._byName.Keys)}.");
        }
    }

    /// <summary>Whether a tensor of that name exists (under this set's prefix).</summary>
    public bool Contains(string name) => (_root ?? this)._byName.ContainsKey(_prefix + name);

    /// <summary>A tensor's name without this set's prefix (what the part that registered it called it).</summary>
    public string LocalName(ParameterTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return tensor.Name.StartsWith(_prefix, StringComparison.Ordinal) ? tensor.Name[_prefix.Length..] : tensor.Name;
    }

    /// <summary>The values of one tensor, writable: advances <see cref="Version"/>.</summary>
    public Span<float> ValuesOf(ParameterTensor tensor)
    {
        var root = _root ?? this;
        root._version++;
        return root.Buffer().AsSpan(tensor.Offset, tensor.Length);
    }

    /// <summary>The values of one tensor, for reading.</summary>
    public ReadOnlySpan<float> ReadOnlyValuesOf(ParameterTensor tensor) => (_root ?? this).Buffer().AsSpan(tensor.Offset, tensor.Length);

    /// <summary>The gradient of one tensor (the gradient buffer is allocated on first use).</summary>
    public Span<float> GradientsOf(ParameterTensor tensor) => (_root ?? this).EnsureGradients().AsSpan(tensor.Offset, tensor.Length);

    /// <summary>Sets every gradient to zero (once per optimisation step; backward passes accumulate).</summary>
    public void ZeroGradients() => Gradients.Clear();

    /// <summary>The values, allocated (zero) on first use after a registration: building a model from a configuration
    /// allocates nothing until its values are read or written, so a model file that does not fit is refused first.</summary>
    private float[] Buffer()
    {
        if (_values.Length < _count) Array.Resize(ref _values, _count);
        return _values;
    }

    private float[] EnsureGradients()
    {
        if (_gradients.Length < _count) Array.Resize(ref _gradients, _count);
        return _gradients;
    }

    /// <summary>The root set and the range of its buffer this set's values occupy.</summary>
    private (ParameterSet Root, int Offset, int Length) Range()
    {
        if (_root is null) return (this, 0, _count);
        var (offset, length) = ScopeRange();
        return (_root, offset, length);
    }

    /// <summary>The range of the root's buffer a scope's tensors occupy; they must be registered one after another.</summary>
    private (int Offset, int Length) ScopeRange()
    {
        var tensors = Tensors;
        if (tensors.Count == 0) return (0, 0);
        int offset = tensors[0].Offset, end = offset;
        foreach (var tensor in tensors)
        {
            if (tensor.Offset != end)
                throw new InvalidOperationException(
                    $"The tensors under '{_prefix}' are not contiguous ('{tensor.Name}' follows another part's); register a part's tensors together.");
            end += tensor.Length;
        }
        return (offset, end - offset);
    }
}
