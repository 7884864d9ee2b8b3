using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Training;
using MlNet.Rnn.Tests.Persistence;

namespace MlNet.Rnn.Tests.SequenceToSequence;

/// <summary>A digit string and its digits reversed, one token per digit.</summary>
public sealed class DigitPair
{
    public string Source { get; set; } = "";
    public string[] Target { get; set; } = [];
}

/// <summary>What the pipeline predicts, the keys back as tokens.</summary>
public sealed class DigitPrediction
{
    public string[] PredictedTarget { get; set; } = [];
}

/// <summary>A lower-case word and its upper-case form; both become character keys (UInt16).</summary>
public sealed class WordPair
{
    public string Word { get; set; } = "";
    public string Upper { get; set; } = "";
}

/// <summary>The predicted upper-case characters.</summary>
public sealed class UpperPrediction
{
    public ReadOnlyMemory<char>[] PredictedUpper { get; set; } = [];
}

/// <summary>A pair whose label is left as text (not a key vector).</summary>
public sealed class TextLabelPair
{
    public string Source { get; set; } = "";
    public string[] Label { get; set; } = [];
}

/// <summary>One model trained for the tests that score with it (training is the slow part).</summary>
public sealed class ReversalModel
{
    public ReversalModel()
    {
        MLContext = new MLContext(seed: 1);
        MLContext.Log += (_, e) => { lock (Messages) Messages.Add(e.Message); };
        TrainRows = SequenceToSequenceTests.Pairs(800, seed: 1);
        TestRows = SequenceToSequenceTests.Pairs(150, seed: 2);
        Train = MLContext.Data.LoadFromEnumerable(TrainRows);
        Test = MLContext.Data.LoadFromEnumerable(TestRows);
        var options = SequenceToSequenceTests.SmallOptions();
        options.Logger = Logger;
        Trainer = MLContext.SequenceToSequence.Trainers.Lstm(options);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Model = SequenceToSequenceTests.Pipeline(MLContext, Trainer).Fit(Train);
        TrainingTime = clock.Elapsed;
    }

    public MLContext MLContext { get; }
    public List<string> Messages { get; } = [];
    public RecordingLogger Logger { get; } = new();
    public DigitPair[] TrainRows { get; }
    public DigitPair[] TestRows { get; }
    public IDataView Train { get; }
    public IDataView Test { get; }
    public SequenceToSequenceTrainer Trainer { get; }
    public ITransformer Model { get; }
    public TimeSpan TrainingTime { get; }
}

/// <summary>mlContext.SequenceToSequence: Fit, Transform, Evaluate, PredictionEngine, Save/Load in a fresh process, bad input, options.</summary>
public sealed class SequenceToSequenceTests(ReversalModel fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<ReversalModel>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-seq2seq-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Random digit strings of 2–5 digits and their reversal, digit by digit.</summary>
    public static DigitPair[] Pairs(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var digits = Enumerable.Range(0, random.Next(2, 6)).Select(_ => (char)('0' + random.Next(10))).ToArray();
            return new DigitPair { Source = new string(digits), Target = [.. Enumerable.Reverse(digits).Select(d => d.ToString())] };
        })];
    }

    /// <summary>Characters as source keys, the target tokens as label keys; the predicted keys back to tokens.</summary>
    public static IEstimator<ITransformer> Pipeline(MLContext mlContext, SequenceToSequenceTrainer trainer) =>
        mlContext.Transforms.Text.TokenizeIntoCharactersAsKeys("Features", nameof(DigitPair.Source), useMarkerCharacters: false)
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(DigitPair.Target)))
            .Append(trainer)
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedTarget", "PredictedLabel"));

    public static SequenceToSequenceTrainer.Options SmallOptions() => new()
    {
        EmbeddingSize = 16, HiddenSize = 48, NumberOfEpochs = 20, LearningRate = 0.01f, BatchSize = 16, Seed = 3,
    };

    public static string[] Keys(IDataView data, string name) =>
        [.. data.GetColumn<VBuffer<uint>>(data.Schema[name]).Select(keys => string.Join(",", keys.DenseValues()))];

    [Fact]
    public void ReversesDigitsThroughAPipelineAndEvaluates()
    {
        var mlContext = fixture.MLContext;
        var scored = fixture.Model.Transform(fixture.Test);
        var metrics = mlContext.SequenceToSequence.Evaluate(scored);

        Assert.Equal(fixture.TestRows.Length, metrics.Count);
        output.WriteLine($"{metrics}, trained in {fixture.TrainingTime}");
        // The baseline: copying the source unreversed, right only for palindromes and the digits that equal their mirror.
        var copied = fixture.TestRows.Select(row => row.Source.Select(c => c.ToString()).ToArray()).ToArray();
        double copyExact = fixture.TestRows.Zip(copied).Average(pair => pair.First.Target.SequenceEqual(pair.Second) ? 1.0 : 0.0);
        double copyTokens = fixture.TestRows.Zip(copied).SelectMany(pair => pair.First.Target.Zip(pair.Second)).Average(pair => pair.First == pair.Second ? 1.0 : 0.0);
        output.WriteLine($"copying the source: exact match {copyExact:F3}, token accuracy {copyTokens:F3}");
        Assert.True(metrics.ExactMatch > copyExact + 0.6, $"{metrics} after {fixture.TrainingTime}; copying {copyExact:F3}");
        Assert.True(metrics.TokenAccuracy > copyTokens + 0.5, $"{metrics}; copying {copyTokens:F3}");
        Assert.True(metrics.MeanEditDistance < 0.5, metrics.ToString());

        var predictedType = (VectorDataViewType)scored.Schema["PredictedLabel"].Type;
        Assert.Equal(((VectorDataViewType)scored.Schema["Label"].Type).ItemType, predictedType.ItemType);
        Assert.Equal(0, predictedType.Size);

        // The tokens MapKeyToValue gives back are the reversed digits, and the evaluator counts exactly those rows.
        var predicted = scored.GetColumn<string[]>("PredictedTarget").ToArray();
        int exact = Enumerable.Range(0, predicted.Length).Count(r => predicted[r].SequenceEqual(fixture.TestRows[r].Target));
        Assert.Equal(metrics.ExactMatch, (double)exact / predicted.Length, 12);

        // Progress reached MLContext.Log and the ILogger; the trainer's summary names the seed.
        Assert.Contains(fixture.Messages, m => m.Contains("sequence-to-sequence") && m.Contains("seed 3"));
        Assert.Contains(fixture.Messages, m => m.Contains("Epoch 20"));
        Assert.Contains(fixture.Logger.Messages, m => m.Contains("Epoch 20"));
    }

    [Fact]
    public void APredictionEngineGivesWhatTransformGives()
    {
        var scored = fixture.Model.Transform(fixture.Test);
        var predicted = scored.GetColumn<string[]>("PredictedTarget").ToArray();
        var engine = fixture.MLContext.Model.CreatePredictionEngine<DigitPair, DigitPrediction>(fixture.Model);
        for (int r = 0; r < fixture.TestRows.Length; r++)
            Assert.Equal(predicted[r], engine.Predict(new DigitPair { Source = fixture.TestRows[r].Source }).PredictedTarget);
    }

    [Fact]
    public void ASavedModelDecodesTheSameInAFreshProcess()
    {
        var mlContext = fixture.MLContext;
        var expected = Keys(fixture.Model.Transform(fixture.Test), "PredictedLabel");
        string path = Path.Combine(_folder, "seq2seq.zip");
        mlContext.Model.Save(fixture.Model, fixture.Train.Schema, path);

        var loaded = SavedModelProbe.ScoreInFreshProcess(mlContext, path, fixture.Test, _folder);
        Assert.Equal(expected, Keys(loaded, "PredictedLabel"));

        var inProcess = mlContext.Model.Load(path, out _);
        Assert.Equal(expected, Keys(inProcess.Transform(fixture.Test), "PredictedLabel"));
        var original = ((IEnumerable<ITransformer>)fixture.Model).OfType<SequenceToSequenceTransformer>().Single();
        var reloaded = ((IEnumerable<ITransformer>)inProcess).OfType<SequenceToSequenceTransformer>().Single();
        Assert.Equal(original.FeatureColumnType, reloaded.FeatureColumnType);
        Assert.Equal(original.Decoding, reloaded.Decoding);
        Assert.Equal(original.Model.Options, reloaded.Model.Options);
    }

    [Fact]
    public void SmallScoringBatchesAndCursorSetsDecodeTheSame()
    {
        var expected = Keys(fixture.Model.Transform(fixture.Test), "PredictedLabel");
        var options = SmallOptions();
        options.NumberOfEpochs = 1;
        options.ScoringBatchSize = 7;
        var mlContext = new MLContext(seed: 1);
        // Same weights through another batch size: reuse the fitted model's transformer with a new scoring batch.
        var seq2seq = ((IEnumerable<ITransformer>)fixture.Model).OfType<SequenceToSequenceTransformer>().Single();
        Assert.Equal(4, ((IEnumerable<ITransformer>)fixture.Model).Count());
        var small = new SequenceToSequenceTransformer(mlContext, seq2seq.Model, seq2seq.Source, seq2seq.FeatureColumnType, seq2seq.Label,
            seq2seq.OutputColumnName, seq2seq.Decoding, scoringBatchSize: 7, history: null);
        var featurized = ((IEnumerable<ITransformer>)fixture.Model).Take(2).Aggregate(fixture.Test, (data, t) => t.Transform(data));
        Assert.Equal(expected, Keys(small.Transform(featurized), "PredictedLabel"));

        // A cursor set decodes every row once, the same way.
        var view = small.Transform(featurized);
        var column = view.Schema["PredictedLabel"];
        var found = new List<string>();
        foreach (var cursor in view.GetRowCursorSet([column], 3))
        {
            using (cursor)
            {
                var getter = cursor.GetGetter<VBuffer<uint>>(column);
                VBuffer<uint> keys = default;
                while (cursor.MoveNext())
                {
                    getter(ref keys);
                    found.Add(string.Join(",", keys.DenseValues()));
                }
            }
        }
        Assert.Equal(expected.Order(StringComparer.Ordinal), found.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void GruWithBahdanauAttentionAndBeamSearchFitsAndReloads()
    {
        var mlContext = new MLContext(seed: 5);
        var train = mlContext.Data.LoadFromEnumerable(Pairs(200, seed: 4));
        var validation = mlContext.Data.LoadFromEnumerable(Pairs(40, seed: 6));
        var test = mlContext.Data.LoadFromEnumerable(Pairs(30, seed: 7));
        var options = new SequenceToSequenceTrainer.Options
        {
            EmbeddingSize = 8, HiddenSize = 16, NumberOfEpochs = 3, LearningRate = 0.01f, BatchSize = 16, Bidirectional = true,
            Attention = AttentionKind.Bahdanau, BeamWidth = 3, LengthNormalization = 0.5f, MaximumOutputLength = 4, EarlyStoppingPatience = 1,
        };
        var trainer = mlContext.SequenceToSequence.Trainers.Gru(options);
        var featurizer = mlContext.Transforms.Text.TokenizeIntoCharactersAsKeys("Features", nameof(DigitPair.Source), useMarkerCharacters: false)
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(DigitPair.Target))).Fit(train);
        var seq2seq = trainer.Fit(featurizer.Transform(train), featurizer.Transform(validation));
        Assert.NotNull(seq2seq.History);
        Assert.Equal(3, seq2seq.Decoding.BeamWidth);
        Assert.Equal(RecurrentCellType.Gru, seq2seq.Model.Options.Cell);
        Assert.Equal(AttentionKind.Bahdanau, seq2seq.Model.Options.Attention);

        var scored = seq2seq.Transform(featurizer.Transform(test));
        var keys = scored.GetColumn<VBuffer<uint>>(scored.Schema["PredictedLabel"]).ToArray();
        Assert.All(keys, k => Assert.True(k.Length <= 4 && k.DenseValues().All(key => key <= 10)));
        var metrics = mlContext.SequenceToSequence.Evaluate(scored);
        Assert.Equal(30, metrics.Count);

        string path = Path.Combine(_folder, "gru.zip");
        mlContext.Model.Save(seq2seq, featurizer.Transform(train).Schema, path);
        var loaded = mlContext.Model.Load(path, out _);
        Assert.Equal(Keys(scored, "PredictedLabel"), Keys(loaded.Transform(featurizer.Transform(test)), "PredictedLabel"));
    }

    [Fact]
    public void CharacterKeysOfAnyKeyTypeGoInAndComeOut()
    {
        // TokenizeIntoCharactersAsKeys gives UInt16 keys of 65,535 values on both sides: the output keeps that key type and
        // MapKeyToValue turns it back into characters; the trainer warns that so large a target key type is slow.
        var mlContext = new MLContext(seed: 2);
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var random = new Random(3);
        WordPair[] Words(int count) => [.. Enumerable.Range(0, count).Select(_ =>
        {
            string word = new([.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => (char)('a' + random.Next(4)))]);
            return new WordPair { Word = word, Upper = word.ToUpperInvariant() };
        })];
        var train = mlContext.Data.LoadFromEnumerable(Words(64));
        var test = mlContext.Data.LoadFromEnumerable(Words(20));
        var options = new SequenceToSequenceTrainer.Options
        {
            LabelColumnName = "UpperKeys", FeatureColumnName = "WordKeys", PredictedLabelColumnName = "PredictedKeys",
            EmbeddingSize = 4, HiddenSize = 8, NumberOfEpochs = 1, BatchSize = 32, MaximumOutputLength = 5,
        };
        var pipeline = mlContext.Transforms.Text.TokenizeIntoCharactersAsKeys("WordKeys", nameof(WordPair.Word), useMarkerCharacters: false)
            .Append(mlContext.Transforms.Text.TokenizeIntoCharactersAsKeys("UpperKeys", nameof(WordPair.Upper), useMarkerCharacters: false))
            .Append(mlContext.SequenceToSequence.Trainers.Gru(options))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedUpper", "PredictedKeys"));
        var model = pipeline.Fit(train);
        Assert.Contains(messages, m => m.Contains("'UpperKeys' has a key type of 65535 keys") && m.Contains("MapValueToKey"));

        var scored = model.Transform(test);
        var predictedItem = ((VectorDataViewType)scored.Schema["PredictedKeys"].Type).ItemType;
        Assert.Equal(((VectorDataViewType)scored.Schema["UpperKeys"].Type).ItemType, predictedItem);
        Assert.Equal(typeof(ushort), predictedItem.RawType);
        var metrics = mlContext.SequenceToSequence.Evaluate(scored, "UpperKeys", "PredictedKeys");
        Assert.Equal(20, metrics.Count);

        var keys = scored.GetColumn<VBuffer<ushort>>(scored.Schema["PredictedKeys"]).Select(v => v.DenseValues().ToArray()).ToArray();
        var upper = scored.GetColumn<ReadOnlyMemory<char>[]>("PredictedUpper").ToArray();
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        scored.Schema["PredictedKeys"].GetKeyValues(ref keyValues);
        var names = keyValues.DenseValues().Select(m => m.ToString()).ToArray();
        for (int r = 0; r < keys.Length; r++)
        {
            Assert.True(keys[r].Length <= 5);
            Assert.Equal(keys[r].Select(k => k == 0 ? "" : names[k - 1]), upper[r].Select(m => m.ToString()));
        }
        var engine = mlContext.Model.CreatePredictionEngine<WordPair, UpperPrediction>(model);
        var words = test.GetColumn<string>(nameof(WordPair.Word)).ToArray();
        for (int r = 0; r < words.Length; r++)
            Assert.Equal(upper[r].Select(m => m.ToString()), engine.Predict(new WordPair { Word = words[r], Upper = "X" }).PredictedUpper.Select(m => m.ToString()));
    }

    [Fact]
    public void LeftUnset_TheEpochs_AreDecidedOnHeldOutPairs_AfterTheMinimumSteps_AndTheBestEpochIsKept()
    {
        var logger = new RecordingLogger();
        var options = SmallOptions();
        options.NumberOfEpochs = null;
        options.HiddenSize = 8;
        options.EmbeddingSize = 4;
        options.BatchSize = 30;
        options.Attention = AttentionKind.None;
        options.Logger = logger;
        var mlContext = new MLContext(seed: 1);
        var model = Pipeline(mlContext, mlContext.SequenceToSequence.Trainers.Gru(options)).Fit(mlContext.Data.LoadFromEnumerable(Pairs(100, seed: 4)));
        var history = ((IEnumerable<ITransformer>)model).OfType<SequenceToSequenceTransformer>().Single().History!;

        // About 10% of the 100 pairs held out (drawn by the seed), the rest trained on: 3 or 4 batches of 30 an epoch.
        var start = Assert.Single(logger.Messages, m => m.Contains("sequence-to-sequence") && m.Contains("training pairs"));
        var counts = System.Text.RegularExpressions.Regex.Match(start, @"(\d+) training pairs, (\d+) validation pairs \(held out: ValidationFraction 0.1 of the training pairs\)");
        Assert.True(counts.Success, start);
        int trainingPairs = int.Parse(counts.Groups[1].Value), heldOut = int.Parse(counts.Groups[2].Value);
        Assert.Equal(100, trainingPairs + heldOut);
        Assert.InRange(heldOut, 3, 20);
        Assert.Contains("until the validation loss has not improved for 5 epochs, after at least 1000 optimizer steps", start);

        // Never stopped before 1,000 optimizer steps; the kept epoch is the one of the lowest validation loss.
        int stepsPerEpoch = (trainingPairs + options.BatchSize - 1) / options.BatchSize;
        Assert.True(history.Epochs.Count * stepsPerEpoch >= RecurrentTrainerOptionsBase.AutomaticMinimumSteps,
            $"{history.Epochs.Count} epochs of {stepsPerEpoch} steps");
        Assert.All(history.Epochs, e => Assert.NotNull(e.ValidationLoss));
        Assert.Equal(history.Epochs.MinBy(e => e.ValidationLoss)!.Epoch, history.BestEpoch);
    }

    [Fact]
    public void TheSeedComesFromTheMLContext()
    {
        string[] Fit(int contextSeed)
        {
            var mlContext = new MLContext(seed: contextSeed);
            var data = mlContext.Data.LoadFromEnumerable(Pairs(60, seed: 8));
            var model = Pipeline(mlContext, mlContext.SequenceToSequence.Trainers.Rnn(hiddenSize: 8, numberOfEpochs: 1, attention: AttentionKind.None)).Fit(data);
            var seq2seq = ((IEnumerable<ITransformer>)model).OfType<SequenceToSequenceTransformer>().Single();
            return [.. seq2seq.Model.EncoderParameters.Values.ToArray().Take(20).Select(v => v.ToString("R"))];
        }
        Assert.Equal(Fit(11), Fit(11));
        Assert.NotEqual(Fit(11), Fit(12));
    }

    [Fact]
    public void AnEmptySourceOrTargetNamesTheRow()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = Pairs(10, seed: 9);
        rows[3].Source = "";
        var error = Assert.ThrowsAny<Exception>(() => Pipeline(mlContext, mlContext.SequenceToSequence.Trainers.Lstm(numberOfEpochs: 1))
            .Fit(mlContext.Data.LoadFromEnumerable(rows)));
        output.WriteLine(error.Message);
        Assert.Contains("Row 3", error.Message);
        Assert.Contains("Features", error.Message);
        Assert.Contains("empty", error.Message);

        rows = Pairs(10, seed: 9);
        rows[6].Target = [];
        error = Assert.ThrowsAny<Exception>(() => Pipeline(mlContext, mlContext.SequenceToSequence.Trainers.Lstm(numberOfEpochs: 1))
            .Fit(mlContext.Data.LoadFromEnumerable(rows)));
        output.WriteLine(error.Message);
        Assert.Contains("Row 6", error.Message);
        Assert.Contains("'Label'", error.Message);
        Assert.Contains("empty", error.Message);
    }

    [Fact]
    public void ALabelThatIsNotAKeyVectorIsRejected()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(new[] { new TextLabelPair { Source = "12", Label = ["2", "1"] } });
        var pipeline = mlContext.Transforms.Text.TokenizeIntoCharactersAsKeys("Features", nameof(TextLabelPair.Source), useMarkerCharacters: false)
            .Append(mlContext.SequenceToSequence.Trainers.Gru(numberOfEpochs: 1));
        var error = Assert.ThrowsAny<Exception>(() => pipeline.Fit(data));
        output.WriteLine(error.Message);
        Assert.Contains("Label", error.Message);
        Assert.Contains("vector of keys", error.Message);

        // The source must be keys too, and Evaluate checks its columns the same way.
        var numeric = mlContext.Data.LoadFromEnumerable(new[] { new { Features = new float[] { 1, 2 }, Label = new uint[] { 1 } } });
        error = Assert.ThrowsAny<Exception>(() => mlContext.SequenceToSequence.Trainers.Lstm(numberOfEpochs: 1).Fit(numeric));
        Assert.Contains("Features", error.Message);
        error = Assert.ThrowsAny<Exception>(() => mlContext.SequenceToSequence.Evaluate(data, "Label", "Source"));
        Assert.Contains("vector of keys", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void AMaximumOutputLengthBelowOneIsRejected(int maximumOutputLength)
    {
        var mlContext = new MLContext(seed: 1);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.SequenceToSequence.Trainers.Lstm(
            new SequenceToSequenceTrainer.Options { MaximumOutputLength = maximumOutputLength }));
        output.WriteLine(error.Message);
        Assert.Contains("MaximumOutputLength", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.SequenceToSequence.Trainers.Rnn(new SequenceToSequenceTrainer.Options { BeamWidth = 0 }));
    }

    [Fact]
    public void EveryCatalogParameterReachesTheOptions()
    {
        var trainers = new MLContext(seed: 1).SequenceToSequence.Trainers;
        var made = new (RecurrentCellType Cell, SequenceToSequenceTrainer Trainer)[]
        {
            (RecurrentCellType.Rnn, trainers.Rnn("L", "F", hiddenSize: 7, numberOfLayers: 2, bidirectional: true, attention: AttentionKind.Bahdanau, numberOfEpochs: 3, batchSize: 5, learningRate: 0.25f)),
            (RecurrentCellType.Lstm, trainers.Lstm("L", "F", hiddenSize: 7, numberOfLayers: 2, bidirectional: true, attention: AttentionKind.Bahdanau, numberOfEpochs: 3, batchSize: 5, learningRate: 0.25f)),
            (RecurrentCellType.Gru, trainers.Gru("L", "F", hiddenSize: 7, numberOfLayers: 2, bidirectional: true, attention: AttentionKind.Bahdanau, numberOfEpochs: 3, batchSize: 5, learningRate: 0.25f)),
        };
        foreach (var (cell, trainer) in made)
        {
            var o = trainer.TrainerOptions;
            Assert.Equal(cell, trainer.Cell);
            Assert.Equal(("L", "F", 7, 2, true, AttentionKind.Bahdanau, 3, 5, 0.25f),
                (o.LabelColumnName, o.FeatureColumnName, o.HiddenSize, o.NumberOfLayers, o.Bidirectional, o.Attention, o.NumberOfEpochs, o.BatchSize, o.LearningRate));
        }

        // The defaults of the simple overloads, the same as the options': a bidirectional encoder of 128 units.
        var defaults = trainers.Lstm().TrainerOptions;
        Assert.Equal((new SequenceToSequenceTrainer.Options().HiddenSize, new SequenceToSequenceTrainer.Options().Bidirectional), (128, true));
        Assert.Equal(("Label", "Features", 128, 1, true, AttentionKind.Luong, (int?)null, 32, (float?)null),
            (defaults.LabelColumnName, defaults.FeatureColumnName, defaults.HiddenSize, defaults.NumberOfLayers, defaults.Bidirectional, defaults.Attention,
             defaults.NumberOfEpochs, defaults.BatchSize, defaults.LearningRate));

        // The Options overload passes every option on to the core's model, decoding and training options.
        var logger = new RecordingLogger();
        var options = new SequenceToSequenceTrainer.Options
        {
            Attention = AttentionKind.None, BeamWidth = 4, LengthNormalization = 0.7f, MaximumOutputLength = 9, EmbeddingSize = 12, Dropout = 0.2f,
            GradientClipNorm = 2f, GradientClipValue = 0.5f, Optimizer = OptimizerKind.AdamW, WeightDecay = 0.01f, EarlyStoppingPatience = 2, Seed = 42,
            Logger = logger, HiddenSize = 6, NumberOfLayers = 2, Bidirectional = true, ForgetGateBias = 1f, RnnActivation = RnnActivation.Relu,
            NumberOfEpochs = 4, BatchSize = 3, LearningRate = 0.5f, LabelSmoothing = 0.1f, MaxDegreeOfParallelism = 1,
        };
        Assert.Same(options, trainers.Lstm(options).TrainerOptions);
        Assert.Same(options, trainers.Gru(options).TrainerOptions);
        Assert.Same(options, trainers.Rnn(options).TrainerOptions);

        var model = options.ToSequenceToSequenceOptions(RecurrentCellType.Lstm, sourceKeys: 10, targetKeys: 20, seed: 42);
        Assert.Equal(new SequenceToSequenceOptions
        {
            Cell = RecurrentCellType.Lstm, RnnActivation = RnnActivation.Relu, SourceVocabularySize = 11, TargetVocabularySize = 23, StartId = 21, EndId = 22,
            EmbeddingSize = 12, HiddenSize = 6, Layers = 2, Bidirectional = true, Attention = AttentionKind.None, Dropout = 0.2f, ForgetGateBias = 1f,
            Seed = 42, MaxDegreeOfParallelism = 1,
        }, model);
        Assert.Null(options.ToSequenceToSequenceOptions(RecurrentCellType.Gru, 10, 20, 42).ForgetGateBias);
        Assert.Equal(new DecodingOptions { BeamWidth = 4, LengthNormalization = 0.7f, MaxLength = 9 }, options.ToDecodingOptions());

        var training = options.ToTrainerOptions(Core.Models.RecurrentCellType.Lstm, seed: 42, hasValidationData: true, logger);
        Assert.Equal((4, 3, 0.5f, OptimizerKind.AdamW, 0.01f, 2f, 0.5f, 2, 42), (training.Epochs, training.BatchSize, training.LearningRate, training.Optimizer,
            training.WeightDecay, training.GradientClipNorm, training.GradientClipValue, training.EarlyStoppingPatience, training.Seed));
        Assert.Same(logger, training.Logger);
        Assert.Equal(0, options.ToTrainerOptions(Core.Models.RecurrentCellType.Lstm, seed: 42, hasValidationData: false, logger).EarlyStoppingPatience);
    }
}
