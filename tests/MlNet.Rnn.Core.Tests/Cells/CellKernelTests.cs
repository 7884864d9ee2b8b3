using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Cells;

/// <summary>
/// Each cell's fused kernel, called directly through <see cref="IRecurrentCell"/>, against the reference's cell equations
/// of one unit in double precision (<see cref="ReferenceNetwork.Unit"/>), for every hidden size H = 1..70 (every vector
/// width and tail) and a few block heights. Forward: h and c from <c>xProj</c>, <c>hProj</c>, <c>b_hh</c>, h', c'.
/// Backward: with <c>L = Σ dh⊙h + Σ dc⊙c</c>, central differences of the double unit give <c>dGx = ∂L/∂xProj</c>,
/// <c>dGh = ∂L/∂hProj</c>, the direct part <c>∂L/∂h'</c> (hProj held fixed) and <c>dc' = ∂L/∂c'</c>.
/// </summary>
public sealed class CellKernelTests
{
    /// <summary>One unit of one step in double precision: tighter than a whole network's standard.</summary>
    private const double Relative = 1e-5, Absolute = 2e-6;

    public static TheoryData<string, int, int> Cases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var mode in NetworkFactory.Modes)
        {
            for (int H = 1; H <= 70; H++)
                foreach (int rows in new[] { 1, 3 })
                    data.Add(mode, H, rows);
            foreach (int H in new[] { 1, 3, 17, 33, 65 })
                data.Add(mode, H, 17);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackward_MatchScalarDoubleStep(string mode, int hiddenSize, int rows)
    {
        switch (mode)
        {
            case "LSTM": Check(mode, new LstmCell(), hiddenSize, rows); break;
            case "GRU": Check(mode, new GruCell(), hiddenSize, rows); break;
            case "RNN_TANH": Check(mode, new RnnCell(RnnActivation.Tanh), hiddenSize, rows); break;
            case "RNN_RELU": Check(mode, new RnnCell(RnnActivation.Relu), hiddenSize, rows); break;
            case "RNN_SIGMOID": Check(mode, new RnnCell(RnnActivation.Sigmoid), hiddenSize, rows); break;
            default: throw new ArgumentException($"Unknown mode {mode}.", nameof(mode));
        }
    }

    [Theory]
    [InlineData("LSTM")]
    [InlineData("GRU")]
    [InlineData("RNN_TANH")]
    [InlineData("RNN_RELU")]
    [InlineData("RNN_SIGMOID")]
    public void ANaNPreActivation_GivesNaN_AtEveryWidth(string mode)
    {
        // A diverged step must show as NaN, never as a plausible value: .NET 8's vector Max and Min return their second
        // operand when either is NaN, so a clamp or ReLU written with the NaN first turns it into a number there.
        // H = 29 runs a 512-bit, a 256-bit, a 128-bit step and the scalar tail in each row.
        switch (mode)
        {
            case "LSTM": CheckNaN(new LstmCell()); break;
            case "GRU": CheckNaN(new GruCell()); break;
            case "RNN_TANH": CheckNaN(new RnnCell(RnnActivation.Tanh)); break;
            case "RNN_RELU": CheckNaN(new RnnCell(RnnActivation.Relu)); break;
            default: CheckNaN(new RnnCell(RnnActivation.Sigmoid)); break;
        }

        static void CheckNaN<TCell>(TCell cell) where TCell : struct, IRecurrentCell
        {
            const int H = 29, rows = 2;
            int gateWidth = TCell.GateCount * H;
            float[] xProj = new float[rows * gateWidth];
            xProj.AsSpan().Fill(float.NaN);
            float[] h = new float[rows * H], c = TCell.HasCellState ? new float[rows * H] : [];
            cell.Forward(rows, H, xProj, new float[rows * gateWidth], new float[gateWidth], h, c, default);
            int number = Array.FindIndex(h, value => !float.IsNaN(value));
            Assert.True(number < 0, $"h[{number}] = {(number < 0 ? 0 : h[number])} from NaN pre-activations.");
        }
    }

    private static void Check<TCell>(string mode, TCell cell, int H, int rows) where TCell : struct, IRecurrentCell
    {
        int G = TCell.GateCount, gateWidth = G * H;
        bool hasCell = TCell.HasCellState;
        var random = new Random(1000 * H + rows);
        float[] xProj = NetworkFactory.RandomFloats(random, rows * gateWidth, 2);
        float[] hProj = NetworkFactory.RandomFloats(random, rows * gateWidth, 2);
        float[] recurrentBias = NetworkFactory.RandomFloats(random, gateWidth);
        float[] hPrev = NetworkFactory.RandomFloats(random, rows * H);
        float[] cPrev = hasCell ? NetworkFactory.RandomFloats(random, rows * H, 2) : [];
        float[] dhIn = NetworkFactory.RandomFloats(random, rows * H);
        float[] dcIn = hasCell ? NetworkFactory.RandomFloats(random, rows * H) : [];
        if (mode == "RNN_RELU")
            // Keep pre-activations off relu's kink, where a central difference is not the derivative.
            for (int i = 0; i < xProj.Length; i++)
                if (MathF.Abs(xProj[i] + hProj[i]) < 1e-3f) xProj[i] += 0.5f;
        string name = $"{mode} H={H} rows={rows}";

        // Forward with a cache (training) and without (inference): same state, and the double step.
        float[] h = (float[])hPrev.Clone(), c = (float[])cPrev.Clone();
        float[] cache = new float[rows * TCell.CacheWidth(H)];
        cell.Forward(rows, H, xProj, (float[])hProj.Clone(), recurrentBias, h, c, cache);
        float[] hInference = (float[])hPrev.Clone(), cInference = (float[])cPrev.Clone();
        cell.Forward(rows, H, xProj, (float[])hProj.Clone(), recurrentBias, hInference, cInference, default);

        var expectedH = new double[rows * H];
        var expectedC = new double[rows * H];
        var expectedDGx = new double[rows * gateWidth];
        var expectedDGh = new double[rows * gateWidth];
        var expectedDh = new double[rows * H];
        var expectedDc = new double[rows * H];
        var x = new double[G];
        var hp = new double[G];
        for (int row = 0; row < rows; row++)
        {
            for (int j = 0; j < H; j++)
            {
                int unit = row * H + j;
                for (int g = 0; g < G; g++)
                {
                    x[g] = xProj[row * gateWidth + g * H + j];
                    hp[g] = hProj[row * gateWidth + g * H + j];
                }
                double bhn = G == 3 ? recurrentBias[2 * H + j] : 0;
                double previous = hPrev[unit], previousCell = hasCell ? cPrev[unit] : 0;
                double upstreamH = dhIn[unit], upstreamC = hasCell ? dcIn[unit] : 0;
                (expectedH[unit], expectedC[unit]) = Unit(mode, x, hp, bhn, previous, previousCell);

                double Loss()
                {
                    var (hj, cj) = Unit(mode, x, hp, bhn, previous, previousCell);
                    return upstreamH * hj + upstreamC * cj;
                }
                for (int g = 0; g < G; g++)
                {
                    expectedDGx[row * gateWidth + g * H + j] = CentralDifferences.At(ref x[g], Loss);
                    expectedDGh[row * gateWidth + g * H + j] = CentralDifferences.At(ref hp[g], Loss);
                }
                expectedDh[unit] = CentralDifferences.At(ref previous, Loss);
                expectedDc[unit] = CentralDifferences.At(ref previousCell, Loss);
            }
        }

        Tolerance.AssertClose(expectedH, h, Relative, Absolute, $"{name}: forward h");
        Assert.Equal(h, hInference);
        if (hasCell)
        {
            Tolerance.AssertClose(expectedC, c, Relative, Absolute, $"{name}: forward c");
            Assert.Equal(c, cInference);
        }

        float[] dh = (float[])dhIn.Clone(), dc = (float[])dcIn.Clone();
        float[] dGx = new float[rows * gateWidth];
        float[] dGh = TCell.HasSeparateRecurrentGradient ? new float[rows * gateWidth] : [];
        dGx.AsSpan().Fill(float.NaN);
        dGh.AsSpan().Fill(float.NaN);
        cell.Backward(rows, H, cache, hPrev, dh, dc, dGx, dGh);

        Tolerance.AssertClose(expectedDGx, dGx, Relative, Absolute, $"{name}: dGx (∂L/∂xProj)");
        if (TCell.HasSeparateRecurrentGradient)
            Tolerance.AssertClose(expectedDGh, dGh, Relative, Absolute, $"{name}: dGh (∂L/∂hProj)");
        else
            // The driver uses dGx for the recurrent product too, so the two must agree.
            Tolerance.AssertClose(expectedDGh, dGx, Relative, Absolute, $"{name}: dGx as ∂L/∂hProj");
        Tolerance.AssertClose(expectedDh, dh, Relative, Absolute, $"{name}: direct ∂L/∂h'");
        if (hasCell) Tolerance.AssertClose(expectedDc, dc, Relative, Absolute, $"{name}: dc' (∂L/∂c')");
    }

    /// <summary>
    /// One hidden unit of one step: the kernel's <c>xProj</c> is the reference's input pre-activation and its <c>hProj</c>
    /// the recurrent one, except that the GRU's n gate adds its recurrent bias inside the reset product,
    /// <c>x[2] + r·(hp[2] + b_hn)</c>. Returns (h, c); c is 0 for cells without a cell state.
    /// </summary>
    private static (double H, double C) Unit(string mode, double[] x, double[] hp, double bhn, double hPrev, double cPrev)
    {
        Span<double> recurrent = stackalloc double[hp.Length];
        hp.CopyTo(recurrent);
        if (mode == "GRU") recurrent[2] += bhn;
        return ReferenceNetwork.Unit(mode, x, recurrent, hPrev, cPrev);
    }
}
