namespace MlNet.Rnn.Core.Tagging;

/// <summary>
/// Entity-level scores with CoNLL semantics: a predicted entity is correct only when a gold entity has exactly the same
/// sequence, start, end and type. Entities are read by <see cref="BioEntities"/> (conlleval's rules).
/// </summary>
public sealed class EntityMetrics
{
    internal EntityMetrics(PrecisionRecall overall, IReadOnlyDictionary<string, PrecisionRecall> perType)
    {
        Overall = overall;
        PerType = perType;
    }

    /// <summary>Counts over every entity: correct, predicted and gold entities.</summary>
    public PrecisionRecall Overall { get; }

    /// <summary>Counts per entity type, in ordinal order of the type.</summary>
    public IReadOnlyDictionary<string, PrecisionRecall> PerType { get; }

    /// <summary>Correct entities / predicted entities.</summary>
    public double Precision => Overall.Precision;

    /// <summary>Correct entities / gold entities.</summary>
    public double Recall => Overall.Recall;

    /// <summary>The harmonic mean of <see cref="Precision"/> and <see cref="Recall"/>.</summary>
    public double F1 => Overall.F1;

    /// <summary>Counts entities of <paramref name="gold"/> and <paramref name="predicted"/> tag sequences.</summary>
    internal static EntityMetrics Compute(IReadOnlyList<int[]> gold, IReadOnlyList<int[]> predicted, IReadOnlyList<string> tagNames)
    {
        var prefixes = new char[tagNames.Count];
        var types = new string[tagNames.Count];
        for (int c = 0; c < tagNames.Count; c++) BioEntities.TryParse(tagNames[c], out prefixes[c], out types[c]);
        var goldEntities = new List<TaggedEntity>();
        var predictedEntities = new List<TaggedEntity>();
        for (int i = 0; i < gold.Count; i++)
        {
            BioEntities.Extract(gold[i], prefixes, types, i, goldEntities);
            BioEntities.Extract(predicted[i], prefixes, types, i, predictedEntities);
        }
        var goldSet = goldEntities.ToHashSet();
        var counts = new SortedDictionary<string, (long Correct, long Predicted, long Gold)>(StringComparer.Ordinal);
        foreach (var entity in goldEntities)
        {
            var c = counts.GetValueOrDefault(entity.Type);
            counts[entity.Type] = (c.Correct, c.Predicted, c.Gold + 1);
        }
        foreach (var entity in predictedEntities)
        {
            var c = counts.GetValueOrDefault(entity.Type);
            counts[entity.Type] = (c.Correct + (goldSet.Contains(entity) ? 1 : 0), c.Predicted + 1, c.Gold);
        }
        var perType = new Dictionary<string, PrecisionRecall>(StringComparer.Ordinal);
        long correct = 0;
        foreach (var (type, c) in counts)
        {
            perType[type] = new PrecisionRecall(c.Correct, c.Predicted, c.Gold);
            correct += c.Correct;
        }
        return new EntityMetrics(new PrecisionRecall(correct, predictedEntities.Count, goldEntities.Count), perType);
    }
}
