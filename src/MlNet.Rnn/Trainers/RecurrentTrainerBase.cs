using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Data;
using MlNet.Rnn.Models;
using MlNet.Rnn.Scoring;

namespace MlNet.Rnn;

/// <summary>
/// What the trainers of a labelled sequence share (binary, multiclass and regression: one target per sequence; tagging: one
/// per step): checks the columns, reads the rows into the core's <see cref="SequenceDataset"/> (skipping and counting rows
/// with a missing label or a bad weight), builds the core's <see cref="SequenceModel"/>, trains it through the one training
/// loop (early stopping on validation data when <c>Fit(train, validation)</c> gets it), and wraps it in a
/// <see cref="RecurrentPredictionTransformer"/>. A task says how its label is read, how many outputs the head has, whether
/// it reads out the last step or every step, and which loss it minimises.
/// </summary>
/// <typeparam name="TOptions">The task's options.</typeparam>
public abstract class RecurrentTrainerBase<TOptions> : RecurrentEstimator<TOptions, RecurrentPredictionTransformer>,
    ITrainerEstimator<RecurrentPredictionTransformer, RecurrentModelParameters>
    where TOptions : RecurrentTrainerOptions
{
    private static readonly TrainerInfo s_info = new(normalization: false, caching: false, supportValid: true);

    private protected RecurrentTrainerBase(IHostEnvironment env, string registrationName, RecurrentCellType cell, TOptions options)
        : base(env, registrationName, cell, options)
    {
    }

    /// <summary>Needs no normalisation or caching; accepts validation data.</summary>
    public TrainerInfo Info => s_info;

    private protected abstract RecurrentTask Task { get; }

    /// <summary>What the label column must be, for messages.</summary>
    private protected abstract string ExpectedLabel { get; }

    /// <summary>Whether the target is one value per step (a tag per step) rather than one per sequence.</summary>
    private protected virtual bool PerStepTargets => false;

    /// <summary>Whether a label column of this shape fits the task.</summary>
    private protected abstract bool LabelFits(SchemaShape.Column label);

    /// <summary>Whether a label column of this type fits the task.</summary>
    private protected abstract bool LabelFits(DataViewType label);

    /// <summary>O: the head's outputs for this label.</summary>
    private protected abstract int OutputSize(DataViewSchema.Column label);

    /// <summary>The loss the core minimises.</summary>
    private protected abstract ILoss CreateLoss(int outputSize);

    /// <summary>A reader of the current row's training target.</summary>
    private protected abstract TargetReader CreateTargetReader(DataViewRow row, DataViewSchema.Column label, int outputSize);

    /// <summary>The loss the core minimises for this trainer's options.</summary>
    internal ILoss CreateLossFor(int outputSize) => CreateLoss(outputSize);

    /// <summary>The network a trial of <paramref name="options"/> trains on <paramref name="data"/>: the options' shape, this task's head and readout.</summary>
    internal SequenceModelOptions ModelOptions(RecurrentCellType cell, RecurrentTrainerOptions options, PreparedSequenceData data, int seed) =>
        options.ToModelOptions(cell, data.Column.VocabularySize, data.OutputSize, seed) with
        {
            Readout = PerStepTargets ? SequenceReadout.EveryStep
                : options.Readout ?? (options.TruncatedBpttSteps > 0 ? SequenceReadout.LastStep : DefaultReadout),
        };

    /// <summary>What a many-to-one head reads when <see cref="RecurrentTrainerOptions.Readout"/> is null (the final states unless the task says otherwise).</summary>
    private protected virtual SequenceReadout DefaultReadout => SequenceReadout.LastStep;

    private protected override IEnumerable<SchemaShape.Column> OutputShape(SchemaShape inputSchema)
    {
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
        return OutputColumns.Shape(Task, label, options.HiddenStateColumnName);
    }

    private protected override RecurrentPredictionTransformer Train(FitRun run, IDataView trainData, IDataView? validationData)
    {
        using var data = Prepare(run, trainData, validationData);
        var model = new SequenceModel(ModelOptions(Cell, TrainerOptions, data, run.Seed));
        var trainingOptions = run.TrainingOptions(data.Validation is not null);
        string length = "";
        if (TrainerOptions.NumberOfEpochs is null)
            (trainingOptions, length) = RecurrentTrainerOptionsBase.AutomaticLength(trainingOptions, data.Training.ExampleCount, data.Validation is not null,
                Task == RecurrentTask.Regression ? "loss" : "accuracy");
        var trainer = new SequenceTrainer(model, CreateLoss(data.OutputSize), trainingOptions);
        string validationRows = data.Validation is null ? ""
            : $", {data.Validation.ExampleCount} validation rows{(data.HeldOut ? $" (held out: ValidationFraction {TrainerOptions.ValidationFraction:G3} of the training rows)" : "")}";
        run.ReportStart(string.Create(CultureInfo.InvariantCulture,
            $"{Cell} {Task}: {data.Training.ExampleCount} training rows{validationRows}{data.Storage}{length}"),
            model.Parameters.Count);
        var history = trainer.Train(data.Training, data.Validation, run.CancellationToken);
        run.ReportEnd(history);
        return Wrap(data, model, history);
    }

    /// <summary>
    /// Checks the columns and reads <paramref name="trainData"/> (and <paramref name="validationData"/>) into the core's
    /// data sets, once; experiments train many models on what this returns.
    /// </summary>
    internal PreparedSequenceData Prepare(FitRun run, IDataView trainData, IDataView? validationData)
    {
        var options = TrainerOptions;
        var schema = trainData.Schema;
        var column = SequenceColumn.FromSchema(Host, schema, options.FeatureColumnName, options.FeaturesPerStep);
        var label = CheckLabel(schema);
        int outputSize = OutputSize(label);

        SequenceCache? training = null, validation = null;
        // Without validation data and without a set number of epochs, a share of the training rows decides when to stop.
        float holdOut = validationData is null && options.NumberOfEpochs is null ? options.ValidationFraction : 0;
        try
        {
            (training, validation) = Read(run, trainData, "training", column, label, CheckWeight(schema), outputSize, holdOut);
            if (validation is { ExampleCount: 0 })
            {
                validation.Dispose();
                validation = null;
            }
            if (validationData is not null)
            {
                column.CheckMatches(Host, validationData.Schema);
                var validationLabel = CheckLabel(validationData.Schema);
                if (!validationLabel.Type.Equals(label.Type))
                    throw Host.ExceptSchemaMismatch(nameof(validationData), "label", label.Name, label.Type.ToString(), validationLabel.Type.ToString());
                (validation, _) = Read(run, validationData, "validation", column, validationLabel, CheckWeight(validationData.Schema), outputSize);
                if (validation.ExampleCount == 0) throw Host.Except("The validation data has no usable row (every label was missing); pass rows with labels.");
            }
            if (training.ExampleCount == 0)
                throw Host.Except($"The training data has no usable row in column '{column.Name}': every row had a missing label or a bad weight.");
            return new PreparedSequenceData(column, schema[column.Name].Type, label, outputSize, training, validation, HeldOut: validationData is null && validation is not null);
        }
        catch
        {
            training?.Dispose();
            validation?.Dispose();
            throw;
        }
    }

    /// <summary>Wraps a model trained on <paramref name="data"/> in the transformer <c>Fit</c> returns.</summary>
    internal RecurrentPredictionTransformer Wrap(PreparedSequenceData data, SequenceModel model, TrainingHistory? history)
    {
        var options = TrainerOptions;
        return new RecurrentPredictionTransformer(Host, Task, new RecurrentModelParameters(model, history), data.Column, data.FeatureType,
            Task is RecurrentTask.MulticlassClassification or RecurrentTask.SequenceTagging ? data.Label : null, options.HiddenStateColumnName,
            options.ScoringBatchSize, options.MaxDegreeOfParallelism);
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

    /// <summary>
    /// Reads every row with a label and a usable weight into a cache, in memory up to
    /// <see cref="RecurrentTrainerOptionsBase.TrainingDataMemoryMegabytes"/> and in a temporary file beyond; checks each sequence,
    /// naming the row. With <paramref name="holdOut"/> &gt; 0, each row after the first goes to a second cache instead with that
    /// probability, drawn from the seed (the rows held out to decide when to stop).
    /// </summary>
    private (SequenceCache Rows, SequenceCache? HeldOut) Read(FitRun run, IDataView data, string role, SequenceColumn column, DataViewSchema.Column label,
        DataViewSchema.Column? weight, int outputSize, float holdOut = 0)
    {
        var features = data.Schema[column.Name];
        var active = new List<DataViewSchema.Column> { features, label };
        if (weight is { } w) active.Add(w);
        using var cursor = data.GetRowCursor(active);
        var reader = column.CreateReader(cursor);
        var target = CreateTargetReader(cursor, label, outputSize);
        var weightGetter = weight is { } weightColumn ? cursor.GetGetter<float>(weightColumn) : null;
        var split = new HeldOutSplit(holdOut, run.Seed);
        var (budget, heldOutBudget) = split.Budgets(TrainerOptions.TrainingDataMemoryMegabytes * (1L << 20));
        SequenceCache NewCache(long bytes) => new(column.Tokens ? 0 : column.FeaturesPerStep, targetWidth: 1, PerStepTargets, bytes, run.Seed);
        var dataset = NewCache(budget);
        var heldOut = holdOut > 0 ? NewCache(heldOutBudget) : null;
        try
        {
            Fill(dataset, heldOut);
            dataset.Complete();
            heldOut?.Complete();
            return (dataset, heldOut);
        }
        catch
        {
            dataset.Dispose(); // deletes a temporary file at once
            heldOut?.Dispose();
            throw;
        }

        void Fill(SequenceCache rows, SequenceCache? heldOutRows)
        {
            long missingLabels = 0, badWeights = 0;
            while (cursor.MoveNext())
            {
                if ((cursor.Position & 1023) == 0) run.CancellationToken.ThrowIfCancellationRequested();
                reader.Read(cursor.Position);
                if (!target.Read(cursor.Position, reader.Steps, column.Name)) { missingLabels++; continue; }
                float rowWeight = 1;
                weightGetter?.Invoke(ref rowWeight);
                if (!(rowWeight >= 0 && float.IsFinite(rowWeight))) { badWeights++; continue; }
                var into = heldOutRows is not null && split.HoldsOut(rows.ExampleCount) ? heldOutRows : rows;
                if (column.Tokens) into.AddTokens(reader.Ids, target.Target, rowWeight);
                else into.Add(reader.Values, target.Target, rowWeight);
            }
            if (missingLabels > 0 || badWeights > 0)
            {
                string weights = weight is null ? "" : string.Create(CultureInfo.InvariantCulture,
                    $" and {badWeights} with a weight in '{weight.Value.Name}' that is negative or not finite");
                run.Warn(string.Create(CultureInfo.InvariantCulture, $"Skipped {missingLabels} {role} rows with a missing label in '{label.Name}'{weights}."));
            }
        }
    }
}

/// <summary>Reads the training target of a cursor's current row: one value per sequence, or one per step.</summary>
internal abstract class TargetReader
{
    /// <summary>The target of the row last read (valid after <see cref="Read"/> returned true).</summary>
    public abstract ReadOnlySpan<float> Target { get; }

    /// <summary>
    /// Reads row <paramref name="row"/>'s target, whose input has <paramref name="steps"/> steps in <paramref name="inputColumn"/>;
    /// false when it is missing (the row is skipped and counted). Throws naming the row when it cannot fit the input.
    /// </summary>
    public abstract bool Read(long row, int steps, string inputColumn);

    /// <summary>One value per sequence from a getter that gives NaN for a missing label.</summary>
    public static TargetReader Scalar(Func<float> getter) => new ScalarTarget(getter);

    private sealed class ScalarTarget(Func<float> getter) : TargetReader
    {
        private readonly float[] _value = new float[1];

        public override ReadOnlySpan<float> Target => _value;

        public override bool Read(long row, int steps, string inputColumn)
        {
            _value[0] = getter();
            return !float.IsNaN(_value[0]);
        }
    }
}

/// <summary>
/// Training (and validation) rows read into the core's caches, and what the transformer needs to know of the columns.
/// <see cref="HeldOut"/>: the validation rows were held out of the training data.
/// Disposing it deletes the caches' temporary files.
/// </summary>
internal sealed record PreparedSequenceData(SequenceColumn Column, DataViewType FeatureType, DataViewSchema.Column Label, int OutputSize,
    SequenceCache Training, SequenceCache? Validation, bool HeldOut = false) : IDisposable
{
    /// <summary>Where the rows are held, for the log: nothing when in memory.</summary>
    public string Storage => TrainingDataStorage.Describe(Training, Validation);

    public void Dispose()
    {
        Training.Dispose();
        Validation?.Dispose();
    }
}

/// <summary>Where a fit holds its training rows, for its log: nothing while in memory; past TrainingDataMemoryMegabytes, the temporary file.</summary>
internal static class TrainingDataStorage
{
    /// <summary>
    /// " (over TrainingDataMemoryMegabytes: read a <paramref name="piece"/> at a time from N MB in file)", or nothing when
    /// <paramref name="file"/> is null (the rows are in memory).
    /// </summary>
    public static string Describe(long bytesOnDisk, string? file, string piece = "part") => file is null ? ""
        : string.Create(CultureInfo.InvariantCulture, $" (over TrainingDataMemoryMegabytes: read a {piece} at a time from {bytesOnDisk >> 20:N0} MB in {file})");

    /// <summary>Where the caches of a fit's training and validation rows are.</summary>
    public static string Describe(SequenceCache training, SequenceCache? validation) =>
        Describe(training.BytesOnDisk + (validation?.BytesOnDisk ?? 0), training.FilePath ?? validation?.FilePath);
}
