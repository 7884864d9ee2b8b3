using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Data;
using MlNet.Rnn.Logging;
using MlNet.Rnn.Models;
using MlNet.Rnn.Scoring;

namespace MlNet.Rnn;

/// <summary>
/// What the recurrent trainers share: checks the columns, reads the rows into the core's <see cref="SequenceDataset"/>
/// (skipping and counting rows with a missing label or a bad weight), builds the core's <see cref="SequenceModel"/>,
/// trains it with the core's <see cref="SequenceTrainer"/> (early stopping on validation data when
/// <see cref="Fit(IDataView, IDataView)"/> gets it), and wraps it in a <see cref="RecurrentPredictionTransformer"/>.
/// A subclass says how its task reads the label, how many outputs the head has and which loss it minimises.
/// </summary>
/// <typeparam name="TOptions">The task's options.</typeparam>
public abstract class RecurrentTrainerBase<TOptions> : ITrainerEstimator<RecurrentPredictionTransformer, RecurrentModelParameters>
    where TOptions : RecurrentTrainerOptions
{
    private static readonly TrainerInfo s_info = new(normalization: false, caching: false, supportValid: true);

    private protected RecurrentTrainerBase(IHostEnvironment env, string registrationName, RecurrentCellType cell, TOptions options)
    {
        Host = Contracts.CheckRef(env, nameof(env)).Register(registrationName);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Cell = cell;
        TrainerOptions = options;
    }

    /// <summary>The cell this trainer trains.</summary>
    public RecurrentCellType Cell { get; }

    /// <summary>The options this trainer was created with.</summary>
    public TOptions TrainerOptions { get; }

    /// <summary>Needs no normalisation or caching; accepts validation data.</summary>
    public TrainerInfo Info => s_info;

    private protected IHost Host { get; }

    private protected abstract RecurrentTask Task { get; }

    /// <summary>What the label column must be, for messages.</summary>
    private protected abstract string ExpectedLabel { get; }

    /// <summary>Whether a label column of this shape fits the task.</summary>
    private protected abstract bool LabelFits(SchemaShape.Column label);

    /// <summary>Whether a label column of this type fits the task.</summary>
    private protected abstract bool LabelFits(DataViewType label);

    /// <summary>O: the head's outputs for this label.</summary>
    private protected abstract int OutputSize(DataViewSchema.Column label);

    /// <summary>The loss the core minimises.</summary>
    private protected abstract ILoss CreateLoss(int outputSize);

    /// <summary>A getter of the current row's training target (a class index as a float for multiclass); NaN when the label is missing.</summary>
    private protected abstract Func<float> LabelGetter(DataViewRow row, DataViewSchema.Column label);

    /// <summary>The input columns plus <c>Score</c> and the task's other columns; throws naming a missing or mistyped column.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Host.CheckValue(inputSchema, nameof(inputSchema));
        var options = TrainerOptions;
        SequenceColumn.Check(Host, inputSchema, options.FeatureColumnName);
        if (!inputSchema.TryFindColumn(options.LabelColumnName, out var label))
            throw Host.ExceptSchemaMismatch(nameof(inputSchema), "label", options.LabelColumnName);
        if (!LabelFits(label))
            throw Host.ExceptSchemaMismatch(nameof(inputSchema), "label", options.LabelColumnName, ExpectedLabel, SequenceColumn.Describe(label));
        if (options.ExampleWeightColumnName is { } weightName)
        {
            if (!inputSchema.TryFindColumn(weightName, out var weight)) throw Host.ExceptSchemaMismatch(nameof(inputSchema), "weight", weightName);
            if (weight.Kind != SchemaShape.Column.VectorKind.Scalar || weight.IsKey || weight.ItemType != NumberDataViewType.Single)
                throw Host.ExceptSchemaMismatch(nameof(inputSchema), "weight", weightName, "Single", SequenceColumn.Describe(weight));
        }
        var columns = inputSchema.ToDictionary(column => column.Name);
        foreach (var column in OutputColumns.Shape(Task, label, options.HiddenStateColumnName)) columns[column.Name] = column;
        return new SchemaShape(columns.Values);
    }

    /// <summary>Trains on <paramref name="input"/>.</summary>
    public RecurrentPredictionTransformer Fit(IDataView input) => Train(input, null);

    /// <summary>
    /// Trains on <paramref name="trainData"/>, measuring the loss on <paramref name="validationData"/> after every epoch; with
    /// <see cref="RecurrentTrainerOptions.EarlyStoppingPatience"/> &gt; 0 training stops when it no longer improves and the
    /// model keeps the weights of its best epoch.
    /// </summary>
    public RecurrentPredictionTransformer Fit(IDataView trainData, IDataView validationData)
    {
        Host.CheckValue(validationData, nameof(validationData));
        return Train(trainData, validationData);
    }

    private RecurrentPredictionTransformer Train(IDataView trainData, IDataView? validationData)
    {
        using var channel = Host.Start("Training");
        var data = Prepare(channel, trainData, validationData);
        var options = TrainerOptions;
        int seed = options.Seed ?? Host.Rand.Next();
        var model = new SequenceModel(options.ToModelOptions(Cell, data.Column.VocabularySize, data.OutputSize, seed));
        var logger = new ProgressLogger(channel, options.Logger);
        var trainer = new SequenceTrainer(model, CreateLoss(data.OutputSize), options.ToTrainerOptions(seed, data.Validation is not null, logger));
        Report(channel, string.Create(CultureInfo.InvariantCulture,
            $"{Cell} {Task}: {data.Training.Count} training rows{(data.Validation is null ? "" : $", {data.Validation.Count} validation rows")}, " +
            $"{model.Parameters.Count} parameters, seed {seed}"));
        var history = trainer.Train(data.Training, data.Validation);
        if (history.StoppedEarly)
            Report(channel, string.Create(CultureInfo.InvariantCulture, $"Stopped early after epoch {history.Epochs.Count}; kept epoch {history.BestEpoch}."));
        return Wrap(data, model, history);
    }

    /// <summary>
    /// Checks the columns and reads <paramref name="trainData"/> (and <paramref name="validationData"/>) into the core's
    /// data sets, once; experiments train many models on what this returns.
    /// </summary>
    internal PreparedSequenceData Prepare(IChannel channel, IDataView trainData, IDataView? validationData)
    {
        Host.CheckValue(trainData, nameof(trainData));
        var options = TrainerOptions;
        var schema = trainData.Schema;
        var column = SequenceColumn.FromSchema(Host, schema, options.FeatureColumnName, options.FeaturesPerStep);
        var label = CheckLabel(schema);
        var weight = CheckWeight(schema);
        int outputSize = OutputSize(label);

        var training = Read(channel, trainData, "training", column, label, weight, outputSize);
        SequenceDataset? validation = null;
        if (validationData is not null)
        {
            column.CheckMatches(Host, validationData.Schema);
            var validationLabel = CheckLabel(validationData.Schema);
            if (!validationLabel.Type.Equals(label.Type))
                throw Host.ExceptSchemaMismatch(nameof(validationData), "label", label.Name, label.Type.ToString(), validationLabel.Type.ToString());
            validation = Read(channel, validationData, "validation", column, validationLabel, CheckWeight(validationData.Schema), outputSize);
            if (validation.Count == 0) throw Host.Except("The validation data has no usable row (every label was missing); pass rows with labels.");
        }
        if (training.Count == 0)
            throw Host.Except($"The training data has no usable row in column '{column.Name}': every row had a missing label or a bad weight.");
        return new PreparedSequenceData(column, schema[column.Name].Type, label, outputSize, training, validation);
    }

    /// <summary>The loss the core minimises for this trainer's options.</summary>
    internal ILoss CreateLossFor(int outputSize) => CreateLoss(outputSize);

    /// <summary>Wraps a model trained on <paramref name="data"/> in the transformer <see cref="Fit(IDataView)"/> returns.</summary>
    internal RecurrentPredictionTransformer Wrap(PreparedSequenceData data, SequenceModel model, TrainingHistory? history)
    {
        var options = TrainerOptions;
        return new RecurrentPredictionTransformer(Host, Task, new RecurrentModelParameters(model, history), data.Column, data.FeatureType,
            Task == RecurrentTask.MulticlassClassification ? data.Label : null, options.HiddenStateColumnName, options.ScoringBatchSize,
            options.MaxDegreeOfParallelism);
    }

    private DataViewSchema.Column CheckLabel(DataViewSchema schema)
    {
        string name = TrainerOptions.LabelColumnName;
        var label = schema.GetColumnOrNull(name) ?? throw Host.ExceptSchemaMismatch(nameof(schema), "label", name);
        if (!LabelFits(label.Type)) throw Host.ExceptSchemaMismatch(nameof(schema), "label", name, ExpectedLabel, label.Type.ToString());
        return label;
    }

    private DataViewSchema.Column? CheckWeight(DataViewSchema schema)
    {
        if (TrainerOptions.ExampleWeightColumnName is not { } name) return null;
        var weight = schema.GetColumnOrNull(name) ?? throw Host.ExceptSchemaMismatch(nameof(schema), "weight", name);
        if (weight.Type != NumberDataViewType.Single) throw Host.ExceptSchemaMismatch(nameof(schema), "weight", name, "Single", weight.Type.ToString());
        return weight;
    }

    /// <summary>Reads every row with a label and a usable weight into a data set; checks each sequence, naming the row.</summary>
    private SequenceDataset Read(IChannel channel, IDataView data, string role, SequenceColumn column, DataViewSchema.Column label,
        DataViewSchema.Column? weight, int outputSize)
    {
        var features = data.Schema[column.Name];
        var active = new List<DataViewSchema.Column> { features, label };
        if (weight is { } w) active.Add(w);
        using var cursor = data.GetRowCursor(active);
        var reader = column.CreateReader(cursor);
        var target = LabelGetter(cursor, label);
        var weightGetter = weight is { } weightColumn ? cursor.GetGetter<float>(weightColumn) : null;
        var dataset = new SequenceDataset(column.Tokens ? 0 : column.FeaturesPerStep, targetWidth: 1);
        Span<float> targets = stackalloc float[1];
        long missingLabels = 0, badWeights = 0;
        while (cursor.MoveNext())
        {
            float y = target();
            if (float.IsNaN(y)) { missingLabels++; continue; }
            float rowWeight = 1;
            weightGetter?.Invoke(ref rowWeight);
            if (!(rowWeight >= 0 && float.IsFinite(rowWeight))) { badWeights++; continue; }
            reader.Read(cursor.Position);
            targets[0] = y;
            if (column.Tokens) dataset.AddTokens(reader.Ids, targets, rowWeight);
            else dataset.Add(reader.Values, targets, rowWeight);
        }
        if (missingLabels > 0 || badWeights > 0)
        {
            string weights = weight is null ? "" : string.Create(CultureInfo.InvariantCulture,
                $" and {badWeights} with a weight in '{weight.Value.Name}' that is negative or not finite");
            Report(channel, string.Create(CultureInfo.InvariantCulture, $"Skipped {missingLabels} {role} rows with a missing label in '{label.Name}'{weights}."));
        }
        return dataset;
    }

    private void Report(IChannel channel, string message)
    {
        channel.Info(message);
        TrainerOptions.Logger?.LogInformation("{Message}", message);
    }
}

/// <summary>Training (and validation) rows read into the core's data sets, and what the transformer needs to know of the columns.</summary>
internal sealed record PreparedSequenceData(SequenceColumn Column, DataViewType FeatureType, DataViewSchema.Column Label, int OutputSize,
    SequenceDataset Training, SequenceDataset? Validation);
