namespace MlNet.Rnn.Core.Tagging;

/// <summary>
/// Precision <c>P = tp / predicted</c>, recall <c>R = tp / gold</c> and <c>F1 = 2PR / (P + R)</c>, each 0 when its
/// denominator is 0 (scikit-learn's <c>zero_division=0</c>, conlleval's convention).
/// </summary>
/// <param name="TruePositives">tp: predictions that match the gold answer.</param>
/// <param name="Predicted">Predictions made.</param>
/// <param name="Gold">Gold answers (the support).</param>
public readonly record struct PrecisionRecall(long TruePositives, long Predicted, long Gold)
{
    /// <summary>P = tp / predicted.</summary>
    public double Precision => Predicted > 0 ? (double)TruePositives / Predicted : 0;

    /// <summary>R = tp / gold.</summary>
    public double Recall => Gold > 0 ? (double)TruePositives / Gold : 0;

    /// <summary>F1 = 2PR / (P + R).</summary>
    public double F1 => Precision + Recall > 0 ? 2 * Precision * Recall / (Precision + Recall) : 0;
}

/// <summary>The scores of one tag, counted over tokens.</summary>
/// <param name="Tag">The tag index.</param>
/// <param name="Name">The tag name.</param>
/// <param name="Counts">tp, predicted and gold counts of this tag.</param>
public sealed record TagMetrics(int Tag, string Name, PrecisionRecall Counts)
{
    /// <summary>Tokens whose gold tag is this one.</summary>
    public long Support => Counts.Gold;

    /// <summary>P of this tag.</summary>
    public double Precision => Counts.Precision;

    /// <summary>R of this tag.</summary>
    public double Recall => Counts.Recall;

    /// <summary>F1 of this tag.</summary>
    public double F1 => Counts.F1;
}

/// <summary>Averages over tags: macro (unweighted mean of per-tag values) or micro (from summed counts).</summary>
/// <param name="Precision">Averaged precision.</param>
/// <param name="Recall">Averaged recall.</param>
/// <param name="F1">Averaged F1 (macro: the mean of per-tag F1, as scikit-learn; not the F1 of the mean P and R).</param>
public readonly record struct AveragedMetrics(double Precision, double Recall, double F1);
