using System.Diagnostics;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;
using Xunit.Abstractions;

namespace MlNet.Rnn.Core.Tests.Learning;

/// <summary>
/// The adding problem (Hochreiter and Schmidhuber 1997) with T = 50: each step carries a value ~ U(0, 1) and a marker;
/// exactly two steps are marked (one in each half) and the target is the sum of their values. Always predicting 1
/// scores MSE 1/6 ≈ 0.167; a network must carry information across up to 50 steps to beat it. Training stops as soon
/// as the held-out MSE is below 0.01, within a step budget that keeps the test short.
/// </summary>
public sealed class AddingProblemTests(ITestOutputHelper log)
{
    private const int T = 50, B = 64, H = 32, TestSize = 512, MaxSteps = 3000;

    [Fact]
    public void Lstm_SolvesAddingProblem() => Train(new RecurrentNetwork<LstmCell>(Options(), parameters: new ParameterSet()), 0.005f);

    [Fact]
    public void Gru_SolvesAddingProblem() => Train(new RecurrentNetwork<GruCell>(Options(), parameters: new ParameterSet()), 0.005f);

    private static RecurrentNetworkOptions Options() => new() { InputSize = 2, HiddenSize = H };

    private void Train(IRecurrentNetwork network, float learningRate)
    {
        var random = new Random(1);
        var head = new Dense(network.Parameters, "head", H, 1, OutputActivation.Identity);
        network.Initialize(random);
        head.Initialize(random);
        var adam = new Adam(network.Parameters, learningRate);
        var (testInput, testTarget) = Batch(new Random(99), TestSize);
        var testOutput = new float[T * TestSize * H];
        var testPrediction = new float[TestSize];
        var output = new float[T * B * H];
        var outputGradient = new float[T * B * H];
        var prediction = new float[B];
        var predictionGradient = new float[B];
        var lastGradient = new float[B * H];
        var clock = Stopwatch.StartNew();
        double testMse = double.NaN;
        int step;
        for (step = 1; step <= MaxSteps; step++)
        {
            var (input, target) = Batch(random, B);
            network.Parameters.ZeroGradients();
            network.Forward(input, B, [], output, training: true);
            ReadOnlySpan<float> last = output.AsSpan((T - 1) * B * H, B * H);
            head.Forward(last, B, prediction);
            for (int b = 0; b < B; b++) predictionGradient[b] = 2 * (prediction[b] - target[b]) / B;
            head.Backward(last, prediction, predictionGradient, B, lastGradient);
            lastGradient.CopyTo(outputGradient.AsSpan((T - 1) * B * H));
            network.Backward(outputGradient);
            adam.Step();
            if (step % 100 != 0) continue;
            network.Forward(testInput, TestSize, [], testOutput);
            head.Forward(testOutput.AsSpan((T - 1) * TestSize * H, TestSize * H), TestSize, testPrediction);
            testMse = 0;
            for (int b = 0; b < TestSize; b++) testMse += Math.Pow(testPrediction[b] - testTarget[b], 2) / TestSize;
            log.WriteLine($"step {step}: held-out MSE {testMse:F4} ({clock.Elapsed.TotalSeconds:F1} s)");
            if (testMse < 0.01) break;
        }
        // Always predicting the mean of the held-out targets scores their variance, about 1/6.
        double mean = testTarget.Average(y => (double)y), meanMse = testTarget.Average(y => (y - mean) * (y - mean));
        Assert.True(testMse < 0.01 && testMse < meanMse / 10, $"Held-out MSE {testMse:F4} after {MaxSteps} steps; predicting the mean scores {meanMse:F4}.");
    }

    /// <summary>Time-major [T, count, 2] inputs (value, marker) and the sums of the two marked values.</summary>
    private static (float[] Input, float[] Target) Batch(Random random, int count)
    {
        var input = new float[T * count * 2];
        var target = new float[count];
        for (int b = 0; b < count; b++)
        {
            int first = random.Next(T / 2), second = T / 2 + random.Next(T / 2);
            for (int t = 0; t < T; t++)
            {
                float value = random.NextSingle();
                input[(t * count + b) * 2] = value;
                if (t == first || t == second)
                {
                    input[(t * count + b) * 2 + 1] = 1;
                    target[b] += value;
                }
            }
        }
        return (input, target);
    }
}
