using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;
using static MlNet.Rnn.Tests.Options.OptionProbe;

namespace MlNet.Rnn.Tests.Options;

/// <summary>A sequence with a tag per step (whether feature 0 of the step is positive) and the flipped tags.</summary>
public sealed class ProbeTagRow
{
    public float[] Features { get; set; } = [];
    public float[] Noise { get; set; } = [];
    public string[] Tags { get; set; } = [];
    public string[] Flipped { get; set; } = [];
    public float Weight { get; set; } = 1;
}

/// <summary>A digit sequence, its reversal and its reversal shifted by one digit.</summary>
public sealed class ProbePairRow
{
    public string[] Source { get; set; } = [];
    public string[] Reversed { get; set; } = [];
    public string[] Shifted { get; set; } = [];
}

/// <summary>A line of text and the same line reversed.</summary>
public sealed class ProbeTextRow
{
    public string Text { get; set; } = "";
    public string Reversed { get; set; } = "";
}

/// <summary>
/// Every option of every task's trainer acts through that trainer's own <c>Fit</c> (binary, multiclass, tagging,
/// sequence-to-sequence, language modeling): changed from its default, the fitted model differs (its weights, the rates or
/// epochs of its history, its outputs), or stays the same where the option is documented not to apply, or the trainer
/// rejects it where it is documented as unsupported. A trainer that dropped an option on its way to the core turns a case
/// red. The shared options' exact effects are in <see cref="SharedOptionsActTests"/>; this table proves each task passes
/// them on.
/// </summary>
public sealed class TaskOptionsActTests
{
    private static readonly MLContext s_mlContext = new(seed: 1);

    /// <summary>What a fit shows: every weight, the rate and loss of every epoch, and the outputs on the training rows.</summary>
    private sealed record Outcome(float[] Weights, float[] Rates, int Epochs, string[] Outputs, DataViewSchema Scored)
    {
        public string Fingerprint => $"{string.Join(',', Weights.Select(Tests.Fingerprint.Bits))}|{string.Join(',', Rates)}|{Epochs}";
    }

    /// <summary>One task: how to make its options, fit them, and which options it rejects or ignores by its documentation.</summary>
    private sealed class Task
    {
        public required string Name { get; init; }
        public required Func<RecurrentTrainerOptionsBase> Create { get; init; }
        /// <summary>Fits with the cell, on the training rows, validating on rows whose loss rises as training proceeds when asked.</summary>
        public required Func<RecurrentCellType, RecurrentTrainerOptionsBase, bool, Outcome> Fit { get; init; }
        /// <summary>An option value that names another label column, of other values.</summary>
        public required string OtherLabel { get; init; }
        /// <summary>An option value that names another feature column, of other values.</summary>
        public required string OtherFeatures { get; init; }
        /// <summary>A Single column of weights with zeros on some rows, or null when the task rejects weights.</summary>
        public string? Weights { get; init; }
        /// <summary>Options the trainer refuses, with what its message says (the option's name, or what it did to the data).</summary>
        public Dictionary<string, string> Fails { get; init; } = [];
        public HashSet<string> Ignored { get; init; } = [];
        /// <summary>Shared options the task's options class does not have at all (they cannot apply to it).</summary>
        public HashSet<string> Absent { get; init; } = [];
    }

    private static readonly Dictionary<string, Task> Tasks = new[] { Binary(), Multiclass(), Tagging(), SequenceToSequence(), LanguageModel() }
        .ToDictionary(task => task.Name);

    private static T Small<T>(T options) where T : RecurrentTrainerOptionsBase
    {
        options.HiddenSize = 4;
        options.EmbeddingSize = 4;
        options.NumberOfEpochs = 3;
        options.BatchSize = 8;
        options.LearningRate = 0.02f;
        options.Seed = 1;
        options.MaxDegreeOfParallelism = 1;
        options.EarlyStoppingPatience = 0;
        return options;
    }

    private static Outcome Observe(RecurrentPredictionTransformer model, IDataView data, string output) =>
        new(Weights(model), [.. model.Model.History!.Epochs.Select(e => e.LearningRate)], model.Model.History.Epochs.Count, Tests.Fingerprint.Of(model.Transform(data), output),
            model.Transform(data).Schema);

    private static Task Binary()
    {
        var rows = OptionProbe.Rows(24, seed: 2);
        for (int r = 0; r < rows.Length; r += 3) rows[r].Weight = 0;
        var data = ToDataView(s_mlContext, rows);
        var rising = ToDataView(s_mlContext, rows.Select(row => new ProbeRow { Label = !row.Label, Features = row.Features }));
        return new Task
        {
            Name = "Binary",
            Create = () => Small(new RecurrentBinaryTrainer.Options { FeaturesPerStep = 2 }),
            Fit = (cell, options, validate) =>
            {
                var trainer = CellTrainers.Binary(s_mlContext, cell, (RecurrentBinaryTrainer.Options)options);
                return Observe(validate ? trainer.Fit(data, rising) : trainer.Fit(data), data, "Score");
            },
            OtherLabel = nameof(ProbeRow.Flipped), OtherFeatures = nameof(ProbeRow.Noise), Weights = nameof(ProbeRow.Weight),
            // Numeric steps have no embedding, nor tokens to drop.
            Ignored = [nameof(RecurrentTrainerOptions.EmbeddingSize), nameof(RecurrentTrainerOptions.TokenDropout)],
        };
    }

    private static Task Multiclass()
    {
        var rows = OptionProbe.Rows(24, seed: 3);
        for (int r = 0; r < rows.Length; r += 3) rows[r].Weight = 0;
        var raw = s_mlContext.Data.LoadFromEnumerable(rows.Select(row => new MulticlassRow(row, Rotate(row.Class))));
        var keys = s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(MulticlassRow.Class))
            .Append(s_mlContext.Transforms.Conversion.MapValueToKey("Rotated", nameof(MulticlassRow.RotatedClass), keyData: s_mlContext.Data.LoadFromEnumerable(
                rows.Select(row => new { RotatedClass = row.Class })))).Fit(raw);
        var data = keys.Transform(raw);
        var rising = keys.Transform(s_mlContext.Data.LoadFromEnumerable(rows.Select(row => new MulticlassRow(row, row.Class) { Class = Rotate(row.Class) })));
        return new Task
        {
            Name = "Multiclass",
            Create = () => Small(new RecurrentMulticlassTrainer.Options { FeaturesPerStep = 2 }),
            Fit = (cell, options, validate) =>
            {
                var trainer = CellTrainers.Multiclass(s_mlContext, cell, (RecurrentMulticlassTrainer.Options)options);
                return Observe(validate ? trainer.Fit(data, rising) : trainer.Fit(data), data, "Score");
            },
            OtherLabel = "Rotated", OtherFeatures = nameof(ProbeRow.Noise), Weights = nameof(ProbeRow.Weight),
            Ignored = [nameof(RecurrentTrainerOptions.EmbeddingSize), nameof(RecurrentTrainerOptions.TokenDropout)],
        };
    }

    private static string Rotate(string c) => c switch { "a" => "b", "b" => "c", _ => "a" };

    /// <summary>A multiclass probe row with the class rotated (a → b → c → a) as another label.</summary>
    private sealed class MulticlassRow(ProbeRow row, string rotated)
    {
        public string Class { get; set; } = row.Class;
        public string RotatedClass { get; set; } = rotated;
        public float Weight { get; set; } = row.Weight;
        public float[] Features { get; set; } = row.Features;
        public float[] Noise { get; set; } = row.Noise;
    }

    private static Task Tagging()
    {
        var rows = OptionProbe.Rows(24, seed: 4).Select((row, r) =>
        {
            var tags = Enumerable.Range(0, row.Features.Length / 2).Select(t => row.Features[2 * t] > 0 ? "up" : "down").ToArray();
            return new ProbeTagRow
            {
                Features = row.Features, Noise = row.Noise, Tags = tags, Flipped = [.. tags.Select(tag => tag == "up" ? "down" : "up")], Weight = r % 3 == 0 ? 0 : 1,
            };
        }).ToArray();
        var raw = s_mlContext.Data.LoadFromEnumerable(rows);
        var keys = s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ProbeTagRow.Tags))
            .Append(s_mlContext.Transforms.Conversion.MapValueToKey("FlippedLabel", nameof(ProbeTagRow.Flipped), keyData: s_mlContext.Data.LoadFromEnumerable(
                rows.SelectMany(row => row.Tags).Select(tag => new { Flipped = tag })))).Fit(raw);
        var data = keys.Transform(raw);
        var rising = keys.Transform(s_mlContext.Data.LoadFromEnumerable(rows.Select(row => new ProbeTagRow { Features = row.Features, Tags = row.Flipped, Flipped = row.Tags })));
        return new Task
        {
            Name = "Tagging",
            Create = () => Small(new SequenceTaggingTrainer.Options { FeaturesPerStep = 2 }),
            Fit = (cell, options, validate) =>
            {
                var tagging = s_mlContext.SequenceTagging.Trainers;
                var o = (SequenceTaggingTrainer.Options)options;
                var trainer = cell switch { RecurrentCellType.Lstm => tagging.Lstm(o), RecurrentCellType.Gru => tagging.Gru(o), _ => tagging.Rnn(o) };
                return Observe(validate ? trainer.Fit(data, rising) : trainer.Fit(data), data, "Score");
            },
            OtherLabel = "FlippedLabel", OtherFeatures = nameof(ProbeTagRow.Noise), Weights = nameof(ProbeTagRow.Weight),
            Fails = new()
            {
                // One feature per step reads every row as twice the steps, which its tags no longer match.
                [nameof(RecurrentTrainerOptions.FeaturesPerStep)] = "12 steps",
            },
            // The tagger reads every step, whatever a many-to-one head would read.
            Ignored = [nameof(RecurrentTrainerOptions.EmbeddingSize), nameof(RecurrentTrainerOptions.TokenDropout), nameof(RecurrentTrainerOptions.Readout)],
        };
    }

    private static Task SequenceToSequence()
    {
        var random = new Random(5);
        var rows = Enumerable.Range(0, 24).Select(_ =>
        {
            var digits = Enumerable.Range(0, random.Next(2, 6)).Select(_ => random.Next(6)).ToArray();
            return new ProbePairRow
            {
                Source = [.. digits.Select(d => d.ToString())],
                Reversed = [.. Enumerable.Reverse(digits).Select(d => d.ToString())],
                Shifted = [.. Enumerable.Reverse(digits).Select(d => ((d + 1) % 6).ToString())],
            };
        }).ToArray();
        var raw = s_mlContext.Data.LoadFromEnumerable(rows);
        var keys = s_mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(ProbePairRow.Source))
            .Append(s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ProbePairRow.Reversed), keyData: s_mlContext.Data.LoadFromEnumerable(
                "0 1 2 3 4 5 X".Split(' ').Select(token => new { Reversed = token }))))
            .Append(s_mlContext.Transforms.Conversion.MapValueToKey("ShiftedLabel", nameof(ProbePairRow.Shifted), keyData: s_mlContext.Data.LoadFromEnumerable(
                "0 1 2 3 4 5 X".Split(' ').Select(token => new { Shifted = token }))))
            .Append(s_mlContext.Transforms.Conversion.MapValueToKey("ShiftedFeatures", nameof(ProbePairRow.Shifted), keyData: s_mlContext.Data.LoadFromEnumerable(
                rows.SelectMany(row => row.Source).Select(token => new { Shifted = token })))).Fit(raw);
        var data = keys.Transform(raw);
        // Validation targets of a token no training target holds: as training lowers its probability, the validation loss rises.
        var rising = keys.Transform(s_mlContext.Data.LoadFromEnumerable(rows.Select(row => new ProbePairRow
        {
            Source = row.Source, Reversed = [.. row.Reversed.Select(_ => "X")], Shifted = row.Shifted,
        })));
        return new Task
        {
            Name = "SequenceToSequence",
            Create = () => Small(new SequenceToSequenceTrainer.Options { MaximumOutputLength = 8 }),
            Fit = (cell, options, validate) =>
            {
                var trainers = s_mlContext.SequenceToSequence.Trainers;
                var o = (SequenceToSequenceTrainer.Options)options;
                var trainer = cell switch { RecurrentCellType.Lstm => trainers.Lstm(o), RecurrentCellType.Gru => trainers.Gru(o), _ => trainers.Rnn(o) };
                var model = validate ? trainer.Fit(data, rising) : trainer.Fit(data);
                return new Outcome(Flat(Tensors(stream => SequenceToSequenceModelFile.Save(model.Model, stream))),
                    [.. model.History!.Epochs.Select(e => e.LearningRate)], model.History.Epochs.Count, SequenceTaggingKeys(model.Transform(data), o.PredictedLabelColumnName),
                    model.Transform(data).Schema);
            },
            OtherLabel = "ShiftedLabel", OtherFeatures = "ShiftedFeatures",
            Absent =
            [
                nameof(RecurrentTrainerOptions.ExampleWeightColumnName), nameof(RecurrentTrainerOptions.HiddenStateColumnName),
                nameof(RecurrentTrainerOptions.FeaturesPerStep), nameof(RecurrentTrainerOptions.RecurrentDropout),
                nameof(RecurrentTrainerOptions.LearnedInitialState), nameof(RecurrentTrainerOptions.TruncatedBpttSteps),
                nameof(RecurrentTrainerOptions.MaxBatchMemoryMegabytes), nameof(RecurrentTrainerOptions.Standardize),
                nameof(RecurrentTrainerOptions.TokenDropout), nameof(RecurrentTrainerOptions.Readout),
            ],
        };
    }

    /// <summary>Options refused by a message that names them.</summary>
    private static Dictionary<string, string> Named(params string[] options) => options.ToDictionary(option => option);

    private static string[] SequenceTaggingKeys(IDataView data, string name) =>
        [.. data.GetColumn<VBuffer<uint>>(data.Schema[name]).Select(v => string.Join(',', v.DenseValues()))];

    private static Task LanguageModel()
    {
        var random = new Random(6);
        var rows = Enumerable.Range(0, 24).Select(_ =>
        {
            string text = string.Concat(Enumerable.Range(0, random.Next(2, 5)).Select(_ => "abcd"[random.Next(2)] == 'a' ? "abc " : "bad "));
            return new ProbeTextRow { Text = text, Reversed = new string([.. text.Reverse()]) };
        }).ToArray();
        var data = s_mlContext.Data.LoadFromEnumerable(rows);
        var rising = s_mlContext.Data.LoadFromEnumerable(rows.Select(row => new ProbeTextRow { Text = row.Reversed }));
        return new Task
        {
            Name = "LanguageModel",
            Create = () =>
            {
                var options = Small(new LanguageModelTrainer.Options { ChunkSteps = 6 });
                options.BatchSize = 4; // 4 streams of the short text
                options.LearningRate = 0.02f;
                return options;
            },
            Fit = (cell, options, validate) =>
            {
                var trainers = s_mlContext.LanguageModeling.Trainers;
                var o = (LanguageModelTrainer.Options)options;
                var trainer = cell switch { RecurrentCellType.Lstm => trainers.Lstm(o), RecurrentCellType.Gru => trainers.Gru(o), _ => trainers.Rnn(o) };
                var model = validate ? trainer.Fit(data, rising) : trainer.Fit(data);
                return new Outcome(Flat(Tensors(model.Model.Save)), [.. model.History!.Epochs.Select(e => e.LearningRate)], model.History.Epochs.Count,
                    Tests.Fingerprint.Of(model.Transform(data), LanguageModelTransformer.LogLikelihoodColumnName), model.Transform(data).Schema);
            },
            OtherLabel = "Anything", OtherFeatures = nameof(ProbeTextRow.Reversed),
            Absent =
            [
                nameof(RecurrentTrainerOptions.LabelColumnName), nameof(RecurrentTrainerOptions.ExampleWeightColumnName),
                nameof(RecurrentTrainerOptions.HiddenStateColumnName), nameof(RecurrentTrainerOptions.FeaturesPerStep),
                nameof(RecurrentTrainerOptions.Bidirectional), nameof(RecurrentTrainerOptions.RecurrentDropout),
                nameof(RecurrentTrainerOptions.TruncatedBpttSteps), nameof(RecurrentTrainerOptions.MaxBatchMemoryMegabytes),
                nameof(RecurrentTrainerOptions.Standardize), nameof(RecurrentTrainerOptions.TokenDropout), nameof(RecurrentTrainerOptions.Readout),
            ],
            // The text is read as streams (BatchSize of them, at a random offset when shuffling), all of one length: no bucketing.
            // Trains DefaultEpochs when NumberOfEpochs is null: it holds no rows out.
            Ignored = [nameof(RecurrentTrainerOptions.BucketByLength), nameof(RecurrentTrainerOptions.ValidationFraction)],
        };
    }

    /// <summary>
    /// A language model's text over <see cref="RecurrentTrainerOptionsBase.TrainingDataMemoryMegabytes"/>: its ids go to a
    /// temporary file, read back a chunk per stream, gone when Fit returns. The ids come back in the order
    /// they have in memory, so the fit is the in-memory fit, bit for bit. (The task table's 24 rows stay in memory.)
    /// </summary>
    [Fact]
    public void TheLanguageModelOverTrainingDataMemoryMegabytes_ReadsItsIdsFromAFile_AndFitsTheModelItFitsInMemory()
    {
        // 2,400 rows of 120 characters: 292,800 ids with each row's start and end, 1.1 MB, over a 1 MB limit.
        var random = new Random(7);
        var rows = Enumerable.Range(0, 2400).Select(_ => new ProbeTextRow { Text = new string([.. Enumerable.Range(0, 120).Select(_ => "ab c"[random.Next(4)])]) }).ToArray();
        var data = s_mlContext.Data.LoadFromEnumerable(rows);
        var validation = s_mlContext.Data.LoadFromEnumerable(rows[..40]);
        static LanguageModelTrainer.Options Options()
        {
            var options = Small(new LanguageModelTrainer.Options { ChunkSteps = 32, ValidationStreams = 4 });
            options.NumberOfEpochs = 1;
            options.BatchSize = 64;
            return options;
        }
        var inMemory = s_mlContext.LanguageModeling.Trainers.Lstm(Options()).Fit(data, validation);
        var logger = new RecordingLogger();
        var limited = Options();
        limited.TrainingDataMemoryMegabytes = 1;
        limited.Logger = logger;
        var streamed = s_mlContext.LanguageModeling.Trainers.Lstm(limited).Fit(data, validation);

        string start = Assert.Single(logger.Lines.Select(line => line.Message), m => m.Contains("over TrainingDataMemoryMegabytes"));
        Assert.Contains("2400 training rows, 40 validation rows", start);
        Assert.Contains("read a chunk at a time from 1 MB in /", start);
        string path = SpillFile.PathIn([start]);
        Assert.StartsWith(Path.Combine(Path.GetTempPath(), "mlnet-rnn-tokens-"), path);
        Assert.EndsWith(".bin", path);
        SpillFile.AssertGone(path);
        Assert.Equal(Flat(Tensors(inMemory.Model.Save)), Flat(Tensors(streamed.Model.Save)));
        var epoch = Assert.Single(streamed.History!.Epochs);
        Assert.Equal((inMemory.History!.Epochs[0].TrainingLoss, inMemory.History.Epochs[0].ValidationMetric), (epoch.TrainingLoss, epoch.ValidationMetric));
    }

    /// <summary>
    /// One case per shared option: what it needs set in both fits (<c>Prepare</c>), the change, whether it needs validation data,
    /// and the cell (an RNN for the activation, which LSTM and GRU do not have).
    /// </summary>
    private sealed record Case(Action<RecurrentTrainerOptionsBase, Task>? Prepare, Action<RecurrentTrainerOptionsBase, Task> Change, bool Validate = false,
        RecurrentCellType Cell = RecurrentCellType.Lstm);

    /// <summary>Sets an option some tasks' options do not have (a task without it is listed in <see cref="Task.Absent"/>).</summary>
    private static Action<RecurrentTrainerOptionsBase, Task> Set(string name, Func<RecurrentTrainerOptionsBase, Task, object?> value) =>
        (o, t) => o.GetType().GetProperty(name)!.SetValue(o, value(o, t));

    private static object? Get(RecurrentTrainerOptionsBase o, string name) => o.GetType().GetProperty(name)!.GetValue(o);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        [nameof(RecurrentTrainerOptions.LabelColumnName)] = new(null, Set(nameof(RecurrentTrainerOptions.LabelColumnName), (_, t) => t.OtherLabel)),
        [nameof(RecurrentTrainerOptions.FeatureColumnName)] = new(null, (o, t) => o.FeatureColumnName = t.OtherFeatures),
        [nameof(RecurrentTrainerOptions.ExampleWeightColumnName)] = new(null, Set(nameof(RecurrentTrainerOptions.ExampleWeightColumnName), (_, t) => t.Weights ?? "Weight")),
        [nameof(RecurrentTrainerOptions.FeaturesPerStep)] = new(null,
            Set(nameof(RecurrentTrainerOptions.FeaturesPerStep), (o, _) => (int)Get(o, nameof(RecurrentTrainerOptions.FeaturesPerStep))! == 2 ? 1 : 2)),
        [nameof(RecurrentTrainerOptions.HiddenSize)] = new(null, (o, _) => o.HiddenSize = 3),
        [nameof(RecurrentTrainerOptions.NumberOfLayers)] = new(null, (o, _) => o.NumberOfLayers = 2),
        [nameof(RecurrentTrainerOptions.Bidirectional)] = new(null,
            Set(nameof(RecurrentTrainerOptions.Bidirectional), (o, _) => !(bool)Get(o, nameof(RecurrentTrainerOptions.Bidirectional))!)),
        [nameof(RecurrentTrainerOptions.NumberOfEpochs)] = new(null, (o, _) => o.NumberOfEpochs = 2),
        [nameof(RecurrentTrainerOptions.BatchSize)] = new(null, (o, _) => o.BatchSize = 16),
        [nameof(RecurrentTrainerOptions.LearningRate)] = new(null, (o, _) => o.LearningRate = 0.005f),
        [nameof(RecurrentTrainerOptions.RnnActivation)] = new(null, (o, _) => o.RnnActivation = RnnActivation.Relu, Cell: RecurrentCellType.Rnn),
        [nameof(RecurrentTrainerOptions.EmbeddingSize)] = new(null, (o, _) => o.EmbeddingSize = 3),
        // Two layers: the sequence-to-sequence model drops out between stacked layers only.
        [nameof(RecurrentTrainerOptions.Dropout)] = new((o, _) => o.NumberOfLayers = 2, (o, _) => o.Dropout = 0.3f),
        [nameof(RecurrentTrainerOptions.RecurrentDropout)] = new(null, Set(nameof(RecurrentTrainerOptions.RecurrentDropout), (_, _) => 0.3f)),
        [nameof(RecurrentTrainerOptions.TokenDropout)] = new(null, Set(nameof(RecurrentTrainerOptions.TokenDropout), (_, _) => 0.3f)),
        [nameof(RecurrentTrainerOptions.LearnedInitialState)] = new(null, Set(nameof(RecurrentTrainerOptions.LearnedInitialState), (_, _) => true)),
        // The classifiers read the mean over the steps unless told otherwise (the tagger every step).
        [nameof(RecurrentTrainerOptions.Readout)] = new(null, Set(nameof(RecurrentTrainerOptions.Readout), (_, _) => SequenceReadout.LastStep)),
        [nameof(RecurrentTrainerOptions.Optimizer)] = new(null, (o, _) => o.Optimizer = OptimizerKind.RmsProp),
        [nameof(RecurrentTrainerOptions.Momentum)] = new((o, _) => o.Optimizer = OptimizerKind.Sgd, (o, _) => o.Momentum = 0.9f),
        [nameof(RecurrentTrainerOptions.Nesterov)] = new((o, _) => { o.Optimizer = OptimizerKind.Sgd; o.Momentum = 0.9f; }, (o, _) => o.Nesterov = true),
        [nameof(RecurrentTrainerOptions.WeightDecay)] = new(null, (o, _) => o.WeightDecay = 0.5f),
        [nameof(RecurrentTrainerOptions.Beta1)] = new(null, (o, _) => o.Beta1 = 0.5f),
        [nameof(RecurrentTrainerOptions.Beta2)] = new(null, (o, _) => o.Beta2 = 0.9f),
        [nameof(RecurrentTrainerOptions.GradientClipNorm)] = new(null, (o, _) => o.GradientClipNorm = 1e-3f),
        [nameof(RecurrentTrainerOptions.GradientClipValue)] = new((o, _) => o.Optimizer = OptimizerKind.Sgd, (o, _) => o.GradientClipValue = 1e-4f),
        [nameof(RecurrentTrainerOptions.Schedule)] = new(null, (o, _) => o.Schedule = ScheduleKind.Cosine),
        [nameof(RecurrentTrainerOptions.StepDecayEpochs)] = new((o, _) => o.Schedule = ScheduleKind.StepDecay, (o, _) => o.StepDecayEpochs = 1),
        [nameof(RecurrentTrainerOptions.StepDecayGamma)] = new((o, _) => { o.Schedule = ScheduleKind.StepDecay; o.StepDecayEpochs = 1; }, (o, _) => o.StepDecayGamma = 0.5f),
        [nameof(RecurrentTrainerOptions.WarmupSteps)] = new((o, _) => o.Schedule = ScheduleKind.Cosine, (o, _) => o.WarmupSteps = 3),
        [nameof(RecurrentTrainerOptions.MinimumLearningRate)] = new((o, _) => o.Schedule = ScheduleKind.Cosine, (o, _) => o.MinimumLearningRate = 0.01f),
        [nameof(RecurrentTrainerOptions.ReduceOnPlateau)] = new((o, _) => o.PlateauPatience = 0, (o, _) => o.ReduceOnPlateau = true, Validate: true),
        [nameof(RecurrentTrainerOptions.PlateauFactor)] = new((o, _) => { o.ReduceOnPlateau = true; o.PlateauPatience = 0; }, (o, _) => o.PlateauFactor = 0.1f, Validate: true),
        [nameof(RecurrentTrainerOptions.PlateauPatience)] = new((o, _) => o.ReduceOnPlateau = true, (o, _) => o.PlateauPatience = 0, Validate: true),
        [nameof(RecurrentTrainerOptions.EarlyStoppingPatience)] = new((o, _) => o.NumberOfEpochs = 6, (o, _) => o.EarlyStoppingPatience = 1, Validate: true),
        // Off, the numeric features train as given (the token tasks have no such option).
        [nameof(RecurrentTrainerOptions.Standardize)] = new(null, Set(nameof(RecurrentTrainerOptions.Standardize), (_, _) => false)),
        // With NumberOfEpochs null and no validation data, another share of the rows held out trains and stops otherwise.
        [nameof(RecurrentTrainerOptions.ValidationFraction)] = new((o, _) => o.NumberOfEpochs = null, (o, _) => o.ValidationFraction = 0.3f),
        // Truncation needs a unidirectional network (the default is bidirectional; SharedOptionsActTests checks the refusal).
        [nameof(RecurrentTrainerOptions.TruncatedBpttSteps)] = new(Set(nameof(RecurrentTrainerOptions.Bidirectional), (_, _) => false),
            Set(nameof(RecurrentTrainerOptions.TruncatedBpttSteps), (_, _) => 2)),
        [nameof(RecurrentTrainerOptions.Shuffle)] = new(null, (o, _) => o.Shuffle = false),
        [nameof(RecurrentTrainerOptions.BucketByLength)] = new(null, (o, _) => o.BucketByLength = false),
        [nameof(RecurrentTrainerOptions.Seed)] = new(null, (o, _) => o.Seed = 2),
        // A budget of one tick has run out after the first step, on any machine.
        [nameof(RecurrentTrainerOptions.MaxTrainingTime)] = new(null, (o, _) => o.MaxTrainingTime = TimeSpan.FromTicks(1)),
        // A clock that leaps an hour at every reading ends a budget of a minute after the first step.
        [nameof(RecurrentTrainerOptions.TimeProvider)] = new((o, _) => o.MaxTrainingTime = TimeSpan.FromMinutes(1), (o, _) => o.TimeProvider = new LeapingClock()),
    };

    /// <summary>A clock that moves an hour every time it is read.</summary>
    private sealed class LeapingClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref _ticks, TimeSpan.TicksPerHour);
    }

    /// <summary>Options whose effect is not on the weights; each has its own check below.</summary>
    private static readonly string[] NotOnTheWeights =
    [
        nameof(RecurrentTrainerOptions.CheckpointEvery), nameof(RecurrentTrainerOptions.CheckpointPath), nameof(RecurrentTrainerOptions.MaxDegreeOfParallelism),
        nameof(RecurrentTrainerOptions.Logger), nameof(RecurrentTrainerOptions.HiddenStateColumnName), nameof(RecurrentTrainerOptions.ScoringBatchSize),
        nameof(RecurrentTrainerOptions.MaxBatchMemoryMegabytes), nameof(RecurrentTrainerOptions.TrainingDataMemoryMegabytes),
        nameof(RecurrentTrainerOptions.CancellationToken),
    ];

    public static TheoryData<string, string> TaskOptions()
    {
        var data = new TheoryData<string, string>();
        foreach (string task in Tasks.Keys)
            foreach (string option in Cases.Keys) data.Add(task, option);
        return data;
    }

    [Theory]
    [MemberData(nameof(TaskOptions))]
    public void TheOptionChangesTheFittedModelOrIsRejectedOrIgnoredAsDocumented(string taskName, string option)
    {
        var task = Tasks[taskName];
        var @case = Cases[option];
        if (task.Create().GetType().GetProperty(option) is null)
        {
            Assert.Contains(option, task.Absent);
            return;
        }
        Assert.DoesNotContain(option, task.Absent);
        var before = task.Create();
        @case.Prepare?.Invoke(before, task);
        var after = task.Create();
        @case.Prepare?.Invoke(after, task);
        @case.Change(after, task);

        if (task.Fails.TryGetValue(option, out string? message))
        {
            var error = Assert.ThrowsAny<Exception>(() => task.Fit(@case.Cell, after, @case.Validate));
            Assert.Contains(message, error.Message);
            return;
        }
        var expected = @case.Prepare is null ? Default(task, @case.Cell, @case.Validate) : task.Fit(@case.Cell, before, @case.Validate);
        var actual = task.Fit(@case.Cell, after, @case.Validate);
        if (task.Ignored.Contains(option)) Assert.Equal(expected.Fingerprint, actual.Fingerprint);
        else Assert.True(expected.Fingerprint != actual.Fingerprint, $"{taskName}: {option} changed nothing");
    }

    private static readonly Dictionary<(string, RecurrentCellType, bool), Outcome> s_defaults = [];

    /// <summary>The fit with the task's default options, once per cell and validation.</summary>
    private static Outcome Default(Task task, RecurrentCellType cell, bool validate)
    {
        lock (s_defaults)
        {
            if (!s_defaults.TryGetValue((task.Name, cell, validate), out var outcome))
                s_defaults[(task.Name, cell, validate)] = outcome = task.Fit(cell, task.Create(), validate);
            return outcome;
        }
    }

    public static TheoryData<string, string> TaskSideOptions()
    {
        var data = new TheoryData<string, string>();
        foreach (string task in Tasks.Keys)
            foreach (string option in NotOnTheWeights.Where(o => o != nameof(RecurrentTrainerOptions.CheckpointPath))) data.Add(task, option);
        return data;
    }

    /// <summary>
    /// The options that act beside the weights: the hidden-state column appears (D·H wide; the tagger's T·D·H, variable), a
    /// checkpoint file is written, the logger hears every epoch, a memory limit below what a batch of a wide network needs stops
    /// the fit naming the limit, a cancelled token stops it; threads, the scoring batch and a data memory limit the rows fit in
    /// change nothing. Where a trainer refuses one, it says so.
    /// </summary>
    [Theory]
    [MemberData(nameof(TaskSideOptions))]
    public void TheOptionActsBesideTheWeightsOrIsRejectedAsDocumented(string taskName, string option)
    {
        var task = Tasks[taskName];
        var options = task.Create();
        if (options.GetType().GetProperty(option) is null)
        {
            Assert.Contains(option, task.Absent);
            return;
        }
        string folder = Directory.CreateTempSubdirectory("mlnet-rnn-task-options-").FullName;
        try
        {
            string path = Path.Combine(folder, "checkpoint.safetensors");
            var logger = new RecordingLogger();
            Action change = option switch
            {
                nameof(RecurrentTrainerOptions.HiddenStateColumnName) => () => Set(option, (_, _) => "Hidden")(options, task),
                nameof(RecurrentTrainerOptions.CheckpointEvery) => () => { options.CheckpointEvery = 1; options.CheckpointPath = path; },
                nameof(RecurrentTrainerOptions.Logger) => () => options.Logger = logger,
                nameof(RecurrentTrainerOptions.MaxDegreeOfParallelism) => () => options.MaxDegreeOfParallelism = 2,
                // A batch of 600 hidden units needs several megabytes of activations.
                nameof(RecurrentTrainerOptions.MaxBatchMemoryMegabytes) => () => { Set(option, (_, _) => 1)(options, task); options.HiddenSize = 600; },
                nameof(RecurrentTrainerOptions.CancellationToken) => () => options.CancellationToken = new CancellationToken(canceled: true),
                // The probe rows fit in a megabyte: they stay in memory and train as before (SharedOptionsActTests spills, and
                // SequenceToSequence_OverTrainingDataMemoryMegabytes_ReadsThePairsFromATemporaryFileAndStillLearns for pairs).
                nameof(RecurrentTrainerOptions.TrainingDataMemoryMegabytes) => () => Set(option, (_, _) => 1)(options, task),
                _ => () => options.ScoringBatchSize = 1,
            };
            var expected = Default(task, RecurrentCellType.Lstm, validate: false);
            change();
            if (task.Fails.TryGetValue(option, out string? message))
            {
                Assert.Contains(message, Assert.ThrowsAny<Exception>(() => task.Fit(RecurrentCellType.Lstm, options, false)).Message);
                return;
            }
            if (option == nameof(RecurrentTrainerOptions.CancellationToken))
            {
                // Every task's Fit passes the token on; CancellationTests stops a running fit.
                Assert.Contains("Fit was cancelled (the options' CancellationToken)",
                    Assert.Throws<OperationCanceledException>(() => task.Fit(RecurrentCellType.Lstm, options, false)).Message);
                return;
            }
            if (option == nameof(RecurrentTrainerOptions.MaxBatchMemoryMegabytes))
            {
                Assert.Contains("more than the limit of 1 MB (MaxBatchMemoryMegabytes)",
                    Assert.Throws<InvalidOperationException>(() => task.Fit(RecurrentCellType.Lstm, options, false)).Message);
                return;
            }
            var actual = task.Fit(RecurrentCellType.Lstm, options, false);
            switch (option)
            {
                case nameof(RecurrentTrainerOptions.HiddenStateColumnName):
                    // The features the head reads: the final state [D·H] (here D = 2, the default), or the tagger's every step, T·D·H.
                    Assert.Equal(options is SequenceTaggingTrainer.Options ? new VectorDataViewType(NumberDataViewType.Single)
                        : new VectorDataViewType(NumberDataViewType.Single, 2 * options.HiddenSize), actual.Scored["Hidden"].Type);
                    Assert.Null(expected.Scored.GetColumnOrNull("Hidden"));
                    break;
                case nameof(RecurrentTrainerOptions.CheckpointEvery):
                    Assert.True(File.Exists(path), "no checkpoint was written");
                    break;
                case nameof(RecurrentTrainerOptions.Logger):
                    Assert.Equal(Enumerable.Range(1, options.NumberOfEpochs!.Value).Select(e => $"Epoch {e}:"),
                        logger.Lines.Select(line => line.Message).Where(m => m.StartsWith("Epoch ", StringComparison.Ordinal)).Select(m => m[..(m.IndexOf(':') + 1)]));
                    break;
                default:
                    Assert.Equal(expected.Fingerprint, actual.Fingerprint);
                    Assert.Equal(expected.Outputs, actual.Outputs);
                    break;
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The sequence-to-sequence trainer over <see cref="RecurrentTrainerOptionsBase.TrainingDataMemoryMegabytes"/> (the probe rows
    /// above stay under it and train as before): 4,500 pairs of 30 digits and the successor of the last one, over 1 MB held as
    /// pairs, are read back a part at a time from a temporary file that is gone when Fit returns, and the model still learns.
    /// </summary>
    [Fact]
    public void SequenceToSequence_OverTrainingDataMemoryMegabytes_ReadsThePairsFromATemporaryFileAndStillLearns()
    {
        var random = new Random(7);
        ProbePairRow Row()
        {
            int[] digits = [.. Enumerable.Range(0, 30).Select(_ => random.Next(6))];
            return new ProbePairRow { Source = [.. digits.Select(d => d.ToString())], Reversed = [((digits[^1] + 1) % 6).ToString()] };
        }
        var rows = Enumerable.Range(0, 4_500).Select(_ => Row()).ToArray();
        var held = Enumerable.Range(0, 200).Select(_ => Row()).ToArray();
        var raw = s_mlContext.Data.LoadFromEnumerable(rows);
        var keys = s_mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(ProbePairRow.Source))
            .Append(s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ProbePairRow.Reversed))).Fit(raw);
        var options = Small(new SequenceToSequenceTrainer.Options { MaximumOutputLength = 8 });
        options.HiddenSize = 16;
        options.EmbeddingSize = 8;
        options.BatchSize = 64;
        options.NumberOfEpochs = 1;
        var logger = new RecordingLogger();
        options.Logger = logger;
        options.TrainingDataMemoryMegabytes = 1;
        var model = s_mlContext.SequenceToSequence.Trainers.Lstm(options).Fit(keys.Transform(raw));

        string start = Assert.Single(logger.Lines.Select(line => line.Message), m => m.Contains("over TrainingDataMemoryMegabytes"));
        Assert.Contains($"{rows.Length} training pairs", start);
        SpillFile.AssertGone(SpillFile.PathIn([start]));
        // Predicting the most frequent target digit is the baseline.
        double baseline = held.SelectMany(row => row.Reversed).GroupBy(digit => digit).Max(group => group.Count()) / (double)held.Sum(row => row.Reversed.Length);
        var metrics = s_mlContext.SequenceToSequence.Evaluate(model.Transform(keys.Transform(s_mlContext.Data.LoadFromEnumerable(held))));
        Assert.True(metrics.TokenAccuracy > baseline + 0.5, $"held-out token accuracy {metrics.TokenAccuracy:F3}, the most frequent digit's rate {baseline:F3}");
    }

    [Fact]
    public void EveryOptionOfEveryTaskIsInTheTable()
    {
        var shared = typeof(RecurrentTrainerOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name);
        Assert.Empty(shared.Except(Cases.Keys).Except(NotOnTheWeights));
        Assert.All(Tasks.Values, task => Assert.Empty(task.Fails.Keys.Concat(task.Ignored).Except(shared)));
    }
}
