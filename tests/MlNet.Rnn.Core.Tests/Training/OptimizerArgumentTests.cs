using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Training;

/// <summary>
/// Proves the messages of the optimizers' checks: a hyperparameter out of range states its interval with the right
/// brackets (∞ for an unbounded side), and a state that does not fit says why; null arguments are refused by name; a
/// state with null entries or a step that is not a whole number in [0, 2³¹] is refused before anything changes, the
/// largest step a state can hold is accepted and the step count then refuses to wrap around; a closed bound (dampening 1)
/// is accepted and computes; and that gradient clipping by value refuses a zero limit but accepts any positive one.
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

    [Fact]
    public void NullArguments_AreRefusedByName()
    {
        var parameters = Parameters(3);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => new Sgd(null!, 0.1f)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => Optimizer.Create(parameters, null!)).ParamName);
        var adam = new Adam(parameters);
        Assert.Equal("state", Assert.Throws<ArgumentNullException>(() => adam.SaveState(null!)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentNullException>(() => adam.LoadState(null!)).ParamName);
    }

    [Fact]
    public void LoadState_WithoutStep_ListsTheExpectedKeys_StepFirst()
    {
        var error = Assert.Throws<ArgumentException>(() => new Adam(Parameters(3)).LoadState(new Dictionary<string, float[]>()));
        Assert.Equal("state", error.ParamName);
        Assert.Contains("Adam expects the keys step, exp_avg, exp_avg_sq.", error.Message);
        var sgd = Assert.Throws<ArgumentException>(() => new Sgd(Parameters(3), 0.1f, momentum: 0.5f).LoadState(new Dictionary<string, float[]>()));
        Assert.Contains("Sgd expects the keys step, momentum_buffer.", sgd.Message);
    }

    [Fact]
    public void LoadState_NullEntries_AreRefusedAsBadState_WithoutChangingAnything()
    {
        var adam = new Adam(Parameters(3));
        var nullStep = new Dictionary<string, float[]> { ["step"] = null!, ["exp_avg"] = new float[3], ["exp_avg_sq"] = new float[3] };
        var step = Assert.Throws<ArgumentException>(() => adam.LoadState(nullStep));
        Assert.Equal("state", step.ParamName);
        Assert.Contains("The state needs \"step\" as an array of one value", step.Message);
        var nullMoment = new Dictionary<string, float[]> { ["step"] = [2], ["exp_avg"] = [1, 1, 1], ["exp_avg_sq"] = null! };
        var moment = Assert.Throws<ArgumentException>(() => adam.LoadState(nullMoment));
        Assert.Equal("state", moment.ParamName);
        Assert.Contains("The state has no \"exp_avg_sq\"", moment.Message);
        var saved = new Dictionary<string, float[]>();
        adam.SaveState(saved);
        Assert.Equal(0, adam.StepCount);
        Assert.Equal(new float[3], saved["exp_avg"]);
    }

    [Theory]
    [InlineData(-1f)]
    [InlineData(4294967296f)]   // 2³²: whole, but past int.MaxValue
    [InlineData(1e10f)]
    [InlineData(0.5f)]
    public void LoadState_StepThatIsNoStepCount_IsRefused(float step)
    {
        var sgd = new Sgd(Parameters(3), 0.1f);
        var error = Assert.Throws<ArgumentException>(() => sgd.LoadState(new Dictionary<string, float[]> { ["step"] = [step] }));
        Assert.Equal("state", error.ParamName);
        Assert.Contains("it must be a whole number ≥ 0", error.Message);
        Assert.Equal(0, sgd.StepCount);
    }

    [Fact]
    public void LoadState_TheLargestSavedStep_IsAccepted_AndTheNextStepRefusesToWrapAround()
    {
        // SaveState stores int.MaxValue as the float 2³¹; loading it back gives int.MaxValue again (on .NET 8 too, whose
        // float-to-int conversion does not saturate), and one more step
        // would overflow the count (Adam's bias corrections need a positive t), so Step throws before changing anything.
        var parameters = Parameters(3);
        parameters.Values.Fill(1f);
        parameters.Gradients.Fill(0.5f);
        var sgd = new Sgd(parameters, 0.1f);
        sgd.LoadState(new Dictionary<string, float[]> { ["step"] = [2147483648f] });
        Assert.Equal(int.MaxValue, sgd.StepCount);
        var saved = new Dictionary<string, float[]>();
        sgd.SaveState(saved);
        Assert.Equal(2147483648f, saved["step"].Single());
        Assert.Throws<OverflowException>(sgd.Step);
        Assert.Equal(int.MaxValue, sgd.StepCount);
        Assert.Equal([1f, 1f, 1f], parameters.Values.ToArray());
    }

    [Fact]
    public void Sgd_FullDampening_IsAccepted_AndKeepsOnlyTheFirstGradientInTheBuffer()
    {
        // d = 1: b₁ = g₁, then b ← μ·b + 0·g, so θ moves by lr·g₁, lr·μ·g₁, lr·μ²·g₁ whatever the later gradients.
        var parameters = Parameters(2);
        parameters.Values.Fill(1f);
        var sgd = new Sgd(parameters, learningRate: 0.5f, momentum: 0.5f, dampening: 1f);
        Assert.Equal(1f, sgd.Dampening);
        double expected = 1;
        for (int step = 1; step <= 3; step++)
        {
            parameters.Gradients.Fill(step == 1 ? 0.25f : 100f);
            sgd.Step();
            expected -= 0.5 * Math.Pow(0.5, step - 1) * 0.25;
            Assert.All(parameters.Values.ToArray(), v => Assert.Equal(expected, v, 1e-7));
        }
    }
}
