using MlNet.Rnn.Core.Layers;

namespace MlNet.Rnn.Core.Tests.Reference;

/// <summary>
/// Backpropagation through time of a recurrent network against central differences of the <see cref="ReferenceNetwork"/>
/// holding its parameters and replaying the dropout masks it drew, for the <see cref="ProbeLoss"/>.
/// </summary>
internal static class NetworkGradientCheck
{
    /// <summary>
    /// Draws the probe weights and then, unless the network learns its initial state, h0 and c0 (LSTM) from
    /// <paramref name="random"/>; runs the network's training forward and backward on <paramref name="x"/> <c>[T, B, I]</c>;
    /// asserts that the reference's forward agrees (1e-4 relative + 1e-5 absolute) and that the gradient of every parameter,
    /// of the input and of the given initial states matches central differences of the reference's loss.
    /// </summary>
    public static void AssertBackward(IRecurrentNetwork network, string mode, float[] x, int steps, int batch, int[]? lengths, Random random, string name)
    {
        int stateLength = network.StateCount * batch * network.Options.HiddenSize;
        bool hasCell = network.HasCellState, given = !network.Options.LearnedInitialState;
        var probe = new ProbeLoss(random, steps * batch * network.OutputSize, stateLength);
        // With a learned initial state the state comes from parameters; otherwise the caller gives it and gets its gradient.
        float[]? h0 = given ? NetworkFactory.RandomFloats(random, stateLength) : null;
        float[]? c0 = given && hasCell ? NetworkFactory.RandomFloats(random, stateLength) : null;

        network.Parameters.ZeroGradients();
        var output = new float[steps * batch * network.OutputSize];
        var finalHidden = new float[stateLength];
        var finalCell = new float[stateLength];
        network.Forward(x, batch, lengths ?? [], output, finalHidden, hasCell ? finalCell : default, h0, c0, training: true);
        var inputGradient = new float[x.Length];
        var h0Gradient = new float[stateLength];
        var c0Gradient = new float[stateLength];
        network.Backward(probe.OutputWeights, probe.HiddenWeights, hasCell ? probe.CellWeights : default, inputGradient,
            h0 is null ? default : h0Gradient, c0 is null ? default : c0Gradient);

        var reference = NetworkFactory.ReferenceOf(mode, network);
        DropoutMasks.Replay(network, reference, steps, batch);
        double[] xd = NetworkFactory.Widen(x);
        double[]? h0d = h0 is null ? null : NetworkFactory.Widen(h0), c0d = c0 is null ? null : NetworkFactory.Widen(c0);
        var expected = reference.Forward(xd, steps, batch, lengths, h0d, c0d);
        Tolerance.AssertClose(expected.Output, output, 1e-4, 1e-5, $"{name}: output");
        Tolerance.AssertClose(expected.FinalHidden, finalHidden, 1e-4, 1e-5, $"{name}: h_n");
        if (hasCell) Tolerance.AssertClose(expected.FinalCell, finalCell, 1e-4, 1e-5, $"{name}: c_n");

        double Loss() => probe.Of(reference.Forward(xd, steps, batch, lengths, h0d, c0d), hasCell);
        CentralDifferences.AssertEveryParameter(network.Parameters, CentralDifferences.Accumulated(network.Parameters), reference.Parameters, Loss, name);
        Tolerance.AssertClose(CentralDifferences.Of(xd, Loss), inputGradient, CentralDifferences.Relative, CentralDifferences.Absolute, $"{name}: dinput");
        if (h0d is not null) Tolerance.AssertClose(CentralDifferences.Of(h0d, Loss), h0Gradient, CentralDifferences.Relative, CentralDifferences.Absolute, $"{name}: dh0");
        if (c0d is not null) Tolerance.AssertClose(CentralDifferences.Of(c0d, Loss), c0Gradient, CentralDifferences.Relative, CentralDifferences.Absolute, $"{name}: dc0");
    }
}
