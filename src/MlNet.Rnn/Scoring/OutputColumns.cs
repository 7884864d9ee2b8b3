using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Data;

namespace MlNet.Rnn.Scoring;

/// <summary>
/// The columns a recurrent model adds, with the types and annotations ML.NET's evaluators, <c>CrossValidate</c> and
/// downstream transforms expect of a built-in trainer's output: binary <c>Score</c> (logit), <c>Probability</c>,
/// <c>PredictedLabel</c> (Boolean); multiclass <c>Score</c> (softmax, slot names = the label's key names) and
/// <c>PredictedLabel</c> (the label's key type with its key values, so <c>MapKeyToValue</c> works); regression
/// <c>Score</c>; sequence tagging per-step <c>Score</c> (softmax, T·C step-major) and <c>PredictedLabel</c> (a key vector of T);
/// and optionally the hidden-state column, the features the head reads: the final state <c>[D·H]</c> (classification,
/// regression), or every step's top-layer output, T·D·H step-major in a variable-size vector (tagging). Also computes each
/// column's value from the network's raw output.
/// </summary>
internal sealed class OutputColumns
{
    /// <summary>What an output column holds.</summary>
    public enum Kind { Score, Probability, PredictedLabel, HiddenState }

    /// <summary>A binary model's <c>PredictedLabel</c> is <c>Score &gt; Threshold</c> (the logit; 0 is probability ½).</summary>
    public float Threshold { get; }

    private readonly (Kind Kind, DataViewSchema.DetachedColumn Column)[] _columns;

    /// <param name="task">The task.</param>
    /// <param name="label">The training label column (multiclass: its key type and key values name the classes); else null.</param>
    /// <param name="classCount">C for multiclass.</param>
    /// <param name="hiddenStateColumnName">The hidden-state column (the features the head reads), or null for none.</param>
    /// <param name="hiddenStateSize">D·H.</param>
    /// <param name="threshold">Binary: <c>PredictedLabel</c> is <c>Score &gt; threshold</c>.</param>
    public OutputColumns(RecurrentTask task, DataViewSchema.Column? label, int classCount, string? hiddenStateColumnName, int hiddenStateSize,
        float threshold = 0)
    {
        Threshold = threshold;
        Task = task;
        ClassCount = classCount;
        HiddenStateSize = hiddenStateSize;
        var columns = new List<(Kind, DataViewSchema.DetachedColumn)>();
        string kind = task switch
        {
            RecurrentTask.BinaryClassification => AnnotationUtils.Const.ScoreColumnKind.BinaryClassification,
            RecurrentTask.MulticlassClassification => AnnotationUtils.Const.ScoreColumnKind.MulticlassClassification,
            _ => AnnotationUtils.Const.ScoreColumnKind.Regression,
        };
        switch (task)
        {
            case RecurrentTask.BinaryClassification:
                columns.Add((Kind.Score, new(DefaultColumnNames.Score, NumberDataViewType.Single, ScoreAnnotations(kind, AnnotationUtils.Const.ScoreValueKind.Score))));
                columns.Add((Kind.Probability, new(DefaultColumnNames.Probability, NumberDataViewType.Single,
                    ScoreAnnotations(kind, AnnotationUtils.Const.ScoreValueKind.Probability, isNormalized: true))));
                columns.Add((Kind.PredictedLabel, new(DefaultColumnNames.PredictedLabel, BooleanDataViewType.Instance,
                    ScoreAnnotations(kind, AnnotationUtils.Const.ScoreValueKind.PredictedLabel))));
                break;
            case RecurrentTask.MulticlassClassification:
                var labelColumn = label ?? throw new ArgumentNullException(nameof(label));
                var score = new DataViewSchema.Annotations.Builder();
                score.Add(ScoreAnnotations(kind, AnnotationUtils.Const.ScoreValueKind.Score, slotNames: ClassNames(labelColumn, classCount)), _ => true);
                if (labelColumn.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues) is { } keyValues)
                    score.Add(AnnotationUtils.Kinds.TrainingLabelValues, keyValues.Type, MakeAnnotationGetter(labelColumn.Annotations, keyValues));
                columns.Add((Kind.Score, new(DefaultColumnNames.Score, new VectorDataViewType(NumberDataViewType.Single, classCount), score.ToAnnotations())));
                var predicted = new DataViewSchema.Annotations.Builder();
                predicted.Add(labelColumn.Annotations, name => name == AnnotationUtils.Kinds.KeyValues);
                predicted.Add(ScoreAnnotations(kind, AnnotationUtils.Const.ScoreValueKind.PredictedLabel), _ => true);
                columns.Add((Kind.PredictedLabel, new(DefaultColumnNames.PredictedLabel, labelColumn.Type, predicted.ToAnnotations())));
                break;
            case RecurrentTask.SequenceTagging:
                // Per step: Score [T·C] step-major softmax, PredictedLabel [T] keys of the label's key type (with its key values, so MapKeyToValue works).
                var tagLabel = label ?? throw new ArgumentNullException(nameof(label));
                columns.Add((Kind.Score, new(DefaultColumnNames.Score, new VectorDataViewType(NumberDataViewType.Single), new DataViewSchema.Annotations.Builder().ToAnnotations())));
                var tags = new DataViewSchema.Annotations.Builder();
                tags.Add(tagLabel.Annotations, name => name == AnnotationUtils.Kinds.KeyValues);
                columns.Add((Kind.PredictedLabel, new(DefaultColumnNames.PredictedLabel, new VectorDataViewType((KeyDataViewType)tagLabel.Type.GetItemType()),
                    tags.ToAnnotations())));
                break;
            default:
                columns.Add((Kind.Score, new(DefaultColumnNames.Score, NumberDataViewType.Single, ScoreAnnotations(kind, AnnotationUtils.Const.ScoreValueKind.Score))));
                break;
        }
        if (hiddenStateColumnName is not null)
        {
            // The features the head reads: one [D·H] per row, or one per step for the tagger (as many steps as the row's input).
            var hiddenType = task == RecurrentTask.SequenceTagging
                ? new VectorDataViewType(NumberDataViewType.Single)
                : new VectorDataViewType(NumberDataViewType.Single, hiddenStateSize);
            columns.Add((Kind.HiddenState, new(hiddenStateColumnName, hiddenType, new DataViewSchema.Annotations.Builder().ToAnnotations())));
        }
        _columns = [.. columns];
    }

    /// <summary>The task.</summary>
    public RecurrentTask Task { get; }

    /// <summary>C for multiclass.</summary>
    public int ClassCount { get; }

    /// <summary>D·H.</summary>
    public int HiddenStateSize { get; }

    /// <summary>How many columns are added.</summary>
    public int Count => _columns.Length;

    /// <summary>What column <paramref name="index"/> (among the added ones) holds.</summary>
    public Kind KindOf(int index) => _columns[index].Kind;

    /// <summary>The added columns, in order (they hide input columns of the same names).</summary>
    public DataViewSchema.DetachedColumn[] Columns => [.. _columns.Select(column => column.Column)];

    /// <summary>
    /// A getter of added column <paramref name="index"/> for the row the scorer holds at <paramref name="row"/>(); it writes into
    /// the value's own buffer, which ML.NET reuses from row to row.
    /// </summary>
    public Delegate MakeGetter(int index, SequenceModelScorer scorer, Func<int> row)
    {
        switch (_columns[index].Kind)
        {
            case Kind.Score when Task == RecurrentTask.MulticlassClassification:
                int classes = ClassCount;
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    var editor = VBufferEditor.Create(ref value, classes);
                    Softmax(scorer.RawOutput(row()), editor.Values);
                    value = editor.Commit();
                });
            case Kind.Score when Task == RecurrentTask.SequenceTagging:
                int tagCount = ClassCount;
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    int r = row(), T = scorer.Steps(r);
                    var editor = VBufferEditor.Create(ref value, T * tagCount);
                    for (int t = 0; t < T; t++) Softmax(scorer.StepOutput(r, t), editor.Values.Slice(t * tagCount, tagCount));
                    value = editor.Commit();
                });
            case Kind.PredictedLabel when Task == RecurrentTask.SequenceTagging:
                // Keys of the label's raw type (Byte, UInt16, UInt32 or UInt64), as the column's type says.
                return (Delegate)typeof(OutputColumns).GetMethod(nameof(TagKeysGetter), BindingFlags.NonPublic | BindingFlags.Static)!
                    .MakeGenericMethod(_columns[index].Column.Type.GetItemType().RawType).Invoke(null, [scorer, row])!;
            case Kind.Score:
                return (ValueGetter<float>)((ref float value) => value = scorer.RawOutput(row())[0]);
            case Kind.Probability:
                return (ValueGetter<float>)((ref float value) => value = Sigmoid(scorer.RawOutput(row())[0]));
            case Kind.PredictedLabel when Task == RecurrentTask.MulticlassClassification:
                return (ValueGetter<uint>)((ref uint value) => value = (uint)ArgMax(scorer.RawOutput(row())) + 1);
            case Kind.PredictedLabel:
                float threshold = Threshold;
                return (ValueGetter<bool>)((ref bool value) => value = scorer.RawOutput(row())[0] > threshold);
            case Kind.HiddenState when Task == RecurrentTask.SequenceTagging:
                // The row's own steps, step t's D·H values at [t·D·H, (t+1)·D·H): none of the batch's padding.
                int stepWidth = HiddenStateSize;
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    int r = row(), T = scorer.Steps(r);
                    var editor = VBufferEditor.Create(ref value, T * stepWidth);
                    for (int t = 0; t < T; t++) scorer.StepHiddenState(r, t).CopyTo(editor.Values.Slice(t * stepWidth, stepWidth));
                    value = editor.Commit();
                });
            default:
                int width = HiddenStateSize;
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    var editor = VBufferEditor.Create(ref value, width);
                    scorer.HiddenState(row()).CopyTo(editor.Values);
                    value = editor.Commit();
                });
        }
    }

    /// <summary>The added columns as an estimator's output schema shape.</summary>
    public static SchemaShape.Column[] Shape(RecurrentTask task, SchemaShape.Column? label, string? hiddenStateColumnName)
    {
        var columns = new List<SchemaShape.Column>();
        switch (task)
        {
            case RecurrentTask.BinaryClassification:
                columns.Add(new(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
                    new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())));
                columns.Add(new(DefaultColumnNames.Probability, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
                    new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation(true))));
                columns.Add(new(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, BooleanDataViewType.Instance, false,
                    new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())));
                break;
            case RecurrentTask.MulticlassClassification:
                var labelColumn = label ?? throw new ArgumentNullException(nameof(label));
                columns.Add(new(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false,
                    new SchemaShape(AnnotationUtils.AnnotationsForMulticlassScoreColumn(labelColumn))));
                columns.Add(new(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true,
                    new SchemaShape(labelColumn.Annotations.Where(a => a.Name == AnnotationUtils.Kinds.KeyValues)
                        .Concat(AnnotationUtils.GetTrainerOutputAnnotation()))));
                break;
            case RecurrentTask.SequenceTagging:
                var tagLabel = label ?? throw new ArgumentNullException(nameof(label));
                columns.Add(new(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Single, false));
                columns.Add(new(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.VariableVector, tagLabel.ItemType, true,
                    new SchemaShape(tagLabel.Annotations.Where(a => a.Name == AnnotationUtils.Kinds.KeyValues))));
                break;
            default:
                columns.Add(new(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
                    new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())));
                break;
        }
        if (hiddenStateColumnName is not null)
            columns.Add(new(hiddenStateColumnName, task == RecurrentTask.SequenceTagging ? SchemaShape.Column.VectorKind.VariableVector : SchemaShape.Column.VectorKind.Vector,
                NumberDataViewType.Single, false));
        return [.. columns];
    }

    /// <summary>σ(z) = 1 / (1 + e^−z), as ML.NET's Platt calibrator with slope −1 computes it.</summary>
    public static float Sigmoid(float z) => 1f / (1f + MathF.Exp(-z));

    /// <summary>p_j = e^(z_j − max z) / Σ_k e^(z_k − max z).</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        float max = float.NegativeInfinity;
        foreach (float z in logits) max = Math.Max(max, z);
        float sum = 0;
        for (int j = 0; j < logits.Length; j++) sum += probabilities[j] = MathF.Exp(logits[j] - max);
        for (int j = 0; j < logits.Length; j++) probabilities[j] /= sum;
    }

    /// <summary>The tagger's <c>PredictedLabel</c>: per step the likeliest tag index + 1, as a key of raw type <typeparamref name="TKey"/>.</summary>
    private static ValueGetter<VBuffer<TKey>> TagKeysGetter<TKey>(SequenceModelScorer scorer, Func<int> row) where TKey : struct, System.Numerics.IBinaryInteger<TKey> =>
        (ref VBuffer<TKey> value) =>
        {
            int r = row(), T = scorer.Steps(r);
            var editor = VBufferEditor.Create(ref value, T);
            for (int t = 0; t < T; t++) editor.Values[t] = TKey.CreateTruncating(ArgMax(scorer.StepOutput(r, t)) + 1);
            value = editor.Commit();
        };

    /// <summary>The index of the largest value, the first on ties.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int j = 1; j < values.Length; j++) if (values[j] > values[best]) best = j;
        return best;
    }

    private static DataViewSchema.Annotations ScoreAnnotations(string scoreColumnKind, string scoreValueKind, bool isNormalized = false,
        VBuffer<ReadOnlyMemory<char>>? slotNames = null)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        if (slotNames is { } names)
            builder.Add(AnnotationUtils.Kinds.SlotNames, new VectorDataViewType(TextDataViewType.Instance, names.Length),
                (ref VBuffer<ReadOnlyMemory<char>> value) => names.CopyTo(ref value));
        if (isNormalized) builder.Add(AnnotationUtils.Kinds.IsNormalized, BooleanDataViewType.Instance, (ref bool value) => value = true);
        builder.Add(AnnotationUtils.Kinds.ScoreColumnKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = scoreColumnKind.AsMemory());
        builder.Add(AnnotationUtils.Kinds.ScoreValueKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = scoreValueKind.AsMemory());
        return builder.ToAnnotations();
    }

    private static Delegate MakeAnnotationGetter(DataViewSchema.Annotations annotations, DataViewSchema.Column column)
    {
        var method = typeof(OutputColumns).GetMethod(nameof(AnnotationGetter), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(column.Type.RawType);
        return (Delegate)method.Invoke(null, [annotations, column])!;
    }

    private static ValueGetter<T> AnnotationGetter<T>(DataViewSchema.Annotations annotations, DataViewSchema.Column column) => annotations.GetGetter<T>(column);

    /// <summary>The label's key values as text (the evaluator's class names), or null when the label has none.</summary>
    private static VBuffer<ReadOnlyMemory<char>>? ClassNames(DataViewSchema.Column label, int classCount) =>
        KeyValueNames.Of(label, classCount) is { } names ? new VBuffer<ReadOnlyMemory<char>>(names.Length, [.. names.Select(name => name.AsMemory())]) : null;
}
