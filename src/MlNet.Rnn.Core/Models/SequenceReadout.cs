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
}
