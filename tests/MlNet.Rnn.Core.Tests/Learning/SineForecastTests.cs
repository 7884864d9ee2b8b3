using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Learning;

/// <summary>
/// One-step-ahead forecast of sin(ω t + φ) with random ω ∈ [0.1, 0.6) and φ from a window of 24 samples. Predicting
/// zero scores MSE ≈ 0.5 and repeating the last sample ≈ 0.05; the networks must beat both by far.
/// </summary>
public sealed class SineForecastTests
{
    private const int T = 24, B = 32, H = 24, Steps = 600;

    [Fact]
    public void ElmanRnn_ForecastsSine() =>
        AssertForecasts(new RecurrentNetwork<RnnCell>(new RecurrentNetworkOptions { InputSize = 1, HiddenSize = H }, new RnnCell(RnnActivation.Tanh), new ParameterSet()));

    [Fact]
    public void StackedLstmWithLearnedInitialState_ForecastsSine() =>
        AssertForecasts(new RecurrentNetwork<LstmCell>(new RecurrentNetworkOptions { InputSize = 1, HiddenSize = H, Layers = 2, LearnedInitialState = true },
            parameters: new ParameterSet()));

    private static void AssertForecasts(IRecurrentNetwork network)
    {
        var random = new Random(3);
        var head = new Dense(network.Parameters, "head", H, 1, OutputActivation.Identity);
        network.Initialize(random);
        head.Initialize(random);
        var adam = new Adam(network.Parameters, 0.01f);
        var input = new float[T * B];
        var target = new float[B];
        var output = new float[T * B * H];
        var outputGradient = new float[output.Length];
        var prediction = new float[B];
        var predictionGradient = new float[B];
        var lastGradient = new float[B * H];
        for (int step = 0; step < Steps; step++)
        {
            Sample(random, input, target);
            network.Parameters.ZeroGradients();
            network.Forward(input, B, [], output, training: true);
            head.Forward(output.AsSpan((T - 1) * B * H), B, prediction);
            for (int b = 0; b < B; b++) predictionGradient[b] = 2 * (prediction[b] - target[b]) / B;
            head.Backward(output.AsSpan((T - 1) * B * H), prediction, predictionGradient, B, lastGradient);
            lastGradient.CopyTo(outputGradient.AsSpan((T - 1) * B * H));
            network.Backward(outputGradient);
            adam.Step();
        }
        Sample(new Random(77), input, target);
        network.Forward(input, B, [], output);
        head.Forward(output.AsSpan((T - 1) * B * H), B, prediction);
        double mse = 0, naive = 0;
        for (int b = 0; b < B; b++)
        {
            mse += Math.Pow(prediction[b] - target[b], 2) / B;
            naive += Math.Pow(input[(T - 1) * B + b] - target[b], 2) / B;
        }
        Assert.True(mse < 0.01 && mse < naive / 5, $"Held-out MSE {mse:F4}; repeating the last sample scores {naive:F4}. Expected below 0.01 and a fifth of that.");
    }

    private static void Sample(Random random, Span<float> input, Span<float> target)
    {
        for (int b = 0; b < B; b++)
        {
            double phase = random.NextDouble() * 2 * Math.PI, frequency = 0.1 + 0.5 * random.NextDouble();
            for (int t = 0; t < T; t++) input[t * B + b] = (float)Math.Sin(frequency * t + phase);
            target[b] = (float)Math.Sin(frequency * T + phase);
        }
    }
}
