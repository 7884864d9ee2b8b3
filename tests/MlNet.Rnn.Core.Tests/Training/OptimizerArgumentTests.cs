using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Training;

/// <summary>
/// Proves the messages of the optimizers' checks: a hyperparameter out of range states its interval with the right
/// brackets (∞ for an unbounded side), and a state that does not fit says why; and that gradient clipping by value
/// refuses a zero limit but accepts any positive one.
/// </summary>
public sealed class OptimizerArgumentTests
{
    private static ParameterSet Parameters(int length)
    {
        var parameters = new ParameterSet();
        parameters.Add("w", length);
        return parameters;
    }

    [Fact]
    public void OutOfRange_StatesTheIntervalWithItsBrackets()
    {
        var parameters = Parameters(3);
        Assert.StartsWith("dampening must be in [0, 1]; it is 1.5.",
            Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(parameters, 0.1f, dampening: 1.5f)).Message);
        Assert.StartsWith("alpha must be in [0, 1); it is 1.",
            Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp(parameters, alpha: 1f)).Message);
        Assert.StartsWith("epsilon must be in [0, ∞); it is -1.",
            Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp(parameters, epsilon: -1f)).Message);
    }

    [Fact]
    public void LoadState_ThatDoesNotFit_SaysWhy()
    {
        var optimizer = new RmsProp(Parameters(3));
        var extra = new Dictionary<string, float[]> { ["step"] = [1], ["square_avg"] = new float[3], ["grad_avg"] = new float[3] };
        var foreign = Assert.Throws<ArgumentException>(() => optimizer.LoadState(extra));
        Assert.Equal("state", foreign.ParamName);
        Assert.Contains("Was it saved by another optimizer or configuration?", foreign.Message);
        var small = new Dictionary<string, float[]> { ["step"] = [1], ["square_avg"] = new float[2] };
        var size = Assert.Throws<ArgumentException>(() => optimizer.LoadState(small));
        Assert.Equal("state", size.ParamName);
        Assert.Contains("the state belongs to a model of another size", size.Message);
    }

    [Fact]
    public void ClipByValue_RefusesZero_AndAcceptsATinyPositiveLimit()
    {
        float[] gradients = [2f, -2f, 0f];
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByValue(gradients, 0f));
        Assert.Equal("limit", error.ParamName);
        GradientClipping.ClipByValue(gradients, 1e-30f);
        Assert.Equal([1e-30f, -1e-30f, 0f], gradients);
    }
}
