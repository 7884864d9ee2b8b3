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
}
