using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Data.IO;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Data;
using MlNet.Rnn;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Scoring;
using MlNet.Rnn.SequenceToSequence;

[assembly: LoadableClass(typeof(SequenceToSequenceTransformer), null, typeof(SignatureLoadModel),
    "Recurrent sequence-to-sequence transformer (RNN, LSTM, GRU)", SequenceToSequenceTransformer.LoaderSignature)]

namespace MlNet.Rnn;

/// <summary>
/// A fitted recurrent encoder-decoder in a pipeline: reads the source key vector of each row and adds the decoded target,
/// a variable-size key vector of the training label's key type (with its key values, so <c>MapKeyToValue</c> turns it back
/// into tokens). <see cref="Transform"/> is lazy: a cursor reads a batch of rows ahead and decodes them at once (greedy
/// decoding runs the batch together; beam search runs row by row), in a workspace of its own over the shared model.
/// <see cref="GetRowToRowMapper"/> serves <c>PredictionEngine</c>. Saved and loaded by <c>mlContext.Model.Save/Load</c>,
/// the network inside as the core's model file (<see cref="SequenceToSequenceModelFile"/>).
/// </summary>
public sealed class SequenceToSequenceTransformer : ITransformer, ICanSaveModel, IBatchScoringTask
{
    internal const string LoaderSignature = "MlNetRnnSeq2Seq";
    private const string ModelStream = "SequenceToSequenceModel.safetensors";
    private const uint Version = 0x00010001; // initial

    private readonly IHost _host;
    private readonly Lazy<byte[]> _snapshot;

    internal SequenceToSequenceTransformer(IHostEnvironment env, SequenceToSequenceModel model, KeyVectorColumn source, DataViewType featureColumnType,
        DataViewSchema.Column label, string outputColumnName, DecodingOptions decoding, int scoringBatchSize, TrainingHistory? history)
    {
        _host = Contracts.CheckRef(env, nameof(env)).Register(nameof(SequenceToSequenceTransformer));
        decoding.Validate();
        Model = model;
        Source = source;
        FeatureColumnType = featureColumnType;
        Label = label;
        TargetKeyCount = KeyVectorColumn.KeyCountOf(label.Type) ?? throw _host.Except($"The label column '{label.Name}' is not a key vector.");
        TargetVocabulary = Vocabulary.OfKeys(TargetKeyCount);
        var ids = SequenceToSequenceOptions.For(source.Vocabulary, TargetVocabulary);
        if (model.Options != model.Options with { SourceVocabularySize = ids.SourceVocabularySize, TargetVocabularySize = ids.TargetVocabularySize, StartId = ids.StartId, EndId = ids.EndId })
            throw _host.Except("The sequence-to-sequence model does not match its columns' key counts.");
        OutputColumnName = outputColumnName;
        Decoding = decoding;
        ScoringBatchSize = scoringBatchSize;
        History = history;
        var annotations = new DataViewSchema.Annotations.Builder();
        annotations.Add(label.Annotations, name => name == AnnotationUtils.Kinds.KeyValues);
        OutputType = new VectorDataViewType((KeyDataViewType)label.Type.GetItemType());
        OutputAnnotations = annotations.ToAnnotations();
        _snapshot = new(() =>
        {
            using var stream = new MemoryStream();
            SequenceToSequenceModelFile.Save(model, stream);
            return stream.ToArray();
        });
    }

    /// <summary>The trained encoder-decoder (its own methods are not thread-safe; scoring runs in workspaces over it and never changes it).</summary>
    public SequenceToSequenceModel Model { get; }

    /// <summary>The epochs of training, or null for a loaded model.</summary>
    public TrainingHistory? History { get; }

    /// <summary>The source column: a key vector.</summary>
    public string FeatureColumnName => Source.Name;

    /// <summary>The source column's type in the training data.</summary>
    public DataViewType FeatureColumnType { get; }

    /// <summary>The label column the model was trained on (its name, key type and key values).</summary>
    public string LabelColumnName => Label.Name;

    /// <summary>The output column: a variable-size key vector of the label's key type.</summary>
    public string OutputColumnName { get; }

    /// <summary>How rows are decoded: beam width, length normalisation, maximum output length.</summary>
    public DecodingOptions Decoding { get; }

    /// <summary>Always true: <c>PredictionEngine</c> can use this transformer.</summary>
    public bool IsRowToRowMapper => true;

    internal KeyVectorColumn Source { get; }

    internal DataViewSchema.Column Label { get; }

    internal int TargetKeyCount { get; }

    /// <summary>The ids of the label's keys (<c>Vocabulary.OfKeys(K)</c>): what the model decodes, mapped back to keys.</summary>
    internal Vocabulary TargetVocabulary { get; }

    internal int ScoringBatchSize { get; }

    internal VectorDataViewType OutputType { get; }

    internal DataViewSchema.Annotations OutputAnnotations { get; }

    DataViewSchema.DetachedColumn[] IBatchScoringTask.OutputColumns => [new(OutputColumnName, OutputType, OutputAnnotations)];

    int IBatchScoringTask.ScoringBatchSize => ScoringBatchSize;

    int IBatchScoringTask.MaxDegreeOfParallelism => Model.Options.MaxDegreeOfParallelism;

    bool IBatchScoringTask.InOrder => false;

    IEnumerable<DataViewSchema.Column> IBatchScoringTask.Dependencies(DataViewSchema inputSchema) => [inputSchema[FeatureColumnName]];

    IBatchScorer IBatchScoringTask.CreateScorer(DataViewRow input, int maxDegreeOfParallelism) =>
        new TranslationScorer(this, input, maxDegreeOfParallelism);

    /// <summary>The input schema followed by the predicted label; throws when the source column is missing or of the wrong type.</summary>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        CheckInput(inputSchema);
        return BatchScoredDataView.AppendTo(inputSchema, this);
    }

    /// <summary>A lazy view of <paramref name="input"/> with the predicted label; rows are decoded in batches as cursors move.</summary>
    public IDataView Transform(IDataView input)
    {
        _host.CheckValue(input, nameof(input));
        CheckInput(input.Schema);
        return new BatchScoredDataView(input, this);
    }

    /// <summary>A mapper that decodes one row at a time (what <c>PredictionEngine</c> uses).</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        CheckInput(inputSchema);
        return new BatchRowMapper(this, inputSchema);
    }

    private void CheckInput(DataViewSchema schema)
    {
        var found = KeyVectorColumn.FromSchema(_host, schema, Source.Name, "source (feature)");
        if (found.KeyCount != Source.KeyCount)
            throw _host.ExceptSchemaMismatch(nameof(schema), "source (feature)", Source.Name, Source.Describe(), schema[Source.Name].Type.ToString());
    }

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "RNNS2SEQ",
        verWrittenCur: Version,
        verReadableCur: Version,
        verWeCanReadBack: Version,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(SequenceToSequenceTransformer).Assembly.GetName().Name);

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        _host.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        // *** Binary format ***
        // string: source column; int: source key count; int: source vector size (0 = variable); int: source key raw type size in bytes (1, 2, 4, 8)
        // string: output column; int: beam width; float: length normalisation; int: maximum output length; int: scoring batch size
        // stream SequenceToSequenceModel.safetensors: the encoder-decoder, as the core's model file (SequenceToSequenceModelFile)
        // stream LabelSchema.idv: an empty data view whose one column is the training label, with its key values
        var writer = ctx.Writer;
        ctx.SaveNonEmptyString(Source.Name);
        writer.Write(Source.KeyCount);
        writer.Write(FeatureColumnType.GetVectorSize());
        writer.Write(System.Runtime.InteropServices.Marshal.SizeOf(FeatureColumnType.GetItemType().RawType));
        ctx.SaveNonEmptyString(OutputColumnName);
        writer.Write(Decoding.BeamWidth);
        writer.Write(Decoding.LengthNormalization);
        writer.Write(Decoding.MaxLength);
        writer.Write(ScoringBatchSize);
        ctx.SaveBinaryStream(ModelStream, stream => stream.Write(_snapshot.Value));
        SavedModelParts.SaveLabel(_host, ctx, Label);
    }

    /// <summary>The loader ML.NET finds through <c>[LoadableClass]</c>.</summary>
    internal static SequenceToSequenceTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        SavedModelParts.CheckVersion(env, ctx, GetVersionInfo(), Version, "a sequence-to-sequence transformer");
        var reader = ctx.Reader;
        string sourceName = ctx.LoadNonEmptyString();
        int sourceKeys = reader.ReadInt32(), featureSize = reader.ReadInt32(), keyBytes = reader.ReadInt32();
        env.CheckDecode(sourceKeys > 0 && featureSize >= 0, "bad source column");
        Type keyType = keyBytes switch
        {
            1 => typeof(byte),
            2 => typeof(ushort),
            4 => typeof(uint),
            8 => typeof(ulong),
            _ => throw env.ExceptDecode("bad source key type"),
        };
        string output = ctx.LoadNonEmptyString();
        var decoding = new DecodingOptions { BeamWidth = reader.ReadInt32(), LengthNormalization = reader.ReadSingle(), MaxLength = reader.ReadInt32() };
        int scoringBatchSize = reader.ReadInt32();
        env.CheckDecode(scoringBatchSize > 0, "bad scoring batch size");
        try
        {
            decoding.Validate();
        }
        catch (ArgumentException exception)
        {
            throw env.ExceptDecode($"bad decoding options: {exception.Message}");
        }

        SequenceToSequenceModel? model = null;
        if (!ctx.TryLoadBinaryStream(ModelStream, stream =>
            {
                try
                {
                    model = SequenceToSequenceModelFile.Load(stream.BaseStream, $"the sequence-to-sequence model of the saved model ({ModelStream})");
                }
                catch (InvalidDataException exception)
                {
                    throw env.Except(exception, $"The saved model's sequence-to-sequence network cannot be read: {exception.Message}");
                }
            }) || model is null)
            throw env.ExceptDecode($"The saved model has no {ModelStream}; it was not saved by MlNet.Rnn.");

        var label = SavedModelParts.LoadLabel(env, ctx, "sequence-to-sequence model");
        env.CheckDecode(KeyVectorColumn.KeyCountOf(label.Type) is not null, "the saved label is not a key vector");

        var source = new KeyVectorColumn(sourceName, sourceKeys);
        var featureType = new VectorDataViewType(new KeyDataViewType(keyType, sourceKeys), featureSize);
        return new SequenceToSequenceTransformer(env, model, source, featureType, label, output, decoding, scoringBatchSize, history: null);
    }
}
