using MlNet.Rnn.Core.Cells;

namespace MlNet.Rnn.Core.Tests.Cells;

/// <summary>
/// The cells check their buffers before the fused kernels write through raw references: every buffer one element shorter
/// than its documented size (G·H per row for the projections, H per row for states and gradients, the cache width per row,
/// 3H for the GRU's recurrent bias) is refused with the cell's message, while buffers of exactly that size, or longer,
/// are accepted. A check that tested the wrong buffer, the wrong size or the wrong direction would let a kernel read or
/// write past the end of a caller's array.
/// </summary>
public sealed class CellBufferGuardTests
{
    private const int Rows = 3, H = 5;

    /// <summary>A call of one pass of one cell with buffers of the given lengths, by name.</summary>
    private delegate void Pass(IReadOnlyDictionary<string, int> lengths);

    private static void Forward<TCell>(TCell cell, IReadOnlyDictionary<string, int> n) where TCell : IRecurrentCell =>
        cell.Forward(Rows, H, new float[n["xProj"]], new float[n["hProj"]], new float[n["recurrentBias"]], new float[n["h"]],
            new float[n["c"]], new float[n["cache"]]);

    private static void Backward<TCell>(TCell cell, IReadOnlyDictionary<string, int> n) where TCell : IRecurrentCell =>
        cell.Backward(Rows, H, new float[n["cache"]], new float[n["hPrev"]], new float[n["dh"]], new float[n["dc"]],
            new float[n["dGx"]], new float[n["dGh"]]);

    /// <summary>Each cell and pass: the call, the sizes it documents for the buffers it checks, and its message.</summary>
    private static (Pass Call, Dictionary<string, int> Checked, Dictionary<string, int> Unchecked, string Message) Case(string name) => name switch
    {
        "Lstm.Forward" => (n => Forward(new LstmCell(), n),
            new() { ["xProj"] = Rows * 4 * H, ["hProj"] = Rows * 4 * H, ["h"] = Rows * H, ["c"] = Rows * H, ["cache"] = Rows * 6 * H },
            new() { ["recurrentBias"] = 4 * H }, "A buffer is shorter than rows × (4H, 4H, H, H, 6H)."),
        "Lstm.Backward" => (n => Backward(new LstmCell(), n),
            new() { ["cache"] = Rows * 6 * H, ["dh"] = Rows * H, ["dc"] = Rows * H, ["dGx"] = Rows * 4 * H },
            new() { ["hPrev"] = Rows * H, ["dGh"] = Rows * 4 * H }, "A buffer is shorter than rows × (6H, H, H, 4H)."),
        "Gru.Forward" => (n => Forward(new GruCell(), n),
            new() { ["xProj"] = Rows * 3 * H, ["hProj"] = Rows * 3 * H, ["h"] = Rows * H, ["recurrentBias"] = 3 * H, ["cache"] = Rows * 4 * H },
            new() { ["c"] = 0 }, "A buffer is shorter than rows × (3H, 3H, H, 4H) or b_hh than 3H."),
        "Gru.Backward" => (n => Backward(new GruCell(), n),
            new() { ["cache"] = Rows * 4 * H, ["hPrev"] = Rows * H, ["dh"] = Rows * H, ["dGx"] = Rows * 3 * H, ["dGh"] = Rows * 3 * H },
            new() { ["dc"] = 0 }, "A buffer is shorter than rows × (4H, H, H, 3H, 3H)."),
        "Rnn.Forward" => (n => Forward(new RnnCell(RnnActivation.Tanh), n),
            new() { ["xProj"] = Rows * H, ["hProj"] = Rows * H, ["h"] = Rows * H, ["cache"] = Rows * H },
            new() { ["recurrentBias"] = H, ["c"] = 0 }, "A buffer is shorter than rows × H."),
        "Rnn.Backward" => (n => Backward(new RnnCell(RnnActivation.Tanh), n),
            new() { ["cache"] = Rows * H, ["dh"] = Rows * H, ["dGx"] = Rows * H },
            new() { ["hPrev"] = Rows * H, ["dc"] = 0, ["dGh"] = 0 }, "A buffer is shorter than rows × H."),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    public static TheoryData<string> Passes => ["Lstm.Forward", "Lstm.Backward", "Gru.Forward", "Gru.Backward", "Rnn.Forward", "Rnn.Backward"];

    private static Dictionary<string, int> Lengths(Dictionary<string, int> checkedSizes, Dictionary<string, int> uncheckedSizes,
        string? changed = null, int by = 0)
    {
        var lengths = new Dictionary<string, int>(uncheckedSizes);
        foreach (var (buffer, size) in checkedSizes) lengths[buffer] = buffer == changed ? size + by : size;
        return lengths;
    }

    [Theory]
    [MemberData(nameof(Passes))]
    public void EachCheckedBufferOneElementShortIsRefusedWithTheCellsMessage(string pass)
    {
        var (call, sizes, others, message) = Case(pass);
        foreach (string buffer in sizes.Keys)
        {
            var exception = Assert.Throws<ArgumentException>(() => call(Lengths(sizes, others, buffer, -1)));
            Assert.Equal(message, exception.Message);
        }
    }

    [Theory]
    [MemberData(nameof(Passes))]
    public void BuffersOfExactlyTheDocumentedSizeOrLongerAreAccepted(string pass)
    {
        var (call, sizes, others, _) = Case(pass);
        call(Lengths(sizes, others));
        foreach (string buffer in sizes.Keys) call(Lengths(sizes, others, buffer, +7));
    }

    [Theory]
    [InlineData("Lstm.Forward")]
    [InlineData("Gru.Forward")]
    [InlineData("Rnn.Forward")]
    public void AnInferenceForwardWithoutACacheIsAccepted(string pass)
    {
        var (call, sizes, others, _) = Case(pass);
        var lengths = Lengths(sizes, others);
        lengths["cache"] = 0;
        call(lengths);
    }
}
