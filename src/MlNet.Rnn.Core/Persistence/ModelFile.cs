using System.Text.Json;
using System.Text.Json.Serialization;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Persistence;

/// <summary>
/// Model and checkpoint files. A model file is a valid safetensors file
/// (<see href="https://github.com/huggingface/safetensors"/>): an 8-byte little-endian header length N, N bytes of
/// UTF-8 JSON padded with spaces to a multiple of 8, then every tensor's little-endian F32 data, contiguous in order.
/// Tensors carry PyTorch's <c>state_dict</c> names (<c>weight_ih_l0</c>, <c>bias_hh_l1_reverse</c>, …), so
/// <c>safetensors.torch.load_file</c> reads our weights and <c>torch.nn.LSTM.load_state_dict</c> accepts them, and a
/// file saved from PyTorch loads into our networks. Our identity lives in the header's <c>__metadata__</c>:
/// <c>format</c> = <see cref="FormatName"/>, <c>format_version</c> = <see cref="FormatVersion"/>,
/// <c>configuration</c> = the model's options as JSON, <c>checksums_xxh3_64</c> = every tensor's checksum
/// (<see cref="ChecksumsKey"/>), plus any caller metadata. A checkpoint is the same file with
/// optimizer tensors (named <c>optimizer.…</c>) and trainer state in the metadata.
/// </summary>
public static class ModelFile
{
    /// <summary>The <c>format</c> metadata value that marks our files.</summary>
    public const string FormatName = "MlNet.Rnn";

    /// <summary>The newest format version this library writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>Metadata key of the format name.</summary>
    public const string FormatKey = "format";

    /// <summary>Metadata key of the format version (a decimal string, as safetensors metadata holds strings only).</summary>
    public const string FormatVersionKey = "format_version";

    /// <summary>Tensor-name prefixes of checkpoint state that is not a model parameter.</summary>
    public static class CheckpointPrefix
    {
        /// <summary>Optimizer moments.</summary>
        public const string Optimizer = "optimizer.";

        /// <summary>Trainer state (best weights).</summary>
        public const string Trainer = "trainer.";
    }

    /// <summary>Metadata key of the model's configuration JSON.</summary>
    public const string ConfigurationKey = "configuration";

    /// <summary>
    /// Metadata key of the tensors' checksums: a JSON object from tensor name to the XXH3 64-bit hash of its stored bytes
    /// (16 hex digits). Written with every file, always computed from the data being written (a value for this key in the
    /// caller's metadata, e.g. carried over from a file read earlier, is replaced); when a file has it, reading verifies
    /// every tensor against it.
    /// </summary>
    public const string ChecksumsKey = "checksums_xxh3_64";

    /// <summary>
    /// Metadata key of the metadata's own checksum: the XXH3 64-bit hash (16 hex digits) of every other metadata entry,
    /// configuration and tensor checksums included (<c>TensorChecksums.OfMetadata</c>), so a damaged value cannot load as
    /// another model. Written with every file since this key was introduced; when a file has it, reading verifies it first.
    /// </summary>
    public const string MetadataChecksumKey = "metadata_xxh3_64";

    /// <summary>
    /// Writes a model file to <paramref name="stream"/>: our <c>format</c> and <c>format_version</c>, then
    /// <paramref name="metadata"/> in ordinal key order, then <paramref name="tensors"/> in the given order.
    /// Everything is validated before the first byte is written.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor name is empty, reserved or repeated; a shape has a negative
    /// dimension or does not match its data; or the metadata sets <c>format</c>/<c>format_version</c> to other values than ours.</exception>
    public static void Write(Stream stream, IReadOnlyDictionary<string, string> metadata,
        IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> tensors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var file = Prepare(metadata, [], tensors);
        file.WriteTo(stream);
    }

    /// <summary>
    /// Writes a model file to <paramref name="path"/> atomically: into a temporary file in the same folder, flushed to
    /// disk, then renamed over <paramref name="path"/>, so a reader sees the old file or the new one, never a part.
    /// </summary>
    /// <inheritdoc cref="Write(Stream, IReadOnlyDictionary{string, string}, IEnumerable{ValueTuple{string, int[], ReadOnlyMemory{float}}})"/>
    public static void Write(string path, IReadOnlyDictionary<string, string> metadata,
        IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> tensors)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = Prepare(metadata, [], tensors);
        WriteAtomically(path, file.WriteTo);
    }

    /// <summary>
    /// Saves every tensor of <paramref name="parameters"/> under its name, in registration order, with
    /// <paramref name="configurationJson"/> as the <c>configuration</c> metadata; atomically (see
    /// <see cref="Write(string, IReadOnlyDictionary{string, string}, IEnumerable{ValueTuple{string, int[], ReadOnlyMemory{float}}})"/>).
    /// A checkpoint adds optimizer tensors in <paramref name="extraTensors"/> (by convention named <c>optimizer.…</c>)
    /// and trainer state in <paramref name="extraMetadata"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="configurationJson"/> is not JSON, the extra metadata sets a
    /// reserved key, or an extra tensor repeats a name or does not match its shape.</exception>
    public static void Save(string path, ParameterSet parameters, string configurationJson,
        IReadOnlyDictionary<string, string>? extraMetadata = null,
        IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)>? extraTensors = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = PrepareParameters(parameters, configurationJson, extraMetadata, extraTensors);
        WriteAtomically(path, file.WriteTo);
    }

    /// <summary>Saves to a stream; otherwise as <see cref="Save(string, ParameterSet, string, IReadOnlyDictionary{string, string}?, IEnumerable{ValueTuple{string, int[], ReadOnlyMemory{float}}}?)"/>.</summary>
    public static void Save(Stream stream, ParameterSet parameters, string configurationJson,
        IReadOnlyDictionary<string, string>? extraMetadata = null,
        IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)>? extraTensors = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var file = PrepareParameters(parameters, configurationJson, extraMetadata, extraTensors);
        file.WriteTo(stream);
    }

    /// <summary>
    /// Reads a model file, or any safetensors file of F32/F64/F16/BF16/I64/I32 tensors, validating all of it.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="requireModelFormat">Whether to refuse files whose <c>__metadata__</c> does not say <c>format</c> =
    /// <see cref="FormatName"/> (false accepts plain safetensors files, e.g. saved from PyTorch).</param>
    /// <param name="skipPrefixes">Tensors whose names start with one of these are passed over unread (neither allocated
    /// nor checked against their checksum) and left out of the contents: what the caller would ignore anyway, such as the
    /// optimizer state of a checkpoint (<see cref="CheckpointPrefix"/>) when only the model is wanted.</param>
    /// <exception cref="InvalidDataException">The file is truncated or corrupt, uses a dtype we do not read, was written
    /// by a newer format version, or is not ours when <paramref name="requireModelFormat"/>; the message names the path.</exception>
    public static ModelFileContents Read(string path, bool requireModelFormat = false, IEnumerable<string>? skipPrefixes = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var skip = SkipPredicate(skipPrefixes);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return SafetensorsReader.Read(stream, path, requireModelFormat, skip);
    }

    /// <summary>Reads a model file from the current position of <paramref name="stream"/> to its end.</summary>
    /// <param name="stream">The stream; need not be seekable.</param>
    /// <param name="requireModelFormat">See <see cref="Read(string, bool, IEnumerable{string}?)"/>.</param>
    /// <param name="source">What to call the stream in error messages (a path or URL), or null.</param>
    /// <param name="skipPrefixes">See <see cref="Read(string, bool, IEnumerable{string}?)"/>.</param>
    /// <inheritdoc cref="Read(string, bool, IEnumerable{string}?)"/>
    public static ModelFileContents Read(Stream stream, bool requireModelFormat = false, string? source = null, IEnumerable<string>? skipPrefixes = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return SafetensorsReader.Read(stream, source, requireModelFormat, SkipPredicate(skipPrefixes));
    }

    /// <summary>What a model file holds beside a model's own parameters: the state a checkpoint adds (<see cref="CheckpointPrefix"/>).</summary>
    internal static readonly string[] CheckpointState = [CheckpointPrefix.Optimizer, CheckpointPrefix.Trainer];

    private static Func<string, bool> SkipPredicate(IEnumerable<string>? skipPrefixes) =>
        StartsWithAny(skipPrefixes, nameof(skipPrefixes), "A skip prefix", "skip");

    /// <summary>Whether a tensor's name starts with one of <paramref name="prefixes"/> (none: never); an empty prefix, which
    /// would match every name, is refused as <paramref name="parameterName"/>.</summary>
    private static Func<string, bool> StartsWithAny(IEnumerable<string>? prefixes, string parameterName, string what, string verb)
    {
        string[] list = prefixes?.ToArray() ?? [];
        foreach (string prefix in list)
            if (string.IsNullOrEmpty(prefix))
                throw new ArgumentException($"{what} is empty, which would {verb} every tensor; give non-empty prefixes.", parameterName);
        return name => list.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal));
    }

    /// <summary>
    /// Copies the file's tensors into the parameters of the same names, all or nothing: every name and shape is checked
    /// first, and only when all fit are values copied, so a failure leaves <paramref name="parameters"/> untouched.
    /// </summary>
    /// <param name="parameters">The model's parameters.</param>
    /// <param name="contents">A file read by <see cref="Read(string, bool, IEnumerable{string}?)"/>.</param>
    /// <param name="requireAll">Whether every parameter must be in the file (false keeps the values of those absent).</param>
    /// <param name="ignorePrefixes">File tensors whose names start with one of these are skipped (e.g. <c>optimizer.</c>
    /// in a checkpoint); parameters with those prefixes are not required.</param>
    /// <returns>The names of the parameters loaded, in file order.</returns>
    /// <exception cref="InvalidDataException">A shape differs, a value is not finite, a file tensor has no parameter
    /// of its name, or (with <paramref name="requireAll"/>) a parameter is missing; the message lists every problem.</exception>
    public static IReadOnlyList<string> LoadInto(ParameterSet parameters, ModelFileContents contents, bool requireAll = true,
        IEnumerable<string>? ignorePrefixes = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(contents);
        var ignored = StartsWithAny(ignorePrefixes, nameof(ignorePrefixes), "An ignore prefix", "ignore");

        var problems = new List<string>();
        var unexpected = new List<string>();
        var matches = new List<(ParameterTensor Target, ModelFileTensor Source)>();
        foreach (var tensor in contents.Tensors)
        {
            if (ignored(tensor.Name)) continue;
            if (!parameters.Contains(tensor.Name)) { unexpected.Add(tensor.Name); continue; }
            var target = parameters[tensor.Name];
            if (!tensor.Shape.AsSpan().SequenceEqual(target.Shape))
            {
                problems.Add($"{tensor.Name}: file has {FormatShape(tensor.Shape)}, model expects {FormatShape(target.Shape)}");
                continue;
            }
            int bad = Array.FindIndex(tensor.Data, value => !float.IsFinite(value));
            if (bad >= 0)
            {
                problems.Add($"{tensor.Name}: value {bad} is {tensor.Data[bad]}; a model's parameters must be finite");
                continue;
            }
            matches.Add((target, tensor));
        }
        var missing = requireAll
            ? parameters.Tensors.Where(tensor => !ignored(tensor.Name) && !contents.Contains(tensor.Name)).Select(tensor => tensor.Name).ToList()
            : [];
        if (missing.Count > 0)
            problems.Add($"missing from the file ({missing.Count}): {string.Join(", ", missing)} (pass requireAll: false to keep the model's values for these)");
        if (unexpected.Count > 0)
            problems.Add($"not in the model ({unexpected.Count}): {string.Join(", ", unexpected)} (pass ignorePrefixes to skip them)");
        if (problems.Count > 0)
            throw new InvalidDataException($"{contents.Source ?? "The model file"} does not fit the model; nothing was loaded:{Environment.NewLine}  " +
                string.Join(Environment.NewLine + "  ", problems));

        foreach (var (target, source) in matches) source.Data.CopyTo(parameters.ValuesOf(target));
        return matches.Select(match => match.Source.Name).ToArray();
    }

    /// <summary>Reads <paramref name="path"/> and loads it into <paramref name="parameters"/> with
    /// <see cref="LoadInto"/>; returns the contents (configuration, extra tensors and metadata of a checkpoint).</summary>
    /// <exception cref="InvalidDataException">As <see cref="Read(string, bool, IEnumerable{string}?)"/> and <see cref="LoadInto"/>; either way nothing was loaded.</exception>
    public static ModelFileContents Load(string path, ParameterSet parameters, bool requireAll = true, IEnumerable<string>? ignorePrefixes = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var contents = Read(path);
        LoadInto(parameters, contents, requireAll, ignorePrefixes);
        return contents;
    }

    private static readonly JsonSerializerOptions s_options = new() { Converters = { new JsonStringEnumConverter() } };

    /// <summary>A model's options as the JSON stored in its file's <c>configuration</c> (enums by name).</summary>
    internal static string OptionsToJson<TOptions>(TOptions options) => JsonSerializer.Serialize(options, s_options);

    /// <summary>
    /// A model's options read back from what <see cref="OptionsToJson"/> wrote, then checked by <paramref name="validate"/>
    /// (the options' own <c>Validate</c>). Anything wrong is an <see cref="InvalidDataException"/> naming <paramref name="source"/>.
    /// </summary>
    internal static TOptions OptionsFromJson<TOptions>(string json, string? source, Action<TOptions> validate) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(json);
        string where = source ?? "The model file";
        TOptions? options;
        try
        {
            options = JsonSerializer.Deserialize<TOptions>(json, s_options);
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"{where}: the configuration is not valid JSON for {typeof(TOptions).Name} ({exception.Message}).", exception);
        }
        if (options is null) throw new InvalidDataException($"{where}: the configuration is empty.");
        try
        {
            validate(options);
        }
        catch (ArgumentException exception)
        {
            throw new InvalidDataException($"{where}: the configuration is invalid: {exception.Message}", exception);
        }
        return options;
    }

    /// <summary>
    /// Builds the model a file's configuration describes, before its tensors are checked against it, refusing a configuration
    /// no file of these tensors could fit: <paramref name="layers"/> recurrent layers (one per direction), each with tensors of
    /// its own, more than the file holds (building them would cost memory in proportion, whatever the file's size), or a
    /// network <paramref name="build"/> refuses (sizes whose parameters overflow a buffer). Either is an
    /// <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    internal static TModel BuildFromConfiguration<TModel>(ModelFileContents contents, long layers, Func<TModel> build)
    {
        string where = contents.Source ?? "The model file";
        var isCheckpointState = StartsWithAny(CheckpointState, nameof(CheckpointState), "A checkpoint prefix", "ignore");
        int held = contents.Tensors.Count(tensor => !isCheckpointState(tensor.Name));
        if (layers > held)
            throw new InvalidDataException($"{where} does not fit the model; nothing was loaded:{Environment.NewLine}  missing from the file (at least {layers} tensors): " +
                $"its configuration describes {layers} recurrent layers (counting each direction), each with tensors of its own, but the file holds {held}.");
        try
        {
            return build();
        }
        catch (ArgumentException exception)
        {
            throw new InvalidDataException($"{where}: the configuration describes a model that cannot be built: {exception.Message}", exception);
        }
    }

    /// <summary>A shape as PyTorch prints it: <c>[16, 4]</c>.</summary>
    internal static string FormatShape(int[] shape) => $"[{string.Join(", ", shape)}]";

    private static PreparedFile PrepareParameters(ParameterSet parameters, string configurationJson,
        IReadOnlyDictionary<string, string>? extraMetadata, IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)>? extraTensors)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(configurationJson);
        try
        {
            using var _ = JsonDocument.Parse(configurationJson);
        }
        catch (JsonException exception)
        {
            throw new ArgumentException($"configurationJson is not valid JSON ({exception.Message}); pass the model's options serialized as JSON.",
                nameof(configurationJson), exception);
        }
        if (extraMetadata is not null && extraMetadata.ContainsKey(ConfigurationKey))
            throw new ArgumentException($"extraMetadata sets '{ConfigurationKey}', which Save writes from configurationJson; use another key.", nameof(extraMetadata));
        var metadata = new Dictionary<string, string>(extraMetadata ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [ConfigurationKey] = configurationJson,
        };
        var own = parameters.Tensors.Select(tensor => (tensor.Name, (int[])tensor.Shape.Clone(), (long)tensor.Length)).ToList();
        return Prepare(metadata, own, extraTensors ?? [], index => parameters.ReadOnlyValuesOf(parameters.Tensors[index]));
    }

    private static PreparedFile Prepare(IReadOnlyDictionary<string, string> metadata, List<(string Name, int[] Shape, long Length)> own,
        IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> tensors, SafetensorsWriter.TensorData? ownData = null)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = new List<KeyValuePair<string, string>>
        {
            new(FormatKey, FormatName),
            new(FormatVersionKey, FormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        foreach (var (key, value) in metadata.OrderBy(entry => entry.Key, StringComparer.Ordinal))
        {
            if (value is null) throw new ArgumentException($"Metadata '{key}' is null; metadata values are strings.", nameof(metadata));
            if (key == ChecksumsKey || key == MetadataChecksumKey) continue; // recomputed from what is written (metadata read from a file may carry them)
            if (key == FormatKey || key == FormatVersionKey)
            {
                if (value == entries[key == FormatKey ? 0 : 1].Value) continue;
                throw new ArgumentException($"Metadata '{key}' is '{value}', but ModelFile writes '{key}' itself; leave it out.", nameof(metadata));
            }
            entries.Add(new(key, value));
        }

        var layout = new List<(string Name, int[] Shape, long Length)>(own);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _, _) in own) names.Add(name);
        var extra = new List<ReadOnlyMemory<float>>();
        foreach (var (name, shape, data) in tensors)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("A tensor has an empty name; every tensor needs a unique name.", nameof(tensors));
            if (name == SafetensorsReader.MetadataKey)
                throw new ArgumentException($"'{SafetensorsReader.MetadataKey}' is the safetensors metadata key; a tensor cannot use it.", nameof(tensors));
            if (!names.Add(name)) throw new ArgumentException($"Two tensors are named '{name}'; names must be unique.", nameof(tensors));
            if (shape is null) throw new ArgumentException($"Tensor '{name}' has no shape.", nameof(tensors));
            long elements = 1;
            foreach (int dimension in shape)
            {
                if (dimension < 0) throw new ArgumentException($"Tensor '{name}' has shape {FormatShape(shape)}; dimensions cannot be negative.", nameof(tensors));
                elements *= dimension;
                if (elements > Array.MaxLength)
                    throw new ArgumentException($"Tensor '{name}' has shape {FormatShape(shape)}, more elements than an array can hold.", nameof(tensors));
            }
            if (elements != data.Length)
                throw new ArgumentException($"Tensor '{name}' has shape {FormatShape(shape)} = {elements} elements but {data.Length} values.", nameof(tensors));
            layout.Add((name, (int[])shape.Clone(), elements));
            extra.Add(data);
        }
        int ownCount = own.Count;
        SafetensorsWriter.TensorData values = index => index < ownCount ? ownData!(index) : extra[index - ownCount].Span;
        entries.Add(new(ChecksumsKey, TensorChecksums.Encode(layout.Select((tensor, index) => (tensor.Name, TensorChecksums.Of(values(index)))))));
        entries.Add(new(MetadataChecksumKey, TensorChecksums.Format(TensorChecksums.OfMetadata(entries))));
        return new PreparedFile(entries, layout, values);
    }

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        string target = Path.GetFullPath(path);
        string temporary = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    private sealed record PreparedFile(
        List<KeyValuePair<string, string>> Metadata, List<(string Name, int[] Shape, long Length)> Layout, SafetensorsWriter.TensorData Data)
    {
        public void WriteTo(Stream stream) => SafetensorsWriter.Write(stream, Metadata, Layout, Data);
    }
}
