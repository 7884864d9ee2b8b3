using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Data;
using MlNet.Rnn.Models;

namespace MlNet.Rnn;

/// <summary>
/// Trains a recurrent network (RNN, LSTM or GRU) with a linear head for binary classification. The feature column is a
/// vector of Single holding T steps × <see cref="Options.FeaturesPerStep"/> features, step-major; the label is Boolean.
/// The loss is binary cross-entropy on the logit, <c>L = max(z, 0) − z·y + log(1 + e^−|z|)</c>, weighted per row,
/// minimised by Adam. Outputs, as ML.NET's own binary trainers: <c>Score</c> (the logit), <c>Probability</c>
/// (sigmoid of the score, through a fixed Platt calibrator) and <c>PredictedLabel</c> (<c>Score &gt; 0</c>).
/// Create it with <c>mlContext.BinaryClassification.Trainers.Lstm/Gru/Rnn</c>.
/// </summary>
public sealed class RecurrentBinaryTrainer :
    TrainerEstimatorBase<BinaryPredictionTransformer<CalibratedModelParametersBase<RecurrentModelParameters, PlattCalibrator>>,
        CalibratedModelParametersBase<RecurrentModelParameters, PlattCalibrator>>
{
    /// <summary>Options of <see cref="RecurrentBinaryTrainer"/>; the defaults are those of the simple catalog overloads.</summary>
    public sealed class Options
    {
        /// <summary>The Boolean label column.</summary>
        public string LabelColumnName { get; set; } = DefaultColumnNames.Label;

        /// <summary>The feature column: a vector of Single, T steps × <see cref="FeaturesPerStep"/>, step-major.</summary>
        public string FeatureColumnName { get; set; } = DefaultColumnNames.Features;

        /// <summary>An optional Single column of per-row weights; null for none.</summary>
        public string? ExampleWeightColumnName { get; set; }

        /// <summary>I: features per time step.</summary>
        public int FeaturesPerStep { get; set; } = 1;

        /// <summary>H: hidden units per layer and direction.</summary>
        public int HiddenSize { get; set; } = 64;

        /// <summary>L: stacked recurrent layers.</summary>
        public int NumberOfLayers { get; set; } = 1;

        /// <summary>Whether each layer also reads the sequence backwards (D = 2).</summary>
        public bool Bidirectional { get; set; }

        /// <summary>Passes over the training data.</summary>
        public int NumberOfEpochs { get; set; } = 10;

        /// <summary>B: sequences per optimisation step.</summary>
        public int BatchSize { get; set; } = 32;

        /// <summary>Adam's learning rate.</summary>
        public float LearningRate { get; set; } = 1e-3f;

        /// <summary>The activation of an Elman RNN cell (ignored by LSTM and GRU).</summary>
        public RnnActivation RnnActivation { get; set; } = RnnActivation.Tanh;

        /// <summary>Whether the initial hidden (and cell) state is learned rather than zeros.</summary>
        public bool LearnedInitialState { get; set; }

        /// <summary>Seed of initialisation and shuffling; null takes one from the <see cref="MLContext"/>'s seed.</summary>
        public int? Seed { get; set; }

        /// <summary>Threads a batch may be split across during training.</summary>
        public int MaxDegreeOfParallelism { get; set; } = Environment.ProcessorCount;

        /// <summary>Also receives the progress messages that go to <see cref="MLContext.Log"/>.</summary>
        public ILogger? Logger { get; set; }

        internal void Validate()
        {
            Check(!string.IsNullOrWhiteSpace(LabelColumnName), nameof(LabelColumnName), LabelColumnName, "must name a column");
            Check(!string.IsNullOrWhiteSpace(FeatureColumnName), nameof(FeatureColumnName), FeatureColumnName, "must name a column");
            Check(ExampleWeightColumnName is null || ExampleWeightColumnName.Trim().Length > 0, nameof(ExampleWeightColumnName),
                ExampleWeightColumnName, "must name a column, or be null for none");
            Check(FeaturesPerStep >= 1, nameof(FeaturesPerStep), FeaturesPerStep, "must be at least 1");
            Check(HiddenSize >= 1, nameof(HiddenSize), HiddenSize, "must be at least 1");
            Check(NumberOfLayers >= 1, nameof(NumberOfLayers), NumberOfLayers, "must be at least 1");
            Check(NumberOfEpochs >= 1, nameof(NumberOfEpochs), NumberOfEpochs, "must be at least 1");
            Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
            Check(LearningRate > 0 && float.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be a positive finite number (try 1e-3)");
            Check(Enum.IsDefined(RnnActivation), nameof(RnnActivation), RnnActivation, "must be Tanh, Relu or Sigmoid");
            Check(MaxDegreeOfParallelism >= 1, nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "must be at least 1");
        }

        private static void Check(bool valid, string name, object? value, string rule)
        {
            if (!valid)
                throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} = {value ?? "null"} {rule}."));
        }
    }

    internal const string LoadName = "RecurrentBinaryTrainer";

    private static readonly TrainerInfo _info = new(normalization: false, caching: false, supportValid: true);
    private readonly Options _options;
    private readonly RecurrentCellType _cell;

    internal RecurrentBinaryTrainer(IHostEnvironment env, RecurrentCellType cell, Options options)
        : base(Contracts.CheckRef(env, nameof(env)).Register(LoadName),
            TrainerUtils.MakeR4VecFeature(Validated(options).FeatureColumnName),
            TrainerUtils.MakeBoolScalarLabel(options.LabelColumnName),
            TrainerUtils.MakeR4ScalarWeightColumn(options.ExampleWeightColumnName))
    {
        _cell = cell;
        _options = options;
    }

    private static Options Validated(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }

    /// <summary>The cell this trainer trains.</summary>
    public RecurrentCellType Cell => _cell;

    /// <summary>The options this trainer was created with.</summary>
    public Options TrainerOptions => _options;

    /// <summary>Needs no normalisation or caching; accepts validation data.</summary>
    public override TrainerInfo Info => _info;

    /// <summary>Binary classification.</summary>
    protected override PredictionKind PredictionKind => PredictionKind.BinaryClassification;

    /// <summary>Trains on <paramref name="trainData"/>, reporting the loss on <paramref name="validationData"/> after every epoch.</summary>
    public BinaryPredictionTransformer<CalibratedModelParametersBase<RecurrentModelParameters, PlattCalibrator>> Fit(
        IDataView trainData, IDataView validationData) => TrainTransformer(trainData, validationData);

    /// <summary>Score, Probability and PredictedLabel, as ML.NET's own binary trainers.</summary>
    protected override SchemaShape.Column[] GetOutputColumnsCore(SchemaShape inputSchema) =>
    [
        new(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
            new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
        new(DefaultColumnNames.Probability, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
            new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation(true))),
        new(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, BooleanDataViewType.Instance, false,
            new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
    ];

    /// <summary>Wraps the trained model in ML.NET's binary prediction transformer.</summary>
    protected override BinaryPredictionTransformer<CalibratedModelParametersBase<RecurrentModelParameters, PlattCalibrator>> MakeTransformer(
        CalibratedModelParametersBase<RecurrentModelParameters, PlattCalibrator> model, DataViewSchema trainSchema) =>
        new(Host, model, trainSchema, FeatureColumn.Name);

    /// <summary>Reads the rows, trains the network with Adam on binary cross-entropy, and calibrates with sigmoid.</summary>
    protected override CalibratedModelParametersBase<RecurrentModelParameters, PlattCalibrator> TrainModelCore(TrainContext context)
    {
        Host.CheckValue(context, nameof(context));
        using var channel = Host.Start("Training");
        var train = context.TrainingSet;
        train.CheckBinaryLabel();
        train.CheckOptFloatWeight();
        var data = LabeledSequences.Read(train, _options.FeaturesPerStep);
        var validation = context.ValidationSet is null ? null : LabeledSequences.Read(context.ValidationSet, _options.FeaturesPerStep);
        Report(channel, $"{_cell}: read {data.Sequences.Count} training rows" +
            (data.SkippedMissingLabels > 0 ? $", skipped {data.SkippedMissingLabels} with a missing label" : "") +
            (data.SkippedBadWeights > 0 ? $", skipped {data.SkippedBadWeights} with a weight that is not positive and finite" : ""));
        if (data.Sequences.Count == 0)
            throw channel.Except($"No training rows left in '{train.Schema.Feature!.Value.Name}': every row had a missing label or a bad weight.");

        int seed = _options.Seed ?? Host.Rand.Next();
        var random = new Random(seed);
        var shape = new SequenceNetworkShape(_cell, _options.RnnActivation, _options.FeaturesPerStep, _options.HiddenSize,
            _options.NumberOfLayers, _options.Bidirectional, _options.LearnedInitialState, Outputs: 1);
        var network = new SequenceNetwork(shape, _options.MaxDegreeOfParallelism);
        network.Initialize(random);
        var adam = new Adam(network.Parameters, _options.LearningRate);

        int rows = data.Sequences.Count, B = Math.Min(_options.BatchSize, rows);
        int[] order = Enumerable.Range(0, rows).ToArray();
        var batch = new SequenceBatch();
        float[] logits = new float[B], logitGradient = new float[B];
        for (int epoch = 1; epoch <= _options.NumberOfEpochs; epoch++)
        {
            random.Shuffle(order);
            double lossSum = 0, weightSum = 0;
            for (int first = 0; first < rows; first += B)
            {
                var indices = order.AsSpan(first, Math.Min(B, rows - first));
                batch.Pack(data.Sequences, indices, shape.FeaturesPerStep);
                network.Forward(batch, logits, training: true);
                double batchWeight = 0;
                foreach (int index in indices) batchWeight += data.Weights[index];
                for (int b = 0; b < indices.Length; b++)
                {
                    // L = w (max(z, 0) − z y + log(1 + e^−|z|)); dL/dz = w (σ(z) − y) / Σw over the batch.
                    float z = logits[b], y = data.Labels[indices[b]], w = data.Weights[indices[b]];
                    lossSum += w * (Math.Max(z, 0) - z * y + Math.Log(1 + Math.Exp(-Math.Abs(z))));
                    logitGradient[b] = (float)(w * (1 / (1 + Math.Exp(-z)) - y) / batchWeight);
                }
                weightSum += batchWeight;
                network.Parameters.ZeroGradients();
                network.Backward(logits.AsSpan(0, indices.Length), logitGradient.AsSpan(0, indices.Length));
                adam.Step();
            }
            string validationText = validation is null ? "" : string.Create(CultureInfo.InvariantCulture, $", validation loss {Loss(network, validation, B):F5}");
            Report(channel, string.Create(CultureInfo.InvariantCulture,
                $"{_cell} epoch {epoch}/{_options.NumberOfEpochs}: training loss {lossSum / weightSum:F5}{validationText}"));
        }

        var model = new RecurrentModelParameters(Host, network);
        return new ValueMapperCalibratedModelParameters<RecurrentModelParameters, PlattCalibrator>(Host, model,
            new PlattCalibrator(Host, slope: -1, offset: 0)); // P = 1 / (1 + e^(−Score)) = sigmoid(Score)
    }

    /// <summary>Weighted mean binary cross-entropy of <paramref name="network"/> on <paramref name="data"/>.</summary>
    private static double Loss(SequenceNetwork network, LabeledSequences data, int batchSize)
    {
        var batch = new SequenceBatch();
        float[] logits = new float[batchSize];
        int[] indices = new int[batchSize];
        double lossSum = 0, weightSum = 0;
        for (int first = 0; first < data.Sequences.Count; first += batchSize)
        {
            int count = Math.Min(batchSize, data.Sequences.Count - first);
            for (int b = 0; b < count; b++) indices[b] = first + b;
            batch.Pack(data.Sequences, indices.AsSpan(0, count), network.Shape.FeaturesPerStep);
            network.Forward(batch, logits, training: false);
            for (int b = 0; b < count; b++)
            {
                float z = logits[b], y = data.Labels[first + b], w = data.Weights[first + b];
                lossSum += w * (Math.Max(z, 0) - z * y + Math.Log(1 + Math.Exp(-Math.Abs(z))));
                weightSum += w;
            }
        }
        return weightSum > 0 ? lossSum / weightSum : double.NaN;
    }

    private void Report(IChannel channel, string message)
    {
        channel.Info(message);
        _options.Logger?.LogInformation("{Message}", message);
    }
}
