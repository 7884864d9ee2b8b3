using Microsoft.ML.Data;
using MlNet.Rnn;
using MlNet.Rnn.Core.Models;

namespace Microsoft.ML;

/// <summary>
/// Recurrent trainers on <c>mlContext.MulticlassClassification.Trainers</c>: <c>Lstm</c>, <c>Gru</c> and <c>Rnn</c>, each with simple arguments or
/// <see cref="RecurrentMulticlassTrainer.Options"/>.
/// </summary>
public static class RecurrentMulticlassCatalog
{
    /// <summary>An LSTM multiclass classifier over a sequence column: a Single vector read as steps × <paramref name="featuresPerStep"/>, or a key vector of tokens.</summary>
    /// <param name="catalog">The trainers catalog.</param>
    /// <param name="labelColumnName">The label column: a key (e.g. MapValueToKey of the label).</param>
    /// <param name="featureColumnName">The feature column: a vector of Single (fixed or variable size) holding T steps × <paramref name="featuresPerStep"/> values, step-major; or a vector of keys (TokenizeIntoWords + MapValueToKey), fed through a learned embedding.</param>
    /// <param name="exampleWeightColumnName">An optional Single column of per-row weights.</param>
    /// <param name="featuresPerStep">I: features per time step of a Single vector.</param>
    /// <param name="hiddenSize">H: hidden units per layer and direction (<see cref="RecurrentMulticlassTrainer.Options.DefaultHiddenSize"/> unless set).</param>
    /// <param name="numberOfLayers">L: stacked recurrent layers.</param>
    /// <param name="bidirectional">Whether each layer also reads the sequence backwards (true unless set: see <see cref="RecurrentTrainerOptions.Bidirectional"/>).</param>
    /// <param name="numberOfEpochs">Passes over the training data; null (the default) decides when to stop on held-out rows (see <see cref="RecurrentTrainerOptionsBase.NumberOfEpochs"/>).</param>
    /// <param name="batchSize">Sequences per optimisation step.</param>
    /// <param name="learningRate">Adam's learning rate; null: 1e-2 for LSTM and GRU, 1e-3 for an Elman RNN (<see cref="RecurrentTrainerOptions.DefaultLearningRate"/>).</param>
    /// <example><code>
    /// var pipeline = mlContext.MulticlassClassification.Trainers.Lstm(featuresPerStep: 1, hiddenSize: 32, numberOfEpochs: 20);
    /// var model = pipeline.Fit(trainData);
    /// var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(testData));
    /// </code></example>
    public static RecurrentMulticlassTrainer Lstm(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null, int featuresPerStep = 1, int hiddenSize = RecurrentMulticlassTrainer.Options.DefaultHiddenSize, int numberOfLayers = 1,
        bool bidirectional = true, int? numberOfEpochs = null, int batchSize = 32, float? learningRate = null) =>
        Create(catalog, RecurrentCellType.Lstm, SimpleOptions.Fill(new RecurrentMulticlassTrainer.Options(), labelColumnName, featureColumnName,
            exampleWeightColumnName, featuresPerStep, hiddenSize, numberOfLayers, bidirectional, numberOfEpochs, batchSize, learningRate));

    /// <summary>An LSTM multiclass classifier with every option.</summary>
    /// <param name="catalog">The trainers catalog.</param>
    /// <param name="options">The options.</param>
    public static RecurrentMulticlassTrainer Lstm(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, RecurrentMulticlassTrainer.Options options) =>
        Create(catalog, RecurrentCellType.Lstm, options);

    /// <summary>A GRU multiclass classifier over a sequence column: a Single vector read as steps × <paramref name="featuresPerStep"/>, or a key vector of tokens.</summary>
    /// <inheritdoc cref="Lstm(MulticlassClassificationCatalog.MulticlassClassificationTrainers, string, string, string?, int, int, int, bool, int?, int, float?)"/>
    public static RecurrentMulticlassTrainer Gru(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null, int featuresPerStep = 1, int hiddenSize = RecurrentMulticlassTrainer.Options.DefaultHiddenSize, int numberOfLayers = 1,
        bool bidirectional = true, int? numberOfEpochs = null, int batchSize = 32, float? learningRate = null) =>
        Create(catalog, RecurrentCellType.Gru, SimpleOptions.Fill(new RecurrentMulticlassTrainer.Options(), labelColumnName, featureColumnName,
            exampleWeightColumnName, featuresPerStep, hiddenSize, numberOfLayers, bidirectional, numberOfEpochs, batchSize, learningRate));

    /// <summary>A GRU multiclass classifier with every option.</summary>
    /// <param name="catalog">The trainers catalog.</param>
    /// <param name="options">The options.</param>
    public static RecurrentMulticlassTrainer Gru(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, RecurrentMulticlassTrainer.Options options) =>
        Create(catalog, RecurrentCellType.Gru, options);

    /// <summary>An Elman RNN multiclass classifier over a sequence column: a Single vector read as steps × <paramref name="featuresPerStep"/>, or a key vector of tokens.</summary>
    /// <inheritdoc cref="Lstm(MulticlassClassificationCatalog.MulticlassClassificationTrainers, string, string, string?, int, int, int, bool, int?, int, float?)"/>
    public static RecurrentMulticlassTrainer Rnn(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null, int featuresPerStep = 1, int hiddenSize = RecurrentMulticlassTrainer.Options.DefaultHiddenSize, int numberOfLayers = 1,
        bool bidirectional = true, int? numberOfEpochs = null, int batchSize = 32, float? learningRate = null) =>
        Create(catalog, RecurrentCellType.Rnn, SimpleOptions.Fill(new RecurrentMulticlassTrainer.Options(), labelColumnName, featureColumnName,
            exampleWeightColumnName, featuresPerStep, hiddenSize, numberOfLayers, bidirectional, numberOfEpochs, batchSize, learningRate));

    /// <summary>An Elman RNN multiclass classifier with every option.</summary>
    /// <param name="catalog">The trainers catalog.</param>
    /// <param name="options">The options.</param>
    public static RecurrentMulticlassTrainer Rnn(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, RecurrentMulticlassTrainer.Options options) =>
        Create(catalog, RecurrentCellType.Rnn, options);

    private static RecurrentMulticlassTrainer Create(MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, RecurrentCellType cell, RecurrentMulticlassTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new RecurrentMulticlassTrainer(catalog.GetEnvironment(), cell, options);
    }
}
