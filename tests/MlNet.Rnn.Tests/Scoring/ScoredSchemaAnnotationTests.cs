using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests.Scoring;

/// <summary>A multiclass row whose label is a number (its key values are Singles, not text).</summary>
public sealed class DigitRow
{
    /// <summary>1, 2 or 3.</summary>
    public float Digit { get; set; }

    /// <summary>3 steps of 3 features.</summary>
    [VectorType(9)]
    public float[] Features { get; set; } = [];
}

/// <summary>
/// What ML.NET's evaluators, <c>MapKeyToValue</c> and pipeline checks read from a recurrent model's output: the annotations of the
/// scored schema (ScoreColumnKind, ScoreValueKind, IsNormalized, SlotNames and KeyValues naming the classes, text or not), the
/// estimator's output schema shape per task, and the refusal of a null argument or a wrong feature column by name.
/// </summary>
public sealed class ScoredSchemaAnnotationTests
{
    private static readonly MLContext s_mlContext = new(seed: 1);

    private static readonly Lazy<RecurrentPredictionTransformer> s_binary = new(() =>
        s_mlContext.BinaryClassification.Trainers.Gru(new RecurrentBinaryTrainer.Options { HiddenSize = 2, NumberOfEpochs = 1, Seed = 1, MaxDegreeOfParallelism = 1 })
            .Fit(Synthetic.ToDataView(s_mlContext, Synthetic.Rows(8, 3, 1, seed: 4))));

    private static IDataView ClassData()
    {
        var data = Synthetic.ToDataView(s_mlContext, Synthetic.Rows(12, 3, 3, seed: 4));
        return s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TaskRow.Class)).Fit(data).Transform(data);
    }

    private static RecurrentMulticlassTrainer.Options Multiclass() => new() { FeaturesPerStep = 3, HiddenSize = 2, NumberOfEpochs = 1, Seed = 1, MaxDegreeOfParallelism = 1 };

    private static string Text(DataViewSchema.Annotations annotations, string kind)
    {
        ReadOnlyMemory<char> value = default;
        annotations.GetValue(kind, ref value);
        return value.ToString();
    }

    private static string[] Texts(DataViewSchema.Annotations annotations, string kind)
    {
        VBuffer<ReadOnlyMemory<char>> values = default;
        annotations.GetValue(kind, ref values);
        return [.. values.DenseValues().Select(value => value.ToString())];
    }

    [Fact]
    public void BinaryColumnsCarryTheScoreKindsAndProbabilityIsNormalized()
    {
        var schema = s_binary.Value.GetOutputSchema(Synthetic.ToDataView(s_mlContext, Synthetic.Rows(2, 3, 1, seed: 1)).Schema);

        foreach (var (name, valueKind) in new[] { ("Score", "Score"), ("Probability", "Probability"), ("PredictedLabel", "PredictedLabel") })
        {
            var annotations = schema[name].Annotations;
            Assert.Equal("BinaryClassification", Text(annotations, "ScoreColumnKind"));
            Assert.Equal(valueKind, Text(annotations, "ScoreValueKind"));
        }
        bool normalized = false;
        schema["Probability"].Annotations.GetValue("IsNormalized", ref normalized);
        Assert.True(normalized);
        Assert.Null(schema["Score"].Annotations.Schema.GetColumnOrNull("IsNormalized"));
        Assert.Null(schema["PredictedLabel"].Annotations.Schema.GetColumnOrNull("IsNormalized"));
    }

    [Fact]
    public void MulticlassScoreSlotsAndPredictedKeysAreNamedByTheLabelsKeyValues()
    {
        var data = ClassData();
        var model = s_mlContext.MulticlassClassification.Trainers.Gru(Multiclass()).Fit(data);
        var schema = model.GetOutputSchema(data.Schema);
        string[] classes = Texts(data.Schema["Label"].Annotations, "KeyValues");
        Assert.Equal(3, classes.Length);

        var score = schema["Score"].Annotations;
        Assert.Equal(classes, Texts(score, "SlotNames"));
        Assert.Equal(classes, Texts(score, "TrainingLabelValues"));
        Assert.Equal("MulticlassClassification", Text(score, "ScoreColumnKind"));
        Assert.Equal("Score", Text(score, "ScoreValueKind"));
        var predicted = schema["PredictedLabel"].Annotations;
        Assert.Equal(classes, Texts(predicted, "KeyValues"));
        Assert.Equal("MulticlassClassification", Text(predicted, "ScoreColumnKind"));
        Assert.Equal("PredictedLabel", Text(predicted, "ScoreValueKind"));
        // MapKeyToValue reads the key values back as the classes.
        var named = s_mlContext.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel").Fit(model.Transform(data)).Transform(model.Transform(data));
        Assert.All(named.GetColumn<ReadOnlyMemory<char>>("PredictedClass"), name => Assert.Contains(name.ToString(), classes));
    }

    [Fact]
    public void NumericClassesNameTheScoreSlotsAsText()
    {
        var rows = Synthetic.Rows(12, 3, 3, seed: 5).Select(row => new DigitRow { Digit = row.Class[0] - 'a' + 1, Features = row.Features }).ToArray();
        var raw = s_mlContext.Data.LoadFromEnumerable(rows);
        var data = s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(DigitRow.Digit)).Fit(raw).Transform(raw);
        var model = s_mlContext.MulticlassClassification.Trainers.Lstm(Multiclass()).Fit(data);
        VBuffer<float> keyValues = default;
        data.Schema["Label"].Annotations.GetValue("KeyValues", ref keyValues);
        string[] expected = [.. keyValues.DenseValues().Select(value => value.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Equal(3, expected.Distinct().Count());

        Assert.Equal(expected, Texts(model.GetOutputSchema(data.Schema)["Score"].Annotations, "SlotNames"));
    }

    // SchemaShape.Create is internal; ML.NET's own tests call it the same way.
    private static SchemaShape ShapeOf(DataViewSchema schema) => (SchemaShape)typeof(SchemaShape)
        .GetMethod("Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.Invoke(null, [schema])!;

    private static SchemaShape.Column Find(SchemaShape shape, string name)
    {
        var found = shape.Where(column => column.Name == name).ToArray();
        return Assert.Single(found);
    }

    private static string[] Names(SchemaShape annotations) => [.. annotations.Select(column => column.Name).Order()];

    private static void AssertColumn(SchemaShape shape, string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey, params string[] annotations)
    {
        var column = Find(shape, name);
        Assert.Equal(kind, column.Kind);
        Assert.Equal(itemType, column.ItemType);
        Assert.Equal(isKey, column.IsKey);
        Assert.Equal(annotations.Order(), Names(column.Annotations));
    }

    private static readonly string[] s_trainerOutput = ["ScoreColumnSetId", "ScoreColumnKind", "ScoreValueKind"];

    [Fact]
    public void EachTasksEstimatorDeclaresTheColumnsItsModelAdds()
    {
        var numbers = ShapeOf(Synthetic.ToDataView(s_mlContext, Synthetic.Rows(2, 3, 1, seed: 1)).Schema);
        var binary = s_mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options { HiddenSize = 2, HiddenStateColumnName = "Hidden" })
            .GetOutputSchema(numbers);
        AssertColumn(binary, "Score", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false, s_trainerOutput);
        AssertColumn(binary, "Probability", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false, [.. s_trainerOutput, "IsNormalized"]);
        AssertColumn(binary, "PredictedLabel", SchemaShape.Column.VectorKind.Scalar, BooleanDataViewType.Instance, false, s_trainerOutput);
        AssertColumn(binary, "Hidden", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);

        var regression = s_mlContext.Regression.Trainers.Lstm(new RecurrentRegressionTrainer.Options { LabelColumnName = nameof(TaskRow.Value), HiddenSize = 2 })
            .GetOutputSchema(numbers);
        AssertColumn(regression, "Score", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false, s_trainerOutput);

        var classes = ShapeOf(ClassData().Schema);
        var multiclass = s_mlContext.MulticlassClassification.Trainers.Lstm(Multiclass()).GetOutputSchema(classes);
        AssertColumn(multiclass, "Score", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false,
            [.. s_trainerOutput, "SlotNames", "TrainingLabelValues"]);
        AssertColumn(multiclass, "PredictedLabel", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true,
            [.. s_trainerOutput, "KeyValues"]);

        var words = s_mlContext.Data.LoadFromEnumerable(new[] { new WordRow { Words = ["a", "b"], Tags = ["E", "O"] } });
        var tagged = s_mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(WordRow.Words))
            .Append(s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(WordRow.Tags))).Fit(words).Transform(words);
        var tagging = s_mlContext.SequenceTagging.Trainers.Gru(new SequenceTaggingTrainer.Options { HiddenSize = 2, HiddenStateColumnName = "Hidden" })
            .GetOutputSchema(ShapeOf(tagged.Schema));
        AssertColumn(tagging, "Score", SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Single, false);
        AssertColumn(tagging, "PredictedLabel", SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.UInt32, true, "KeyValues");
        AssertColumn(tagging, "Hidden", SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Single, false);
    }

    [Fact]
    public void AModelRefusesANullArgumentAndAWrongFeatureColumnByName()
    {
        var model = s_binary.Value;
        var data = Synthetic.ToDataView(s_mlContext, Synthetic.Rows(2, 3, 1, seed: 1));
        var text = s_mlContext.Transforms.Conversion.ConvertType("Features", nameof(TaskRow.Value), DataKind.String).Fit(data).Transform(data);

        Assert.Equal("inputSchema", Assert.Throws<ArgumentNullException>(() => model.GetOutputSchema(null!)).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => model.Transform(null!)).ParamName);
        Assert.Equal("inputSchema", Assert.Throws<ArgumentNullException>(() => model.GetRowToRowMapper(null!)).ParamName);
        Assert.Equal("ctx", Assert.Throws<ArgumentNullException>(() => ((ICanSaveModel)model).Save(null!)).ParamName);
        Assert.Equal("env", Assert.Throws<ArgumentNullException>(() => RecurrentPredictionTransformer.Create(null!, null!)).ParamName);
        Assert.Equal("ctx", Assert.Throws<ArgumentNullException>(() => RecurrentPredictionTransformer.Create(s_mlContext, null!)).ParamName);
        Assert.Contains("feature column 'Features'", Assert.ThrowsAny<ArgumentOutOfRangeException>(() => model.GetOutputSchema(text.Schema)).Message);
        Assert.Contains("feature column 'Features'", Assert.ThrowsAny<ArgumentOutOfRangeException>(() => model.Transform(text)).Message);
        Assert.Contains("feature column 'Features'", Assert.ThrowsAny<ArgumentOutOfRangeException>(() => model.GetRowToRowMapper(text.Schema)).Message);
    }
}
