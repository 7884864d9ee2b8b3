namespace MlNet.Rnn.Core.Models;

/// <summary>Which recurrent outputs the head of a <see cref="SequenceModel"/> reads.</summary>
public enum SequenceReadout
{
    /// <summary>
    /// Many-to-one: one output per sequence from the top layer's final hidden state, both directions concatenated
    /// (forward: after the last real step; reverse: after step 0). Output <c>[B, O]</c>.
    /// </summary>
    LastStep,
    /// <summary>Many-to-many aligned: one output per real step. Output <c>[T, B, O]</c>, zeros at padded steps.</summary>
    EveryStep,
    /// <summary>
    /// Many-to-one: one output per sequence from the mean of the top layer's outputs over the sequence's real steps,
    /// <c>(1/T_b) Σ_(t &lt; T_b) y_t</c> <c>[B, D·H]</c> (mean pooling, as InferSent's encoders and Keras'
    /// <c>GlobalAveragePooling1D</c> read a sequence): every step reaches the head directly, so a long text's middle counts
    /// as much as its ends. Output <c>[B, O]</c>. Needs the whole sequence in one pass (no truncated backpropagation).
    /// </summary>
    MeanOverSteps,
}
