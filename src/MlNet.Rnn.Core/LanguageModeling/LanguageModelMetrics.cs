namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// How well a <see cref="LanguageModel"/> predicts a text of N scored tokens <c>x_1 … x_N</c>:
/// <c>LogLikelihood = Σ_t ln p(x_t | start, x_1 … x_(t−1))</c> (natural log), <c>CrossEntropy = −LogLikelihood / N</c> nats per
/// token, <c>BitsPerToken = CrossEntropy / ln 2</c> (bits per character for a character model) and
/// <c>Perplexity = exp(CrossEntropy) = 2^BitsPerToken</c>.
/// </summary>
/// <param name="LogLikelihood">Σ ln p of the scored tokens, ≤ 0.</param>
/// <param name="TokenCount">N: tokens scored (the end token counts when it is scored).</param>
public sealed record LanguageModelMetrics(double LogLikelihood, long TokenCount)
{
    /// <summary>Mean negative log-likelihood in nats per token.</summary>
    public double CrossEntropy => -LogLikelihood / TokenCount;

    /// <summary>Mean negative log-likelihood in bits per token (bits per character for a character model).</summary>
    public double BitsPerToken => CrossEntropy / Math.Log(2);

    /// <summary>exp(cross-entropy): the number of equally likely choices the model is as unsure as, on average.</summary>
    public double Perplexity => Math.Exp(CrossEntropy);
}
