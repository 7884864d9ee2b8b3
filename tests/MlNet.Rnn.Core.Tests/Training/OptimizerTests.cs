using System.Text.Json;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Training;

public sealed class OptimizerTests
{
    private static readonly TrainingFixture Fixture = TrainingFixture.Load("training_optimizers");

    public static TheoryData<string> FixtureCases() => new(TrainingFixture.Load("training_optimizers").Cases);

    /// <summary>A parameter set of the fixture's size, split over two tensors, and the optimizer the case describes.</summary>
    private static Optimizer Create(JsonElement config, ParameterSet parameters)
    {
        float F(string name) => config.GetProperty(name).GetSingle();
        bool B(string name) => config.GetProperty(name).GetBoolean();
        return config.GetProperty("optimizer").GetString() switch
        {
            "sgd" => new Sgd(parameters, F("lr"), F("momentum"), F("dampening"), B("nesterov"), F("weight_decay")),
            "adam" => new Adam(parameters, F("lr"), F("beta1"), F("beta2"), F("eps"), F("weight_decay")),
            "adamw" => new AdamW(parameters, F("lr"), F("beta1"), F("beta2"), F("eps"), F("weight_decay")),
            "rmsprop" => new RmsProp(parameters, F("lr"), F("alpha"), F("eps"), F("momentum"), B("centered"), F("weight_decay")),
            var other => throw new InvalidOperationException($"Unknown optimizer {other}."),
        };
    }

    private static ParameterSet Parameters(float[] initial)
    {
        var parameters = new ParameterSet();
        parameters.Add("a", 20);
        parameters.Add("b", initial.Length - 20);
        initial.CopyTo(parameters.Values);
        return parameters;
    }

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void TrajectoryMatchesPyTorch(string caseName)
    {
        float[] initial = Fixture.Tensor("initial"), gradients = Fixture.Tensor("gradients"), expected = Fixture.Tensor($"{caseName}.trajectory");
        int n = initial.Length, steps = gradients.Length / n;
        var parameters = Parameters(initial);
        var optimizer = Create(Fixture.Config(caseName), parameters);
        var trajectory = new float[steps * n];
        for (int step = 0; step < steps; step++)
        {
            gradients.AsSpan(step * n, n).CopyTo(parameters.Gradients);
            optimizer.Step();
            Assert.Equal(gradients.AsSpan(step * n, n), parameters.Gradients);   // a step leaves the gradients alone
            parameters.Values.CopyTo(trajectory.AsSpan(step * n));
            Tolerance.AssertClose(expected.AsSpan(step * n, n), parameters.Values, 1e-6, 1e-6, $"{caseName}: step {step + 1}");
        }
        Assert.Equal(steps, optimizer.StepCount);
    }

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void SaveAndLoadState_ContinuesTheSameTrajectory(string caseName)
    {
        float[] initial = Fixture.Tensor("initial"), gradients = Fixture.Tensor("gradients");
        int n = initial.Length, steps = gradients.Length / n;
        var parameters = Parameters(initial);
        var optimizer = Create(Fixture.Config(caseName), parameters);
        var state = new Dictionary<string, float[]>();
        float[] checkpoint = [];
        for (int step = 0; step < steps; step++)
        {
            if (step == 4)
            {
                optimizer.SaveState(state);
                checkpoint = parameters.Values.ToArray();
            }
            gradients.AsSpan(step * n, n).CopyTo(parameters.Gradients);
            optimizer.Step();
        }
        float[] straight = parameters.Values.ToArray();

        var resumedParameters = Parameters(checkpoint);
        var resumed = Create(Fixture.Config(caseName), resumedParameters);
        resumed.LoadState(state);
        Assert.Equal(4, resumed.StepCount);
        for (int step = 4; step < steps; step++)
        {
            gradients.AsSpan(step * n, n).CopyTo(resumedParameters.Gradients);
            resumed.Step();
        }
        Assert.Equal(straight, resumedParameters.Values.ToArray());
        Assert.Equal(4f, state["step"].Single());
    }

    [Fact]
    public void StateKeys_ArePyTorchNames()
    {
        var parameters = Parameters(new float[21]);
        static string[] Keys(Optimizer o)
        {
            var state = new Dictionary<string, float[]>();
            o.SaveState(state);
            return state.Keys.Order(StringComparer.Ordinal).ToArray();
        }
        Assert.Equal(["step"], Keys(new Sgd(parameters, 0.1f)));
        Assert.Equal(["momentum_buffer", "step"], Keys(new Sgd(parameters, 0.1f, momentum: 0.9f)));
        Assert.Equal(["exp_avg", "exp_avg_sq", "step"], Keys(new Adam(parameters)));
        Assert.Equal(["exp_avg", "exp_avg_sq", "step"], Keys(new AdamW(parameters)));
        Assert.Equal(["square_avg", "step"], Keys(new RmsProp(parameters)));
        Assert.Equal(["grad_avg", "momentum_buffer", "square_avg", "step"], Keys(new RmsProp(parameters, momentum: 0.5f, centered: true)));
    }

    [Fact]
    public void LoadState_RejectsMismatchedState_WithoutChangingAnything()
    {
        var small = Parameters(new float[21]);
        var other = new Dictionary<string, float[]>();
        new Adam(small).SaveState(other);

        var parameters = Parameters(new float[25]);
        var adam = new Adam(parameters);
        var wrongLength = Assert.Throws<ArgumentException>(() => adam.LoadState(other));
        Assert.Contains("\"exp_avg\" holds 21 values", wrongLength.Message);
        Assert.Contains("25", wrongLength.Message);

        var sgdState = new Dictionary<string, float[]>();
        new Sgd(parameters, 0.1f, momentum: 0.9f).SaveState(sgdState);
        Assert.Contains("momentum_buffer", Assert.Throws<ArgumentException>(() => adam.LoadState(sgdState)).Message);

        var missingStep = new Dictionary<string, float[]> { ["exp_avg"] = new float[25], ["exp_avg_sq"] = new float[25] };
        Assert.Contains("\"step\"", Assert.Throws<ArgumentException>(() => adam.LoadState(missingStep)).Message);
        missingStep["step"] = [2.5f];
        Assert.Contains("2.5", Assert.Throws<ArgumentException>(() => adam.LoadState(missingStep)).Message);
        missingStep["step"] = [3f];
        missingStep.Remove("exp_avg_sq");
        Assert.Contains("no \"exp_avg_sq\"", Assert.Throws<ArgumentException>(() => adam.LoadState(missingStep)).Message);
        Assert.Equal(0, adam.StepCount);
    }

    public static TheoryData<string, string, float> BadHyperparameters() => new()
    {
        { "sgd", "momentum", -0.1f }, { "sgd", "momentum", 1f }, { "sgd", "dampening", 1.5f }, { "sgd", "weightDecay", -1f },
        { "sgd", "weightDecay", float.PositiveInfinity }, { "sgd", "learningRate", 0f },
        { "adam", "weightDecay", -1e-3f }, { "adam", "beta1", 1f },
        { "adamw", "beta2", -0.5f }, { "adamw", "epsilon", float.NaN }, { "adamw", "weightDecay", float.NaN }, { "adamw", "learningRate", -1f },
        { "rmsprop", "alpha", 1f }, { "rmsprop", "alpha", -0.1f }, { "rmsprop", "epsilon", -1f }, { "rmsprop", "momentum", 1.5f },
        { "rmsprop", "weightDecay", -2f }, { "rmsprop", "learningRate", float.NaN },
        // Each open bound just reached: 1 for β1, β2, μ; ∞ for ε and λ (a closed bound would accept them).
        { "adam", "beta2", 1f }, { "adam", "epsilon", -1f }, { "adam", "epsilon", float.PositiveInfinity }, { "adam", "weightDecay", float.PositiveInfinity },
        { "adamw", "beta1", 1f }, { "adamw", "beta2", 1f }, { "adamw", "epsilon", float.PositiveInfinity }, { "adamw", "weightDecay", float.PositiveInfinity },
        { "rmsprop", "epsilon", float.PositiveInfinity }, { "rmsprop", "momentum", 1f }, { "rmsprop", "weightDecay", float.PositiveInfinity },
    };

    [Theory]
    [MemberData(nameof(BadHyperparameters))]
    public void BadHyperparameter_ThrowsNamingItsRange(string optimizer, string argument, float value)
    {
        var parameters = Parameters(new float[21]);
        float Pick(string name, float fallback) => name == argument ? value : fallback;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _ = optimizer switch
        {
            "sgd" => (Optimizer)new Sgd(parameters, Pick("learningRate", 0.1f), Pick("momentum", 0), Pick("dampening", 0), false, Pick("weightDecay", 0)),
            "adam" => new Adam(parameters, Pick("learningRate", 1e-3f), Pick("beta1", 0.9f), Pick("beta2", 0.999f), Pick("epsilon", 1e-8f), Pick("weightDecay", 0)),
            "adamw" => new AdamW(parameters, Pick("learningRate", 1e-3f), Pick("beta1", 0.9f), Pick("beta2", 0.999f), Pick("epsilon", 1e-8f), Pick("weightDecay", 0)),
            _ => new RmsProp(parameters, Pick("learningRate", 0.01f), Pick("alpha", 0.99f), Pick("epsilon", 1e-8f), Pick("momentum", 0), false, Pick("weightDecay", 0)),
        });
        Assert.Equal(argument, error.ParamName);
        Assert.Equal(value, error.ActualValue);
        Assert.Contains(argument == "learningRate" ? "> 0" : "[", error.Message);
    }

    [Fact]
    public void Nesterov_NeedsMomentumAndNoDampening()
    {
        var parameters = Parameters(new float[21]);
        Assert.Equal("nesterov", Assert.Throws<ArgumentException>(() => new Sgd(parameters, 0.1f, nesterov: true)).ParamName);
        Assert.Equal("nesterov", Assert.Throws<ArgumentException>(() => new Sgd(parameters, 0.1f, 0.9f, 0.1f, nesterov: true)).ParamName);
    }

    [Fact]
    public void LearningRate_SetterValidates()
    {
        var sgd = new Sgd(Parameters(new float[21]), 0.1f);
        sgd.LearningRate = 0.5f;
        Assert.Equal(0.5f, sgd.LearningRate);
        Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = 0).ParamName);
        Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = float.PositiveInfinity).ParamName);
    }

    [Fact]
    public void Step_AfterParametersWereAdded_Throws()
    {
        var parameters = Parameters(new float[21]);
        var adam = new Adam(parameters);
        parameters.Add("late", 3);
        Assert.Contains("create it after every layer is added", Assert.Throws<InvalidOperationException>(adam.Step).Message);
    }

    [Fact]
    public void Step_DoesNotAllocate()
    {
        var parameters = Parameters(new float[1003]);
        parameters.Gradients.Fill(0.1f);
        Optimizer[] optimizers =
        [
            new Sgd(parameters, 0.1f, 0.9f, nesterov: true, weightDecay: 0.1f), new Adam(parameters, weightDecay: 0.1f), new AdamW(parameters),
            new RmsProp(parameters, momentum: 0.9f, centered: true, weightDecay: 0.1f),
        ];
        foreach (var optimizer in optimizers) optimizer.Step();   // JIT first
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var optimizer in optimizers)
            for (int i = 0; i < 5; i++) optimizer.Step();
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void VectorBodyAndScalarTail_AgreeForEveryLength()
    {
        // The same element gets the same update whatever the buffer length, i.e. wherever it falls (vector body or tail).
        for (int length = 1; length <= 40; length++)
        {
            var parameters = new ParameterSet();
            parameters.Add("w", length);
            var reference = new ParameterSet();
            reference.Add("w", 1);
            Optimizer[] optimizers = [new RmsProp(parameters, momentum: 0.9f, centered: true, weightDecay: 0.1f), new AdamW(parameters), new Sgd(parameters, 0.1f, 0.9f, nesterov: true, weightDecay: 0.1f)];
            Optimizer[] single = [new RmsProp(reference, momentum: 0.9f, centered: true, weightDecay: 0.1f), new AdamW(reference), new Sgd(reference, 0.1f, 0.9f, nesterov: true, weightDecay: 0.1f)];
            for (int k = 0; k < optimizers.Length; k++)
            {
                parameters.Values.Fill(0.7f);
                reference.Values.Fill(0.7f);
                for (int step = 1; step <= 3; step++)
                {
                    parameters.Gradients.Fill(0.3f * step - 0.5f);
                    reference.Gradients.Fill(0.3f * step - 0.5f);
                    optimizers[k].Step();
                    single[k].Step();
                }
                foreach (float value in parameters.Values)
                    Assert.Equal(reference.Values[0], value, 1e-6f);
            }
        }
    }
}
