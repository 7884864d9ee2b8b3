using Microsoft.ML;
using MlNet.Rnn.Tests.Options;

namespace MlNet.Rnn.Tests.Forecasting;

/// <summary>
/// The forecaster's own options act: each column option is checked when the forecaster is created, naming the option and its
/// value; the final model is refit on the whole series by default; early stopping watches the held-out tail (the calibration
/// fraction's, or the validation rows') and the fit reports what it read and how training ended; <c>Fit(train, validation)</c>
/// holds out exactly the validation rows, and refuses validation data without rows or with other feature widths.
/// </summary>
public sealed class ForecastingOptionTests
{
    private static readonly MLContext s_mlContext = new(seed: 1);

    private static RecurrentForecastingEstimator.Options Small(Action<RecurrentForecastingEstimator.Options>? change = null)
    {
        var options = new RecurrentForecastingEstimator.Options
        {
            InputColumnName = nameof(Observation.Value), WindowSize = 4, Horizon = 1, HiddenSize = 3, NumberOfEpochs = 2, Seed = 3,
            MaxDegreeOfParallelism = 1, ConfidenceLowerBoundColumn = "Low", ConfidenceUpperBoundColumn = "High",
        };
        change?.Invoke(options);
        return options;
    }

    private static IDataView Data(int count, int start = 0) => s_mlContext.Data.LoadFromEnumerable(ForecastingTests.Series(count, start, seed: start));

    private static string Refusal(Action<RecurrentForecastingEstimator.Options> change) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => s_mlContext.Forecasting.ForecastByGru(Small(change))).Message;

    [Fact]
    public void EveryColumnOptionIsCheckedWhenTheForecasterIsCreated_NamingTheOptionAndItsValue()
    {
        Assert.Equal("catalog", Assert.Throws<ArgumentNullException>(() => RecurrentForecastingCatalog.ForecastByLstm(null!, Small())).ParamName);
        Assert.StartsWith("HiddenSize = 0 must be at least 1.", Refusal(o => o.HiddenSize = 0));
        Assert.StartsWith("OutputColumnName =   must name a column.", Refusal(o => o.OutputColumnName = " "));
        // The series is every trainer's FeatureColumnName, checked (and named) as such first.
        Assert.StartsWith("FeatureColumnName =  must name a column.", Refusal(o => o.InputColumnName = ""));
        Assert.StartsWith("ConfidenceLowerBoundColumn =   must name a column, or be null for none.", Refusal(o => o.ConfidenceLowerBoundColumn = " "));
        Assert.StartsWith("ConfidenceUpperBoundColumn =  must name a column, or be null for none.", Refusal(o => o.ConfidenceUpperBoundColumn = ""));
        Assert.StartsWith("ExogenousColumnNames = null must name columns (an empty array for none).", Refusal(o => o.ExogenousColumnNames = null!));
        Assert.StartsWith("ExogenousColumnNames = Heat,  must name columns (an empty array for none).", Refusal(o => o.ExogenousColumnNames = ["Heat", ""]));
    }

    [Fact]
    public void ByDefaultTheFinalModelIsRefitOnTheWholeSeries()
    {
        var history = Data(40);
        var future = Data(6, start: 40);
        string[] Forecasts(Action<RecurrentForecastingEstimator.Options>? change) =>
            Fingerprint.Of(s_mlContext.Forecasting.ForecastByLstm(Small(change)).Fit(history).Transform(future), "Forecast");

        string[] byDefault = Forecasts(null);
        Assert.Equal(Forecasts(o => o.RefitOnFullSeries = true), byDefault);
        Assert.NotEqual(Forecasts(o => o.RefitOnFullSeries = false), byDefault);
    }

    [Fact]
    public void EarlyStoppingWatchesTheCalibrationTail_AndTheFitReportsWhatItReadAndHowItEnded()
    {
        var logger = new RecordingLogger();
        var model = s_mlContext.Forecasting.ForecastByLstm(Small(o =>
        {
            (o.NumberOfEpochs, o.LearningRate, o.EarlyStoppingPatience, o.RefitOnFullSeries, o.Logger) = (40, 0.05f, 1, false, logger);
        })).Fit(Data(60));

        var history = model.Forecaster.History!;
        Assert.True(history.StoppedEarly);
        Assert.True(history.Epochs.Count < 40);
        string[] lines = [.. logger.Lines.Select(line => line.Message)];
        Assert.Contains("Lstm forecaster: 60 observations of 'Value', 0 exogenous features, window 4, horizon 1, seed 3", lines);
        Assert.Contains($"Stopped early after epoch {history.Epochs.Count}; kept epoch {history.BestEpoch}.", lines);
    }

    [Fact]
    public void EarlyStoppingWatchesTheValidationRows_EvenWithoutACalibrationFraction()
    {
        var model = s_mlContext.Forecasting.ForecastByLstm(Small(o =>
        {
            (o.NumberOfEpochs, o.LearningRate, o.EarlyStoppingPatience, o.RefitOnFullSeries, o.CalibrationFraction) = (40, 0.05f, 1, false, 0);
        })).Fit(Data(48), Data(12, start: 48));

        Assert.True(model.Forecaster.History!.StoppedEarly);
        Assert.True(model.Forecaster.CalibrationWindows > 0);
    }

    [Fact]
    public void FitWithValidationDataHoldsOutExactlyTheValidationRows()
    {
        var future = Data(6, start: 60);
        var withValidation = s_mlContext.Forecasting.ForecastByGru(Small()).Fit(Data(48), Data(12, start: 48));
        var all = s_mlContext.Data.LoadFromEnumerable([.. ForecastingTests.Series(48), .. ForecastingTests.Series(12, start: 48, seed: 48)]);
        var heldOut = s_mlContext.Forecasting.ForecastByGru(Small(o => o.CalibrationFraction = 12.0 / 60)).Fit(all);

        Assert.Equal(heldOut.Forecaster.CalibrationWindows, withValidation.Forecaster.CalibrationWindows);
        foreach (string name in new[] { "Forecast", "Low", "High" })
            Assert.Equal(Fingerprint.Of(heldOut.Transform(future), name), Fingerprint.Of(withValidation.Transform(future), name));
    }

    [Fact]
    public void TrainingDataMemoryMegabytes_WindowsPastItTrainFromParts_WindowsWithinItTrainAsBefore()
    {
        float[] Weights(IDataView data, int megabytes) => OptionProbe.Flat(OptionProbe.Tensors(s_mlContext.Forecasting.ForecastByGru(Small(o =>
        {
            (o.WindowSize, o.NumberOfEpochs, o.RefitOnFullSeries, o.CalibrationFraction, o.TrainingDataMemoryMegabytes) = (24, 1, false, 0, megabytes);
        })).Fit(data).Forecaster.Save));

        // 9,977 windows of 24 steps take 1.3 MB: over 1 MB they are made and mixed a part at a time, which changes the order.
        var many = Data(10_000);
        Assert.NotEqual(Weights(many, 1024), Weights(many, 1));
        var few = Data(200);
        Assert.Equal(Weights(few, 1024), Weights(few, 1));
    }

    [Fact]
    public void ValidationDataWithoutRowsOrWithAnotherFeatureWidthIsRefused()
    {
        var estimator = s_mlContext.Forecasting.ForecastByRnn(Small());
        var empty = s_mlContext.Data.LoadFromEnumerable(Array.Empty<Observation>());
        Assert.Equal("The validation data has no row; pass the rows that follow the training rows, or call Fit(trainData).",
            Assert.Throws<InvalidOperationException>(() => estimator.Fit(Data(40), empty)).Message);

        var features = ForecastingColumnTests.Estimator(s_mlContext);
        var wide = s_mlContext.Data.LoadFromEnumerable(new[] { new WideFeatureRow(), new WideFeatureRow() });
        Assert.Equal("The validation data's exogenous columns hold a different number of features than the training data's.",
            Assert.Throws<InvalidOperationException>(() => features.Fit(s_mlContext.Data.LoadFromEnumerable(ForecastingColumnTests.Rows(30)), wide)).Message);
    }
}
