using System.Globalization;

namespace MlNet.Rnn.Core.Training;

/// <summary>The argument checks every <see cref="ILoss"/> shares: shapes, finite values, non-negative weights.</summary>
internal static class LossArguments
{
    /// <summary>Checks shapes and values; <paramref name="targetWidth"/> is the values per row of the target (1 for class indices).</summary>
    public static void Check(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, int rows, int width, int targetWidth,
        ReadOnlySpan<float> weights, Span<float> gradient)
    {
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "rows must be ≥ 0.");
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, "width must be ≥ 1.");
        long elements = (long)rows * width;
        if (prediction.Length != elements)
            throw new ArgumentException($"prediction holds {prediction.Length} values but [rows, width] = [{rows}, {width}] needs {elements}.", nameof(prediction));
        if (gradient.Length != elements)
            throw new ArgumentException($"gradient holds {gradient.Length} values but [rows, width] = [{rows}, {width}] needs {elements}.", nameof(gradient));
        if (target.Length != (long)rows * targetWidth)
            throw new ArgumentException(
                $"target holds {target.Length} values but needs {(long)rows * targetWidth}: {targetWidth} per row for {rows} rows.",
                nameof(target));
        if (!weights.IsEmpty && weights.Length != rows)
            throw new ArgumentException($"weights holds {weights.Length} values but there are {rows} rows; give one weight per row or none.", nameof(weights));
        CheckFinite(prediction, width, nameof(prediction));
        CheckFinite(target, targetWidth, nameof(target));
        for (int r = 0; r < weights.Length; r++)
            if (!(weights[r] >= 0 && float.IsFinite(weights[r])))
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"weights[row {r}] is {weights[r]}; a row weight must be finite and ≥ 0 (0 masks the row)."),
                    nameof(weights));
    }

    /// <summary>The weight of row r (1 when no weights are given).</summary>
    public static double Weight(ReadOnlySpan<float> weights, int row) => weights.IsEmpty ? 1.0 : weights[row];

    private static void CheckFinite(ReadOnlySpan<float> values, int width, string name)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"{name}[row {i / width}, column {i % width}] is {values[i]}; losses need finite values."),
                    name);
    }
}
