using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn;

/// <summary>
/// The language-modeling task (one-to-many: a character- or token-level model that generates and scores text), as
/// <c>mlContext.LanguageModeling</c>: its trainers (<see cref="Trainers"/>) and its evaluator (<see cref="Evaluate"/>).
/// </summary>
public sealed class LanguageModelingCatalog
{
    internal LanguageModelingCatalog(IHostEnvironment env)
    {
        Environment = env;
        Trainers = new LanguageModelingTrainers(env);
    }

    /// <summary>The recurrent language models: <c>Rnn</c>, <c>Lstm</c> and <c>Gru</c>.</summary>
    public LanguageModelingTrainers Trainers { get; }

    internal IHostEnvironment Environment { get; }

    /// <summary>
    /// Pools the per-row scores of <see cref="LanguageModelTransformer.Transform"/> over every row: the summed log-likelihood
    /// over the summed token count gives the cross-entropy, bits per token and perplexity of the whole data
    /// (<see cref="LanguageModelMetrics"/>).
    /// </summary>
    /// <param name="data">Scored data, e.g. <c>model.Transform(testData)</c>.</param>
    /// <param name="logLikelihoodColumnName">The per-row log-likelihood (Single, natural log).</param>
    /// <param name="tokenCountColumnName">The per-row count of scored tokens (Single).</param>
    /// <example><code>
    /// var metrics = mlContext.LanguageModeling.Evaluate(model.Transform(testData));
    /// Console.WriteLine($"{metrics.BitsPerToken:F3} bits per character, perplexity {metrics.Perplexity:F2}");
    /// </code></example>
    public LanguageModelMetrics Evaluate(IDataView data, string logLikelihoodColumnName = LanguageModelTransformer.LogLikelihoodColumnName,
        string tokenCountColumnName = LanguageModelTransformer.TokenCountColumnName)
    {
        var host = Environment.Register("LanguageModelEvaluator");
        host.CheckValue(data, nameof(data));
        var logLikelihood = SingleColumn(host, data.Schema, logLikelihoodColumnName, "log-likelihood");
        var tokenCount = SingleColumn(host, data.Schema, tokenCountColumnName, "token count");
        double sum = 0;
        long tokens = 0;
        using (var cursor = data.GetRowCursor([logLikelihood, tokenCount]))
        {
            var readLikelihood = cursor.GetGetter<float>(logLikelihood);
            var readCount = cursor.GetGetter<float>(tokenCount);
            float value = 0, count = 0;
            while (cursor.MoveNext())
            {
                readLikelihood(ref value);
                readCount(ref count);
                sum += value;
                tokens += (long)count;
            }
        }
        if (tokens == 0) throw host.Except("The data has no scored token; evaluate at least one row.");
        return new LanguageModelMetrics(sum, tokens);
    }

    private static DataViewSchema.Column SingleColumn(IHost host, DataViewSchema schema, string name, string role)
    {
        host.CheckNonEmpty(name, nameof(name));
        var column = schema.GetColumnOrNull(name) ?? throw host.ExceptSchemaMismatch(nameof(schema), role, name);
        if (column.Type != NumberDataViewType.Single)
            throw host.ExceptSchemaMismatch(nameof(schema), role, name, "Single", column.Type.ToString());
        return column;
    }

    /// <summary>The recurrent language models on <c>mlContext.LanguageModeling.Trainers</c>, each with simple arguments or <see cref="LanguageModelTrainer.Options"/>.</summary>
    public sealed class LanguageModelingTrainers
    {
        private readonly IHostEnvironment _env;

        internal LanguageModelingTrainers(IHostEnvironment env) => _env = env;

        /// <summary>An LSTM language model over the text column (characters by default, or white-space separated tokens).</summary>
        /// <param name="inputColumnName">The text column (String) to learn; each row is a document (start, its tokens, end).</param>
        /// <param name="level">Characters (the default) or white-space separated tokens.</param>
        /// <param name="hiddenSize">H: hidden units per layer.</param>
        /// <param name="numberOfLayers">L: stacked recurrent layers.</param>
        /// <param name="numberOfEpochs">Passes over the training text.</param>
        /// <param name="learningRate">Adam's learning rate.</param>
        /// <example><code>
        /// var model = mlContext.LanguageModeling.Trainers.Lstm("Text", hiddenSize: 256, numberOfEpochs: 20).Fit(data);
        /// Console.WriteLine(model.Generate("Call me ", maxLength: 200, temperature: 0.8f));
        /// </code></example>
        public LanguageModelTrainer Lstm(string inputColumnName = "Text", VocabularyLevel level = VocabularyLevel.Characters, int hiddenSize = 128,
            int numberOfLayers = 1, int numberOfEpochs = 10, float learningRate = 2e-3f) =>
            new(_env, RecurrentCellType.Lstm, Fill(inputColumnName, level, hiddenSize, numberOfLayers, numberOfEpochs, learningRate));

        /// <summary>An LSTM language model with every option.</summary>
        /// <param name="options">The options.</param>
        public LanguageModelTrainer Lstm(LanguageModelTrainer.Options options) => new(_env, RecurrentCellType.Lstm, options);

        /// <summary>A GRU language model over the text column (characters by default, or white-space separated tokens).</summary>
        /// <inheritdoc cref="Lstm(string, VocabularyLevel, int, int, int, float)"/>
        public LanguageModelTrainer Gru(string inputColumnName = "Text", VocabularyLevel level = VocabularyLevel.Characters, int hiddenSize = 128,
            int numberOfLayers = 1, int numberOfEpochs = 10, float learningRate = 2e-3f) =>
            new(_env, RecurrentCellType.Gru, Fill(inputColumnName, level, hiddenSize, numberOfLayers, numberOfEpochs, learningRate));

        /// <summary>A GRU language model with every option.</summary>
        /// <param name="options">The options.</param>
        public LanguageModelTrainer Gru(LanguageModelTrainer.Options options) => new(_env, RecurrentCellType.Gru, options);

        /// <summary>An Elman RNN language model over the text column (characters by default, or white-space separated tokens).</summary>
        /// <inheritdoc cref="Lstm(string, VocabularyLevel, int, int, int, float)"/>
        public LanguageModelTrainer Rnn(string inputColumnName = "Text", VocabularyLevel level = VocabularyLevel.Characters, int hiddenSize = 128,
            int numberOfLayers = 1, int numberOfEpochs = 10, float learningRate = 2e-3f) =>
            new(_env, RecurrentCellType.Rnn, Fill(inputColumnName, level, hiddenSize, numberOfLayers, numberOfEpochs, learningRate));

        /// <summary>An Elman RNN language model with every option.</summary>
        /// <param name="options">The options.</param>
        public LanguageModelTrainer Rnn(LanguageModelTrainer.Options options) => new(_env, RecurrentCellType.Rnn, options);

        private static LanguageModelTrainer.Options Fill(string inputColumnName, VocabularyLevel level, int hiddenSize, int numberOfLayers,
            int numberOfEpochs, float learningRate) => new()
            {
                InputColumnName = inputColumnName,
                Level = level,
                HiddenSize = hiddenSize,
                NumberOfLayers = numberOfLayers,
                NumberOfEpochs = numberOfEpochs,
                LearningRate = learningRate,
            };
    }
}
