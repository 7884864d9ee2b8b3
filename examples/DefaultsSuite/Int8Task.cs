using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MlNet.Rnn.Core.Layers;

namespace MlNet.Rnn.Examples.DefaultsSuite;

/// <summary>
/// What int8 inference costs in accuracy: the default model of each kind (seed 1, the suite's splits) scored in float32 and again
/// with <c>mlContext.Model.WithInferencePrecision(model, InferencePrecision.Int8)</c>, the same test rows, printed as a markdown
/// table.
/// </summary>
internal static class Int8Task
{
    public static IReadOnlyList<TaskResult> Run(int seeds)
    {
        var table = new List<string>
        {
            "| task | model | metric | float32 | int8 | int8 − float32 | relative |",
            "|---|---|---|---:|---:|---:|---:|",
        };
        void Row(string task, string model, string metric, double float32, double int8)
        {
            double change = int8 - float32;
            table.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {task} | {model} | {metric} | {float32:F4} | {int8:F4} | {change:+0.0000;-0.0000;0.0000} | {change / Math.Abs(float32):+0.00%;-0.00%;0.00%} |"));
            Console.WriteLine(table[^1]);
        }
        var clock = Stopwatch.StartNew();
        var mlContext = new MLContext(seed: 1);

        var (sentimentTrain, sentimentTest) = TextTasks.SentimentSplit();
        var sentiment = TextTasks.Pipeline(mlContext).Fit(mlContext.Data.LoadFromEnumerable(sentimentTrain));
        var sentimentView = mlContext.Data.LoadFromEnumerable(sentimentTest);
        var binaryFloat = mlContext.BinaryClassification.Evaluate(sentiment.Transform(sentimentView));
        var binaryInt8 = mlContext.BinaryClassification.Evaluate(mlContext.Model.WithInferencePrecision(sentiment, InferencePrecision.Int8).Transform(sentimentView));
        Row("sentiment", "binary LSTM over word keys", "accuracy", binaryFloat.Accuracy, binaryInt8.Accuracy);
        Row("sentiment", "binary LSTM over word keys", "AUC", binaryFloat.AreaUnderRocCurve, binaryInt8.AreaUnderRocCurve);

        var (fashionTrain, fashionTest) = FashionTask.Split(1_000);
        var fashion = mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.MulticlassClassification.Trainers.Lstm(featureColumnName: "Pixels", featuresPerStep: 28))
            .Fit(mlContext.Data.LoadFromEnumerable(fashionTrain));
        var fashionView = mlContext.Data.LoadFromEnumerable(fashionTest);
        var multiclassFloat = mlContext.MulticlassClassification.Evaluate(fashion.Transform(fashionView));
        var multiclassInt8 = mlContext.MulticlassClassification.Evaluate(mlContext.Model.WithInferencePrecision(fashion, InferencePrecision.Int8).Transform(fashionView));
        Row("fashion-1k", "multiclass LSTM, 28 rows of 28 pixels", "micro accuracy", multiclassFloat.MicroAccuracy, multiclassInt8.MicroAccuracy);

        var (windowTrain, windowTest) = SeriesTasks.Windows(SeriesTasks.Sunspots());
        var sunspots = mlContext.Regression.Trainers.Lstm(featureColumnName: "Window").Fit(mlContext.Data.LoadFromEnumerable(windowTrain));
        var windowView = mlContext.Data.LoadFromEnumerable(windowTest);
        var regressionFloat = mlContext.Regression.Evaluate(sunspots.Transform(windowView));
        var regressionInt8 = mlContext.Regression.Evaluate(mlContext.Model.WithInferencePrecision(sunspots, InferencePrecision.Int8).Transform(windowView));
        Row("sunspots", "regression LSTM over a 12-year window", "MAE", regressionFloat.MeanAbsoluteError, regressionInt8.MeanAbsoluteError);

        var (brownTrain, brownTest) = BrownTask.Split(1_000);
        var tagger = BrownTask.Keys(mlContext).Append(mlContext.SequenceTagging.Trainers.Lstm()).Fit(mlContext.Data.LoadFromEnumerable(brownTrain));
        Row("brown-1k", "tagging LSTM", "token accuracy", BrownTask.TokenAccuracy(mlContext, tagger, brownTest),
            BrownTask.TokenAccuracy(mlContext, mlContext.Model.WithInferencePrecision(tagger, InferencePrecision.Int8), brownTest));

        var (mobyTrain, mobyTest) = MobyDickTask.Split();
        var language = mlContext.LanguageModeling.Trainers.Lstm().Fit(mlContext.Data.LoadFromEnumerable(mobyTrain.Select(p => new TextRow { Text = p })));
        var mobyView = mlContext.Data.LoadFromEnumerable(mobyTest.Select(p => new TextRow { Text = p }));
        Row("moby-dick", "character LSTM language model", "bits per character", mlContext.LanguageModeling.Evaluate(language.Transform(mobyView)).BitsPerToken,
            mlContext.LanguageModeling.Evaluate(mlContext.Model.WithInferencePrecision(language, InferencePrecision.Int8).Transform(mobyView)).BitsPerToken);

        Console.WriteLine();
        Console.WriteLine($"int8 (seed 1, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {clock.Elapsed.TotalMinutes:F1} min):");
        foreach (string line in table) Console.WriteLine(line);
        return [];
    }
}
