namespace MlNet.Rnn.Core.Tests.Reference;

/// <summary>
/// Softmax and log-softmax of one row of logits in double precision, shifted by the row's maximum so that large logits do
/// not overflow: <c>p_k = e^(z_k − m) / Σ_j e^(z_j − m)</c>, <c>ln p_k = z_k − m − ln Σ_j e^(z_j − m)</c>.
/// </summary>
internal static class Softmax
{
    public static double[] Of(ReadOnlySpan<double> logits)
    {
        double max = Max(logits), sum = 0;
        var result = new double[logits.Length];
        for (int k = 0; k < logits.Length; k++) sum += result[k] = Math.Exp(logits[k] - max);
        for (int k = 0; k < logits.Length; k++) result[k] /= sum;
        return result;
    }

    public static double[] Log(ReadOnlySpan<double> logits)
    {
        double max = Max(logits), sum = 0;
        for (int k = 0; k < logits.Length; k++) sum += Math.Exp(logits[k] - max);
        double logSum = max + Math.Log(sum);
        var result = new double[logits.Length];
        for (int k = 0; k < logits.Length; k++) result[k] = logits[k] - logSum;
        return result;
    }

    private static double Max(ReadOnlySpan<double> values)
    {
        double max = double.NegativeInfinity;
        foreach (double value in values) max = Math.Max(max, value);
        return max;
    }
}
