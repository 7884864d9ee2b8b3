using Microsoft.ML.Data;
using MlNet.Rnn;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Scoring;

namespace Microsoft.ML;

/// <summary>
/// Recurrent trainers on <c>mlContext.BinaryClassification.Trainers</c>: <c>Lstm</c>, <c>Gru</c> and <c>Rnn</c>, each with simple arguments or
/// <see cref="RecurrentBinaryTrainer.Options"/>.
/// </summary>
public static class RecurrentBinaryCatalog
{
    /// <summary>
    /// A recurrent binary model deciding <c>PredictedLabel</c> at another threshold, as ML.NET's
    /// <c>ChangeModelThreshold</c> does for its own binary models: <c>PredictedLabel</c> is <c>Score &gt; threshold</c>, on
    /// <c>Score</c>, the logit (0, the trained model's, is a probability of ½; for a probability p pass
    /// <c>log(p / (1 − p))</c>). <c>Score</c> and <c>Probability</c> do not change; the threshold is saved with the model.
    /// </summary>
    /// <param name="catalog">The binary classification catalog.</param>
    /// <param name="model">A model a recurrent binary trainer fitted (or one loaded).</param>
    /// <param name="threshold">The new threshold on <c>Score</c>; not NaN.</param>
    /// <returns><paramref name="model"/> when the threshold is already <paramref name="threshold"/>; else a new transformer sharing its network.</returns>
    public static RecurrentPredictionTransformer ChangeModelThreshold(this BinaryClassificationCatalog catalog, RecurrentPredictionTransformer model,
        float threshold)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        if (model.Task != RecurrentTask.BinaryClassification)
            throw new ArgumentException($"The model is a {model.Task} model; only a binary classifier has a decision threshold.", nameof(model));
        if (float.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold is NaN; give a number (0 = probability ½).");
        return threshold == model.Threshold ? model : model.WithThreshold(threshold);
    }

    /// <summary>An LSTM binary classifier over a sequence column: a Single vector read as steps × <paramref name="featuresPerStep"/>, or a key vector of tokens.</summary>
    /// <param name="catalog">The trainers catalog.</param>
    /// <param name="labelColumnName">The Boolean label column.</param>
    /// <param name="featureColumnName">The feature column: a vector of Single (fixed or variable size) holding T steps × <paramref name="featuresPerStep"/> values, step-major; or a vector of keys (TokenizeIntoWords + MapValueToKey), fed through a learned embedding.</param>
    /// <param name="exampleWeightColumnName">An optional Single column of per-row weights.</param>
    /// <param name="featuresPerStep">I: features per time step of a Single vector.</param>
    /// <param name="hiddenSize">H: hidden units per layer and direction.</param>
    /// <param name="numberOfLayers">L: stacked recurrent layers.</param>
    /// <param name="bidirectional">Whether each layer also reads the sequence backwards (true unless set: see <see cref="RecurrentTrainerOptions.Bidirectional"/>).</param>
    /// <param name="numberOfEpochs">Passes over the training data; null (the default) decides when to stop on held-out rows (see <see cref="RecurrentTrainerOptionsBase.NumberOfEpochs"/>).</param>
    /// <param name="batchSize">Sequences per optimisation step.</param>
    /// <param name="learningRate">Adam's learning rate; null: 2e-2 for LSTM and GRU, 1e-3 for an Elman RNN (<see cref="RecurrentBinaryTrainer.Options.DefaultBinaryLearningRate"/>).</param>
    /// <example><code>
    /// var pipeline = mlContext.BinaryClassification.Trainers.Lstm(featuresPerStep: 1, hiddenSize: 32, numberOfEpochs: 20);
    /// var model = pipeline.Fit(trainData);
    /// var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(testData));
    /// </code></example>
    public static RecurrentBinaryTrainer Lstm(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null, int featuresPerStep = 1, int hiddenSize = 64, int numberOfLayers = 1,
        bool bidirectional = true, int? numberOfEpochs = null, int batchSize = 32, float? learningRate = null) =>
        Create(catalog, RecurrentCellType.Lstm, SimpleOptions.Fill(new RecurrentBinaryTrainer.Options(), labelColumnName, featureColumnName,
            exampleWeightColumnName, featuresPerStep, hiddenSize, numberOfLayers, bidirectional, numberOfEpochs, batchSize, learningRate));

    /// <summary>An LSTM binary classifier with every option.</summary>
    /// <param name="catalog">The trainers catalog.</param>
    /// <param name="options">The options.</param>
    public static RecurrentBinaryTrainer Lstm(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, RecurrentBinaryTrainer.Options options) =>
        Create(catalog, RecurrentCellType.Lstm, options);

    /// <summary>A GRU binary classifier over a sequence column: a Single vector read as steps × <paramref name="featuresPerStep"/>, or a key vector of tokens.</summary>
    /// <inheritdoc cref="Lstm(BinaryClassificationCatalog.BinaryClassificationTrainers, string, string, string?, int, int, int, bool, int?, int, float?)"/>
    public static RecurrentBinaryTrainer Gru(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null, int featuresPerStep = 1, int hiddenSize = 64, int numberOfLayers = 1,
        bool bidirectional = true, int? numberOfEpochs = null, int batchSize = 32, float? learningRate = null) =>
        Create(catalog, RecurrentCellType.Gru, SimpleOptions.Fill(new RecurrentBinaryTrainer.Options(), labelColumnName, featureColumnName,
            exampleWeightColumnName, featuresPerStep, hiddenSize, numberOfLayers, bidirectional, numberOfEpochs, batchSize, learningRate));

    /// <summary>A GRU binary classifier with every option.</summary>
    /// <param name="catalog">The trainers catalog.</param>
    /// <param name="options">The options.</param>
    public static RecurrentBinaryTrainer Gru(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, RecurrentBinaryTrainer.Options options) =>
        Create(catalog, RecurrentCellType.Gru, options);

    /// <summary>An Elman RNN binary classifier over a sequence column: a Single vector read as steps × <paramref name="featuresPerStep"/>, or a key vector of tokens.</summary>
    /// <inheritdoc cref="Lstm(BinaryClassificationCatalog.BinaryClassificationTrainers, string, string, string?, int, int, int, bool, int?, int, float?)"/>
    public static RecurrentBinaryTrainer Rnn(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null, int featuresPerStep = 1, int hiddenSize = 64, int numberOfLayers = 1,
        bool bidirectional = true, int? numberOfEpochs = null, int batchSize = 32, float? learningRate = null) =>
        Create(catalog, RecurrentCellType.Rnn, SimpleOptions.Fill(new RecurrentBinaryTrainer.Options(), labelColumnName, featureColumnName,
            exampleWeightColumnName, featuresPerStep, hiddenSize, numberOfLayers, bidirectional, numberOfEpochs, batchSize, learningRate));

    /// <summary>An Elman RNN binary classifier with every option.</summary>
    /// <param name="catalog">The trainers catalog.</param>
    /// <param name="options">The options.</param>
    public static RecurrentBinaryTrainer Rnn(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, RecurrentBinaryTrainer.Options options) =>
        Create(catalog, RecurrentCellType.Rnn, options);

    private static RecurrentBinaryTrainer Create(BinaryClassificationCatalog.BinaryClassificationTrainers catalog, RecurrentCellType cell, RecurrentBinaryTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new RecurrentBinaryTrainer(catalog.GetEnvironment(), cell, options);
    }
}
