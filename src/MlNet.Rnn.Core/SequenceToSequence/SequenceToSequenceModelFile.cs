using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// Saves and loads a <see cref="SequenceToSequenceModel"/> as a model file (<see cref="ModelFile"/>: safetensors, options
/// as JSON in the metadata). Tensors are the encoder set's names prefixed <c>encoder.</c> and the decoder set's prefixed
/// <c>decoder.</c> (<c>encoder.weight_ih_l0</c>, <c>decoder.attention.weight</c>, …). A file that does not fit is rejected
/// whole; nothing half-loads.
/// </summary>
public static class SequenceToSequenceModelFile
{
    /// <summary>Prefix of the encoder's tensors.</summary>
    public const string EncoderPrefix = "encoder.";

    /// <summary>Prefix of the decoder's tensors.</summary>
    public const string DecoderPrefix = "decoder.";

    /// <summary>Metadata key marking a sequence-to-sequence model.</summary>
    public const string KindKey = "model_kind";

    private const string Kind = "sequence_to_sequence";

    /// <summary>The options as the JSON stored in a model file.</summary>
    public static string ToJson(SequenceToSequenceOptions options) => ModelFile.OptionsToJson(options);

    /// <summary>Options from the JSON of a model file; validated.</summary>
    public static SequenceToSequenceOptions FromJson(string json, string? source = null) =>
        ModelFile.OptionsFromJson<SequenceToSequenceOptions>(json, source, options => options.Validate());

    /// <summary>Writes the model's options and every parameter to <paramref name="path"/> (atomically).</summary>
    public static void Save(SequenceToSequenceModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelFile.Write(path, Metadata(model), Tensors(model));
    }

    /// <summary>Writes the model to a stream.</summary>
    public static void Save(SequenceToSequenceModel model, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelFile.Write(stream, Metadata(model), Tensors(model));
    }

    /// <summary>Reads a model written by <see cref="Save(SequenceToSequenceModel, string)"/>.</summary>
    public static SequenceToSequenceModel Load(string path) => FromContents(ModelFile.Read(path, requireModelFormat: true, ModelFile.CheckpointState));

    /// <summary>Reads a model from a stream.</summary>
    public static SequenceToSequenceModel Load(Stream stream, string? source = null) => FromContents(ModelFile.Read(stream, requireModelFormat: true, source, ModelFile.CheckpointState));

    /// <summary>Builds the model a file describes and loads its parameters; every tensor must fit.</summary>
    public static SequenceToSequenceModel FromContents(ModelFileContents contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        string name = contents.Source ?? "The model file";
        if (!contents.Metadata.TryGetValue(KindKey, out var kind) || kind != Kind)
            throw new InvalidDataException($"{name} is not a sequence-to-sequence model ({KindKey} is '{kind ?? "absent"}'); load it with the class that wrote it.");
        string json = contents.Configuration ?? throw new InvalidDataException($"{name} has no configuration.");
        var options = FromJson(json, contents.Source);
        // Encoder layers (one per direction) and decoder layers, each with tensors of its own: refused before they are built
        // when the file holds fewer tensors, or when their sizes overflow a buffer.
        var model = ModelFile.BuildFromConfiguration(contents, (long)options.Layers * (options.Bidirectional ? 3 : 2),
            () => new SequenceToSequenceModel(options, initialize: false));
        string[] known = [EncoderPrefix, DecoderPrefix, ModelFile.CheckpointPrefix.Optimizer, ModelFile.CheckpointPrefix.Trainer];
        var unexpected = contents.Tensors.Where(t => !known.Any(prefix => t.Name.StartsWith(prefix, StringComparison.Ordinal)))
            .Select(t => t.Name).ToList();
        if (unexpected.Count > 0)
            throw new InvalidDataException($"{name} holds tensors of neither the encoder nor the decoder: {string.Join(", ", unexpected)}; nothing was loaded.");
        ModelFile.LoadInto(model.Parameters, contents, requireAll: true, ignorePrefixes: ModelFile.CheckpointState);
        return model;
    }

    private static Dictionary<string, string> Metadata(SequenceToSequenceModel model) => new(StringComparer.Ordinal)
    {
        [ModelFile.ConfigurationKey] = ToJson(model.Options),
        [KindKey] = Kind,
    };

    private static IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> Tensors(SequenceToSequenceModel model) =>
        model.Parameters.Tensors.Select(tensor => (tensor.Name, (int[])tensor.Shape.Clone(), (ReadOnlyMemory<float>)model.Parameters.ReadOnlyValuesOf(tensor).ToArray()));

    /// <summary>The configuration and kind, for a checkpoint that must also load as a model.</summary>
    internal static IReadOnlyDictionary<string, string> KindMetadata() => new Dictionary<string, string>(StringComparer.Ordinal) { [KindKey] = Kind };
}
