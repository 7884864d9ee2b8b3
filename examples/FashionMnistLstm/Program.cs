// A 2-layer LSTM reads Fashion-MNIST row by row (28 steps × 28 pixels) and classifies the garment, with the core's
// training engine: Adam, gradient clipping, reduce-on-plateau, early stopping on a held-out part of the training set.
// Fetch the data once:  examples/data/fetch.sh fashion-mnist
// Run:                  dotnet run --project examples/FashionMnistLstm -c Release [-- epochs]
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Examples;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 20;
string folder = FashionMnistFile.Folder();
var (trainImages, trainLabels) = FashionMnistFile.Read(folder, training: true);
var (testImages, testLabels) = FashionMnistFile.Read(folder, training: false);

// Pixels scaled to [0, 1] and standardised with the training set's mean and deviation (0.2860, 0.3530).
SequenceDataset ToDataset(byte[][] images, byte[] labels, int first, int count)
{
    var data = new SequenceDataset(featuresPerStep: 28, targetWidth: 1);
    var steps = new float[784];
    for (int i = first; i < first + count; i++)
    {
        for (int p = 0; p < 784; p++) steps[p] = (images[i][p] / 255f - 0.2860f) / 0.3530f;
        data.Add(steps, [labels[i]]);
    }
    return data;
}
var training = ToDataset(trainImages, trainLabels, 0, 55_000);
var validation = ToDataset(trainImages, trainLabels, 55_000, 5_000);
var test = ToDataset(testImages, testLabels, 0, testImages.Length);

using var loggerFactory = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }));
var model = new SequenceModel(new SequenceModelOptions
{
    Cell = RecurrentCellType.Lstm, FeaturesPerStep = 28, HiddenSize = 128, Layers = 2, Dropout = 0.2f, OutputSize = 10, Seed = 1,
});
var trainer = new SequenceTrainer(model, new SoftmaxCrossEntropy(), new TrainerOptions
{
    Epochs = epochs, BatchSize = 128, LearningRate = 2e-3f, GradientClipNorm = 5f, ReduceOnPlateau = true, PlateauPatience = 1,
    EarlyStoppingPatience = 4, Seed = 1, Logger = loggerFactory.CreateLogger("FashionMnistLstm"),
});
Console.WriteLine($"2-layer LSTM, H = 128, {model.Parameters.Count:N0} parameters; {training.Count:N0} training, {validation.Count:N0} validation, {test.Count:N0} test images");
var clock = Stopwatch.StartNew();
var history = trainer.Train(training, validation);
var (testLoss, testAccuracy) = trainer.Evaluate(test);
Console.WriteLine($"best epoch {history.BestEpoch} of {history.Epochs.Count}; training took {clock.Elapsed:mm\\:ss}");
Console.WriteLine($"test accuracy {testAccuracy:F4}, test loss {testLoss:F4} (the data set's own table: GRU+SVM 0.888)");
