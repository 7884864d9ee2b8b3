namespace MlNet.Rnn.Core.Models;

/// <summary>The recurrent cell of a <see cref="SequenceModel"/>, for code that picks it from options or a file.</summary>
public enum RecurrentCellType
{
    /// <summary>Elman RNN (<see cref="Cells.RnnCell"/>).</summary>
    Rnn,
    /// <summary>Long short-term memory (<see cref="Cells.LstmCell"/>).</summary>
    Lstm,
    /// <summary>Gated recurrent unit (<see cref="Cells.GruCell"/>).</summary>
    Gru,
}
