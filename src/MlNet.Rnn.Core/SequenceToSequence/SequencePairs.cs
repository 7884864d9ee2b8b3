using System.Buffers;
using System.Collections;
using System.Globalization;
using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// Source–target pairs of token ids for a <see cref="SequenceToSequenceModel"/>, in memory: the source in the source vocabulary,
/// the target in the target vocabulary without start and end tokens (the model adds them). Rows are numbered from 0 in the
/// order added; error messages name them.
/// <para>
/// A pair is held as one token example of a <see cref="SequenceDataset"/>: its ids are the source followed by the target, its
/// one target value is the source's length. So pairs are an <see cref="ISequenceSource"/> (one part, in memory), and pairs
/// too many for memory go to a <see cref="SequenceCache"/> (<see cref="CreateCache"/>, <see cref="AddTo"/>) that spills to a
/// temporary file past its budget; <see cref="SequencePairTrainer"/> trains on either, a part at a time.
/// </para>
/// </summary>
public sealed class SequencePairs : ISequenceSource
{
    /// <summary>The longest source a pair may have: its length is held as a float, exact up to 2^24.</summary>
    public const int MaxSourceLength = 1 << 24;

    private readonly SequenceDataset _pairs = Create();

    /// <summary>Number of pairs.</summary>
    public int Count => _pairs.Count;

    /// <summary>The source sequences, by row (each read is a copy).</summary>
    public IReadOnlyList<int[]> Sources => new Side(_pairs, source: true);

    /// <summary>The target sequences, by row (each read is a copy).</summary>
    public IReadOnlyList<int[]> Targets => new Side(_pairs, source: false);

    /// <summary>Adds a pair; both sequences need at least one token.</summary>
    public void Add(ReadOnlySpan<int> source, ReadOnlySpan<int> target)
    {
        Check(source, target, Count);
        Append(_pairs, source, target);
    }

    /// <summary>Builds pairs from parallel lists, checking each row.</summary>
    public static SequencePairs From(IReadOnlyList<int[]> sources, IReadOnlyList<int[]> targets)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(targets);
        if (sources.Count != targets.Count)
            throw new ArgumentException($"sources holds {sources.Count} sequences but targets holds {targets.Count}; give one target per source.", nameof(targets));
        var pairs = new SequencePairs();
        for (int i = 0; i < sources.Count; i++) pairs.Add(sources[i] ?? [], targets[i] ?? []);
        return pairs;
    }

    /// <summary>
    /// An empty cache of pairs: in memory up to <paramref name="memoryBudget"/> bytes, then in a temporary file in
    /// <paramref name="directory"/> (the system's temporary folder when null), spread over its parts by <paramref name="seed"/>.
    /// Add pairs with <see cref="AddTo"/>; dispose it to delete the file.
    /// </summary>
    public static SequenceCache CreateCache(long memoryBudget, int seed, string? directory = null) =>
        new(featuresPerStep: 0, targetWidth: 1, perStepTargets: false, memoryBudget, seed, directory);

    /// <summary>Adds a pair to a cache of <see cref="CreateCache"/>; both sequences need at least one token (rows are numbered as the cache numbers its examples).</summary>
    public static void AddTo(SequenceCache cache, ReadOnlySpan<int> source, ReadOnlySpan<int> target)
    {
        ArgumentNullException.ThrowIfNull(cache);
        CheckShape(cache, nameof(cache));
        Check(source, target, cache.ExampleCount);
        int[] ids = Encode(source, target);
        try
        {
            cache.AddTokens(ids.AsSpan(0, source.Length + target.Length), [source.Length], 1f);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ids);
        }
    }

    int ISequenceSource.FeaturesPerStep => _pairs.FeaturesPerStep;

    int ISequenceSource.TargetWidth => _pairs.TargetWidth;

    bool ISequenceSource.PerStepTargets => _pairs.PerStepTargets;

    long ISequenceSource.ExampleCount => _pairs.Count;

    int ISequenceSource.PartCount => 1;

    int ISequenceSource.PartSize(int part) => _pairs.Count;

    SequenceSummary ISequenceSource.PartSummary(int part) => _pairs.Summary();

    SequenceDataset ISequenceSource.ReadPart(int part, SequenceDataset buffer) => _pairs;

    /// <summary>An empty data set of encoded pairs.</summary>
    internal static SequenceDataset Create() => new(featuresPerStep: 0, targetWidth: 1);

    /// <summary>The source ids of pair <paramref name="index"/> of encoded pairs.</summary>
    internal static ReadOnlySpan<int> SourceOf(SequenceDataset pairs, int index) => pairs.IdsOf(index)[..SourceLength(pairs, index)];

    /// <summary>The target ids of pair <paramref name="index"/> of encoded pairs (possibly empty).</summary>
    internal static ReadOnlySpan<int> TargetOf(SequenceDataset pairs, int index) => pairs.IdsOf(index)[SourceLength(pairs, index)..];

    /// <summary>
    /// The key pairs are bucketed by: source length, then total length (so target length), as one number; examples sorted by it
    /// are sorted by (source length, target length).
    /// </summary>
    internal static long BucketKey(SequenceDataset pairs, int index) => ((long)SourceLength(pairs, index) << 32) | (uint)pairs.LengthOf(index);

    /// <summary>Throws unless <paramref name="data"/> holds examples shaped as encoded pairs (token ids, one target value per example).</summary>
    internal static void CheckShape(ISequenceSource data, string name)
    {
        if (data.FeaturesPerStep != 0 || data.TargetWidth != 1 || data.PerStepTargets)
            throw new ArgumentException(
                "The data does not hold sequence pairs: pairs are token examples with one target value, the source length. " +
                "Use SequencePairs, or a cache of SequencePairs.CreateCache filled by SequencePairs.AddTo.", name);
    }

    /// <summary>Throws unless example <paramref name="index"/> encodes a pair: its target value a whole source length in [1, length].</summary>
    internal static void CheckEncoding(SequenceDataset pairs, int index, string name)
    {
        float length = pairs.TargetOf(index)[0];
        if (length >= 1 && length <= pairs.LengthOf(index) && length == MathF.Floor(length)) return;
        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"Row {pairs.NumberOf(index)} of {name} is not a sequence pair: its source length {length} is not a whole number in [1, {pairs.LengthOf(index)}].") +
            " Add pairs with SequencePairs.Add or SequencePairs.AddTo.", name);
    }

    /// <summary>Encodes a pair into <paramref name="pairs"/> without checking it (the target may be empty, as when scoring).</summary>
    internal static void Append(SequenceDataset pairs, ReadOnlySpan<int> source, ReadOnlySpan<int> target)
    {
        int[] ids = Encode(source, target);
        try
        {
            pairs.AddTokens(ids.AsSpan(0, source.Length + target.Length), [source.Length], 1f);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ids);
        }
    }

    /// <summary>The source then the target ids, in a pooled array the caller returns; the one-value target is the source's length.</summary>
    private static int[] Encode(ReadOnlySpan<int> source, ReadOnlySpan<int> target)
    {
        if (source.Length > MaxSourceLength)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The source has {source.Length} tokens; a pair holds at most {MaxSourceLength}."), nameof(source));
        int[] ids = ArrayPool<int>.Shared.Rent(source.Length + target.Length);
        source.CopyTo(ids);
        target.CopyTo(ids.AsSpan(source.Length));
        return ids;
    }

    /// <summary>Checks a pair being added, naming its row: both sides need a token, and ids are ≥ 0.</summary>
    private static void Check(ReadOnlySpan<int> source, ReadOnlySpan<int> target, long row)
    {
        if (source.IsEmpty)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Row {row}: the source sequence is empty; every source needs at least one token (drop the row or give it the unknown id 0)."), nameof(source));
        if (target.IsEmpty)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Row {row}: the target sequence is empty; every target needs at least one token (the end token is added by the model)."), nameof(target));
        CheckIds(source, row, "source");
        CheckIds(target, row, "target");

        static void CheckIds(ReadOnlySpan<int> ids, long row, string side)
        {
            for (int i = 0; i < ids.Length; i++)
                if (ids[i] < 0)
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"Row {row}: {side} token {i} has id {ids[i]}; ids are ≥ 0 (0 = unknown)."), side);
        }
    }

    private static int SourceLength(SequenceDataset pairs, int index) => (int)pairs.TargetOf(index)[0];

    /// <summary>One side of the pairs as a list of copies.</summary>
    private sealed class Side(SequenceDataset pairs, bool source) : IReadOnlyList<int[]>
    {
        public int[] this[int index] => (source ? SourceOf(pairs, index) : TargetOf(pairs, index)).ToArray();

        public int Count => pairs.Count;

        public IEnumerator<int[]> GetEnumerator()
        {
            for (int i = 0; i < pairs.Count; i++) yield return this[i];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
