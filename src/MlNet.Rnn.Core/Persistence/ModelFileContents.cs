using System.Globalization;

namespace MlNet.Rnn.Core.Persistence;

/// <summary>One tensor read from a model file: its name, shape and values converted to float, row-major.</summary>
public sealed class ModelFileTensor
{
    internal ModelFileTensor(string name, int[] shape, float[] data, string dataType)
    {
        Name = name;
        Shape = shape;
        Data = data;
        DataType = dataType;
    }

    /// <summary>The tensor's name, e.g. PyTorch's <c>weight_ih_l0</c> or <c>optimizer.m.weight_ih_l0</c>.</summary>
    public string Name { get; }

    /// <summary>Dimensions, outermost first; empty for a scalar.</summary>
    public int[] Shape { get; }

    /// <summary>The values, row-major, as float (whatever <see cref="DataType"/> the file stored).</summary>
    public float[] Data { get; }

    /// <summary>The safetensors dtype the file stored: <c>F32</c>, <c>F64</c>, <c>F16</c>, <c>BF16</c>, <c>I64</c> or <c>I32</c>.</summary>
    public string DataType { get; }

    /// <summary>The shape as PyTorch prints it, e.g. <c>[16, 4]</c>.</summary>
    public override string ToString() => $"{Name} {ModelFile.FormatShape(Shape)} {DataType}";
}

/// <summary>
/// Everything a model file holds: the text metadata of its safetensors header (<c>__metadata__</c>) and its tensors in
/// the order of their data. A plain safetensors file (written by PyTorch, say) reads as well; it just lacks our
/// <c>format</c> entry.
/// </summary>
public sealed class ModelFileContents
{
    private readonly Dictionary<string, ModelFileTensor> _byName;

    internal ModelFileContents(IReadOnlyDictionary<string, string> metadata, IReadOnlyList<ModelFileTensor> tensors, string? source)
    {
        Metadata = metadata;
        Tensors = tensors;
        Source = source;
        _byName = new Dictionary<string, ModelFileTensor>(tensors.Count, StringComparer.Ordinal);
        foreach (var tensor in tensors) _byName.Add(tensor.Name, tensor);
    }

    /// <summary>The file's path, when it was read from one; used in error messages.</summary>
    public string? Source { get; }

    /// <summary>The header's <c>__metadata__</c> entries (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors, in the order of their data in the file.</summary>
    public IReadOnlyList<ModelFileTensor> Tensors { get; }

    /// <summary>Whether the file says it is an MlNet.Rnn model file (<c>format</c> = <see cref="ModelFile.FormatName"/>).</summary>
    public bool IsModelFile => Metadata.TryGetValue(ModelFile.FormatKey, out var format) && format == ModelFile.FormatName;

    /// <summary>The <c>format_version</c> of an MlNet.Rnn model file; null for any other safetensors file.</summary>
    public int? FormatVersion =>
        IsModelFile && Metadata.TryGetValue(ModelFile.FormatVersionKey, out var text) &&
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int version)
            ? version
            : null;

    /// <summary>The <c>configuration</c> JSON the writer supplied (the model's options), or null when absent.</summary>
    public string? Configuration => Metadata.TryGetValue(ModelFile.ConfigurationKey, out var configuration) ? configuration : null;

    /// <summary>Whether a tensor of that name is in the file.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Finds a tensor by name; null when the file has none of that name.</summary>
    public ModelFileTensor? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The tensor of that name.</summary>
    /// <exception cref="KeyNotFoundException">The file has no such tensor; the message lists those it has.</exception>
    public ModelFileTensor this[string name] =>
        _byName.TryGetValue(name, out var tensor)
            ? tensor
            : throw new KeyNotFoundException($"{Source ?? "The model file"} has no tensor '{name}'. It has: {string.Join(", ", _byName.Keys)}.");
}
