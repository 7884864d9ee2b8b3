using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Data.IO;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Data;
using MlNet.Rnn.Models;
using MlNet.Rnn;
using MlNet.Rnn.Scoring;

[assembly: LoadableClass(typeof(RecurrentPredictionTransformer), null, typeof(SignatureLoadModel),
    "Recurrent prediction transformer (RNN, LSTM, GRU)", RecurrentPredictionTransformer.LoaderSignature)]

namespace MlNet.Rnn;

/// <summary>
/// A trained recurrent model in a pipeline: reads the feature column as sequences and adds the task's columns, as
/// ML.NET's own prediction transformers do (binary <c>Score</c>, <c>Probability</c>, <c>PredictedLabel</c>; multiclass
/// <c>Score</c>, <c>PredictedLabel</c>; regression <c>Score</c>; tagging per-step <c>Score</c> and <c>PredictedLabel</c>), plus the
/// features the head reads when asked (the final hidden state, or every step's for the tagger).
/// <see cref="Transform"/> is lazy and scores rows in batches (one forward pass per batch, per cursor);
/// <see cref="GetRowToRowMapper"/> serves <c>PredictionEngine</c> one row at a time. Saved and loaded by
/// <c>mlContext.Model.Save/Load</c>, the network inside as the core's model file. It also implements ML.NET's internal,
/// non-generic <c>ISingleFeaturePredictionTransformer</c>, by which <c>PermutationFeatureImportance(ITransformer, …)</c> (and
/// the binary <c>PermutationFeatureImportanceNonCalibrated</c>) find the predictor at the end of a pipeline.
/// </summary>
public sealed class RecurrentPredictionTransformer : ISingleFeaturePredictionTransformer<RecurrentModelParameters>, ISingleFeaturePredictionTransformer,
    ICanSaveModel, IBatchScoringTask
{
    internal const string LoaderSignature = "MlNetRnnTransformer";
    private const string RegistrationName = nameof(RecurrentPredictionTransformer);
    private const string ModelStream = "SequenceModel.safetensors";
    private const uint Version = 0x00010003; // the inference precision
    private const uint FirstVersionWithPrecision = 0x00010003;
    private const uint FirstVersionWithThreshold = 0x00010002;
    private const uint FirstVersion = 0x00010001; // initial

    private readonly IHost _host;
    private readonly DataViewSchema.Column? _label;

    internal RecurrentPredictionTransformer(IHostEnvironment env, RecurrentTask task, RecurrentModelParameters model, SequenceColumn column,
        DataViewType featureColumnType, DataViewSchema.Column? label, string? hiddenStateColumnName, int scoringBatchSize, int maxDegreeOfParallelism,
        float threshold = 0, InferencePrecision precision = InferencePrecision.Float32)
    {
        _host = Contracts.CheckRef(env, nameof(env)).Register(RegistrationName);
        Task = task;
        Model = model;
        Column = column;
        FeatureColumnType = featureColumnType;
        _label = label;
        HiddenStateColumnName = hiddenStateColumnName;
        ScoringBatchSize = scoringBatchSize;
        MaxDegreeOfParallelism = maxDegreeOfParallelism;
        Threshold = threshold;
        Precision = precision;
        Outputs = new OutputColumns(task, label, model.OutputSize, hiddenStateColumnName, model.HiddenStateSize, threshold);
    }

    /// <summary>
    /// A binary model's decision threshold on <c>Score</c> (the logit): <c>PredictedLabel</c> is <c>Score &gt; Threshold</c>. 0, the
    /// default, is a probability of ½; for a probability p, the threshold is <c>log(p / (1 − p))</c>. Change it with
    /// <c>mlContext.BinaryClassification.ChangeModelThreshold(model, threshold)</c>, as for ML.NET's own binary models.
    /// </summary>
    public float Threshold { get; }

    /// <summary>
    /// How scoring computes the recurrent layers' products: <see cref="InferencePrecision.Float32"/> (the trained model's own
    /// results), or <see cref="InferencePrecision.Int8"/>, dynamically quantized. Change it with
    /// <c>mlContext.Model.WithInferencePrecision(model, precision)</c>; it is saved with the model.
    /// </summary>
    public InferencePrecision Precision { get; }

    /// <summary>The trained network.</summary>
    public RecurrentModelParameters Model { get; }

    /// <summary>The feature column the model reads.</summary>
    public string FeatureColumnName => Column.Name;

    /// <summary>The feature column's type in the training data.</summary>
    public DataViewType FeatureColumnType { get; }

    /// <summary>
    /// The feature column, for ML.NET's <c>PermutationFeatureImportance(ITransformer, …)</c>, the one caller of this internal
    /// interface. Throws <see cref="NotSupportedException"/>, saying why, when the model was trained on a column whose slots are not
    /// the same feature in every row (variable length, keys); ML.NET would otherwise fail with "Invalid call to GetValue".
    /// </summary>
    string ISingleFeaturePredictionTransformer.FeatureColumnName =>
        RecurrentFeatureImportanceCatalog.Unmeasurable(FeatureColumnName, FeatureColumnType) is { } error ? throw error : FeatureColumnName;

    /// <summary>
    /// The column of the features the head reads, or null when the model does not output them: the final hidden state <c>[D·H]</c>,
    /// or for the tagger every step's top-layer output, <c>[T·D·H]</c> step-major (see <see cref="RecurrentTrainerOptions.HiddenStateColumnName"/>).
    /// </summary>
    public string? HiddenStateColumnName { get; }

    /// <summary>Always true: <c>PredictionEngine</c> can use this transformer.</summary>
    public bool IsRowToRowMapper => true;

    internal RecurrentTask Task { get; }

    internal SequenceColumn Column { get; }

    internal OutputColumns Outputs { get; }

    internal int ScoringBatchSize { get; }

    internal int MaxDegreeOfParallelism { get; }

    int IBatchScoringTask.ScoringBatchSize => ScoringBatchSize;

    int IBatchScoringTask.MaxDegreeOfParallelism => MaxDegreeOfParallelism;

    DataViewSchema.DetachedColumn[] IBatchScoringTask.OutputColumns => Outputs.Columns;

    bool IBatchScoringTask.InOrder => false;

    IEnumerable<DataViewSchema.Column> IBatchScoringTask.Dependencies(DataViewSchema inputSchema) => [inputSchema[FeatureColumnName]];

    IBatchScorer IBatchScoringTask.CreateScorer(DataViewRow input, int maxDegreeOfParallelism) =>
        new SequenceModelScorer(this, input, maxDegreeOfParallelism);

    /// <summary>The input schema followed by this model's columns; throws when the feature column is missing or of the wrong type.</summary>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        Column.CheckMatches(_host, inputSchema);
        return BatchScoredDataView.AppendTo(inputSchema, this);
    }

    /// <summary>A lazy view of <paramref name="input"/> with this model's columns; rows are scored in batches as cursors move.</summary>
    public IDataView Transform(IDataView input)
    {
        _host.CheckValue(input, nameof(input));
        Column.CheckMatches(_host, input.Schema);
        return new BatchScoredDataView(input, this);
    }

    /// <summary>A mapper that scores one row at a time (what <c>PredictionEngine</c> uses).</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        Column.CheckMatches(_host, inputSchema);
        return new BatchRowMapper(this, inputSchema);
    }

    /// <summary>This model scoring <paramref name="rows"/> rows per batch.</summary>
    internal RecurrentPredictionTransformer WithScoringBatchSize(int rows) =>
        new(_host, Task, Model, Column, FeatureColumnType, _label, HiddenStateColumnName, rows, MaxDegreeOfParallelism, Threshold, Precision);

    /// <summary>This binary model deciding <c>PredictedLabel</c> at <paramref name="threshold"/> on <c>Score</c>.</summary>
    internal RecurrentPredictionTransformer WithThreshold(float threshold) =>
        new(_host, Task, Model, Column, FeatureColumnType, _label, HiddenStateColumnName, ScoringBatchSize, MaxDegreeOfParallelism, threshold, Precision);

    /// <summary>This model scoring in <paramref name="precision"/>, sharing its network.</summary>
    internal RecurrentPredictionTransformer WithPrecision(InferencePrecision precision) =>
        new(_host, Task, Model, Column, FeatureColumnType, _label, HiddenStateColumnName, ScoringBatchSize, MaxDegreeOfParallelism, Threshold, precision);

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "RNNTRANS",
        verWrittenCur: Version,
        verReadableCur: Version,
        verWeCanReadBack: FirstVersion,
        loaderSignature: LoaderSignature,
        // The simple name, so a newer MlNet.Rnn loads models an older one saved.
        loaderAssemblyName: typeof(RecurrentPredictionTransformer).Assembly.GetName().Name);

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        _host.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        // *** Binary format ***
        // int: task (0 binary, 1 multiclass, 2 regression, 3 sequence tagging)
        // string: feature column; int: features per step (0 for keys); int: key count (0 for numbers); int: feature vector size (0 = variable)
        // string or null: hidden-state column; int: scoring batch size
        // float: the binary decision threshold on Score (from format 0x00010002; 0 before)
        // int: the inference precision (from format 0x00010003: 0 float32, 1 int8; float32 before)
        // stream SequenceModel.safetensors: the network, as the core's model file (SequenceModelFile)
        // stream LabelSchema.idv (multiclass, sequence tagging): an empty data view whose one column is the training label, with its key values
        var writer = ctx.Writer;
        writer.Write((int)Task);
        ctx.SaveNonEmptyString(Column.Name);
        writer.Write(Column.FeaturesPerStep);
        writer.Write(Column.KeyCount);
        writer.Write(FeatureColumnType.GetVectorSize());
        ctx.SaveStringOrNull(HiddenStateColumnName);
        writer.Write(ScoringBatchSize);
        writer.Write(Threshold);
        writer.Write((int)Precision);
        ctx.SaveBinaryStream(ModelStream, stream => Model.SaveModelFile(stream.BaseStream));
        if (_label is { } label) SavedModelParts.SaveLabel(_host, ctx, label);
    }

    /// <summary>The loader ML.NET finds through <c>[LoadableClass]</c>; never also a constructor of the same visibility.</summary>
    internal static RecurrentPredictionTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        SavedModelParts.CheckVersion(env, ctx, GetVersionInfo(), Version, "a recurrent transformer");

        var reader = ctx.Reader;
        var task = (RecurrentTask)reader.ReadInt32();
        env.CheckDecode(Enum.IsDefined(task), "unknown task");
        string featureColumn = ctx.LoadNonEmptyString();
        int featuresPerStep = reader.ReadInt32(), keyCount = reader.ReadInt32(), featureSize = reader.ReadInt32();
        env.CheckDecode(featuresPerStep >= 0 && keyCount >= 0 && (featuresPerStep > 0) != (keyCount > 0) && featureSize >= 0, "bad feature column");
        string? hiddenStateColumn = ctx.LoadStringOrNull();
        int scoringBatchSize = reader.ReadInt32();
        env.CheckDecode(scoringBatchSize > 0, "bad scoring batch size");
        float threshold = ctx.Header.ModelVerWritten >= FirstVersionWithThreshold ? reader.ReadSingle() : 0;
        env.CheckDecode(!float.IsNaN(threshold) && (threshold == 0 || task == RecurrentTask.BinaryClassification), "bad decision threshold");
        var precision = ctx.Header.ModelVerWritten >= FirstVersionWithPrecision ? (InferencePrecision)reader.ReadInt32() : InferencePrecision.Float32;
        env.CheckDecode(Enum.IsDefined(precision), "unknown inference precision");

        SequenceModel? network = null;
        if (!ctx.TryLoadBinaryStream(ModelStream, stream =>
            {
                try
                {
                    network = SequenceModelFile.Load(stream.BaseStream, $"the recurrent network of the saved model ({ModelStream})");
                }
                catch (InvalidDataException exception)
                {
                    throw env.Except(exception, $"The saved model's recurrent network cannot be read: {exception.Message}");
                }
            }) || network is null)
            throw env.ExceptDecode($"The saved model has no {ModelStream}; it was not saved by MlNet.Rnn.");

        DataViewSchema.Column? label = null;
        if (task is RecurrentTask.MulticlassClassification or RecurrentTask.SequenceTagging)
        {
            label = SavedModelParts.LoadLabel(env, ctx, $"{task} model");
        }

        // The network's outputs must be what the task reads: one logit or value, or one per class (the label's key count).
        int outputs = task switch
        {
            RecurrentTask.MulticlassClassification => (int)label!.Value.Type.GetKeyCount(),
            RecurrentTask.SequenceTagging => KeyVectorColumn.KeyCountOf(label!.Value.Type) ?? 0,
            _ => 1,
        };
        if (network.Options.OutputSize != outputs)
            throw env.ExceptDecode(string.Create(CultureInfo.InvariantCulture,
                $"The saved {task} model's network has {network.Options.OutputSize} outputs, but the model needs {outputs}: the file is damaged or mixes parts of different models."));

        var column = keyCount > 0 ? SequenceColumn.Keys(featureColumn, keyCount) : SequenceColumn.Numeric(featureColumn, featuresPerStep);
        env.CheckDecode(network.Options.VocabularySize == column.VocabularySize && (column.Tokens || network.Options.FeaturesPerStep == featuresPerStep),
            "the network does not match its feature column");
        DataViewType itemType = keyCount > 0 ? new KeyDataViewType(typeof(uint), keyCount) : NumberDataViewType.Single;
        return new RecurrentPredictionTransformer(env, task, new RecurrentModelParameters(network, history: null), column,
            new VectorDataViewType((PrimitiveDataViewType)itemType, featureSize), label, hiddenStateColumn, scoringBatchSize,
            Environment.ProcessorCount, threshold, precision);
    }
}
