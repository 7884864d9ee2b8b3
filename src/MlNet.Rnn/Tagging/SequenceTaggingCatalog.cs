using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tagging;
using MlNet.Rnn.Tagging;

namespace MlNet.Rnn;

/// <summary>
/// The sequence-tagging task (many-to-many aligned, e.g. part-of-speech or named-entity tagging), as
/// <c>mlContext.SequenceTagging</c>: its trainers (<see cref="Trainers"/>) and its evaluator (<see cref="Evaluate"/>).
/// </summary>
public sealed class SequenceTaggingCatalog
{
    internal SequenceTaggingCatalog(IHostEnvironment env)
    {
        Environment = env;
        Trainers = new SequenceTaggingTrainers(env);
    }

    /// <summary>The recurrent taggers: <c>Rnn</c>, <c>Lstm</c> and <c>Gru</c>.</summary>
    public SequenceTaggingTrainers Trainers { get; }

    internal IHostEnvironment Environment { get; }

    /// <summary>
    /// Compares the predicted tags with the gold tags step by step (the core's <see cref="TaggingMetrics"/>): token accuracy,
    /// per-tag precision/recall/F1 with macro and micro averages and, when the label's key values are BIO tags (<c>O</c>,
    /// <c>B-TYPE</c>, <c>I-TYPE</c>), entity-level precision/recall/F1. Steps whose gold key is missing are left out.
    /// </summary>
    /// <param name="data">Scored data, e.g. <c>model.Transform(testData)</c>.</param>
    /// <param name="labelColumnName">The gold tags: a key vector, one key per step.</param>
    /// <param name="predictedLabelColumnName">The predicted tags: a key vector of the same key type, as long as the label.</param>
    /// <param name="ignoredTags">Tag names (e.g. <c>"O"</c>) left out of the macro and micro averages only.</param>
    /// <example><code>
    /// var metrics = mlContext.SequenceTagging.Evaluate(model.Transform(testData));
    /// Console.WriteLine($"token accuracy {metrics.TokenAccuracy:F3}, entity F1 {metrics.Entities?.F1:F3}");
    /// </code></example>
    public TaggingMetrics Evaluate(IDataView data, string labelColumnName = DefaultColumnNames.Label,
        string predictedLabelColumnName = DefaultColumnNames.PredictedLabel, IEnumerable<string>? ignoredTags = null)
    {
        var host = Environment.Register("SequenceTaggingEvaluator");
        host.CheckValue(data, nameof(data));
        var gold = TagColumn.FromSchema(host, data.Schema, labelColumnName, "label");
        var predicted = TagColumn.FromSchema(host, data.Schema, predictedLabelColumnName, "predicted label");
        if (gold.TagCount != predicted.TagCount)
            throw host.ExceptSchemaMismatch(nameof(data), "predicted label", predictedLabelColumnName, gold.Column.Type.ToString(), predicted.Column.Type.ToString());
        var goldRows = new List<int[]>();
        var predictedRows = new List<int[]>();
        using (var cursor = data.GetRowCursor([gold.Column, predicted.Column]))
        {
            var goldReader = gold.CreateReader(cursor);
            var predictedReader = predicted.CreateReader(cursor);
            var goldTags = new List<int>();
            var predictedTags = new List<int>();
            while (cursor.MoveNext())
            {
                goldReader.Read();
                predictedReader.Read();
                goldReader.CheckAligned(cursor.Position, predictedReader.Tags.Length, predictedLabelColumnName);
                goldTags.Clear();
                predictedTags.Clear();
                for (int t = 0; t < goldReader.Tags.Length; t++)
                {
                    if (goldReader.Tags[t] < 0) continue; // a missing gold key is not scored
                    goldTags.Add(goldReader.Tags[t]);
                    predictedTags.Add(Math.Max(predictedReader.Tags[t], 0));
                }
                goldRows.Add([.. goldTags]);
                predictedRows.Add([.. predictedTags]);
            }
        }
        return TaggingMetrics.Compute(goldRows, predictedRows, gold.TagNames(), ignoredTags);
    }

    /// <summary>The recurrent taggers on <c>mlContext.SequenceTagging.Trainers</c>, each with simple arguments or <see cref="SequenceTaggingTrainer.Options"/>.</summary>
    public sealed class SequenceTaggingTrainers
    {
        private readonly IHostEnvironment _env;

        internal SequenceTaggingTrainers(IHostEnvironment env) => _env = env;

        /// <summary>A (bidirectional by default) LSTM tagger: one tag per step of a key vector of tokens or a Single vector read as steps × <paramref name="featuresPerStep"/>.</summary>
        /// <param name="labelColumnName">The tags: a vector of keys (MapValueToKey), one per input step.</param>
        /// <param name="featureColumnName">The input: a vector of keys (TokenizeIntoWords + MapValueToKey), fed through a learned embedding; or a vector of Single holding T steps × <paramref name="featuresPerStep"/> values, step-major.</param>
        /// <param name="exampleWeightColumnName">An optional Single column of per-row weights.</param>
        /// <param name="featuresPerStep">I: features per time step of a Single vector.</param>
        /// <param name="hiddenSize">H: hidden units per layer and direction.</param>
        /// <param name="numberOfLayers">L: stacked recurrent layers.</param>
        /// <param name="bidirectional">Whether each layer also reads the sequence backwards (the default: a step's tag depends on what follows it too).</param>
        /// <param name="numberOfEpochs">Passes over the training data; null (the default) decides when to stop on held-out rows (see <see cref="RecurrentTrainerOptionsBase.NumberOfEpochs"/>).</param>
        /// <param name="batchSize">Sequences per optimisation step.</param>
        /// <param name="learningRate">Adam's learning rate; null: 1e-2 for LSTM and GRU, 1e-3 for an Elman RNN (<see cref="RecurrentTrainerOptions.DefaultLearningRate"/>).</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Features", "Words")
        ///     .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", "Tags"))
        ///     .Append(mlContext.SequenceTagging.Trainers.Lstm(hiddenSize: 64, numberOfEpochs: 10))
        ///     .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedTags", "PredictedLabel"));
        /// var metrics = mlContext.SequenceTagging.Evaluate(pipeline.Fit(trainData).Transform(testData));
        /// </code></example>
        public SequenceTaggingTrainer Lstm(string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features,
            string? exampleWeightColumnName = null, int featuresPerStep = 1, int hiddenSize = 64, int numberOfLayers = 1, bool bidirectional = true,
            int? numberOfEpochs = null, int batchSize = 32, float? learningRate = null) =>
            new(_env, RecurrentCellType.Lstm, SimpleOptions.Fill(new SequenceTaggingTrainer.Options(), labelColumnName, featureColumnName,
                exampleWeightColumnName, featuresPerStep, hiddenSize, numberOfLayers, bidirectional, numberOfEpochs, batchSize, learningRate));

        /// <summary>An LSTM tagger with every option.</summary>
        /// <param name="options">The options.</param>
        public SequenceTaggingTrainer Lstm(SequenceTaggingTrainer.Options options) => new(_env, RecurrentCellType.Lstm, options);

        /// <summary>A (bidirectional by default) GRU tagger: one tag per step of a key vector of tokens or a Single vector read as steps × <paramref name="featuresPerStep"/>.</summary>
        /// <inheritdoc cref="Lstm(string, string, string?, int, int, int, bool, int?, int, float?)"/>
        public SequenceTaggingTrainer Gru(string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features,
            string? exampleWeightColumnName = null, int featuresPerStep = 1, int hiddenSize = 64, int numberOfLayers = 1, bool bidirectional = true,
            int? numberOfEpochs = null, int batchSize = 32, float? learningRate = null) =>
            new(_env, RecurrentCellType.Gru, SimpleOptions.Fill(new SequenceTaggingTrainer.Options(), labelColumnName, featureColumnName,
                exampleWeightColumnName, featuresPerStep, hiddenSize, numberOfLayers, bidirectional, numberOfEpochs, batchSize, learningRate));

        /// <summary>A GRU tagger with every option.</summary>
        /// <param name="options">The options.</param>
        public SequenceTaggingTrainer Gru(SequenceTaggingTrainer.Options options) => new(_env, RecurrentCellType.Gru, options);

        /// <summary>A (bidirectional by default) Elman RNN tagger: one tag per step of a key vector of tokens or a Single vector read as steps × <paramref name="featuresPerStep"/>.</summary>
        /// <inheritdoc cref="Lstm(string, string, string?, int, int, int, bool, int?, int, float?)"/>
        public SequenceTaggingTrainer Rnn(string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features,
            string? exampleWeightColumnName = null, int featuresPerStep = 1, int hiddenSize = 64, int numberOfLayers = 1, bool bidirectional = true,
            int? numberOfEpochs = null, int batchSize = 32, float? learningRate = null) =>
            new(_env, RecurrentCellType.Rnn, SimpleOptions.Fill(new SequenceTaggingTrainer.Options(), labelColumnName, featureColumnName,
                exampleWeightColumnName, featuresPerStep, hiddenSize, numberOfLayers, bidirectional, numberOfEpochs, batchSize, learningRate));

        /// <summary>An Elman RNN tagger with every option.</summary>
        /// <param name="options">The options.</param>
        public SequenceTaggingTrainer Rnn(SequenceTaggingTrainer.Options options) => new(_env, RecurrentCellType.Rnn, options);
    }
}
