// Sentiment of Amazon review sentences (UCI "Sentiment Labelled Sentences", Kotzias et al., KDD 2015; CC BY 4.0):
// ML.NET's text featurizers feed an LSTM (TokenizeIntoWords → MapValueToKey → Lstm, through a learned embedding),
// side by side with ML.NET's own FeaturizeText + SdcaLogisticRegression, on the same 800/200 split.
// Fetch the data once:  examples/data/fetch.sh sentiment
// Run:                  dotnet run --project examples/SentimentLstm -c Release
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn;
using MlNet.Rnn.Examples;

// One sentence, a tab, 0 or 1 per line; shuffled once with a fixed seed, then the first 800 train and the last 200 test.
Sentence[] sentences;
try
{
    sentences = SentimentFile.ReadAmazon();
}
catch (FileNotFoundException missing)
{
    Console.Error.WriteLine(missing.Message);
    return 1;
}
new Random(1).Shuffle(sentences);
var mlContext = new MLContext(seed: 1);
IDataView train = mlContext.Data.LoadFromEnumerable(sentences[..800]);
IDataView test = mlContext.Data.LoadFromEnumerable(sentences[800..]);

var clock = Stopwatch.StartNew();
var lstm = mlContext.Transforms.Text.NormalizeText("Normalized", "Text", keepPunctuations: false)
    .Append(mlContext.Transforms.Text.TokenizeIntoWords("Tokens", "Normalized"))
    .Append(mlContext.Transforms.Conversion.MapValueToKey("Tokens"))
    .Append(mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
    {
        FeatureColumnName = "Tokens", EmbeddingSize = 32, HiddenSize = 32, Bidirectional = true, NumberOfEpochs = 12,
        BatchSize = 16, LearningRate = 0.005f, Dropout = 0.3f,
    }));
var lstmMetrics = mlContext.BinaryClassification.Evaluate(lstm.Fit(train).Transform(test));
double lstmSeconds = clock.Elapsed.TotalSeconds;

clock.Restart();
var sdca = mlContext.Transforms.Text.FeaturizeText("Features", "Text")
    .Append(mlContext.BinaryClassification.Trainers.SdcaLogisticRegression());
var sdcaMetrics = mlContext.BinaryClassification.Evaluate(sdca.Fit(train).Transform(test));
double sdcaSeconds = clock.Elapsed.TotalSeconds;

Console.WriteLine($"{sentences.Length} sentences: 800 train, {sentences.Length - 800} test");
Console.WriteLine("model                                         accuracy    AUC     F1   train s");
Console.WriteLine($"Tokenize → MapValueToKey → Lstm (BiLSTM 32)    {lstmMetrics.Accuracy,6:F3}  {lstmMetrics.AreaUnderRocCurve,6:F3} {lstmMetrics.F1Score,6:F3} {lstmSeconds,8:F1}");
Console.WriteLine($"FeaturizeText → SdcaLogisticRegression         {sdcaMetrics.Accuracy,6:F3}  {sdcaMetrics.AreaUnderRocCurve,6:F3} {sdcaMetrics.F1Score,6:F3} {sdcaSeconds,8:F1}");
return 0;

// Printed on the 2-core machine this project is built on (2026-12-08, with TokenDropout 0.2 and the head reading the mean
// over the words, Readout MeanOverSteps, by default):
// 1000 sentences: 800 train, 200 test
// model                                         accuracy    AUC     F1   train s
// Tokenize → MapValueToKey → Lstm (BiLSTM 32)     0.800   0.882  0.775      1.2
// FeaturizeText → SdcaLogisticRegression          0.715   0.836  0.705      3.5
