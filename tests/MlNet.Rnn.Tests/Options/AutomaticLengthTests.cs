using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Tests.Options;

/// <summary>
/// The automatic training length's epochs (<see cref="RecurrentTrainerOptionsBase.NumberOfEpochs"/> null) against the rule its
/// documentation states, computed here by hand for batches of 32: with validation rows, at most 100 epochs or the epoch that
/// reaches 20,000 steps, and at least the epochs of 1,000 steps; without, 10 epochs or the epochs of 1,000 steps.
/// </summary>
public sealed class AutomaticLengthTests
{
    [Theory]
    [InlineData(100, true, 250)]       // 4 steps an epoch: 1,000 steps need 250 epochs, more than the cap of 100
    [InlineData(3_200, true, 100)]     // 100 steps an epoch: the cap of 100 epochs (10,000 steps)
    [InlineData(18_000, true, 36)]     // 563 steps an epoch: 20,000 steps end in epoch 36, before the cap of 100
    [InlineData(1_000_000, true, 1)]   // 31,250 steps an epoch: 1,000 steps and 20,000 both end in the first
    [InlineData(100, false, 250)]      // no validation rows: 10 epochs, or the 250 that 1,000 steps need
    [InlineData(18_000, false, 10)]
    public void TheEpochs_FollowTheDocumentedRule(long rows, bool validated, int epochs)
    {
        var (options, description) = RecurrentTrainerOptionsBase.AutomaticLength(new TrainerOptions { BatchSize = 32, EarlyStoppingPatience = 5 }, rows, validated, "loss");

        Assert.Equal(epochs, options.Epochs);
        Assert.Equal(validated ? RecurrentTrainerOptionsBase.AutomaticMinimumSteps : 0, options.MinimumSteps);
        Assert.True(options.EarlyStoppingOnAccuracy);
        Assert.Equal(validated
            ? $"; until the validation loss has not improved for 5 epochs, after at least 1000 optimizer steps, at most {options.Epochs} epochs (NumberOfEpochs not set)"
            : $"; {options.Epochs} epochs (NumberOfEpochs not set, no validation rows)", description);
    }
}
