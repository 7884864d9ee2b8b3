using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Tests.Reference;

/// <summary>
/// The core's gradient standard, the one numerical derivative every test takes: central differences with step 1e-6 on a
/// double-precision reference's loss, compared element by element with the production gradient at 2e-4 relative + 2e-5
/// absolute (a test that documents a tighter tolerance passes its own).
/// </summary>
internal static class CentralDifferences
{
    public const double Step = 1e-6, Relative = 2e-4, Absolute = 2e-5;

    /// <summary><c>(L(v + h) − L(v − h)) / 2h</c>, <paramref name="value"/> perturbed in place and restored.</summary>
    public static double At(ref double value, Func<double> loss)
    {
        double saved = value;
        value = saved + Step;
        double plus = loss();
        value = saved - Step;
        double minus = loss();
        value = saved;
        return (plus - minus) / (2 * Step);
    }

    /// <summary>dL/d<paramref name="values"/>, each value perturbed in place and restored.</summary>
    public static double[] Of(double[] values, Func<double> loss)
    {
        var gradient = new double[values.Length];
        for (int i = 0; i < values.Length; i++) gradient[i] = At(ref values[i], loss);
        return gradient;
    }

    /// <summary>
    /// Asserts, for every tensor of <paramref name="parameters"/>, that <paramref name="actual"/> of it matches central
    /// differences of <paramref name="loss"/> over the reference's values of the same name.
    /// </summary>
    public static void AssertEveryParameter(ParameterSet parameters, Func<ParameterTensor, float[]> actual,
        Dictionary<string, double[]> reference, Func<double> loss, string what)
    {
        Assert.NotEmpty(parameters.Tensors);
        foreach (var tensor in parameters.Tensors)
            Tolerance.AssertClose(Of(reference[tensor.Name], loss), actual(tensor), Relative, Absolute, $"{what}: d{tensor.Name}");
    }

    /// <summary>The gradients the production code accumulated.</summary>
    public static Func<ParameterTensor, float[]> Accumulated(ParameterSet parameters) => tensor => parameters.GradientsOf(tensor).ToArray();

    /// <summary>
    /// The gradient one plain SGD step applied, <c>(θ_before − θ_after) / lr</c>: what a trainer used, seen from outside.
    /// </summary>
    public static Func<ParameterTensor, float[]> TakenBySgd(ParameterSet parameters, float[] before, float learningRate) => tensor =>
    {
        ReadOnlySpan<float> after = parameters.ValuesOf(tensor);
        var gradient = new float[after.Length];
        for (int i = 0; i < gradient.Length; i++) gradient[i] = (float)((before[tensor.Offset + i] - (double)after[i]) / learningRate);
        return gradient;
    };
}
