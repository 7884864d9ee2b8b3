using MlNet.Rnn.Core.Kernels;

namespace MlNet.Rnn.Core.Tests.Kernels;

/// <summary>
/// The cell kernels' own e^x, σ and tanh (<see cref="GateActivations"/>) at every lane width (512, 256, 128 bits and
/// the scalar tail; a width the hardware lacks runs in software) against double precision, on −100..100 in steps of
/// 0.01 and at the edges: e^x within 2e−7 relative on the range it represents, [−87, 88] (measured 7.8e−8), and
/// saturated outside it; σ within 4e−7 relative (measured 1.4e−7) and tanh within 2.5e−7 absolute (measured 1.7e−7)
/// everywhere; exactly 1 and ±1 at ±∞, σ(−∞) ≤ 1e−38; NaN in, NaN out. The cell tests feed pre-activations of a few
/// units only; this sweep covers the clamp and the range reduction.
/// </summary>
public sealed class GateActivationsTests
{
    private static readonly float[] s_inputs = Inputs();

    public static TheoryData<int> Widths() => new() { 512, 256, 128, 1 };

    [Theory]
    [MemberData(nameof(Widths))]
    public void Exp_MatchesDoublePrecision_AndSaturatesOutsideFloatRange(int width)
    {
        float[] result = Apply(width, Function.Exp);
        float high = (float)Math.Exp(88), low = (float)Math.Exp(-87);
        for (int k = 0; k < s_inputs.Length; k++)
        {
            float x = s_inputs[k];
            string at = $"width {width}: e^{x:R} = {result[k]:R}";
            if (float.IsNaN(x)) Assert.True(float.IsNaN(result[k]), at);
            else if (x > 88) AssertClose(high, result[k], 2e-7, 0, at + " (saturated at e^88)");
            else if (x < -87) AssertClose(low, result[k], 2e-7, 0, at + " (saturated at e^−87)");
            else AssertClose(Math.Exp(x), result[k], 2e-7, 0, at);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Sigmoid_MatchesDoublePrecision_AndHasItsLimits(int width)
    {
        float[] result = Apply(width, Function.Sigmoid);
        for (int k = 0; k < s_inputs.Length; k++)
        {
            float x = s_inputs[k];
            string at = $"width {width}: σ({x:R}) = {result[k]:R}";
            if (float.IsNaN(x)) Assert.True(float.IsNaN(result[k]), at);
            else if (float.IsPositiveInfinity(x)) Assert.Equal(1f, result[k]);
            else AssertClose(1 / (1 + Math.Exp(-(double)x)), result[k], 4e-7, 1e-38, at);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Tanh_MatchesDoublePrecision_AndHasItsLimits(int width)
    {
        float[] result = Apply(width, Function.Tanh);
        for (int k = 0; k < s_inputs.Length; k++)
        {
            float x = s_inputs[k];
            string at = $"width {width}: tanh({x:R}) = {result[k]:R}";
            if (float.IsNaN(x)) Assert.True(float.IsNaN(result[k]), at);
            else if (float.IsInfinity(x)) Assert.Equal(MathF.Sign(x), result[k]);
            else AssertClose(Math.Tanh(x), result[k], 0, 2.5e-7, at);
        }
    }

    private enum Function
    {
        Exp,
        Sigmoid,
        Tanh,
    }

    /// <summary>−100..100 in steps of 0.01, the clamp edges, tiny and signed-zero inputs, ±∞ and NaN, padded to 16.</summary>
    private static float[] Inputs()
    {
        var inputs = new List<float>();
        for (int k = -10_000; k <= 10_000; k++) inputs.Add(k / 100f);
        inputs.AddRange([-87.5f, -87f, -86.99f, 87.99f, 88f, 88.01f, 88.7f, 89f, 1e-8f, -1e-8f, 1e-30f, 0f, -0f,
            float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN]);
        while (inputs.Count % 16 != 0) inputs.Add(float.NaN);
        return [.. inputs];
    }

    private static float[] Apply(int width, Function function) => width switch
    {
        512 => Apply<Lanes512>(function),
        256 => Apply<Lanes256>(function),
        128 => Apply<Lanes128>(function),
        _ => Apply<Lane1>(function),
    };

    private static float[] Apply<TLanes>(Function function) where TLanes : struct, ILanes<TLanes>
    {
        var result = new float[s_inputs.Length];
        for (int k = 0; k < s_inputs.Length; k += TLanes.Count)
        {
            var x = TLanes.Load(ref s_inputs[k], 0);
            var y = function switch
            {
                Function.Exp => GateActivations.Exp(x),
                Function.Sigmoid => GateActivations.Sigmoid(x),
                _ => GateActivations.Tanh(x),
            };
            y.Store(ref result[k], 0);
        }
        return result;
    }

    private static void AssertClose(double expected, float actual, double relative, double absolute, string at)
    {
        double allowed = absolute + relative * Math.Abs(expected);
        Assert.True(Math.Abs(actual - expected) <= allowed,
            $"{at}, expected {expected:R}: difference {Math.Abs(actual - expected):g3} > {allowed:g3}");
    }
}
