namespace MlNet.Rnn.Data;

/// <summary>
/// B sequences of I features per step, laid out time-major as the core reads them: <c>Input [T, B, I]</c>, zero past each
/// sequence's length, with <c>Lengths [B]</c>; T is the longest length in the batch. Buffers grow once and are reused.
/// </summary>
internal sealed class SequenceBatch
{
    private float[] _input = [];
    private int[] _lengths = [];

    /// <summary>B.</summary>
    public int Count { get; private set; }

    /// <summary>T.</summary>
    public int Steps { get; private set; }

    /// <summary>I.</summary>
    public int FeaturesPerStep { get; private set; }

    /// <summary><c>[T, B, I]</c>, time-major.</summary>
    public ReadOnlySpan<float> Input => _input.AsSpan(0, Steps * Count * FeaturesPerStep);

    /// <summary>Steps of each sequence, <c>[B]</c>.</summary>
    public ReadOnlySpan<int> Lengths => _lengths.AsSpan(0, Count);

    /// <summary>
    /// Packs <c>sequences[indices[b]]</c> for b &lt; B; each sequence is step-major <c>[T_b · I]</c> with T_b ≥ 1
    /// (checked when the rows were read).
    /// </summary>
    public void Pack(IReadOnlyList<float[]> sequences, ReadOnlySpan<int> indices, int featuresPerStep)
    {
        int I = featuresPerStep, B = indices.Length, T = 0;
        foreach (int index in indices) T = Math.Max(T, sequences[index].Length / I);
        if (_lengths.Length < B) _lengths = new int[B];
        if (_input.Length < T * B * I) _input = new float[T * B * I];
        Count = B;
        Steps = T;
        FeaturesPerStep = I;
        Span<float> input = _input.AsSpan(0, T * B * I);
        input.Clear();
        for (int b = 0; b < B; b++)
        {
            float[] sequence = sequences[indices[b]];
            int length = sequence.Length / I;
            _lengths[b] = length;
            for (int t = 0; t < length; t++) sequence.AsSpan(t * I, I).CopyTo(input.Slice((t * B + b) * I, I));
        }
    }

    /// <summary>Packs one sequence (B = 1): time-major <c>[T, 1, I]</c> is the step-major sequence itself.</summary>
    public void PackOne(ReadOnlySpan<float> sequence, int featuresPerStep)
    {
        if (_lengths.Length < 1) _lengths = new int[1];
        if (_input.Length < sequence.Length) _input = new float[sequence.Length];
        Count = 1;
        FeaturesPerStep = featuresPerStep;
        Steps = sequence.Length / featuresPerStep;
        _lengths[0] = Steps;
        sequence.CopyTo(_input);
    }
}
