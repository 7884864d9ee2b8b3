namespace MlNet.Rnn.Core.Data;

/// <summary>
/// Examples written once and read back a part at a time, in bounded memory however many there are. Examples stay in one
/// <see cref="SequenceDataset"/> in memory while its buffers fit in <c>memoryBudget</c> bytes: then the cache is one part and trains
/// exactly as that data set would. Past the budget it spills to a temporary file (on Unix unlinked as soon as it is open,
/// on Windows deleted when its handle closes, so nothing outlives the cache or a killed process): every example goes to one of <see cref="FillingParts"/> parts being filled, drawn at random from
/// the seed; a full part is written out and refilled. A part holds about <c>memoryBudget / (2 · FillingParts)</c> bytes, so
/// filling, and an epoch's window of <see cref="SequenceEpoch.PartsPerWindow"/> parts, stay within the budget. Parts written
/// early hold early rows: <see cref="SequenceEpoch"/> mixes them by drawing its windows' parts at random from the whole file.
/// Examples are checked as <see cref="SequenceDataset"/> checks them, numbered in the order they were added.
/// </summary>
public sealed class SequenceCache : ISequenceSource, IDisposable
{
    /// <summary>Parts filled at once after a spill, each example to one drawn at random.</summary>
    public const int FillingParts = 16;

    private readonly long _budget;
    private readonly Random _random;
    private readonly string? _directory;
    private SequenceDataset _memory;
    private SequenceDataset[] _filling = [];
    private FileStream? _file;
    private long _end;
    private readonly List<(long Offset, int Count, SequenceSummary Summary)> _parts = [];
    private bool _completed;

    /// <summary>An empty cache of examples shaped as <see cref="SequenceDataset(int, int, bool)"/> describes.</summary>
    /// <param name="featuresPerStep">I for numeric sequences; 0 for token sequences.</param>
    /// <param name="targetWidth">W: target values per example, or per step.</param>
    /// <param name="perStepTargets">Whether each step has its own target.</param>
    /// <param name="memoryBudget">Bytes of examples held in memory before the cache spills to a temporary file.</param>
    /// <param name="seed">Seed of the parts examples are spread over after a spill.</param>
    /// <param name="directory">Where the temporary file goes; null for the system's temporary folder.</param>
    public SequenceCache(int featuresPerStep, int targetWidth, bool perStepTargets, long memoryBudget, int seed, string? directory = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(memoryBudget);
        _memory = new SequenceDataset(featuresPerStep, targetWidth, perStepTargets);
        _budget = memoryBudget;
        _random = new Random(seed);
        _directory = directory;
    }

    /// <inheritdoc />
    public int FeaturesPerStep => _memory.FeaturesPerStep;

    /// <inheritdoc />
    public int TargetWidth => _memory.TargetWidth;

    /// <inheritdoc />
    public bool PerStepTargets => _memory.PerStepTargets;

    /// <inheritdoc />
    public long ExampleCount { get; private set; }

    /// <summary>Whether the examples outgrew the budget and live in a temporary file.</summary>
    public bool Spilled => _file is not null;

    /// <summary>The temporary file (null while in memory; on Unix it has no name in its folder once open).</summary>
    public string? FilePath => _file?.Name;

    /// <summary>Bytes written to the temporary file.</summary>
    public long BytesOnDisk => _end;

    /// <inheritdoc />
    public int PartCount
    {
        get
        {
            Complete();
            return Spilled ? _parts.Count : 1;
        }
    }

    /// <inheritdoc />
    public int PartSize(int part) => Spilled ? Part(part).Count : _memory.Count;

    /// <inheritdoc />
    public SequenceSummary PartSummary(int part) => Spilled ? Part(part).Summary : _memory.Summary();

    /// <summary>Adds a numeric sequence of <c>T·I</c> floats (step-major), checked as <see cref="SequenceDataset.Add"/> does.</summary>
    public void Add(ReadOnlySpan<float> steps, ReadOnlySpan<float> target, float weight = 1f)
    {
        var part = Target(steps.Length, target.Length);
        part.Add(steps, target, weight);
        Added(part);
    }

    /// <summary>Adds a token sequence, checked as <see cref="SequenceDataset.AddTokens"/> does.</summary>
    public void AddTokens(ReadOnlySpan<int> ids, ReadOnlySpan<float> target, float weight = 1f)
    {
        var part = Target(ids.Length, target.Length);
        part.AddTokens(ids, target, weight);
        Added(part);
    }

    /// <summary>Writes the parts still filling; after this the cache is read-only. Reading anything of its parts completes it too.</summary>
    public void Complete()
    {
        if (_completed) return;
        _completed = true;
        foreach (var part in _filling)
            if (part.Count > 0) Flush(part);
        _filling = [];
        if (Spilled && _parts.Count == 0) _parts.Add((_end, 0, SequenceSummary.Empty));
    }

    /// <inheritdoc />
    public SequenceDataset ReadPart(int part, SequenceDataset buffer)
    {
        Complete();
        if (!Spilled)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(part, 0);
            return _memory;
        }
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.FeaturesPerStep != FeaturesPerStep || buffer.TargetWidth != TargetWidth || buffer.PerStepTargets != PerStepTargets)
            throw new ArgumentException("The buffer's shape differs from the cache's; make it with the cache's FeaturesPerStep, TargetWidth and PerStepTargets.", nameof(buffer));
        var (offset, count, _) = Part(part);
        ObjectDisposedException.ThrowIf(_file is null, this);
        buffer.ReadFrom(_file.SafeFileHandle, offset);
        if (buffer.Count != count) throw new InvalidDataException($"{_file.Name}: part {part} holds {buffer.Count} examples; {count} were written.");
        return buffer;
    }

    /// <summary>Deletes the temporary file.</summary>
    public void Dispose()
    {
        _file?.Dispose();
        _parts.Clear();
    }

    /// <summary>A part is written out once it holds this much: the filling parts together hold half the budget.</summary>
    private long PartBytes => PartBytesFor(_budget);

    /// <summary>
    /// The bytes of one part of a source that holds <paramref name="budget"/> bytes of examples in memory at most: the
    /// <see cref="FillingParts"/> parts being filled hold half of it, and so does an epoch's window of
    /// <see cref="SequenceEpoch.PartsPerWindow"/> parts.
    /// </summary>
    internal static long PartBytesFor(long budget) => budget / (2 * FillingParts);

    private (long Offset, int Count, SequenceSummary Summary) Part(int part)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(part);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(part, PartCount);
        return _parts[part];
    }

    /// <summary>
    /// The data set the next example goes to: the one in memory, or a filling part drawn at random. The cache spills first when
    /// the example would grow the buffers in memory past the budget, so they never hold more than it.
    /// </summary>
    private SequenceDataset Target(int stepValues, int targetValues)
    {
        if (_completed) throw new InvalidOperationException("The cache is complete (it has been read); add every example before reading.");
        if (!Spilled && _memory.Count > 0 && _memory.BytesAfterAdding(stepValues, targetValues) > _budget) Spill();
        var part = Spilled ? _filling[_random.Next(FillingParts)] : _memory;
        part.FirstExampleNumber = ExampleCount - part.Count;
        return part;
    }

    private void Added(SequenceDataset part)
    {
        ExampleCount++;
        if (Spilled && part.Bytes >= PartBytes) Flush(part);
    }

    /// <summary>Opens the temporary file and spreads the examples held in memory over the filling parts.</summary>
    private void Spill()
    {
        _file = TemporaryFile.Create(_directory, "mlnet-rnn-cache");
        _filling = new SequenceDataset[FillingParts];
        for (int p = 0; p < FillingParts; p++) _filling[p] = new SequenceDataset(FeaturesPerStep, TargetWidth, PerStepTargets);
        var memory = _memory;
        _memory = new SequenceDataset(FeaturesPerStep, TargetWidth, PerStepTargets);
        for (int i = 0; i < memory.Count; i++)
        {
            var part = _filling[_random.Next(FillingParts)];
            part.AddFrom(memory, i);
            if (part.Bytes >= PartBytes) Flush(part);
        }
    }

    private void Flush(SequenceDataset part)
    {
        var summary = part.Summary();
        long written = part.WriteTo(_file!.SafeFileHandle, _end);
        _parts.Add((_end, part.Count, summary));
        _end += written;
        part.Clear();
    }
}
