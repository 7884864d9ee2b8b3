namespace MlNet.Rnn.Core.Layers;

/// <summary>The activation g2 of the <see cref="Dense"/> output layer.</summary>
public enum OutputActivation
{
    /// <summary>y = z (regression, or logits for a loss that applies its own link).</summary>
    Identity,
    /// <summary>y = 1 / (1 + e^-z), element-wise (binary or multi-label probabilities).</summary>
    Sigmoid,
    /// <summary>y = e^z / Σ e^z over each row (class probabilities).</summary>
    Softmax,
}
