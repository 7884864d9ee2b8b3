using Microsoft.Extensions.Time.Testing;
using Microsoft.ML;
using MlNet.Rnn.Experiments;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>
/// An experiment's arguments: a missing context, training or validation data is refused by name before anything is read, and
/// the number of cross-validation folds at its bound (1 refused with its message, 2 taken). Every call that passes the checks
/// gets a cancelled token, so no trial trains.
/// </summary>
public sealed class ExperimentChecksTests
{
    private static RecurrentExperimentSettings<RecurrentBinaryTrainer.Options> Settings() => new()
    {
        MaxExperimentTimeInSeconds = 600, Seed = 7, MaxTrials = 1, TimeProvider = new FakeTimeProvider(),
        TrainerOptions = new() { NumberOfEpochs = 1, MaxDegreeOfParallelism = 1 },
        SearchSpace = new() { HiddenSizes = [4], NumbersOfLayers = [1], BatchSizes = [32] },
    };

    [Fact]
    public void AMissingContextTrainingOrValidationDataIsRefusedByName()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, validation) = ExperimentData.Split(mlContext, 100, 50);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Equal("mlContext", Assert.Throws<ArgumentNullException>(() => new BinaryRecurrentExperiment(null!, Settings())).ParamName);
        var experiment = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(Settings());
        Assert.Equal("trainData", Assert.Throws<ArgumentNullException>(() => experiment.Execute(null!, validation, cancellationToken: cancelled.Token)).ParamName);
        Assert.Equal("trainData", Assert.Throws<ArgumentNullException>(() => experiment.Execute(null!, 2, cancellationToken: cancelled.Token)).ParamName);
        Assert.Equal("validationData", Assert.Throws<ArgumentNullException>(() => experiment.Execute(train, (IDataView)null!, cancellationToken: cancelled.Token)).ParamName);
    }

    [Fact]
    public void CrossValidationNeedsAtLeastTwoFolds()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, _) = ExperimentData.Split(mlContext, 100, 50);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var experiment = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(Settings());

        var one = Assert.Throws<ArgumentOutOfRangeException>(() => experiment.Execute(train, numberOfCrossValidationFolds: 1, cancellationToken: cancelled.Token));
        Assert.Equal("numberOfCrossValidationFolds", one.ParamName);
        Assert.Equal(1, one.ActualValue);
        Assert.Equal("numberOfCrossValidationFolds = 1 must be at least 2 (e.g. 5), or pass validation data instead. (Parameter 'numberOfCrossValidationFolds')" +
            Environment.NewLine + "Actual value was 1.", one.Message);

        // Two folds pass the check: the search starts, and the cancelled token ends it before any run.
        var two = Assert.Throws<OperationCanceledException>(() => experiment.Execute(train, numberOfCrossValidationFolds: 2, cancellationToken: cancelled.Token));
        Assert.Equal("No trial finished an epoch within 0.0 s (0 started, 0 diverged): the experiment was cancelled before any run could be returned.", two.Message);
        Assert.Equal(cancelled.Token, two.CancellationToken);
    }
}
