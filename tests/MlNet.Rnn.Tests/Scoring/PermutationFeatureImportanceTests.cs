using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests.Scoring;

/// <summary>
/// ML.NET's permutation feature importance explains a recurrent model as it explains its own trainers: on fixed-size float
/// sequences both overloads work, the generic one on the prediction transformer and the <c>ITransformer</c> one on a whole
/// pipeline (which finds the recurrent predictor at its end and names each slot by the column's slot names), for binary,
/// multiclass and regression models. A slot is one step's feature: the step the label is read from is the one whose
/// permutation costs the model its quality, far more than any other step. A variable-length or token feature column, whose
/// slots are not the same feature from row to row, is refused with a message that says why, by both overloads: where ML.NET's
/// generic overload would return nothing and its pipeline overload fail with "Invalid call to GetValue".
/// </summary>
public sealed class PermutationFeatureImportanceTests
{
    private const int Steps = 8, Decisive = 5;
    private static readonly MLContext s_mlContext = new(seed: 1);

    /// <summary>A sequence of <see cref="Steps"/> values in [−1, 1) whose labels are read from step <see cref="Decisive"/>.</summary>
    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }

        public string Class { get; set; } = "";

        public float Value { get; set; }
    }

    private static IDataView Data(int count, int seed)
    {
        var random = new Random(seed);
        var rows = Enumerable.Range(0, count).Select(_ =>
        {
            float[] steps = [.. Enumerable.Range(0, Steps).Select(_ => random.NextSingle() * 2 - 1)];
            float x = steps[Decisive];
            return new Row { Features = steps, Label = x > 0, Class = x < -0.33f ? "low" : x < 0.33f ? "mid" : "high", Value = 2 * x };
        }).ToArray();
        // Slot names, as Concatenate gives them for named columns: the ITransformer overloads name the result by them.
        var schema = SchemaDefinition.Create(typeof(Row));
        var names = new VBuffer<ReadOnlyMemory<char>>(Steps, [.. Enumerable.Range(0, Steps).Select(t => $"step{t}".AsMemory())]);
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Steps);
        schema[nameof(Row.Features)].AddAnnotation("SlotNames", names, new VectorDataViewType(TextDataViewType.Instance, Steps));
        return s_mlContext.Data.LoadFromEnumerable(rows, schema);
    }

    private static readonly IDataView s_training = Data(400, 1), s_test = Data(300, 2);

    private static RecurrentTrainerOptions Options(RecurrentTrainerOptions options)
    {
        (options.FeaturesPerStep, options.HiddenSize, options.NumberOfEpochs, options.LearningRate, options.Seed) = (1, 8, 15, 0.02f, 1);
        return options;
    }

    /// <summary>The importance of the decisive step, and the largest of the others (each the metric's drop, as a positive number).</summary>
    private static (double Decisive, double Others) Split(IReadOnlyList<double> drops)
    {
        Assert.Equal(Steps, drops.Count);
        return (drops[Decisive], drops.Where((_, t) => t != Decisive).Max());
    }

    [Fact]
    public void Binary_BothOverloads_FindTheDecisiveStep()
    {
        var pipeline = s_mlContext.Transforms.CopyColumns("Features", "Features")
            .Append(s_mlContext.BinaryClassification.Trainers.Lstm((RecurrentBinaryTrainer.Options)Options(new RecurrentBinaryTrainer.Options())));
        var model = pipeline.Fit(s_training);
        var scored = model.Transform(s_test);

        var generic = s_mlContext.BinaryClassification.PermutationFeatureImportance(model.LastTransformer, scored, permutationCount: 3);
        var (decisive, others) = Split([.. generic.Select(m => -m.AreaUnderRocCurve.Mean)]);
        Assert.True(decisive > 0.3 && decisive > 5 * Math.Max(others, 0.01), $"AUC drop at the decisive step {decisive:F3}, elsewhere at most {others:F3}");

        var byName = s_mlContext.BinaryClassification.PermutationFeatureImportanceNonCalibrated(model, scored, permutationCount: 3);
        Assert.Equal([.. Enumerable.Range(0, Steps).Select(t => $"step{t}")], byName.Keys.Order());
        (decisive, others) = Split([.. Enumerable.Range(0, Steps).Select(t => -byName[$"step{t}"].AreaUnderRocCurve.Mean)]);
        Assert.True(decisive > 0.3 && decisive > 5 * Math.Max(others, 0.01), $"AUC drop at the decisive step {decisive:F3}, elsewhere at most {others:F3}");
    }

    [Fact]
    public void Multiclass_BothOverloads_FindTheDecisiveStep()
    {
        var pipeline = s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(Row.Class))
            .Append(s_mlContext.MulticlassClassification.Trainers.Gru((RecurrentMulticlassTrainer.Options)Options(new RecurrentMulticlassTrainer.Options())));
        var model = pipeline.Fit(s_training);
        var scored = model.Transform(s_test);

        var generic = s_mlContext.MulticlassClassification.PermutationFeatureImportance(model.LastTransformer, scored, permutationCount: 3);
        var (decisive, others) = Split([.. generic.Select(m => -m.MicroAccuracy.Mean)]);
        Assert.True(decisive > 0.3 && decisive > 5 * Math.Max(others, 0.01), $"Accuracy drop at the decisive step {decisive:F3}, elsewhere at most {others:F3}");

        var byName = s_mlContext.MulticlassClassification.PermutationFeatureImportance(model, scored, permutationCount: 3);
        (decisive, others) = Split([.. Enumerable.Range(0, Steps).Select(t => -byName[$"step{t}"].MicroAccuracy.Mean)]);
        Assert.True(decisive > 0.3 && decisive > 5 * Math.Max(others, 0.01), $"Accuracy drop at the decisive step {decisive:F3}, elsewhere at most {others:F3}");
    }

    [Fact]
    public void Regression_BothOverloads_FindTheDecisiveStep()
    {
        var options = Options(new RecurrentRegressionTrainer.Options { LabelColumnName = nameof(Row.Value) });
        var model = s_mlContext.Transforms.CopyColumns("Features", "Features")
            .Append(s_mlContext.Regression.Trainers.Lstm((RecurrentRegressionTrainer.Options)options)).Fit(s_training);
        var scored = model.Transform(s_test);

        var generic = s_mlContext.Regression.PermutationFeatureImportance(model.LastTransformer, scored, nameof(Row.Value), permutationCount: 3);
        var (decisive, others) = Split([.. generic.Select(m => m.RootMeanSquaredError.Mean)]);
        Assert.True(decisive > 0.5 && decisive > 5 * Math.Max(others, 0.01), $"RMSE rise at the decisive step {decisive:F3}, elsewhere at most {others:F3}");

        var byName = s_mlContext.Regression.PermutationFeatureImportance(model, scored, nameof(Row.Value), permutationCount: 3);
        (decisive, others) = Split([.. Enumerable.Range(0, Steps).Select(t => byName[$"step{t}"].RootMeanSquaredError.Mean)]);
        Assert.True(decisive > 0.5 && decisive > 5 * Math.Max(others, 0.01), $"RMSE rise at the decisive step {decisive:F3}, elsewhere at most {others:F3}");
    }

    /// <summary>A row of a variable-length sequence and of a text.</summary>
    private sealed class VariableRow
    {
        public float[] Features { get; set; } = [];

        public string Text { get; set; } = "";

        public bool Label { get; set; }
    }

    [Fact]
    public void VariableLengthAndTokenColumns_AreRefused_SayingWhy()
    {
        var data = s_mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 40).Select(i => new VariableRow
        {
            Features = [.. Enumerable.Range(0, 2 + i % 3).Select(t => (float)Math.Sin(i + t))], Text = i % 2 == 0 ? "a good day" : "a bad day", Label = i % 2 == 0,
        }));
        var options = new RecurrentBinaryTrainer.Options { HiddenSize = 2, NumberOfEpochs = 1, Seed = 1 };
        var variable = s_mlContext.BinaryClassification.Trainers.Gru(options).Fit(data);
        string message = Assert.Throws<NotSupportedException>(() => s_mlContext.BinaryClassification.PermutationFeatureImportance(variable, variable.Transform(data))).Message;
        Assert.Contains("Column 'Features' holds vectors of variable size, whose slots are not.", message);
        Assert.Contains("a Single vector of fixed size (slot t·I + i is feature i at step t)", message);

        var tokens = s_mlContext.Transforms.Text.TokenizeIntoWords("Tokens", nameof(VariableRow.Text))
            .Append(s_mlContext.Transforms.Conversion.MapValueToKey("Features", "Tokens"))
            .Append(s_mlContext.BinaryClassification.Trainers.Gru(options)).Fit(data);
        message = Assert.Throws<NotSupportedException>(() => s_mlContext.BinaryClassification.PermutationFeatureImportance(tokens.LastTransformer, tokens.Transform(data))).Message;
        Assert.Contains("Column 'Features' holds keys (token ids), whose slots are not.", message);

        var regression = s_mlContext.Regression.Trainers.Gru(new RecurrentRegressionTrainer.Options { LabelColumnName = "Score", HiddenSize = 2, NumberOfEpochs = 1 });
        Assert.Throws<NotSupportedException>(() => s_mlContext.Regression.PermutationFeatureImportance(variable, variable.Transform(data), "Score"));
        var multiclass = s_mlContext.Transforms.Conversion.MapValueToKey("Label").Append(s_mlContext.MulticlassClassification.Trainers.Gru(
            new RecurrentMulticlassTrainer.Options { HiddenSize = 2, NumberOfEpochs = 1 })).Fit(data);
        Assert.Throws<NotSupportedException>(() => s_mlContext.MulticlassClassification.PermutationFeatureImportance(multiclass.LastTransformer, multiclass.Transform(data)));
    }

    [Fact]
    public void MlNetsPipelineOverloads_OnVariableLengthAndTokenModels_ThrowTheSameRefusal()
    {
        var data = s_mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 40).Select(i => new VariableRow
        {
            Features = [.. Enumerable.Range(0, 2 + i % 3).Select(t => (float)Math.Sin(i + t))], Text = i % 2 == 0 ? "a good day" : "a bad day", Label = i % 2 == 0,
        }));
        var options = new RecurrentBinaryTrainer.Options { HiddenSize = 2, NumberOfEpochs = 1, Seed = 1 };
        var variable = s_mlContext.Transforms.CopyColumns("Features", "Features").Append(s_mlContext.BinaryClassification.Trainers.Gru(options)).Fit(data);
        string message = Assert.Throws<NotSupportedException>(() =>
            s_mlContext.BinaryClassification.PermutationFeatureImportanceNonCalibrated(variable, variable.Transform(data))).Message;
        Assert.Contains("Column 'Features' holds vectors of variable size, whose slots are not.", message);

        var tokens = s_mlContext.Transforms.Text.TokenizeIntoWords("Tokens", nameof(VariableRow.Text))
            .Append(s_mlContext.Transforms.Conversion.MapValueToKey("Features", "Tokens"))
            .Append(s_mlContext.BinaryClassification.Trainers.Gru(options)).Fit(data);
        message = Assert.Throws<NotSupportedException>(() =>
            s_mlContext.BinaryClassification.PermutationFeatureImportanceNonCalibrated(tokens, tokens.Transform(data))).Message;
        Assert.Contains("Column 'Features' holds keys (token ids), whose slots are not.", message);

        var regression = s_mlContext.Transforms.Conversion.ConvertType("Value", "Label", DataKind.Single)
            .Append(s_mlContext.Regression.Trainers.Gru(new RecurrentRegressionTrainer.Options { LabelColumnName = "Value", HiddenSize = 2, NumberOfEpochs = 1 }))
            .Fit(data);
        message = Assert.Throws<NotSupportedException>(() => s_mlContext.Regression.PermutationFeatureImportance(regression, regression.Transform(data), "Value")).Message;
        Assert.Contains("holds vectors of variable size", message);
        var multiclass = s_mlContext.Transforms.Conversion.MapValueToKey("Label").Append(s_mlContext.MulticlassClassification.Trainers.Gru(
            new RecurrentMulticlassTrainer.Options { HiddenSize = 2, NumberOfEpochs = 1 })).Fit(data);
        message = Assert.Throws<NotSupportedException>(() => s_mlContext.MulticlassClassification.PermutationFeatureImportance(multiclass, multiclass.Transform(data))).Message;
        Assert.Contains("holds vectors of variable size", message);
    }
}
