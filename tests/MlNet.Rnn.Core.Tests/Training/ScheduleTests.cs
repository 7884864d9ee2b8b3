using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Training;

public sealed class ScheduleTests
{
    private static readonly TrainingFixture Fixture = TrainingFixture.Load("training_schedules");

    [Theory]
    [InlineData("plateau_min")]
    [InlineData("plateau_max_abs")]
    public void ReduceOnPlateau_MatchesPyTorch(string caseName)
    {
        var config = Fixture.Config(caseName);
        var scheduler = new ReduceOnPlateau(
            config.GetProperty("mode").GetString() == "min" ? PlateauMode.Minimize : PlateauMode.Maximize,
            config.GetProperty("factor").GetSingle(), config.GetProperty("patience").GetInt32(), config.GetProperty("threshold").GetSingle(),
            config.GetProperty("cooldown").GetInt32(), config.GetProperty("min_lr").GetSingle(),
            config.GetProperty("threshold_mode").GetString() == "rel" ? PlateauThreshold.Relative : PlateauThreshold.Absolute);
        float[] metrics = Fixture.Tensor($"{caseName}.metrics");
        float rate = config.GetProperty("lr").GetSingle();
        var rates = new float[metrics.Length];
        for (int epoch = 0; epoch < metrics.Length; epoch++) rates[epoch] = rate = scheduler.Update(metrics[epoch], rate);
        Tolerance.AssertClose(Fixture.Tensor($"{caseName}.lr"), rates, 1e-6, 0, $"{caseName}: learning rates");
    }

    [Fact]
    public void ReduceOnPlateau_RestoredStateContinuesIdentically()
    {
        float[] metrics = Fixture.Tensor("plateau_min.metrics");
        var straight = new ReduceOnPlateau(factor: 0.5f, patience: 2, threshold: 0.01, cooldown: 1, minimumRate: 0.1f);
        float rate = 1f;
        float[] rates = metrics.Select(m => rate = straight.Update(m, rate)).ToArray();

        var first = new ReduceOnPlateau(factor: 0.5f, patience: 2, threshold: 0.01, cooldown: 1, minimumRate: 0.1f);
        float resumedRate = 1f;
        for (int epoch = 0; epoch < 5; epoch++) resumedRate = first.Update(metrics[epoch], resumedRate);
        var second = new ReduceOnPlateau(factor: 0.5f, patience: 2, threshold: 0.01, cooldown: 1, minimumRate: 0.1f)
        {
            Best = first.Best, BadEpochs = first.BadEpochs, CooldownCounter = first.CooldownCounter,
        };
        for (int epoch = 5; epoch < metrics.Length; epoch++)
        {
            resumedRate = second.Update(metrics[epoch], resumedRate);
            Assert.Equal(rates[epoch], resumedRate);
        }
    }

    [Fact]
    public void StepDecay_MatchesPyTorchStepLR_SteppedPerEpoch()
    {
        var config = Fixture.Config("step_lr");
        float[] expected = Fixture.Tensor("step_lr.lr");
        var schedule = new StepDecaySchedule(config.GetProperty("step_size").GetInt32(), config.GetProperty("gamma").GetSingle());
        float baseRate = config.GetProperty("lr").GetSingle();
        const int stepsPerEpoch = 4;
        for (int step = 0; step < expected.Length * stepsPerEpoch; step++)
            Assert.Equal(expected[step / stepsPerEpoch], schedule.LearningRate(baseRate, step, stepsPerEpoch), 1e-6f * expected[step / stepsPerEpoch]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Cosine_AfterWarmup_MatchesPyTorchCosineAnnealingLR(int warmup)
    {
        var config = Fixture.Config("cosine");
        float[] expected = Fixture.Tensor("cosine.lr");   // T_max + 1 rates, t = 0..T_max
        int period = config.GetProperty("T_max").GetInt32();
        float baseRate = config.GetProperty("lr").GetSingle(), minimum = config.GetProperty("eta_min").GetSingle();
        var schedule = new CosineSchedule(warmup + period, warmup, minimum);
        var actual = Enumerable.Range(0, period).Select(t => schedule.LearningRate(baseRate, warmup + t, 3)).ToArray();
        Tolerance.AssertClose(expected.AsSpan(0, period), actual, 1e-5, 0, "cosine");
        for (int step = 0; step < warmup; step++)
            Assert.Equal(baseRate * (step + 1) / (warmup + 1), schedule.LearningRate(baseRate, step, 3), 1e-7f);
        // Past the end the rate holds the last scheduled value, which stays above the minimum.
        Assert.Equal(actual[^1], schedule.LearningRate(baseRate, warmup + period + 7, 3));
        Assert.True(actual[^1] > minimum);
    }

    [Fact]
    public void Cosine_WithZeroMinimum_NeverReturnsZero()
    {
        var schedule = new CosineSchedule(100, 10);
        for (int step = 0; step < 150; step++) Assert.True(schedule.LearningRate(0.01f, step, 7) > 0, $"step {step}");
    }

    [Fact]
    public void Constant_ReturnsBaseRate() => Assert.Equal(0.3f, new ConstantSchedule().LearningRate(0.3f, 1234, 10));

    [Fact]
    public void BadArguments_Throw()
    {
        Assert.Equal("stepSizeEpochs", Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecaySchedule(0)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecaySchedule(1, 1.5f)).ParamName);
        Assert.Equal("warmupSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(10, 10)).ParamName);
        Assert.Equal("totalSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0)).ParamName);
        Assert.Equal("minimumRate", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(10, 0, -1)).ParamName);
        Assert.Equal("baseRate", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(10, 0, 0.5f).LearningRate(0.1f, 0, 1)).ParamName);
        Assert.Equal("step", Assert.Throws<ArgumentOutOfRangeException>(() => new ConstantSchedule().LearningRate(0.1f, -1, 1)).ParamName);
        Assert.Equal("stepsPerEpoch", Assert.Throws<ArgumentOutOfRangeException>(() => new ConstantSchedule().LearningRate(0.1f, 0, 0)).ParamName);
        Assert.Equal("factor", Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(factor: 1f)).ParamName);
        Assert.Equal("patience", Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(patience: -1)).ParamName);
        Assert.Equal("threshold", Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(threshold: -1)).ParamName);
        Assert.Equal("BadEpochs", Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau { BadEpochs = -1 }).ParamName);
        Assert.Equal("currentRate", Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau().Update(1, 0)).ParamName);
    }
}
