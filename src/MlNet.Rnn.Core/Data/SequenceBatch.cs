namespace MlNet.Rnn.Core.Data;

/// <summary>
/// One mini-batch, time-major and padded: numeric inputs <c>[T, B, I]</c> or token ids <c>[T, B]</c>, lengths
/// <c>[B]</c>, targets (<c>[B, W]</c> per sequence or <c>[T, B, W]</c> per step) and weights (<c>[B]</c> or
/// <c>[T, B]</c>: example weight, and 0 at padded steps). Buffers grow once and are reused.
/// </summary>
public sealed class SequenceBatch
{
    private float[] _input = [], _targets = [], _weights = [];
    private int[] _ids = [], _lengths = [];

    /// <summary>B.</summary>
    public int BatchSize { get; private set; }

    /// <summary>T: the longest length in the batch.</summary>
    public int Steps { get; private set; }

    /// <summary>I for numeric inputs, 0 for tokens.</summary>
    public int FeaturesPerStep { get; private set; }

    /// <summary>W: target values per sequence or per step.</summary>
    public int TargetWidth { get; private set; }

    /// <summary>Whether targets are per step.</summary>
    public bool PerStepTargets { get; private set; }

    /// <summary>Whether the inputs are token ids.</summary>
    public bool Tokens => FeaturesPerStep == 0;

    /// <summary>Numeric inputs <c>[T, B, I]</c>.</summary>
    public Span<float> Input => _input.AsSpan(0, Steps * BatchSize * FeaturesPerStep);

    /// <summary>Token ids <c>[T, B]</c>.</summary>
    public Span<int> Ids => _ids.AsSpan(0, Tokens ? Steps * BatchSize : 0);

    /// <summary>Lengths <c>[B]</c>.</summary>
    public Span<int> Lengths => _lengths.AsSpan(0, BatchSize);

    /// <summary>Targets <c>[B, W]</c> or <c>[T, B, W]</c>.</summary>
    public Span<float> Targets => _targets.AsSpan(0, TargetRows * TargetWidth);

    /// <summary>Weights <c>[B]</c> or <c>[T, B]</c>.</summary>
    public Span<float> Weights => _weights.AsSpan(0, TargetRows);

    /// <summary>Rows of <see cref="Targets"/>: B, or T·B for per-step targets.</summary>
    public int TargetRows => PerStepTargets ? Steps * BatchSize : BatchSize;

    /// <summary>Sizes the batch and clears every buffer (padding is zero, weights zero).</summary>
    public void Reset(int batchSize, int steps, int featuresPerStep, int targetWidth, bool perStepTargets)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        ArgumentOutOfRangeException.ThrowIfNegative(featuresPerStep);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetWidth);
        BatchSize = batchSize;
        Steps = steps;
        FeaturesPerStep = featuresPerStep;
        TargetWidth = targetWidth;
        PerStepTargets = perStepTargets;
        Grow(ref _input, steps * batchSize * featuresPerStep);
        Grow(ref _ids, featuresPerStep == 0 ? steps * batchSize : 0);
        Grow(ref _lengths, batchSize);
        Grow(ref _targets, TargetRows * targetWidth);
        Grow(ref _weights, TargetRows);
        Input.Clear();
        Ids.Clear();
        Lengths.Clear();
        Targets.Clear();
        Weights.Clear();
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }
}
