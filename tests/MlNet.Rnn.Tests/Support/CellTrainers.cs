using Microsoft.ML;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Tests;

/// <summary>The catalog method of each task and cell, picked by cell, as a user would call it.</summary>
public static class CellTrainers
{
    public static RecurrentBinaryTrainer Binary(MLContext mlContext, RecurrentCellType cell, RecurrentBinaryTrainer.Options options) => cell switch
    {
        RecurrentCellType.Lstm => mlContext.BinaryClassification.Trainers.Lstm(options),
        RecurrentCellType.Gru => mlContext.BinaryClassification.Trainers.Gru(options),
        _ => mlContext.BinaryClassification.Trainers.Rnn(options),
    };

    public static RecurrentMulticlassTrainer Multiclass(MLContext mlContext, RecurrentCellType cell, RecurrentMulticlassTrainer.Options options) => cell switch
    {
        RecurrentCellType.Lstm => mlContext.MulticlassClassification.Trainers.Lstm(options),
        RecurrentCellType.Gru => mlContext.MulticlassClassification.Trainers.Gru(options),
        _ => mlContext.MulticlassClassification.Trainers.Rnn(options),
    };

    public static RecurrentRegressionTrainer Regression(MLContext mlContext, RecurrentCellType cell, RecurrentRegressionTrainer.Options options) => cell switch
    {
        RecurrentCellType.Lstm => mlContext.Regression.Trainers.Lstm(options),
        RecurrentCellType.Gru => mlContext.Regression.Trainers.Gru(options),
        _ => mlContext.Regression.Trainers.Rnn(options),
    };

    public static SequenceTaggingTrainer Tagger(MLContext mlContext, RecurrentCellType cell, SequenceTaggingTrainer.Options options) => cell switch
    {
        RecurrentCellType.Lstm => mlContext.SequenceTagging.Trainers.Lstm(options),
        RecurrentCellType.Gru => mlContext.SequenceTagging.Trainers.Gru(options),
        _ => mlContext.SequenceTagging.Trainers.Rnn(options),
    };
}
