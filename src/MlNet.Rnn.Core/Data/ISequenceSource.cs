namespace MlNet.Rnn.Core.Data;

/// <summary>
/// Examples a trainer reads one part at a time. A <see cref="SequenceDataset"/> in memory is a source of one part; a
/// <see cref="SequenceCache"/> that outgrew its memory budget keeps its parts in a temporary file and reads one back when
/// asked, so training holds a window of parts, not every example: <see cref="SequenceEpoch"/> reads windows of parts drawn in
/// a random order and shuffles (and buckets) their examples together.
/// </summary>
public interface ISequenceSource
{
    /// <summary>I, or 0 for token ids.</summary>
    int FeaturesPerStep { get; }

    /// <summary>W: target values per example, or per step.</summary>
    int TargetWidth { get; }

    /// <summary>Whether each step has its own target.</summary>
    bool PerStepTargets { get; }

    /// <summary>Examples in all parts.</summary>
    long ExampleCount { get; }

    /// <summary>Parts, ≥ 1 (a part may be empty only when the source is).</summary>
    int PartCount { get; }

    /// <summary>Examples in part <paramref name="part"/>.</summary>
    int PartSize(int part);

    /// <summary>What part <paramref name="part"/> holds, without reading it: enough to tell whether it needs a closer look.</summary>
    SequenceSummary PartSummary(int part);

    /// <summary>
    /// The examples of part <paramref name="part"/>. A source in memory returns itself; one on disk reads the part into
    /// <paramref name="buffer"/> (made with the source's <see cref="FeaturesPerStep"/>, <see cref="TargetWidth"/> and
    /// <see cref="PerStepTargets"/>) and returns it, valid until the buffer's next read. Each reader keeps its own buffer.
    /// </summary>
    SequenceDataset ReadPart(int part, SequenceDataset buffer);
}

/// <summary>What a set of examples holds, for checks that must not read every example.</summary>
/// <param name="Longest">The longest sequence (0 when empty).</param>
/// <param name="MaxTokenId">The largest token id (−1 for numeric examples or none).</param>
/// <param name="MinTarget">The smallest target value (+∞ when empty).</param>
/// <param name="MaxTarget">The largest target value (−∞ when empty).</param>
/// <param name="WholeTargets">Whether every target value is a whole number.</param>
public readonly record struct SequenceSummary(int Longest, int MaxTokenId, float MinTarget, float MaxTarget, bool WholeTargets)
{
    /// <summary>The summary of no example.</summary>
    public static SequenceSummary Empty => new(0, -1, float.PositiveInfinity, float.NegativeInfinity, true);

    /// <summary>The summary of both sets.</summary>
    public SequenceSummary Merge(SequenceSummary other) => new(Math.Max(Longest, other.Longest), Math.Max(MaxTokenId, other.MaxTokenId),
        Math.Min(MinTarget, other.MinTarget), Math.Max(MaxTarget, other.MaxTarget), WholeTargets && other.WholeTargets);
}
