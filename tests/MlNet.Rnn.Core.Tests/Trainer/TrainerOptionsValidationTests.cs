using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Trainer;

/// <summary>
/// Proves <see cref="TrainerOptions.Validate"/> at the edges of its rules: Nesterov needs both SGD and a positive
/// momentum, a training-time budget must be strictly positive (one tick is enough), and ReduceOnPlateau needs validation
/// data.
/// </summary>
public sealed class TrainerOptionsValidationTests
{
    private static readonly TrainerOptions Defaults = new();

    private static void Refused(TrainerOptions options, string name, string words, bool hasValidationData = true)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => options.Validate(hasValidationData));
        Assert.Equal(name, error.ParamName);
        Assert.Contains(words, error.Message);
    }

    [Fact]
    public void Nesterov_NeedsSgdAndPositiveMomentum()
    {
        Refused(Defaults with { Nesterov = true, Optimizer = OptimizerKind.Adam, Momentum = 0.9f }, "Nesterov", "used only with Optimizer = Sgd");
        Refused(Defaults with { Nesterov = true, Optimizer = OptimizerKind.Sgd, Momentum = 0f }, "Nesterov", "Momentum > 0");
        (Defaults with { Nesterov = true, Optimizer = OptimizerKind.Sgd, Momentum = 0.9f }).Validate(hasValidationData: false);
    }

    [Fact]
    public void MaxTrainingTime_MustBeStrictlyPositive()
    {
        Refused(Defaults with { MaxTrainingTime = TimeSpan.Zero }, "MaxTrainingTime", "positive, or null for no limit");
        (Defaults with { MaxTrainingTime = TimeSpan.FromTicks(1) }).Validate(hasValidationData: false);
        (Defaults with { MaxTrainingTime = null }).Validate(hasValidationData: false);
    }

    [Fact]
    public void ReduceOnPlateau_NeedsValidationData()
    {
        Refused(Defaults with { ReduceOnPlateau = true }, "ReduceOnPlateau", "ReduceOnPlateau needs validation data", hasValidationData: false);
        (Defaults with { ReduceOnPlateau = true }).Validate(hasValidationData: true);
    }

    public static TheoryData<string, string> RangeRefusals => new()
    {
        { "Epochs 0", "Epochs is 0; it must be at least 1." },
        { "BatchSize 0", "BatchSize is 0; it must be at least 1." },
        { "LearningRate 0", "LearningRate is 0; it must be a positive finite number." },
        { "LearningRate ∞", "LearningRate is ∞; it must be a positive finite number." },
        { "Optimizer 9", "Optimizer is 9; it must be Sgd, Adam, AdamW or RmsProp." },
        { "Momentum -0.1", "Momentum is -0.1; it must be in [0, 1)." },
        { "Momentum 1", "Momentum is 1; it must be in [0, 1)." },
        { "WeightDecay -0.1", "WeightDecay is -0.1; it must be ≥ 0." },
        { "WeightDecay NaN", "WeightDecay is NaN; it must be ≥ 0." },
        { "Beta1 -0.1", "Beta1 is -0.1; it must be in [0, 1)." },
        { "Beta1 1", "Beta1 is 1; it must be in [0, 1)." },
        { "Beta2 -0.1", "Beta2 is -0.1; it must be in [0, 1)." },
        { "Beta2 1", "Beta2 is 1; it must be in [0, 1)." },
        { "GradientClipNorm -0.1", "GradientClipNorm is -0.1; it must be ≥ 0 (0 = off)." },
        { "GradientClipNorm ∞", "GradientClipNorm is ∞; it must be ≥ 0 (0 = off)." },
        { "GradientClipValue -0.1", "GradientClipValue is -0.1; it must be ≥ 0 (0 = off)." },
        { "GradientClipValue ∞", "GradientClipValue is ∞; it must be ≥ 0 (0 = off)." },
        { "Schedule 9", "Schedule is 9; it must be Constant, StepDecay or Cosine." },
        { "StepDecayEpochs 0", "StepDecayEpochs is 0; it must be at least 1." },
        { "StepDecayGamma 0", "StepDecayGamma is 0; it must be in (0, 1]." },
        { "StepDecayGamma 1.5", "StepDecayGamma is 1.5; it must be in (0, 1]." },
        { "WarmupSteps -1", "WarmupSteps is -1; it must be ≥ 0." },
        { "MinimumLearningRate -0.1", "MinimumLearningRate is -0.1; it must be in [0, LearningRate = 0.001]." },
        { "MinimumLearningRate 0.01", "MinimumLearningRate is 0.01; it must be in [0, LearningRate = 0.001]." },
        { "PlateauFactor 0", "PlateauFactor is 0; it must be in (0, 1)." },
        { "PlateauFactor 1", "PlateauFactor is 1; it must be in (0, 1)." },
        { "PlateauPatience -1", "PlateauPatience is -1; it must be ≥ 0." },
        { "EarlyStoppingPatience -1", "EarlyStoppingPatience is -1; it must be ≥ 0 (0 = off)." },
        { "CheckpointEvery -1", "CheckpointEvery is -1; it must be ≥ 0 (0 = off)." },
        { "MinimumSteps -1", "MinimumSteps is -1; it must be ≥ 0 (0 = no minimum)." },
        { "TruncatedBpttSteps -1", "TruncatedBpttSteps is -1; it must be ≥ 0 (0 = off)." },
        { "MaxBatchMemoryMegabytes -1", "MaxBatchMemoryMegabytes is -1; it must be ≥ 0 (0 = half of the available memory)." },
    };

    private static TrainerOptions With(string option, string value)
    {
        var o = Defaults with { LearningRate = 1e-3f };
        float f = value switch { "∞" => float.PositiveInfinity, "NaN" => float.NaN, _ => float.Parse(value, System.Globalization.CultureInfo.InvariantCulture) };
        return option switch
        {
            "Epochs" => o with { Epochs = (int)f },
            "BatchSize" => o with { BatchSize = (int)f },
            "LearningRate" => o with { LearningRate = f },
            "Optimizer" => o with { Optimizer = (OptimizerKind)(int)f },
            "Momentum" => o with { Momentum = f },
            "WeightDecay" => o with { WeightDecay = f },
            "Beta1" => o with { Beta1 = f },
            "Beta2" => o with { Beta2 = f },
            "GradientClipNorm" => o with { GradientClipNorm = f },
            "GradientClipValue" => o with { GradientClipValue = f },
            "Schedule" => o with { Schedule = (ScheduleKind)(int)f },
            "StepDecayEpochs" => o with { StepDecayEpochs = (int)f },
            "StepDecayGamma" => o with { StepDecayGamma = f },
            "WarmupSteps" => o with { WarmupSteps = (int)f },
            "MinimumLearningRate" => o with { MinimumLearningRate = f },
            "PlateauFactor" => o with { PlateauFactor = f },
            "PlateauPatience" => o with { PlateauPatience = (int)f },
            "EarlyStoppingPatience" => o with { EarlyStoppingPatience = (int)f },
            "CheckpointEvery" => o with { CheckpointEvery = (int)f, CheckpointPath = "x.ckpt" },
            "MinimumSteps" => o with { MinimumSteps = (int)f },
            "TruncatedBpttSteps" => o with { TruncatedBpttSteps = (int)f },
            "MaxBatchMemoryMegabytes" => o with { MaxBatchMemoryMegabytes = (int)f },
            _ => throw new ArgumentException(option),
        };
    }

    /// <summary>Every range rule refuses the value just past its bound, naming the option, the value and the range.</summary>
    [Theory]
    [MemberData(nameof(RangeRefusals))]
    public void EachRangeRule_RefusesTheValueJustPastItsBound(string setting, string message)
    {
        string[] parts = setting.Split(' ');
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => With(parts[0], parts[1]).Validate(hasValidationData: true));
        Assert.Equal(parts[0], error.ParamName);
        // The message prints the value as the current culture does (∞ or Infinity).
        Assert.StartsWith(message.Replace("∞", float.PositiveInfinity.ToString(), StringComparison.Ordinal), error.Message, StringComparison.Ordinal);
    }

    /// <summary>The bounds themselves are accepted.</summary>
    [Theory]
    [InlineData("Epochs 1")] [InlineData("BatchSize 1")] [InlineData("Momentum 0")] [InlineData("Beta1 0")] [InlineData("Beta2 0")]
    [InlineData("StepDecayEpochs 1")] [InlineData("StepDecayGamma 1")] [InlineData("WarmupSteps 0")] [InlineData("MinimumLearningRate 0")]
    [InlineData("MinimumLearningRate 0.001")] [InlineData("PlateauPatience 0")] [InlineData("EarlyStoppingPatience 0")] [InlineData("CheckpointEvery 0")]
    [InlineData("WeightDecay 0")] [InlineData("GradientClipNorm 0")] [InlineData("GradientClipValue 0")]
    public void EachRangeRule_AcceptsItsBound(string setting)
    {
        string[] parts = setting.Split(' ');
        With(parts[0], parts[1]).Validate(hasValidationData: true);
    }
}
