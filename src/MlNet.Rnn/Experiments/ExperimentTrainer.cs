using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Scoring;

namespace MlNet.Rnn.Experiments;

/// <summary>
/// What an experiment needs from a task's trainer: read the data once, the network and the loss of a trial, the transformer
/// around the winner, and a plain <c>Fit</c> for refitting. A task whose trainer can answer these joins the experiments.
/// </summary>
internal interface IExperimentTrainer
{
    PreparedSequenceData Prepare(IChannel channel, IDataView trainData, IDataView? validationData);

    SequenceModelOptions ModelOptions(RecurrentCellType cell, RecurrentTrainerOptions options, PreparedSequenceData data, int seed);

    ILoss CreateLoss(int outputSize);

    RecurrentPredictionTransformer Wrap(PreparedSequenceData data, SequenceModel model, TrainingHistory? history);

    RecurrentPredictionTransformer Fit(IDataView trainData);
}

/// <summary>The binary, multiclass and regression trainers: one output row per sequence.</summary>
internal sealed class PerSequenceExperimentTrainer<TOptions>(RecurrentTrainerBase<TOptions> trainer) : IExperimentTrainer
    where TOptions : RecurrentTrainerOptions
{
    public PreparedSequenceData Prepare(IChannel channel, IDataView trainData, IDataView? validationData) => trainer.Prepare(channel, trainData, validationData);

    public SequenceModelOptions ModelOptions(RecurrentCellType cell, RecurrentTrainerOptions options, PreparedSequenceData data, int seed) =>
        options.ToModelOptions(cell, data.Column.VocabularySize, data.OutputSize, seed);

    public ILoss CreateLoss(int outputSize) => trainer.CreateLossFor(outputSize);

    public RecurrentPredictionTransformer Wrap(PreparedSequenceData data, SequenceModel model, TrainingHistory? history) => trainer.Wrap(data, model, history);

    public RecurrentPredictionTransformer Fit(IDataView trainData) => trainer.Fit(trainData);
}

/// <summary>The sequence tagger: one output row per step, softmax cross-entropy over the tags.</summary>
internal sealed class TaggingExperimentTrainer(SequenceTaggingTrainer trainer) : IExperimentTrainer
{
    public PreparedSequenceData Prepare(IChannel channel, IDataView trainData, IDataView? validationData) => trainer.Prepare(channel, trainData, validationData);

    public SequenceModelOptions ModelOptions(RecurrentCellType cell, RecurrentTrainerOptions options, PreparedSequenceData data, int seed) =>
        SequenceTaggingTrainer.ModelOptions(cell, options, data, seed);

    public ILoss CreateLoss(int outputSize) => new SoftmaxCrossEntropy();

    public RecurrentPredictionTransformer Wrap(PreparedSequenceData data, SequenceModel model, TrainingHistory? history) => trainer.Wrap(data, model, history);

    public RecurrentPredictionTransformer Fit(IDataView trainData) => trainer.Fit(trainData);
}
