using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MlNet.Rnn.Core.Data;

/// <summary>
/// Variable-length sequences in memory with their targets and example weights: numeric steps (<c>T_i × I</c> floats,
/// step-major) or token ids (<c>T_i</c> ids), and per example either <c>W</c> target values or <c>T_i × W</c> per step.
/// Everything lives in a few flat buffers; <see cref="Fill"/> copies a set of examples into a padded <see cref="SequenceBatch"/>.
/// As an <see cref="ISequenceSource"/> it is one part, itself.
/// </summary>
public sealed class SequenceDataset : ISequenceSource
{
    private float[] _values = [];
    private int[] _ids = [];
    private float[] _targets = [];
    private readonly List<long> _starts = [], _targetStarts = [], _numbers = [];
    private readonly List<int> _lengths = [];
    private readonly List<float> _weights = [];
    private long _valueCount, _targetCount;

    /// <summary>Creates an empty data set.</summary>
    /// <param name="featuresPerStep">I for numeric sequences; 0 for token sequences.</param>
    /// <param name="targetWidth">W: target values per example, or per step with <paramref name="perStepTargets"/>.</param>
    /// <param name="perStepTargets">Whether each step has its own target (many-to-many aligned).</param>
    public SequenceDataset(int featuresPerStep, int targetWidth, bool perStepTargets = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(featuresPerStep);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetWidth);
        FeaturesPerStep = featuresPerStep;
        TargetWidth = targetWidth;
        PerStepTargets = perStepTargets;
    }

    /// <summary>I, or 0 for tokens.</summary>
    public int FeaturesPerStep { get; }

    /// <summary>W.</summary>
    public int TargetWidth { get; }

    /// <summary>Whether targets are per step.</summary>
    public bool PerStepTargets { get; }

    /// <summary>Whether examples are token ids.</summary>
    public bool Tokens => FeaturesPerStep == 0;

    /// <summary>Number of examples.</summary>
    public int Count => _lengths.Count;

    /// <summary>The number the next example added gets, less <see cref="Count"/>: a part of a larger source numbers its examples as the source does.</summary>
    internal long FirstExampleNumber { get; set; }

    /// <summary>The number of example <paramref name="index"/> in its source, in the order examples were added (its index for a data set of its own).</summary>
    public long NumberOf(int index) => _numbers[index];

    long ISequenceSource.ExampleCount => Count;

    int ISequenceSource.PartCount => 1;

    int ISequenceSource.PartSize(int part) => Count;

    SequenceDataset ISequenceSource.ReadPart(int part, SequenceDataset buffer) => this;

    /// <inheritdoc />
    public SequenceSummary PartSummary(int part) => Summary();

    /// <summary>What the data set holds: its longest sequence, largest token id, and the range of its targets.</summary>
    public SequenceSummary Summary()
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        bool whole = true;
        foreach (float target in _targets.AsSpan(0, (int)_targetCount))
        {
            min = Math.Min(min, target);
            max = Math.Max(max, target);
            whole &= target == MathF.Floor(target);
        }
        return new SequenceSummary(MaxLength(), MaxTokenId().Id, min, max, whole);
    }

    /// <summary>The step values of example <paramref name="index"/>: <c>T_i × I</c> floats (numeric examples).</summary>
    internal ReadOnlySpan<float> ValuesOf(int index) => _values.AsSpan((int)_starts[index], _lengths[index] * FeaturesPerStep);

    /// <summary>The token ids of example <paramref name="index"/> (token examples).</summary>
    internal ReadOnlySpan<int> IdsOf(int index) => _ids.AsSpan((int)_starts[index], _lengths[index]);

    /// <summary>Appends every example of <paramref name="other"/> (of the same shape), copying its buffers as they are.</summary>
    internal void AddAll(SequenceDataset other)
    {
        if (other.FeaturesPerStep != FeaturesPerStep || other.TargetWidth != TargetWidth || other.PerStepTargets != PerStepTargets)
            throw new ArgumentException("The data sets' shapes differ.", nameof(other));
        for (int i = 0; i < other.Count; i++)
        {
            _starts.Add(_valueCount + other._starts[i]);
            _targetStarts.Add(_targetCount + other._targetStarts[i]);
        }
        _numbers.AddRange(other._numbers);
        _lengths.AddRange(other._lengths);
        _weights.AddRange(other._weights);
        if (Tokens)
        {
            Grow(ref _ids, _valueCount + other._valueCount);
            other._ids.AsSpan(0, (int)other._valueCount).CopyTo(_ids.AsSpan((int)_valueCount));
        }
        else
        {
            Grow(ref _values, _valueCount + other._valueCount);
            other._values.AsSpan(0, (int)other._valueCount).CopyTo(_values.AsSpan((int)_valueCount));
        }
        Grow(ref _targets, _targetCount + other._targetCount);
        other._targets.AsSpan(0, (int)other._targetCount).CopyTo(_targets.AsSpan((int)_targetCount));
        _valueCount += other._valueCount;
        _targetCount += other._targetCount;
    }

    /// <summary>Appends example <paramref name="index"/> of <paramref name="other"/> (of the same shape).</summary>
    internal void AddFrom(SequenceDataset other, int index)
    {
        FirstExampleNumber = other.NumberOf(index) - Count;
        if (Tokens) AddTokens(other.IdsOf(index), other.TargetOf(index), other.WeightOf(index));
        else Add(other.ValuesOf(index), other.TargetOf(index), other.WeightOf(index));
    }

    /// <summary>
    /// Writes every example at <paramref name="offset"/> of <paramref name="file"/> (counts, lengths, weights, steps, targets, in
    /// this process's byte order: for a temporary file this process reads back) and returns the bytes written.
    /// </summary>
    internal long WriteTo(SafeFileHandle file, long offset)
    {
        long start = offset;
        Span<long> header = [Count, _valueCount, _targetCount];
        Write(MemoryMarshal.AsBytes(header));
        Write(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_lengths)));
        Write(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_weights)));
        Write(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_numbers)));
        if (Tokens) Write(MemoryMarshal.AsBytes(_ids.AsSpan(0, (int)_valueCount)));
        else Write(MemoryMarshal.AsBytes(_values.AsSpan(0, (int)_valueCount)));
        Write(MemoryMarshal.AsBytes(_targets.AsSpan(0, (int)_targetCount)));
        return offset - start;

        void Write(ReadOnlySpan<byte> bytes)
        {
            RandomAccess.Write(file, bytes, offset);
            offset += bytes.Length;
        }
    }

    /// <summary>
    /// Replaces the examples with those <see cref="WriteTo"/> wrote at <paramref name="offset"/> of <paramref name="file"/>,
    /// reusing the buffers; checks that the counts agree with each other before reading the steps.
    /// </summary>
    internal void ReadFrom(SafeFileHandle file, long offset)
    {
        Clear();
        long position = offset;   // where the next read starts; the messages name where the part starts
        Span<long> header = stackalloc long[3];
        Read(MemoryMarshal.AsBytes(header));
        long count = header[0], values = header[1], targets = header[2];
        if (count < 0 || count > Array.MaxLength || values < 0 || values > Array.MaxLength || targets < 0 || targets > Array.MaxLength)
            throw new InvalidDataException($"A cached part at byte {offset} declares {count} examples, {values} step values and {targets} targets.");
        CollectionsMarshal.SetCount(_lengths, (int)count);
        CollectionsMarshal.SetCount(_weights, (int)count);
        CollectionsMarshal.SetCount(_numbers, (int)count);
        Read(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_lengths)));
        Read(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_weights)));
        Read(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_numbers)));
        long start = 0, targetStart = 0;
        foreach (int length in _lengths)
        {
            if (length < 1) throw new InvalidDataException($"A cached part at byte {offset} holds an example of {length} steps.");
            _starts.Add(start);
            _targetStarts.Add(targetStart);
            start += (long)length * (Tokens ? 1 : FeaturesPerStep);
            targetStart += TargetLength(length);
        }
        if (start != values || targetStart != targets)
            throw new InvalidDataException($"A cached part at byte {offset} declares {values} step values and {targets} targets; its lengths make {start} and {targetStart}.");
        if (Tokens)
        {
            Grow(ref _ids, values);
            Read(MemoryMarshal.AsBytes(_ids.AsSpan(0, (int)values)));
        }
        else
        {
            Grow(ref _values, values);
            Read(MemoryMarshal.AsBytes(_values.AsSpan(0, (int)values)));
        }
        Grow(ref _targets, targets);
        Read(MemoryMarshal.AsBytes(_targets.AsSpan(0, (int)targets)));
        _valueCount = values;
        _targetCount = targets;

        void Read(Span<byte> bytes)
        {
            TemporaryFile.ReadExactly(file, bytes, position, "A cached part");
            position += bytes.Length;
        }
    }

    /// <summary>Step values held: floats of numeric sequences (T·I each) or ids of token sequences (T each).</summary>
    public long ValueCount => _valueCount;

    /// <summary>Every numeric step held, as rows of I values (empty for token sequences).</summary>
    internal ReadOnlySpan<float> AllSteps => Tokens ? [] : _values.AsSpan(0, (int)_valueCount);

    /// <summary>Every token id held (empty for numeric sequences).</summary>
    internal ReadOnlySpan<int> AllIds => Tokens ? _ids.AsSpan(0, (int)_valueCount) : [];

    /// <summary>Every target held, as rows of W values.</summary>
    internal ReadOnlySpan<float> AllTargets => _targets.AsSpan(0, (int)_targetCount);

    /// <summary>Target values held: W per example, or T_i·W with per-step targets.</summary>
    public long TargetCount => _targetCount;

    /// <summary>Bytes per example beside its steps and targets: its length, weight, number and two offsets.</summary>
    private const int BytesPerExample = 32;

    /// <summary>Bytes the examples take: steps, targets and <see cref="BytesPerExample"/> each.</summary>
    internal long Bytes => BytesOf(Count, _valueCount, _targetCount);

    /// <summary>Bytes <paramref name="examples"/> examples of <paramref name="values"/> step values and <paramref name="targets"/> target values take in all.</summary>
    internal static long BytesOf(long examples, long values, long targets) => 4 * (values + targets) + BytesPerExample * examples;

    /// <summary>Removes every example and keeps the buffers, so a scorer can stage batch after batch without allocating.</summary>
    public void Clear()
    {
        _starts.Clear();
        _targetStarts.Clear();
        _numbers.Clear();
        _lengths.Clear();
        _weights.Clear();
        _valueCount = 0;
        _targetCount = 0;
    }

    /// <summary>T_i: the length of example <paramref name="index"/>.</summary>
    public int LengthOf(int index) => _lengths[index];

    /// <summary>The weight of example <paramref name="index"/>.</summary>
    public float WeightOf(int index) => _weights[index];

    /// <summary>The targets of example <paramref name="index"/> (W, or T_i·W values).</summary>
    public ReadOnlySpan<float> TargetOf(int index) => _targets.AsSpan((int)_targetStarts[index], TargetLength(_lengths[index]));

    /// <summary>Adds a numeric sequence of <c>T·I</c> floats (step-major).</summary>
    public void Add(ReadOnlySpan<float> steps, ReadOnlySpan<float> target, float weight = 1f)
    {
        if (Tokens) throw new InvalidOperationException("This data set holds token sequences; add ids, not floats.");
        long row = FirstExampleNumber + Count;
        if (steps.IsEmpty)
            throw new ArgumentException($"Example {row} has no step; every sequence needs at least one step.", nameof(steps));
        if (steps.Length % FeaturesPerStep != 0)
            throw new ArgumentException(
                $"Example {row} has {steps.Length} values, which is not a multiple of {FeaturesPerStep} features per step.", nameof(steps));
        for (int i = 0; i < steps.Length; i++)
            if (!float.IsFinite(steps[i]))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Example {row}, step {i / FeaturesPerStep}, feature {i % FeaturesPerStep} is {steps[i]}; features must be finite."), nameof(steps));
        int length = steps.Length / FeaturesPerStep;
        CheckTarget(row, length, target, weight);
        Grow(ref _values, _valueCount + steps.Length);
        steps.CopyTo(_values.AsSpan((int)_valueCount));
        Append(length, _valueCount, target, weight);
        _valueCount += steps.Length;
    }

    /// <summary>Adds a token sequence (ids ≥ 0; the model checks them against its vocabulary).</summary>
    public void AddTokens(ReadOnlySpan<int> ids, ReadOnlySpan<float> target, float weight = 1f)
    {
        if (!Tokens) throw new InvalidOperationException("This data set holds numeric sequences; add floats, not ids.");
        long row = FirstExampleNumber + Count;
        if (ids.IsEmpty) throw new ArgumentException($"Example {row} has no token; every sequence needs at least one.", nameof(ids));
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] < 0) throw new ArgumentException($"Example {row}, token {i} has id {ids[i]}; ids must be ≥ 0 (0 = unknown).", nameof(ids));
        CheckTarget(row, ids.Length, target, weight);
        Grow(ref _ids, _valueCount + ids.Length);
        ids.CopyTo(_ids.AsSpan((int)_valueCount));
        Append(ids.Length, _valueCount, target, weight);
        _valueCount += ids.Length;
    }

    /// <summary>The largest token id of any example, and the example holding it (−1, −1 when empty or numeric).</summary>
    public (int Id, int Example) MaxTokenId()
    {
        int best = -1, example = -1;
        for (int i = 0; i < Count && Tokens; i++)
        {
            int start = (int)_starts[i];
            for (int t = 0; t < _lengths[i]; t++)
                if (_ids[start + t] > best) (best, example) = (_ids[start + t], i);
        }
        return (best, example);
    }

    /// <summary>The longest sequence of the data set (0 when empty).</summary>
    public int MaxLength()
    {
        int steps = 0;
        foreach (int length in _lengths) steps = Math.Max(steps, length);
        return steps;
    }

    /// <summary>The longest sequence among <paramref name="indices"/>.</summary>
    public int MaxLength(ReadOnlySpan<int> indices)
    {
        int steps = 0;
        foreach (int index in indices) steps = Math.Max(steps, _lengths[index]);
        return steps;
    }

    /// <summary>Copies the examples <paramref name="indices"/>, in that order, into <paramref name="batch"/>.</summary>
    public void Fill(ReadOnlySpan<int> indices, SequenceBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int B = indices.Length, T = MaxLength(indices), I = FeaturesPerStep, W = TargetWidth;
        batch.Reset(B, T, I, W, PerStepTargets);
        Span<float> input = batch.Input, targets = batch.Targets, weights = batch.Weights;
        Span<int> ids = batch.Ids, lengths = batch.Lengths;
        for (int b = 0; b < B; b++)
        {
            int index = indices[b], length = _lengths[index];
            long start = _starts[index];
            lengths[b] = length;
            for (int t = 0; t < length; t++)
            {
                if (Tokens) ids[t * B + b] = _ids[start + t];
                else _values.AsSpan((int)(start + t * I), I).CopyTo(input.Slice((t * B + b) * I, I));
            }
            ReadOnlySpan<float> target = TargetOf(index);
            if (PerStepTargets)
            {
                for (int t = 0; t < length; t++)
                {
                    target.Slice(t * W, W).CopyTo(targets.Slice((t * B + b) * W, W));
                    weights[t * B + b] = _weights[index];
                }
            }
            else
            {
                target.CopyTo(targets.Slice(b * W, W));
                weights[b] = _weights[index];
            }
        }
    }

    private int TargetLength(int length) => PerStepTargets ? length * TargetWidth : TargetWidth;

    private void CheckTarget(long row, int length, ReadOnlySpan<float> target, float weight)
    {
        if (target.Length != TargetLength(length))
            throw new ArgumentException(PerStepTargets
                ? $"Example {row} has {length} steps but {target.Length} target values; per-step targets need {length}·{TargetWidth} = {length * TargetWidth}."
                : $"Example {row} has {target.Length} target values; {TargetWidth} are expected.", nameof(target));
        for (int i = 0; i < target.Length; i++)
            if (!float.IsFinite(target[i]))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Example {row}, target {i} is {target[i]}; targets must be finite."), nameof(target));
        if (!(weight >= 0 && float.IsFinite(weight)))
            throw new ArgumentOutOfRangeException(nameof(weight), weight, $"Example {row} has weight {weight}; weights must be finite and ≥ 0.");
    }

    private void Append(int length, long start, ReadOnlySpan<float> target, float weight)
    {
        Grow(ref _targets, _targetCount + target.Length);
        target.CopyTo(_targets.AsSpan((int)_targetCount));
        _targetStarts.Add(_targetCount);
        _targetCount += target.Length;
        _numbers.Add(FirstExampleNumber + Count);
        _starts.Add(start);
        _lengths.Add(length);
        _weights.Add(weight);
    }

    /// <summary>
    /// Bytes of the step and target buffers once an example of <paramref name="stepValues"/> step values and
    /// <paramref name="targetValues"/> targets is added (they grow by doubling): what adding it would hold.
    /// </summary>
    internal long BytesAfterAdding(int stepValues, int targetValues)
    {
        static long After(long capacity, long needed) => needed <= capacity ? capacity : Math.Min(Array.MaxLength, Math.Max(needed, 2 * capacity));
        long steps = After(Tokens ? _ids.Length : _values.Length, _valueCount + stepValues), targets = After(_targets.Length, _targetCount + targetValues);
        return 4 * (steps + targets) + (long)BytesPerExample * (Count + 1);
    }

    private static void Grow<T>(ref T[] buffer, long length)
    {
        if (length > Array.MaxLength)
            throw new InvalidOperationException($"The data set would need {length} values in one buffer; at most {Array.MaxLength} fit. Split the data.");
        if (buffer.Length < length) Array.Resize(ref buffer, (int)Math.Min(Array.MaxLength, Math.Max(length, buffer.Length * 2L)));
    }
}
