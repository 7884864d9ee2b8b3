using System.Numerics;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Training;

/// <summary>
/// Proves RMSprop against PyTorch's formulas computed by hand in double precision, on a length with a vector body and a
/// scalar tail: <c>s ← α·s + (1−α)·g²</c>, centered <c>ḡ ← α·ḡ + (1−α)·g</c> and <c>a = √(s − ḡ²) + ε</c>, plain
/// <c>a = √s + ε</c>, <c>θ ← θ − lr·g/a</c>; with a large ε so its sign shows, and the saved <c>grad_avg</c> state.
/// </summary>
public sealed class RmsPropCenteredTests
{
    private static readonly int Length = 2 * Vector<float>.Count + 3;

    private static float Gradient(int step, int i) => (float)Math.Sin(1.3 * i + 0.7 * step) * (1 + i % 3);

    private static void Run(bool centered)
    {
        const float lr = 0.05f, alpha = 0.9f, epsilon = 0.25f;
        var parameters = new ParameterSet();
        parameters.Add("w", Length);
        double[] θ = new double[Length], s = new double[Length], mean = new double[Length];
        for (int i = 0; i < Length; i++) parameters.Values[i] = (float)(θ[i] = 0.1 * i - 0.5);
        var optimizer = new RmsProp(parameters, lr, alpha, epsilon, centered: centered);
        for (int step = 0; step < 3; step++)
        {
            for (int i = 0; i < Length; i++)
            {
                double g = Gradient(step, i);
                parameters.Gradients[i] = (float)g;
                s[i] = alpha * s[i] + (1 - (double)alpha) * g * g;
                mean[i] = alpha * mean[i] + (1 - (double)alpha) * g;
                double a = Math.Sqrt(centered ? s[i] - mean[i] * mean[i] : s[i]) + epsilon;
                θ[i] -= lr * g / a;
            }
            optimizer.Step();
            for (int i = 0; i < Length; i++) Assert.Equal(θ[i], parameters.Values[i], 1e-5);
            if (!centered) continue;
            var state = new Dictionary<string, float[]>();
            optimizer.SaveState(state);
            for (int i = 0; i < Length; i++) Assert.Equal(mean[i], state["grad_avg"][i], 1e-5);
        }
    }

    [Fact]
    public void Centered_ThreeSteps_FollowPyTorchsFormulas() => Run(centered: true);

    [Fact]
    public void Plain_ThreeSteps_AddEpsilonAfterTheSquareRoot() => Run(centered: false);
}
