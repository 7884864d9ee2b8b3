namespace MlNet.Rnn.Core.Cells;

/// <summary>
/// One time step of a recurrent cell over a block of rows, forward and backward, for the generic driver
/// <see cref="Layers.RecurrentLayer{TCell}"/>. Legend: H hidden size, G gate count, rows = sequences alive at the step.
/// </summary>
/// <remarks>
/// The driver computes, before calling <see cref="Forward"/>:
/// <c>xProj = x·W_ihᵀ + b_ih + b_hh</c> (for GRU without <c>b_hn</c>, which must stay inside the reset product) and
/// <c>hProj = h'·W_hhᵀ</c>, both <c>[rows, G·H]</c> with gate blocks in PyTorch's order.
/// After <see cref="Backward"/> it computes the weight gradients from the pre-activation gradients
/// <c>dGx</c> (with respect to xProj) and <c>dGh</c> (with respect to hProj) in three GEMMs after the time loop.
/// </remarks>
public interface IRecurrentCell
{
    /// <summary>G: gate blocks in the weight matrices (RNN 1, GRU 3, LSTM 4).</summary>
    static abstract int GateCount { get; }

    /// <summary>Whether the cell carries a cell state c besides h (LSTM).</summary>
    static abstract bool HasCellState { get; }

    /// <summary>Whether <c>dGh</c> differs from <c>dGx</c> (GRU's reset gate scales the recurrent part of n).</summary>
    static abstract bool HasSeparateRecurrentGradient { get; }

    /// <summary>
    /// The bias added to the input projection: <c>b_ih + b_hh</c>, except where the cell must apply part of
    /// <c>b_hh</c> itself (GRU's <c>b_hn</c>, inside the reset product). Spans are <c>[G·H]</c>.
    /// </summary>
    static abstract void CombineBiases(ReadOnlySpan<float> inputBias, ReadOnlySpan<float> recurrentBias, Span<float> combined);

    /// <summary>Floats per row that forward keeps for backward.</summary>
    static abstract int CacheWidth(int hiddenSize);

    /// <summary>
    /// Updates the state of <paramref name="rows"/> rows in place: <c>h [rows, H]</c> holds h' on entry and h on
    /// exit (likewise <c>c</c> for LSTM; empty otherwise). <paramref name="hProj"/> may be overwritten.
    /// <paramref name="recurrentBias"/> is <c>b_hh [G·H]</c> (only GRU reads it). <paramref name="cache"/> receives
    /// <c>[rows, CacheWidth]</c> for backward.
    /// </summary>
    void Forward(int rows, int hiddenSize, ReadOnlySpan<float> xProj, Span<float> hProj, ReadOnlySpan<float> recurrentBias,
        Span<float> h, Span<float> c, Span<float> cache);

    /// <summary>
    /// Backward of one step. On entry <c>dh [rows, H]</c> is dL/dh and <c>dc</c> dL/dc (LSTM); on exit <c>dh</c> is the
    /// part of dL/dh' that does not pass through W_hh (GRU's <c>z⊙dh</c>, else zero) and <c>dc</c> is dL/dc'.
    /// Writes the pre-activation gradients <c>dGx</c> and, when <see cref="HasSeparateRecurrentGradient"/>, <c>dGh</c>.
    /// </summary>
    void Backward(int rows, int hiddenSize, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev,
        Span<float> dh, Span<float> dc, Span<float> dGx, Span<float> dGh);
}
