using System.Globalization;
using System.Text;

namespace MlNet.Rnn.Core.Tagging;

/// <summary>
/// How well predicted tags match gold tags, step by step: token accuracy, per-tag precision/recall/F1 with their macro and
/// micro averages, and, when the tag names are BIO tags, entity-level precision/recall/F1 (<see cref="EntityMetrics"/>).
/// </summary>
public sealed class TaggingMetrics
{
    private TaggingMetrics(long tokens, long correct, IReadOnlyList<TagMetrics> perTag, AveragedMetrics macro, AveragedMetrics micro,
        EntityMetrics? entities)
    {
        TokenCount = tokens;
        CorrectTokens = correct;
        PerTag = perTag;
        Macro = macro;
        Micro = micro;
        Entities = entities;
    }

    /// <summary>Steps compared.</summary>
    public long TokenCount { get; }

    /// <summary>Steps whose predicted tag equals the gold tag.</summary>
    public long CorrectTokens { get; }

    /// <summary>Correct tokens / tokens (0 for no token).</summary>
    public double TokenAccuracy => TokenCount > 0 ? (double)CorrectTokens / TokenCount : 0;

    /// <summary>One entry per tag index, in index order, including tags that never occur.</summary>
    public IReadOnlyList<TagMetrics> PerTag { get; }

    /// <summary>
    /// Unweighted means over the averaged tags: tags that occur in the gold or the predicted tags (as scikit-learn's
    /// default labels), minus the ignored tags.
    /// </summary>
    public AveragedMetrics Macro { get; }

    /// <summary>
    /// P, R and F1 from tp, predicted and gold counts summed over the averaged tags. With no ignored tag every token counts
    /// once as predicted and once as gold, so all three equal <see cref="TokenAccuracy"/>; ignoring e.g. <c>O</c> makes them
    /// the usual token-level scores of the other tags.
    /// </summary>
    public AveragedMetrics Micro { get; }

    /// <summary>Entity-level scores; null unless every tag name is <c>O</c>, <c>B-TYPE</c> or <c>I-TYPE</c>.</summary>
    public EntityMetrics? Entities { get; }

    /// <summary>Names "0", "1", … for tags that have no names.</summary>
    public static string[] IndexNames(int tagCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tagCount);
        var names = new string[tagCount];
        for (int c = 0; c < tagCount; c++) names[c] = c.ToString(CultureInfo.InvariantCulture);
        return names;
    }

    /// <summary>
    /// Compares <paramref name="predicted"/> with <paramref name="gold"/> sequence by sequence; tags are indices into
    /// <paramref name="tagNames"/>. <paramref name="ignoredTags"/> (names) are left out of the macro and micro averages only.
    /// </summary>
    /// <exception cref="ArgumentException">The lists differ in length, a predicted sequence differs in length from its gold
    /// sequence (the message names the row and both lengths), a tag is outside the names, or an ignored tag is unknown.</exception>
    public static TaggingMetrics Compute(IReadOnlyList<int[]> gold, IReadOnlyList<int[]> predicted, IReadOnlyList<string> tagNames,
        IEnumerable<string>? ignoredTags = null)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(tagNames);
        int C = tagNames.Count;
        if (C == 0) throw new ArgumentException("tagNames is empty; give one name per tag.", nameof(tagNames));
        if (gold.Count != predicted.Count)
            throw new ArgumentException($"There are {gold.Count} gold sequences but {predicted.Count} predicted sequences; give one prediction per gold sequence.");
        var ignored = new bool[C];
        foreach (string name in ignoredTags ?? [])
        {
            int index = IndexOf(tagNames, name);
            if (index < 0) throw new ArgumentException($"Ignored tag '{name}' is not one of the {C} tag names.", nameof(ignoredTags));
            ignored[index] = true;
        }

        var truePositives = new long[C];
        var predictedCounts = new long[C];
        var goldCounts = new long[C];
        long tokens = 0, correct = 0;
        for (int row = 0; row < gold.Count; row++)
        {
            int[] g = gold[row] ?? throw new ArgumentException($"Gold sequence {row} is null.", nameof(gold));
            int[] p = predicted[row] ?? throw new ArgumentException($"Predicted sequence {row} is null.", nameof(predicted));
            if (g.Length != p.Length)
                throw new ArgumentException($"Row {row}: the prediction has {p.Length} tags but the gold label has {g.Length}; they must be aligned step by step.",
                    nameof(predicted));
            for (int t = 0; t < g.Length; t++)
            {
                CheckTag(g[t], C, row, t, nameof(gold));
                CheckTag(p[t], C, row, t, nameof(predicted));
                goldCounts[g[t]]++;
                predictedCounts[p[t]]++;
                if (g[t] == p[t])
                {
                    truePositives[g[t]]++;
                    correct++;
                }
            }
            tokens += g.Length;
        }

        var perTag = new TagMetrics[C];
        double precisionSum = 0, recallSum = 0, f1Sum = 0;
        long tpSum = 0, predictedSum = 0, goldSum = 0;
        int averaged = 0;
        for (int c = 0; c < C; c++)
        {
            perTag[c] = new TagMetrics(c, tagNames[c], new PrecisionRecall(truePositives[c], predictedCounts[c], goldCounts[c]));
            if (ignored[c] || (goldCounts[c] == 0 && predictedCounts[c] == 0)) continue;
            averaged++;
            precisionSum += perTag[c].Precision;
            recallSum += perTag[c].Recall;
            f1Sum += perTag[c].F1;
            tpSum += truePositives[c];
            predictedSum += predictedCounts[c];
            goldSum += goldCounts[c];
        }
        var macro = averaged > 0 ? new AveragedMetrics(precisionSum / averaged, recallSum / averaged, f1Sum / averaged) : default;
        var microCounts = new PrecisionRecall(tpSum, predictedSum, goldSum);
        var micro = new AveragedMetrics(microCounts.Precision, microCounts.Recall, microCounts.F1);
        var entities = BioEntities.IsBioTagSet(tagNames) ? EntityMetrics.Compute(gold, predicted, tagNames) : null;
        return new TaggingMetrics(tokens, correct, perTag, macro, micro, entities);
    }

    /// <summary>A plain-text report: accuracy, averages, entity scores and the per-tag table (tags that occur).</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        var culture = CultureInfo.InvariantCulture;
        text.AppendLine(culture, $"token accuracy {TokenAccuracy:F4} ({CorrectTokens} of {TokenCount})");
        text.AppendLine(culture, $"macro P {Macro.Precision:F4} R {Macro.Recall:F4} F1 {Macro.F1:F4}; micro P {Micro.Precision:F4} R {Micro.Recall:F4} F1 {Micro.F1:F4}");
        if (Entities is not null)
            text.Append(culture, $"entities: P {Entities.Precision:F4} R {Entities.Recall:F4} F1 {Entities.F1:F4} ")
                .AppendLine(culture, $"({Entities.Overall.TruePositives} correct, {Entities.Overall.Predicted} predicted, {Entities.Overall.Gold} gold)");
        text.AppendLine(culture, $"{"tag",-12} {"precision",9} {"recall",9} {"F1",9} {"support",9}");
        foreach (var tag in PerTag)
            if (tag.Support > 0 || tag.Counts.Predicted > 0)
                text.AppendLine(culture, $"{tag.Name,-12} {tag.Precision,9:F4} {tag.Recall,9:F4} {tag.F1,9:F4} {tag.Support,9}");
        return text.ToString();
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int c = 0; c < names.Count; c++)
            if (string.Equals(names[c], name, StringComparison.Ordinal)) return c;
        return -1;
    }

    private static void CheckTag(int tag, int count, int row, int step, string name)
    {
        if ((uint)tag >= (uint)count)
            throw new ArgumentException($"Row {row}, step {step}: {name} tag {tag} is outside [0, {count}).", name);
    }
}
