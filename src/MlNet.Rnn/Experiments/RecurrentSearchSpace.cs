using System.Globalization;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// A closed interval [<paramref name="Minimum"/>, <paramref name="Maximum"/>] a search draws a value from: uniformly, or
/// uniformly in log space when <paramref name="LogScale"/> (for learning rates). Minimum = Maximum fixes the value.
/// </summary>
/// <param name="Minimum">The smallest value.</param>
/// <param name="Maximum">The largest value.</param>
/// <param name="LogScale">Draw log(value) uniformly; both ends must then be positive.</param>
public readonly record struct SearchRange(float Minimum, float Maximum, bool LogScale = false)
{
    /// <summary>A range holding only <paramref name="value"/>: the option is fixed.</summary>
    public static SearchRange Fixed(float value) => new(value, value);

    internal float Draw(Random random)
    {
        double u = random.NextDouble();
        if (Minimum == Maximum) return Minimum;
        return LogScale
            ? (float)Math.Exp(Math.Log(Minimum) + u * (Math.Log(Maximum) - Math.Log(Minimum)))
            : (float)(Minimum + u * (Maximum - Minimum));
    }

    /// <summary>The range as [min, max], with "log" when drawn in log space.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"[{Minimum:g3}, {Maximum:g3}]{(LogScale ? " log" : "")}");
}

/// <summary>
/// What an experiment searches: one list of choices per discrete option and one <see cref="SearchRange"/> per continuous one.
/// Each trial draws every dimension, in this order, from the experiment's seeded random generator. Narrow a dimension by
/// giving fewer choices (one choice, or <see cref="SearchRange.Fixed"/>, fixes it), widen it by giving more. Options that are
/// not searched here come from the experiment settings' trainer options.
/// </summary>
public sealed class RecurrentSearchSpace
{
    /// <summary>The recurrent cells.</summary>
    public IList<RecurrentCellType> Cells { get; set; } = [RecurrentCellType.Lstm, RecurrentCellType.Gru, RecurrentCellType.Rnn];

    /// <summary>H: hidden units per layer and direction.</summary>
    public IList<int> HiddenSizes { get; set; } = [16, 32, 64, 128];

    /// <summary>L: stacked recurrent layers.</summary>
    public IList<int> NumbersOfLayers { get; set; } = [1, 2];

    /// <summary>Directions: false reads forwards only, true also backwards.</summary>
    public IList<bool> Bidirectional { get; set; } = [false, true];

    /// <summary>Dropout between layers and before the head, in [0, 1).</summary>
    public SearchRange Dropout { get; set; } = new(0f, 0.5f);

    /// <summary>Recurrent (variational) dropout, in [0, 1); fixed at 0 unless widened.</summary>
    public SearchRange RecurrentDropout { get; set; } = SearchRange.Fixed(0f);

    /// <summary>The optimizer's learning rate, drawn in log space.</summary>
    public SearchRange LearningRate { get; set; } = new(3e-4f, 1e-2f, LogScale: true);

    /// <summary>B: sequences per optimisation step.</summary>
    public IList<int> BatchSizes { get; set; } = [16, 32, 64];

    /// <summary>Global gradient-norm clipping thresholds; 0 turns clipping off.</summary>
    public IList<float> GradientClipNorms { get; set; } = [1f, 5f];

    /// <summary>Whether the initial state is learned.</summary>
    public IList<bool> LearnedInitialState { get; set; } = [false, true];

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first empty or invalid dimension and the fix.</summary>
    internal void Validate()
    {
        NotEmpty(Cells, nameof(Cells), "e.g. [RecurrentCellType.Lstm]");
        NotEmpty(HiddenSizes, nameof(HiddenSizes), "e.g. [64]");
        NotEmpty(NumbersOfLayers, nameof(NumbersOfLayers), "e.g. [1]");
        NotEmpty(Bidirectional, nameof(Bidirectional), "e.g. [false]");
        NotEmpty(BatchSizes, nameof(BatchSizes), "e.g. [32]");
        NotEmpty(GradientClipNorms, nameof(GradientClipNorms), "e.g. [5f], or [0f] for no clipping");
        NotEmpty(LearnedInitialState, nameof(LearnedInitialState), "e.g. [false]");
        foreach (var cell in Cells)
            Check(Enum.IsDefined(cell), nameof(Cells), cell, "must hold Rnn, Lstm or Gru");
        foreach (int h in HiddenSizes) Check(h >= 1, nameof(HiddenSizes), h, "must hold sizes of at least 1");
        foreach (int l in NumbersOfLayers) Check(l >= 1, nameof(NumbersOfLayers), l, "must hold layer counts of at least 1");
        foreach (int b in BatchSizes) Check(b >= 1, nameof(BatchSizes), b, "must hold batch sizes of at least 1");
        foreach (float c in GradientClipNorms) Check(c >= 0 && float.IsFinite(c), nameof(GradientClipNorms), c, "must hold finite thresholds ≥ 0 (0 = off)");
        CheckRange(Dropout, nameof(Dropout), 0, 1, "must lie in [0, 1)");
        CheckRange(RecurrentDropout, nameof(RecurrentDropout), 0, 1, "must lie in [0, 1)");
        CheckRange(LearningRate, nameof(LearningRate), float.Epsilon, float.PositiveInfinity, "must be positive and finite (e.g. [3e-4, 1e-2] log)");
    }

    /// <summary>The search space in one line, for the log.</summary>
    // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"cells [{string.Join(", ", Cells)}], H [{string.Join(", ", HiddenSizes)}], L [{string.Join(", ", NumbersOfLayers)}], " +
        $"bidirectional [{string.Join(", ", Bidirectional)}], dropout {Dropout}, recurrent dropout {RecurrentDropout}, learning rate {LearningRate}, " +
        $"B [{string.Join(", ", BatchSizes)}], clip [{string.Join(", ", GradientClipNorms)}], learned initial state [{string.Join(", ", LearnedInitialState)}]");

    private static void NotEmpty<T>(IList<T>? choices, string name, string example)
    {
        if (choices is null || choices.Count == 0)
            throw new ArgumentException($"The search space is empty: {nameof(RecurrentSearchSpace)}.{name} holds no choice; give at least one ({example}).", name);
    }

    private static void CheckRange(SearchRange range, string name, float lowest, float aboveHighest, string rule)
    {
        Check(float.IsFinite(range.Minimum) && float.IsFinite(range.Maximum) && range.Minimum <= range.Maximum, name, range,
            "must have finite ends with Minimum ≤ Maximum");
        Check(range.Minimum >= lowest && range.Maximum < aboveHighest, name, range, rule);
        Check(!range.LogScale || range.Minimum > 0, name, range, "must have a positive Minimum when LogScale is set");
    }

    private static void Check(bool valid, string name, object value, string rule)
    {
        if (!valid)
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture,
                $"{nameof(RecurrentSearchSpace)}.{name} = {value} {rule}."));
    }
}
