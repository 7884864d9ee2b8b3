using Microsoft.ML;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// Recurrent experiments, entered as <c>mlContext.RecurrentExperiments</c>: one <c>Create…Experiment</c> per task, with a
/// time budget in seconds or full <see cref="RecurrentExperimentSettings{TOptions}"/>, as ML.NET AutoML's <c>mlContext.Auto()</c>.
/// </summary>
/// <example><code>
/// var experiment = mlContext.RecurrentExperiments.CreateBinaryClassificationExperiment(maxExperimentTimeInSeconds: 60);
/// var result = experiment.Execute(trainData, validationData, labelColumnName: "Label", featureColumnName: "Tokens");
/// Console.WriteLine(result.BestRun);
/// mlContext.Model.Save(result.Model, trainData.Schema, "best.zip");
/// </code></example>
public sealed class RecurrentExperimentCatalog
{
    private readonly MLContext _mlContext;

    internal RecurrentExperimentCatalog(MLContext mlContext) => _mlContext = mlContext;

    /// <summary>A search over binary classifiers with the default search space for <paramref name="maxExperimentTimeInSeconds"/> seconds.</summary>
    /// <param name="maxExperimentTimeInSeconds">The time budget; positive.</param>
    public BinaryRecurrentExperiment CreateBinaryClassificationExperiment(double maxExperimentTimeInSeconds) =>
        new(_mlContext, new() { MaxExperimentTimeInSeconds = maxExperimentTimeInSeconds });

    /// <summary>A search over binary classifiers with <paramref name="settings"/>.</summary>
    /// <param name="settings">Budget, metric, search space, trainer options, seed and schedule.</param>
    public BinaryRecurrentExperiment CreateBinaryClassificationExperiment(RecurrentExperimentSettings<RecurrentBinaryTrainer.Options> settings) =>
        new(_mlContext, settings);

    /// <summary>A search over multiclass classifiers with the default search space for <paramref name="maxExperimentTimeInSeconds"/> seconds.</summary>
    /// <param name="maxExperimentTimeInSeconds">The time budget; positive.</param>
    public MulticlassRecurrentExperiment CreateMulticlassClassificationExperiment(double maxExperimentTimeInSeconds) =>
        new(_mlContext, new() { MaxExperimentTimeInSeconds = maxExperimentTimeInSeconds });

    /// <summary>A search over multiclass classifiers with <paramref name="settings"/>.</summary>
    /// <param name="settings">Budget, metric, search space, trainer options, seed and schedule.</param>
    public MulticlassRecurrentExperiment CreateMulticlassClassificationExperiment(RecurrentExperimentSettings<RecurrentMulticlassTrainer.Options> settings) =>
        new(_mlContext, settings);

    /// <summary>A search over regressors with the default search space for <paramref name="maxExperimentTimeInSeconds"/> seconds.</summary>
    /// <param name="maxExperimentTimeInSeconds">The time budget; positive.</param>
    public RegressionRecurrentExperiment CreateRegressionExperiment(double maxExperimentTimeInSeconds) =>
        new(_mlContext, new() { MaxExperimentTimeInSeconds = maxExperimentTimeInSeconds });

    /// <summary>A search over regressors with <paramref name="settings"/>.</summary>
    /// <param name="settings">Budget, metric, search space, trainer options, seed and schedule.</param>
    public RegressionRecurrentExperiment CreateRegressionExperiment(RecurrentExperimentSettings<RecurrentRegressionTrainer.Options> settings) =>
        new(_mlContext, settings);

    /// <summary>A search over sequence taggers with the default search space for <paramref name="maxExperimentTimeInSeconds"/> seconds.</summary>
    /// <param name="maxExperimentTimeInSeconds">The time budget; positive.</param>
    public TaggingRecurrentExperiment CreateSequenceTaggingExperiment(double maxExperimentTimeInSeconds) =>
        new(_mlContext, new() { MaxExperimentTimeInSeconds = maxExperimentTimeInSeconds });

    /// <summary>A search over sequence taggers with <paramref name="settings"/>.</summary>
    /// <param name="settings">Budget, metric, search space, trainer options, seed and schedule.</param>
    public TaggingRecurrentExperiment CreateSequenceTaggingExperiment(RecurrentExperimentSettings<SequenceTaggingTrainer.Options> settings) =>
        new(_mlContext, settings);

    /// <summary>A search over recurrent forecasters with the default search space for <paramref name="maxExperimentTimeInSeconds"/> seconds.</summary>
    /// <param name="maxExperimentTimeInSeconds">The time budget; positive.</param>
    public ForecastingRecurrentExperiment CreateForecastingExperiment(double maxExperimentTimeInSeconds) =>
        new(_mlContext, new() { MaxExperimentTimeInSeconds = maxExperimentTimeInSeconds });

    /// <summary>A search over recurrent forecasters with <paramref name="settings"/>.</summary>
    /// <param name="settings">Budget, search space (and window sizes), estimator options, validation tail, seed and schedule.</param>
    public ForecastingRecurrentExperiment CreateForecastingExperiment(ForecastingExperimentSettings settings) => new(_mlContext, settings);
}
