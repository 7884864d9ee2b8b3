using MlNet.Rnn.Core.Cells;

namespace MlNet.Rnn.Core.Tests.Cells;

/// <summary>
/// The bias each cell adds to its input projection once per pass (<c>CombineBiases</c>), against PyTorch's equations:
/// LSTM and RNN add <c>b_ih + b_hh</c> to every gate; GRU adds it to r and z only, and <c>b_in</c> alone to n, since
/// <c>b_hn</c> sits inside the reset gate's product (<c>n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn))</c>).
/// </summary>
public sealed class CellBiasTests
{
    private const int H = 5;

    private static float[] Ramp(int length, float start) => [.. Enumerable.Range(0, length).Select(i => start + 0.25f * i)];

    [Fact]
    public void GruCombinesRAndZButLeavesTheRecurrentBiasOfNToTheResetGate()
    {
        float[] input = Ramp(3 * H, 1f), recurrent = Ramp(3 * H, -7f), combined = Ramp(3 * H, 100f);
        GruCell.CombineBiases(input, recurrent, combined);
        float[] expected = [.. Enumerable.Range(0, 3 * H).Select(j => j < 2 * H ? input[j] + recurrent[j] : input[j])];
        Assert.Equal(expected, combined);
    }

    [Fact]
    public void LstmAndRnnAddBothBiasesToEveryGate()
    {
        float[] input = Ramp(4 * H, 1f), recurrent = Ramp(4 * H, -7f), combined = new float[4 * H];
        LstmCell.CombineBiases(input, recurrent, combined);
        Assert.Equal([.. input.Zip(recurrent, (a, b) => a + b)], combined);

        combined = new float[H];
        RnnCell.CombineBiases(input.AsSpan(0, H), recurrent.AsSpan(0, H), combined);
        Assert.Equal([.. input.Take(H).Zip(recurrent, (a, b) => a + b)], combined);
    }
}
