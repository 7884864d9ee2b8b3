using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Models;

/// <summary>
/// The core's gradient standard applied to a double-precision reference: central differences with step 1e-6 on the
/// reference's loss, compared element by element with the production gradient at 2e-4 relative + 2e-5 absolute.
/// </summary>
internal static class CentralDifferences
{
    public const double Step = 1e-6, Relative = 2e-4, Absolute = 2e-5;

    /// <summary>dL/d<paramref name="values"/> by central differences, each value perturbed in place and restored.</summary>
    public static double[] Of(double[] values, Func<double> loss)
    {
        var gradient = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double saved = values[i];
            values[i] = saved + Step;
            double plus = loss();
            values[i] = saved - Step;
            double minus = loss();
            values[i] = saved;
            gradient[i] = (plus - minus) / (2 * Step);
        }
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

    /// <summary>Sets every parameter to U(−scale, scale), so learned initial states and biases are not zero.</summary>
    public static void Randomize(ParameterSet parameters, Random random, double scale)
    {
        Span<float> values = parameters.Values;
        for (int i = 0; i < values.Length; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * scale);
    }
}
