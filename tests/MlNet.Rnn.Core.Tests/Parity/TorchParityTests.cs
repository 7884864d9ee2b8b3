using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Parity;

/// <summary>
/// Same weights, same inputs as <c>torch.nn.RNN/LSTM/GRU</c> (fixtures written by tests/MlNet.Rnn.Parity.Fixtures with
/// TorchSharp/libtorch): outputs and final states within 1e-5 relative, every gradient within 1e-4 relative. The fixtures
/// cover every cell, and for every cell a 2-layer bidirectional variable-length stack whose second layer is wider than
/// its first (I ≠ 2H).
/// </summary>
public sealed class TorchParityTests
{
    private const double ForwardRelative = 1e-5, ForwardAbsolute = 1e-6, GradientRelative = 1e-4, GradientAbsolute = 1e-6;

    public static TheoryData<string> RecurrentCases() => new(TorchFixture.All("rnn"));

    [Fact]
    public void Fixtures_CoverEveryCellAndShape()
    {
        var fixtures = TorchFixture.All("rnn").Select(TorchFixture.Load).ToArray();
        foreach (var mode in new[] { "RNN_TANH", "RNN_RELU", "LSTM", "GRU" }) Assert.Contains(fixtures, f => f.Mode == mode);
        Assert.Contains(fixtures, f => f.NumLayers > 1 && f.Bidirectional && f.Lengths is not null && f.Mode == "LSTM");
        Assert.Contains(fixtures, f => f.NumLayers > 1 && f.Bidirectional && f.Lengths is not null && f.Mode == "GRU");
        // A deeper layer reads D·H features, the first I: with I ≠ 2H a layer-1 weight read with the wrong width cannot pass.
        foreach (var mode in new[] { "RNN_TANH", "RNN_RELU", "LSTM", "GRU" })
            Assert.Contains(fixtures, f => f.Mode == mode && f.NumLayers > 1 && f.Bidirectional && f.Lengths is not null && f.InputSize != 2 * f.HiddenSize);
        Assert.True(fixtures.Length >= 18, $"Expected at least 18 recurrent fixtures, found {fixtures.Length}.");
    }

    [Theory]
    [MemberData(nameof(RecurrentCases))]
    public void ForwardAndBackward_MatchPyTorch(string caseName)
    {
        var fixture = TorchFixture.Load(caseName);
        var network = NetworkFactory.Create(fixture.Mode, new RecurrentNetworkOptions
        {
            InputSize = fixture.InputSize, HiddenSize = fixture.HiddenSize, Layers = fixture.NumLayers, Bidirectional = fixture.Bidirectional,
        });
        foreach (var tensor in network.Parameters.Tensors)
        {
            Assert.Equal(fixture.Shape(tensor.Name), tensor.Shape);
            fixture.Tensor(tensor.Name).CopyTo(network.Parameters.ValuesOf(tensor));
        }
        int B = fixture.Batch, stateLength = network.StateCount * B * fixture.HiddenSize;
        var output = new float[fixture.SeqLen * B * network.OutputSize];
        var finalHidden = new float[stateLength];
        var finalCell = new float[stateLength];
        bool lstm = network.HasCellState;
        network.Forward(fixture.Tensor("input"), B, fixture.Lengths ?? [], output, finalHidden, lstm ? finalCell : default,
            fixture.Tensor("h0"), lstm ? fixture.Tensor("c0") : default, training: true);
        Tolerance.AssertClose(fixture.Tensor("output"), output, ForwardRelative, ForwardAbsolute, $"{caseName}: output");
        Tolerance.AssertClose(fixture.Tensor("h_n"), finalHidden, ForwardRelative, ForwardAbsolute, $"{caseName}: h_n");
        if (lstm) Tolerance.AssertClose(fixture.Tensor("c_n"), finalCell, ForwardRelative, ForwardAbsolute, $"{caseName}: c_n");

        network.Parameters.ZeroGradients();
        var inputGradient = new float[fixture.Tensor("input").Length];
        var h0Gradient = new float[stateLength];
        var c0Gradient = new float[stateLength];
        network.Backward(fixture.Tensor("grad_output"), fixture.Tensor("grad_h_n"), lstm ? fixture.Tensor("grad_c_n") : default,
            inputGradient, h0Gradient, lstm ? c0Gradient : default);
        Tolerance.AssertClose(fixture.Tensor("grad.input"), inputGradient, GradientRelative, GradientAbsolute, $"{caseName}: grad input");
        Tolerance.AssertClose(fixture.Tensor("grad.h0"), h0Gradient, GradientRelative, GradientAbsolute, $"{caseName}: grad h0");
        if (lstm) Tolerance.AssertClose(fixture.Tensor("grad.c0"), c0Gradient, GradientRelative, GradientAbsolute, $"{caseName}: grad c0");
        foreach (var tensor in network.Parameters.Tensors)
            Tolerance.AssertClose(fixture.Tensor($"grad.{tensor.Name}"), network.Parameters.GradientsOf(tensor), GradientRelative, GradientAbsolute,
                $"{caseName}: grad {tensor.Name}");
    }

    [Fact]
    public void AdamTraining_FollowsPyTorchLossTrajectory()
    {
        var fixture = TorchFixture.Load("adam_lstm");
        var settings = fixture.Adam!;
        int T = fixture.SeqLen, B = fixture.Batch, H = fixture.HiddenSize;
        var parameters = new ParameterSet();
        var network = new RecurrentNetwork<LstmCell>(new RecurrentNetworkOptions { InputSize = fixture.InputSize, HiddenSize = H }, parameters: parameters);
        var head = new Dense(parameters, "head", H, 1, OutputActivation.Identity);
        foreach (var tensor in parameters.Tensors) fixture.Tensor(tensor.Name).CopyTo(parameters.ValuesOf(tensor));
        var adam = new Adam(parameters, (float)settings.Lr, (float)settings.Beta1, (float)settings.Beta2, (float)settings.Eps);
        float[] input = fixture.Tensor("input"), target = fixture.Tensor("target"), expectedLosses = fixture.Tensor("losses");
        var output = new float[T * B * H];
        var prediction = new float[B];
        var predictionGradient = new float[B];
        var lastGradient = new float[B * H];
        var outputGradient = new float[output.Length];
        var losses = new float[settings.Steps];
        for (int step = 0; step < settings.Steps; step++)
        {
            parameters.ZeroGradients();
            network.Forward(input, B, [], output, training: true);
            ReadOnlySpan<float> last = output.AsSpan((T - 1) * B * H, B * H);
            head.Forward(last, B, prediction);
            float loss = 0;
            for (int b = 0; b < B; b++)
            {
                float error = prediction[b] - target[b];
                loss += error * error / B;
                predictionGradient[b] = 2 * error / B;
            }
            losses[step] = loss;
            head.Backward(last, prediction, predictionGradient, B, lastGradient);
            lastGradient.CopyTo(outputGradient.AsSpan((T - 1) * B * H));
            network.Backward(outputGradient);
            adam.Step();
        }
        Tolerance.AssertClose(expectedLosses, losses, 1e-4, 1e-6, "Adam loss trajectory");
        foreach (var tensor in parameters.Tensors)
            Tolerance.AssertClose(fixture.Tensor($"final.{tensor.Name}"), parameters.ValuesOf(tensor), 1e-4, 1e-5, $"final {tensor.Name}");
    }
}
