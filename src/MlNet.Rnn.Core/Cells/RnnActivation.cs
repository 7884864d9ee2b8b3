namespace MlNet.Rnn.Core.Cells;

/// <summary>The activation g1 of an Elman RNN cell.</summary>
public enum RnnActivation
{
    /// <summary>Hyperbolic tangent (PyTorch's default).</summary>
    Tanh,
    /// <summary>max(0, x).</summary>
    Relu,
    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,
}
