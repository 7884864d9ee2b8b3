using System.Globalization;
using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Tagging;

/// <summary>
/// Builds the <see cref="SequenceDataset"/> a <see cref="SequenceTagger"/> trains on: per-step targets of width 1 holding
/// the tag index of every step, so <c>targets[t] ∈ [0, C)</c> is aligned with <c>input[t]</c>. A label whose length differs
/// from its input's is rejected with the row and both lengths.
/// </summary>
public static class TaggedSequences
{
    /// <summary>An empty data set of token sequences (ids ≥ 0, 0 = unknown) with per-step tags.</summary>
    public static SequenceDataset CreateTokens() => new(featuresPerStep: 0, targetWidth: 1, perStepTargets: true);

    /// <summary>An empty data set of numeric sequences (<paramref name="featuresPerStep"/> floats per step) with per-step tags.</summary>
    public static SequenceDataset CreateSteps(int featuresPerStep)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(featuresPerStep);
        return new(featuresPerStep, targetWidth: 1, perStepTargets: true);
    }

    /// <summary>A data set of token sequences and their tags, row by row.</summary>
    /// <exception cref="ArgumentException">The lists differ in length, a row's tags differ in length from its tokens, or a tag is outside [0, C).</exception>
    public static SequenceDataset FromTokens(IReadOnlyList<int[]> tokens, IReadOnlyList<int[]> tags, int tagCount)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(tags);
        CheckRowCounts(tokens.Count, tags.Count);
        var data = CreateTokens();
        for (int row = 0; row < tokens.Count; row++) AddTokens(data, tokens[row], tags[row], tagCount);
        return data;
    }

    /// <summary>A data set of numeric sequences (<c>T_i·I</c> floats each, step-major) and their tags, row by row.</summary>
    /// <exception cref="ArgumentException">As <see cref="FromTokens"/>, or a row's length is not a multiple of I.</exception>
    public static SequenceDataset FromSteps(IReadOnlyList<float[]> steps, int featuresPerStep, IReadOnlyList<int[]> tags, int tagCount)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(tags);
        CheckRowCounts(steps.Count, tags.Count);
        var data = CreateSteps(featuresPerStep);
        for (int row = 0; row < steps.Count; row++) AddSteps(data, steps[row], tags[row], tagCount);
        return data;
    }

    /// <summary>Appends one token sequence with its tags (one per token) to <paramref name="data"/>.</summary>
    public static void AddTokens(SequenceDataset data, ReadOnlySpan<int> tokens, ReadOnlySpan<int> tags, int tagCount)
    {
        CheckData(data, tokens: true);
        float[] targets = Targets(data.Count, tokens.Length, "tokens", tags, tagCount);
        data.AddTokens(tokens, targets);
    }

    /// <summary>Appends one numeric sequence (<c>T·I</c> floats, step-major) with its tags (one per step) to <paramref name="data"/>.</summary>
    public static void AddSteps(SequenceDataset data, ReadOnlySpan<float> steps, ReadOnlySpan<int> tags, int tagCount)
    {
        CheckData(data, tokens: false);
        int row = data.Count, features = data.FeaturesPerStep;
        if (steps.Length % features != 0)
            throw new ArgumentException(
                $"Row {row} has {steps.Length} input values, which is not a multiple of {features} features per step.", nameof(steps));
        float[] targets = Targets(row, steps.Length / features, "steps", tags, tagCount);
        data.Add(steps, targets);
    }

    /// <summary>The tags of example <paramref name="index"/> of a tagging data set.</summary>
    public static int[] TagsOf(SequenceDataset data, int index)
    {
        ArgumentNullException.ThrowIfNull(data);
        ReadOnlySpan<float> targets = data.TargetOf(index);
        var tags = new int[targets.Length];
        for (int t = 0; t < tags.Length; t++) tags[t] = (int)targets[t];
        return tags;
    }

    private static float[] Targets(int row, int length, string unit, ReadOnlySpan<int> tags, int tagCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tagCount);
        if (tags.Length != length)
            throw new ArgumentException(
                $"Row {row}: the label has {tags.Length} tags but the input has {length} {unit}; a tagging label needs exactly one tag per input step.",
                nameof(tags));
        var targets = new float[length];
        for (int t = 0; t < length; t++)
        {
            if ((uint)tags[t] >= (uint)tagCount)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Row {row}, step {t}: tag {tags[t]} is outside [0, {tagCount}); tags are indices into the {tagCount} tag names."), nameof(tags));
            targets[t] = tags[t];
        }
        return targets;
    }

    private static void CheckData(SequenceDataset data, bool tokens)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!data.PerStepTargets || data.TargetWidth != 1)
            throw new ArgumentException("A tagging data set has per-step targets of width 1; create it with TaggedSequences.CreateTokens or CreateSteps.", nameof(data));
        if (data.Tokens != tokens)
            throw new ArgumentException(data.Tokens ? "This data set holds token sequences; add ids, not floats." : "This data set holds numeric sequences; add floats, not ids.",
                nameof(data));
    }

    private static void CheckRowCounts(int inputs, int labels)
    {
        if (inputs != labels)
            throw new ArgumentException($"There are {inputs} input sequences but {labels} label sequences; give one label sequence per input.");
    }
}
