namespace MlNet.Rnn.Core.Tests.Reference;

/// <summary>
/// The loss a gradient check of a recurrent network differentiates, <c>L = Σ output⊙R_y + Σ h_n⊙R_h + Σ c_n⊙R_c</c> with
/// fixed random R: the R are the upstream gradients the production backward is given, <see cref="Of"/> is L of a
/// reference forward.
/// </summary>
internal sealed class ProbeLoss
{
    /// <summary>Draws R_y <c>[outputLength]</c>, R_h and R_c <c>[stateLength]</c> from U(−1, 1), in that order.</summary>
    public ProbeLoss(Random random, int outputLength, int stateLength)
    {
        OutputWeights = NetworkFactory.RandomFloats(random, outputLength);
        HiddenWeights = NetworkFactory.RandomFloats(random, stateLength);
        CellWeights = NetworkFactory.RandomFloats(random, stateLength);
    }

    /// <summary>R_y <c>[T, B, D·H]</c>.</summary>
    public float[] OutputWeights { get; }

    /// <summary>R_h <c>[L·D, B, H]</c>.</summary>
    public float[] HiddenWeights { get; }

    /// <summary>R_c <c>[L·D, B, H]</c>, used only with a cell state.</summary>
    public float[] CellWeights { get; }

    public double Of((double[] Output, double[] FinalHidden, double[] FinalCell) forward, bool hasCell)
    {
        double sum = 0;
        for (int i = 0; i < forward.Output.Length; i++) sum += forward.Output[i] * OutputWeights[i];
        for (int i = 0; i < forward.FinalHidden.Length; i++) sum += forward.FinalHidden[i] * HiddenWeights[i];
        if (hasCell) for (int i = 0; i < forward.FinalCell.Length; i++) sum += forward.FinalCell[i] * CellWeights[i];
        return sum;
    }

    /// <summary><c>Σ values⊙weights</c>: the probe of a single output.</summary>
    public static double Dot(ReadOnlySpan<double> values, ReadOnlySpan<float> weights)
    {
        double sum = 0;
        for (int i = 0; i < values.Length; i++) sum += values[i] * weights[i];
        return sum;
    }
}
