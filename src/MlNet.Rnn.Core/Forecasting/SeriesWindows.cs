using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Forecasting;

/// <summary>
/// The forecaster's examples, made from the series when they are read instead of stored: the window <c>[W, F]</c> of a
/// standardised series <c>[N, F]</c> that ends before step j, with the target feature 0 at steps <c>[j, j + HZ)</c>, for every
/// j in <c>[first, last]</c> (example n is the window ending before <c>first + n</c>). Windows overlap, so storing them would
/// take W times the series; here the series is held once. While all windows fit in <c>memoryBudget</c> bytes they are one
/// part, read whole, and train exactly as a <see cref="SequenceDataset"/> of them would. Beyond it they are parts of
/// consecutive windows of the size <see cref="SequenceCache"/> gives its parts, and <see cref="SequenceEpoch"/> reads them in
/// windows of parts drawn at random, as it reads a cache that spilled.
/// </summary>
internal sealed class SeriesWindows : ISequenceSource
{
    private readonly float[] _series, _target;
    private readonly int _windowSize, _first, _count, _partSize;

    /// <summary>The windows ending before each step in [<paramref name="first"/>, <paramref name="last"/>] of <paramref name="standardized"/> <c>[N, F]</c>.</summary>
    public SeriesWindows(float[] standardized, int features, int windowSize, int horizon, int first, int last, long memoryBudget)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(first, windowSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)(last + horizon) * features, standardized.Length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(memoryBudget);
        _series = standardized;
        FeaturesPerStep = features;
        TargetWidth = horizon;
        _target = new float[horizon];
        _windowSize = windowSize;
        _first = first;
        _count = Math.Max(0, last - first + 1);
        long windowBytes = SequenceDataset.BytesOf(1, (long)windowSize * features, horizon);
        _partSize = windowBytes * _count <= memoryBudget ? Math.Max(1, _count)
            : (int)Math.Clamp(SequenceCache.PartBytesFor(memoryBudget) / windowBytes, 1, _count);
    }

    /// <inheritdoc />
    public int FeaturesPerStep { get; }

    /// <inheritdoc />
    public int TargetWidth { get; }

    /// <inheritdoc />
    public bool PerStepTargets => false;

    /// <inheritdoc />
    public long ExampleCount => _count;

    /// <summary>Windows per part (all of them when they fit the budget).</summary>
    public int WindowsPerPart => _partSize;

    /// <inheritdoc />
    public int PartCount => Math.Max(1, (_count + _partSize - 1) / _partSize);

    /// <inheritdoc />
    public int PartSize(int part)
    {
        CheckPart(part);
        return Math.Min(_partSize, _count - part * _partSize);
    }

    /// <inheritdoc />
    /// <remarks>The targets are read from the series (HZ values per window, without making the windows).</remarks>
    public SequenceSummary PartSummary(int part)
    {
        int size = PartSize(part), F = FeaturesPerStep;
        if (size == 0) return SequenceSummary.Empty;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        bool whole = true;
        int start = _first + part * _partSize;
        for (int step = start; step < start + size - 1 + TargetWidth; step++)
        {
            float value = _series[step * F];
            min = Math.Min(min, value);
            max = Math.Max(max, value);
            whole &= value == MathF.Floor(value);
        }
        return new SequenceSummary(_windowSize, -1, min, max, whole);
    }

    /// <inheritdoc />
    /// <remarks>Always fills <paramref name="buffer"/>: the windows exist only while a reader holds them.</remarks>
    public SequenceDataset ReadPart(int part, SequenceDataset buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        int size = PartSize(part), F = FeaturesPerStep, HZ = TargetWidth, W = _windowSize;
        if (buffer.FeaturesPerStep != F || buffer.TargetWidth != HZ || buffer.PerStepTargets)
            throw new ArgumentException("The buffer's shape differs from the windows'; make it with their FeaturesPerStep and TargetWidth.", nameof(buffer));
        buffer.Clear();
        buffer.FirstExampleNumber = (long)part * _partSize;
        var target = _target;
        for (int n = 0; n < size; n++)
        {
            int j = _first + part * _partSize + n;
            for (int h = 0; h < HZ; h++) target[h] = _series[(j + h) * F];
            buffer.Add(_series.AsSpan((j - W) * F, W * F), target);
        }
        return buffer;
    }

    private void CheckPart(int part)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(part);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(part, PartCount);
    }
}
