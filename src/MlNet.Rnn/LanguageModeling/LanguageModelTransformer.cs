using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.LanguageModeling;
using MlNet.Rnn.Scoring;

[assembly: LoadableClass(typeof(LanguageModelTransformer), null, typeof(SignatureLoadModel),
    "Recurrent language model transformer (RNN, LSTM, GRU)", LanguageModelTransformer.LoaderSignature)]

namespace MlNet.Rnn;

/// <summary>
/// A fitted recurrent language model. <see cref="Generate"/> writes text (one-to-many, from an empty prompt or a given one);
/// <see cref="Transform"/> scores the text column of each row as a whole document (its tokens and the end token, each given
/// the start token and the tokens before it) and adds four Single columns: <c>LogLikelihood</c> (natural log),
/// <c>TokenCount</c>, <c>BitsPerToken</c> and <c>Perplexity</c>. Transform is lazy; each cursor and mapper scores its rows in batches
/// in a workspace of its own over the shared model. Saved and loaded by <c>mlContext.Model.Save/Load</c>, the network and vocabulary inside as the core's model file.
/// </summary>
public sealed class LanguageModelTransformer : ITransformer, ICanSaveModel, IBatchScoringTask
{
    internal const string LoaderSignature = "MlNetRnnLangModel";

    /// <summary>The per-row log-likelihood column.</summary>
    public const string LogLikelihoodColumnName = "LogLikelihood";

    /// <summary>The per-row scored token count column (the end token counts).</summary>
    public const string TokenCountColumnName = "TokenCount";

    /// <summary>The per-row bits per token column.</summary>
    public const string BitsPerTokenColumnName = "BitsPerToken";

    /// <summary>The per-row perplexity column.</summary>
    public const string PerplexityColumnName = "Perplexity";

    internal static readonly string[] ScoreColumnNames = [LogLikelihoodColumnName, TokenCountColumnName, BitsPerTokenColumnName, PerplexityColumnName];

    private const string ModelStream = "LanguageModel.safetensors";
    private const uint Version = 0x00010002; // the inference precision
    private const uint FirstVersionWithPrecision = 0x00010002;
    private const uint FirstVersion = 0x00010001; // initial

    /// <summary>Documents a cursor scores side by side (as many as <see cref="RecurrentTrainerOptionsBase.ScoringBatchSize"/>'s default).</summary>
    private const int ScoringBatchSize = 256;

    private readonly IHost _host;
    private readonly Lazy<byte[]> _snapshot;
    private readonly object _generating = new();
    private LanguageModelWorkspace? _scoring; // Score's workspace in a precision other than float, made once, used under _generating

    internal LanguageModelTransformer(IHostEnvironment env, LanguageModel model, string inputColumnName, TrainingHistory? history,
        InferencePrecision precision = InferencePrecision.Float32, Lazy<byte[]>? snapshot = null)
    {
        _host = Contracts.CheckRef(env, nameof(env)).Register(nameof(LanguageModelTransformer));
        Model = model;
        InputColumnName = inputColumnName;
        History = history;
        Precision = precision;
        _snapshot = snapshot ?? new(() =>
        {
            using var stream = new MemoryStream();
            model.Save(stream);
            return stream.ToArray();
        });
    }

    /// <summary>The trained model (its own methods are not thread-safe; <see cref="Generate"/> locks it, scoring runs in workspaces over it).</summary>
    public LanguageModel Model { get; }

    /// <summary>The vocabulary: characters or tokens.</summary>
    public Vocabulary Vocabulary => Model.Vocabulary;

    /// <summary>
    /// How <see cref="Transform"/> and <see cref="Score"/> compute the recurrent layers' products: <see cref="InferencePrecision.Float32"/>,
    /// or <see cref="InferencePrecision.Int8"/>, dynamically quantized (<see cref="Generate"/> always runs in float). Change it with
    /// <c>mlContext.Model.WithInferencePrecision(model, precision)</c>; it is saved with the model.
    /// </summary>
    public InferencePrecision Precision { get; }

    /// <summary>The text column scored by <see cref="Transform"/>.</summary>
    public string InputColumnName { get; }

    /// <summary>The epochs of training, or null for a loaded model.</summary>
    public TrainingHistory? History { get; }

    /// <summary>Always true: <c>PredictionEngine</c> can use this transformer.</summary>
    public bool IsRowToRowMapper => true;

    DataViewSchema.DetachedColumn[] IBatchScoringTask.OutputColumns => [.. ScoreColumnNames.Select(name => new DataViewSchema.DetachedColumn(name, NumberDataViewType.Single))];

    int IBatchScoringTask.ScoringBatchSize => ScoringBatchSize;

    int IBatchScoringTask.MaxDegreeOfParallelism => Model.Model.Options.MaxDegreeOfParallelism;

    bool IBatchScoringTask.InOrder => false;

    IEnumerable<DataViewSchema.Column> IBatchScoringTask.Dependencies(DataViewSchema inputSchema) => [inputSchema[InputColumnName]];

    IBatchScorer IBatchScoringTask.CreateScorer(DataViewRow input, int maxDegreeOfParallelism) =>
        new DocumentScorer(this, input, maxDegreeOfParallelism);

    /// <summary>
    /// Continues <paramref name="prompt"/> (empty: from the start token alone) and returns the generated text only. Each token is
    /// drawn from <c>softmax(z / temperature)</c> restricted to the <paramref name="topK"/> most likely tokens; generation stops
    /// after <paramref name="maxLength"/> tokens or at the end token.
    /// </summary>
    /// <param name="prompt">Text to continue; characters or tokens outside the vocabulary are read as unknown.</param>
    /// <param name="maxLength">Most tokens to generate, ≥ 0.</param>
    /// <param name="temperature">τ ≥ 0; 0 is greedy.</param>
    /// <param name="topK">Draw from the k most likely tokens only, ≥ 0; 0 = all, 1 = greedy.</param>
    /// <param name="seed">The same seed, prompt and model give the same text; null draws a fresh seed.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative <paramref name="maxLength"/>, <paramref name="temperature"/> or <paramref name="topK"/>.</exception>
    public string Generate(string prompt = "", int maxLength = 200, float temperature = 1f, int topK = 0, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        lock (_generating) return Model.Generate(prompt, maxLength, temperature, topK, seed);
    }

    /// <summary>Scores one text as <see cref="Transform"/> scores a row (a whole document: the end token counts).</summary>
    public LanguageModelMetrics Score(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Precision != InferencePrecision.Float32)
        {
            // As a cursor scores it: one document in a workspace of this precision, kept for the next call.
            lock (_generating)
            {
                _scoring ??= Model.CreateWorkspace(1, Precision);
                _scoring.Clear();
                _scoring.Add(Vocabulary.Encode(text));
                _scoring.Score();
                return _scoring.Metrics(0);
            }
        }
        lock (_generating) return Model.Evaluate(text, scoreEnd: true);
    }

    /// <summary>This model scoring in <paramref name="precision"/>, sharing its network (and its saved bytes).</summary>
    internal LanguageModelTransformer WithPrecision(InferencePrecision precision) =>
        new(_host, Model, InputColumnName, History, precision, _snapshot);

    /// <summary>The input schema followed by the four score columns; throws when the text column is missing or not text.</summary>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        CheckInput(_host, inputSchema, InputColumnName, nameof(inputSchema));
        return BatchScoredDataView.AppendTo(inputSchema, this);
    }

    /// <summary>A lazy view of <paramref name="input"/> with the per-row scores.</summary>
    public IDataView Transform(IDataView input)
    {
        _host.CheckValue(input, nameof(input));
        CheckInput(_host, input.Schema, InputColumnName, nameof(input));
        return new BatchScoredDataView(input, this);
    }

    /// <summary>A mapper that scores one row at a time (what <c>PredictionEngine</c> uses).</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        CheckInput(_host, inputSchema, InputColumnName, nameof(inputSchema));
        return new BatchRowMapper(this, inputSchema);
    }

    /// <summary>The text column, or an error naming it and its type.</summary>
    internal static DataViewSchema.Column CheckInput(IExceptionContext host, DataViewSchema schema, string name, string parameter)
    {
        var column = schema.GetColumnOrNull(name) ?? throw host.ExceptSchemaMismatch(parameter, "text (input)", name);
        if (column.Type is not TextDataViewType)
            throw host.ExceptSchemaMismatch(parameter, "text (input)", name, "String", column.Type.ToString());
        return column;
    }

    /// <summary>
    /// Every row's text (a missing value reads as empty), read from a new cursor each time it is enumerated: one text in memory at
    /// a time. Cancellation is checked every 1,024 rows.
    /// </summary>
    internal static IEnumerable<string> ReadTexts(IDataView data, DataViewSchema.Column column, CancellationToken cancellationToken)
    {
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> value = default;
        while (cursor.MoveNext())
        {
            if ((cursor.Position & 1023) == 0) cancellationToken.ThrowIfCancellationRequested();
            getter(ref value);
            yield return value.ToString();
        }
    }

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "RNNLANGM",
        verWrittenCur: Version,
        verReadableCur: Version,
        verWeCanReadBack: FirstVersion,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(LanguageModelTransformer).Assembly.GetName().Name);

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        _host.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        // *** Binary format ***
        // string: input (text) column
        // int: the inference precision (from format 0x00010002: 0 float32, 1 int8; float32 before)
        // stream LanguageModel.safetensors: the network and its vocabulary, as the core's model file (LanguageModel.Save)
        ctx.SaveNonEmptyString(InputColumnName);
        ctx.Writer.Write((int)Precision);
        ctx.SaveBinaryStream(ModelStream, stream => stream.Write(_snapshot.Value));
    }

    /// <summary>The loader ML.NET finds through <c>[LoadableClass]</c>.</summary>
    internal static LanguageModelTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        SavedModelParts.CheckVersion(env, ctx, GetVersionInfo(), Version, "a language model");
        string input = ctx.LoadNonEmptyString();
        var precision = ctx.Header.ModelVerWritten >= FirstVersionWithPrecision ? (InferencePrecision)ctx.Reader.ReadInt32() : InferencePrecision.Float32;
        env.CheckDecode(Enum.IsDefined(precision), "unknown inference precision");
        LanguageModel? model = null;
        if (!ctx.TryLoadBinaryStream(ModelStream, stream =>
            {
                try
                {
                    model = LanguageModel.Load(stream.BaseStream, $"the language model of the saved model ({ModelStream})");
                }
                catch (InvalidDataException exception)
                {
                    throw env.Except(exception, $"The saved model's language model cannot be read: {exception.Message}");
                }
            }) || model is null)
            throw env.ExceptDecode($"The saved model has no {ModelStream}; it was not saved by MlNet.Rnn.");
        return new LanguageModelTransformer(env, model, input, history: null, precision);
    }
}
