// Quickstart: an LSTM learns to forecast a sine wave one step ahead, with the MlNet.Rnn core only
// (the ML.NET trainers build on this). Run: dotnet run --project examples/Quickstart -c Release
using System.Diagnostics;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

const int T = 24, B = 32, H = 32, Steps = 400;
var random = new Random(42);
var parameters = new ParameterSet();
var lstm = new RecurrentNetwork<LstmCell>(new RecurrentNetworkOptions { InputSize = 1, HiddenSize = H }, parameters: parameters);
var head = new Dense(parameters, "head", H, 1, OutputActivation.Identity);
lstm.Initialize(random);
head.Initialize(random);
var adam = new Adam(parameters, learningRate: 0.01f);

// A window of T samples of sin(ω t + φ) with random frequency ω ∈ [0.1, 0.6) and phase φ; the target is the next sample.
void Sample(Span<float> input, Span<float> target, Random rng)
{
    for (int b = 0; b < B; b++)
    {
        double phase = rng.NextDouble() * 2 * Math.PI, frequency = 0.1 + 0.5 * rng.NextDouble();
        for (int t = 0; t < T; t++) input[t * B + b] = (float)Math.Sin(frequency * t + phase);
        target[b] = (float)Math.Sin(frequency * T + phase);
    }
}

var input = new float[T * B];
var target = new float[B];
var output = new float[T * B * H];
var prediction = new float[B];
var predictionGradient = new float[B];
var lastGradient = new float[B * H];
var outputGradient = new float[T * B * H];
float Loss(bool train)
{
    lstm.Forward(input, B, [], output, training: train);
    ReadOnlySpan<float> last = output.AsSpan((T - 1) * B * H, B * H);
    head.Forward(last, B, prediction);
    float loss = 0;
    for (int b = 0; b < B; b++)
    {
        float error = prediction[b] - target[b];
        loss += error * error / B;
        predictionGradient[b] = 2 * error / B;
    }
    if (train)
    {
        parameters.ZeroGradients();
        head.Backward(last, prediction, predictionGradient, B, lastGradient);
        lastGradient.CopyTo(outputGradient.AsSpan((T - 1) * B * H));
        lstm.Backward(outputGradient);
        adam.Step();
    }
    return loss;
}

var clock = Stopwatch.StartNew();
for (int step = 1; step <= Steps; step++)
{
    Sample(input, target, random);
    float loss = Loss(train: true);
    if (step % 100 == 0) Console.WriteLine($"step {step,4}: training MSE {loss:F5}");
}
Sample(input, target, new Random(7));
float testLoss = Loss(train: false);
Console.WriteLine($"held-out MSE {testLoss:F5} (predicting 0 scores about 0.5) after {clock.Elapsed.TotalSeconds:F1} s");
for (int b = 0; b < 3; b++) Console.WriteLine($"  next value {target[b],7:F4}  forecast {prediction[b],7:F4}");
