using System.Globalization;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// Source–target pairs of token ids for a <see cref="SequenceToSequenceModel"/>: the source in the source vocabulary,
/// the target in the target vocabulary without start and end tokens (the model adds them). Rows are numbered from 0 in
/// the order added; error messages name them.
/// </summary>
public sealed class SequencePairs
{
    private readonly List<int[]> _sources = [], _targets = [];

    /// <summary>Number of pairs.</summary>
    public int Count => _sources.Count;

    /// <summary>The source sequences, by row.</summary>
    public IReadOnlyList<int[]> Sources => _sources;

    /// <summary>The target sequences, by row.</summary>
    public IReadOnlyList<int[]> Targets => _targets;

    /// <summary>Adds a pair; both sequences need at least one token.</summary>
    public void Add(ReadOnlySpan<int> source, ReadOnlySpan<int> target)
    {
        if (source.IsEmpty)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Row {Count}: the source sequence is empty; every source needs at least one token (drop the row or give it the unknown id 0)."), nameof(source));
        if (target.IsEmpty)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Row {Count}: the target sequence is empty; every target needs at least one token (the end token is added by the model)."), nameof(target));
        _sources.Add(source.ToArray());
        _targets.Add(target.ToArray());
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
}
