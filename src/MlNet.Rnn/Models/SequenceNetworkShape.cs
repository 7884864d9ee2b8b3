using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Models;

/// <summary>
/// Everything that fixes the parameters of a <see cref="SequenceNetwork"/>: the cell, I (<paramref name="FeaturesPerStep"/>),
/// H, L, D and O (<paramref name="Outputs"/>). Two networks of equal shape register the same tensors in the same order.
/// </summary>
internal sealed record SequenceNetworkShape(
    RecurrentCellType Cell,
    RnnActivation RnnActivation,
    int FeaturesPerStep,
    int HiddenSize,
    int Layers,
    bool Bidirectional,
    bool LearnedInitialState,
    int Outputs)
{
    /// <summary>D: 2 when bidirectional, else 1.</summary>
    public int Directions => Bidirectional ? 2 : 1;
}
