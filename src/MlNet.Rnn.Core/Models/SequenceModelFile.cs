using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Core.Models;

/// <summary>
/// Saves and loads a <see cref="SequenceModel"/> as a model file (<see cref="ModelFile"/>: safetensors with PyTorch's
/// tensor names, the options as JSON in the metadata). A file that does not fit is rejected whole; nothing half-loads.
/// </summary>
public static class SequenceModelFile
{
    /// <summary>The options as the JSON stored in a model file.</summary>
    public static string ToJson(SequenceModelOptions options) => ModelFile.OptionsToJson(options);

    /// <summary>Options from the JSON of a model file; validated.</summary>
    public static SequenceModelOptions FromJson(string json, string? source = null) =>
        ModelFile.OptionsFromJson<SequenceModelOptions>(json, source, options => options.Validate());

    /// <summary>Writes the model's options and every parameter to <paramref name="path"/> (atomically).</summary>
    public static void Save(SequenceModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelFile.Save(path, model.Parameters, ToJson(model.Options));
    }

    /// <summary>Writes the model to a stream.</summary>
    public static void Save(SequenceModel model, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelFile.Save(stream, model.Parameters, ToJson(model.Options));
    }

    /// <summary>Reads a model written by <see cref="Save(SequenceModel, string)"/> (a checkpoint's optimizer and trainer state are passed over unread).</summary>
    public static SequenceModel Load(string path) => FromContents(ModelFile.Read(path, requireModelFormat: true, ModelFile.CheckpointState));

    /// <summary>Reads a model from a stream.</summary>
    public static SequenceModel Load(Stream stream, string? source = null) => FromContents(ModelFile.Read(stream, requireModelFormat: true, source, ModelFile.CheckpointState));

    /// <summary>Builds the model a file describes and loads its parameters, ignoring checkpoint state.</summary>
    public static SequenceModel FromContents(ModelFileContents contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        string json = contents.Configuration
            ?? throw new InvalidDataException($"{contents.Source ?? "The model file"} has no configuration; it was not written by SequenceModelFile.Save.");
        var options = FromJson(json, contents.Source);
        // No initialisation: every parameter comes from the file.
        var model = ModelFile.BuildFromConfiguration(contents, (long)options.Layers * (options.Bidirectional ? 2 : 1), () => new SequenceModel(options, initialize: false));
        ModelFile.LoadInto(model.Parameters, contents, requireAll: true, ignorePrefixes: ModelFile.CheckpointState);
        return model;
    }
}
