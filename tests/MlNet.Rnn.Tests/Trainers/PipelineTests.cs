using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Tests.Persistence;

namespace MlNet.Rnn.Tests.Trainers;

/// <summary>A row whose features are an ML.NET sparse vector.</summary>
public sealed class SparseRow
{
    public bool Label { get; set; }

    [VectorType(12)]
    public VBuffer<float> Features { get; set; }
}

/// <summary>A row with a weight.</summary>
public sealed class WeightedRow
{
    public bool Label { get; set; }
    public float Weight { get; set; }
    [VectorType(8)]
    public float[] Features { get; set; } = [];
}

/// <summary>Inputs, options and behaviours beyond the basic task tests: tokens, variable lengths, sparse vectors, weights, logging, seeds, early stopping, the hidden state, batching.</summary>
public sealed class PipelineTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-rnn-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void TokensFromMLNetFeaturizersGoThroughTheEmbeddingAndSurviveAFreshProcess()
    {
        var mlContext = new MLContext(seed: 1);
        var train = mlContext.Data.LoadFromEnumerable(Synthetic.Sentences(800, seed: 1));
        var testRows = Synthetic.Sentences(300, seed: 2);
        var test = mlContext.Data.LoadFromEnumerable(testRows);
        var pipeline = mlContext.Transforms.Text.TokenizeIntoWords("Tokens", "Text")
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Tokens"))
            .Append(mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
            {
                FeatureColumnName = "Tokens", EmbeddingSize = 8, HiddenSize = 16, NumberOfEpochs = 10, LearningRate = 0.02f,
                HiddenStateColumnName = "Hidden",
            }));

        var model = pipeline.Fit(train);
        var scored = model.Transform(test);
        var metrics = mlContext.BinaryClassification.Evaluate(scored);

        double majority = Baselines.Majority(testRows.Select(row => row.Label));
        Assert.True(metrics.Accuracy > majority + 0.3, $"accuracy {metrics.Accuracy:F3}, majority class {majority:F3}");
        var recurrent = ((TransformerChain<RecurrentPredictionTransformer>)model).LastTransformer;
        Assert.Equal(10 + 2 + 1, recurrent.Model.VocabularySize); // 12 words seen, plus the unknown row
        Assert.Equal(2 * 16, ((VectorDataViewType)scored.Schema["Hidden"].Type).Size); // both directions, the default
        string path = Path.Combine(_folder, "model.zip");
        mlContext.Model.Save(model, test.Schema, path);
        var loaded = SavedModelProbe.ScoreInFreshProcess(mlContext, path, test, _folder);
        foreach (string name in new[] { "Score", "Probability", "PredictedLabel", "Hidden" })
            Assert.Equal(Fingerprint.Of(scored, name), Fingerprint.Of(loaded, name));
    }

    [Fact]
    public void VariableLengthSequencesScoreTheSameInBatchesAsOneByOne()
    {
        var mlContext = new MLContext(seed: 1);
        var trainRows = Synthetic.Rows(600, 12, 1, seed: 1, minSteps: 3);
        var testRows = Synthetic.Rows(200, 12, 1, seed: 2, minSteps: 3);
        var train = Synthetic.ToDataView(mlContext, trainRows, variableSize: true);
        var test = Synthetic.ToDataView(mlContext, testRows, variableSize: true);
        Assert.Equal(0, ((VectorDataViewType)test.Schema["Features"].Type).Size);
        var model = mlContext.BinaryClassification.Trainers.Gru(hiddenSize: 16, numberOfEpochs: 10, learningRate: 0.01f).Fit(train);

        var scored = model.Transform(test);
        double accuracy = mlContext.BinaryClassification.Evaluate(scored).Accuracy, majority = Baselines.Majority(testRows.Select(row => row.Label));
        Assert.True(accuracy > majority + 0.3, $"accuracy {accuracy:F3}, majority class {majority:F3}");
        var engine = mlContext.Model.CreatePredictionEngine<TaskRow, Tasks.BinaryPrediction>(model, inputSchema: test.Schema);
        string[] batch = Fingerprint.Of(scored, "Score");
        for (int r = 0; r < testRows.Length; r++) Assert.Equal(batch[r], Fingerprint.Bits(engine.Predict(testRows[r]).Score));
        var smallBatches = model.WithScoringBatchSize(7);
        Assert.Equal(batch, Fingerprint.Of(smallBatches.Transform(test), "Score"));
    }

    [Fact]
    public void SparseVectorsAreDensified()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = Synthetic.Rows(300, 12, 1, seed: 3);
        foreach (var row in rows) for (int i = 1; i < row.Features.Length; i += 2) row.Features[i] = 0;
        var dense = Synthetic.ToDataView(mlContext, rows);
        var sparse = mlContext.Data.LoadFromEnumerable(rows.Select(row =>
        {
            int[] indices = Enumerable.Range(0, 6).Select(i => 2 * i).ToArray();
            return new SparseRow { Label = row.Label, Features = new VBuffer<float>(12, 6, indices.Select(i => row.Features[i]).ToArray(), indices) };
        }));
        var model = mlContext.BinaryClassification.Trainers.Rnn(hiddenSize: 8, numberOfEpochs: 2).Fit(sparse);

        Assert.Equal(Fingerprint.Of(model.Transform(dense), "Score"), Fingerprint.Of(model.Transform(sparse), "Score"));
    }

    [Fact]
    public void ExampleWeightsSilenceTheRowsTheyZero()
    {
        var mlContext = new MLContext(seed: 1);
        var clean = Synthetic.Rows(600, 8, 1, seed: 4);
        // Every other row gets the wrong label and weight 0: only the weights make the task learnable.
        var rows = clean.Select((row, r) => new WeightedRow { Label = r % 2 == 0 ? row.Label : !row.Label, Weight = r % 2 == 0 ? 1 : 0, Features = row.Features });
        var model = mlContext.BinaryClassification.Trainers.Lstm(exampleWeightColumnName: "Weight", hiddenSize: 16, numberOfEpochs: 15, learningRate: 0.01f)
            .Fit(mlContext.Data.LoadFromEnumerable(rows));

        var testRows = Synthetic.Rows(300, 8, 1, seed: 5);
        var test = Synthetic.ToDataView(mlContext, testRows);
        double accuracy = mlContext.BinaryClassification.Evaluate(model.Transform(test)).Accuracy, majority = Baselines.Majority(testRows.Select(row => row.Label));
        Assert.True(accuracy > majority + 0.3, $"accuracy {accuracy:F3}, majority class {majority:F3}");
    }

    [Fact]
    public void RowsWithAMissingLabelAreSkippedAndCountedInTheLog()
    {
        var mlContext = new MLContext(seed: 1);
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var rows = Synthetic.Rows(200, 6, 1, seed: 6);
        for (int r = 0; r < rows.Length; r += 4) rows[r].Value = float.NaN;
        var data = Synthetic.ToDataView(mlContext, rows);

        mlContext.Regression.Trainers.Gru(labelColumnName: "Value", hiddenSize: 4, numberOfEpochs: 1).Fit(data);

        Assert.Contains(messages, m => m.Contains("Skipped 50 training rows with a missing label in 'Value'", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("150 training rows", StringComparison.Ordinal));
    }

    [Fact]
    public void ProgressGoesToTheContextLogAndToTheLogger()
    {
        var mlContext = new MLContext(seed: 1);
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var logger = new RecordingLogger();
        var data = Synthetic.ToDataView(mlContext, Synthetic.Rows(100, 6, 1, seed: 7));

        mlContext.BinaryClassification.Trainers.Gru(new RecurrentBinaryTrainer.Options { HiddenSize = 4, NumberOfEpochs = 3, Logger = logger }).Fit(data);

        Assert.True(messages.Any(m => m.Contains("Epoch 1")), string.Join("\n", messages.Where(m => !m.Contains("Kind=Trace"))));
        for (int epoch = 1; epoch <= 3; epoch++)
        {
            Assert.Contains(messages, m => m.Contains($"] Epoch {epoch}: loss", StringComparison.Ordinal));
            Assert.Contains(logger.Messages, m => m.StartsWith($"Epoch {epoch}: loss", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void TheContextSeedMakesTrainingRepeatableAndTheOptionsSeedOverridesIt()
    {
        string[] Scores(int contextSeed, int? optionsSeed)
        {
            var mlContext = new MLContext(seed: contextSeed);
            var data = Synthetic.ToDataView(mlContext, Synthetic.Rows(200, 6, 1, seed: 8));
            var options = new RecurrentBinaryTrainer.Options { HiddenSize = 8, NumberOfEpochs = 2, Seed = optionsSeed };
            return Fingerprint.Of(mlContext.BinaryClassification.Trainers.Rnn(options).Fit(data).Transform(data), "Score");
        }

        Assert.Equal(Scores(7, null), Scores(7, null));
        Assert.NotEqual(Scores(7, null), Scores(8, null));
        Assert.Equal(Scores(1, 42), Scores(2, 42));
    }

    [Fact]
    public void FitWithValidationDataStopsEarlyAndKeepsTheBestEpoch()
    {
        var mlContext = new MLContext(seed: 1);
        var train = Synthetic.ToDataView(mlContext, Synthetic.Rows(200, 6, 1, seed: 9));
        // Labels unrelated to the features: the validation loss soon stops improving.
        var noise = Synthetic.Rows(200, 6, 1, seed: 10);
        var random = new Random(3);
        foreach (var row in noise) row.Label = random.Next(2) == 0;
        var validation = Synthetic.ToDataView(mlContext, noise);
        var trainer = mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
        {
            HiddenSize = 16, NumberOfEpochs = 60, LearningRate = 0.02f, EarlyStoppingPatience = 2,
        });

        var model = trainer.Fit(train, validation);

        var history = model.Model.History!;
        Assert.True(history.StoppedEarly, $"ran all {history.Epochs.Count} epochs");
        Assert.True(history.Epochs.Count < 60);
        Assert.All(history.Epochs, epoch => Assert.NotNull(epoch.ValidationLoss));
        double best = history.Epochs.Min(epoch => epoch.ValidationLoss!.Value);
        Assert.Equal(best, history.Epochs[history.BestEpoch - 1].ValidationLoss);
    }

    [Fact]
    public void TheHiddenStateFeedsAnotherTrainerAndLeavesTheScoresUnchanged()
    {
        var mlContext = new MLContext(seed: 1);
        var train = Synthetic.ToDataView(mlContext, Synthetic.Rows(600, 8, 3, seed: 11));
        var testRows = Synthetic.Rows(300, 8, 3, seed: 12);
        var test = Synthetic.ToDataView(mlContext, testRows);
        var recurrent = mlContext.BinaryClassification.Trainers.Gru(new RecurrentBinaryTrainer.Options
        {
            FeaturesPerStep = 3, HiddenSize = 8, NumberOfLayers = 2, Bidirectional = true, NumberOfEpochs = 10, LearningRate = 0.01f,
            HiddenStateColumnName = "Hidden",
            // The final states: the mean over the steps of even an untrained network's outputs already carries the sum this
            // label is about, which leaves too little room above the baseline below.
            Readout = SequenceReadout.LastStep,
        }).Fit(train);
        var scored = recurrent.Transform(test);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 16), scored.Schema["Hidden"].Type);

        // Scores computed with the hidden state (one forward that keeps it) equal those computed without it.
        var withHidden = scored.GetColumn<float>("Score").ToArray();
        var hidden = scored.GetColumn<float[]>("Hidden").ToArray();
        Assert.Equal(Fingerprint.Of(scored, "Score"), withHidden.Select(Fingerprint.Bits));
        using (var cursor = scored.GetRowCursor([scored.Schema["Score"], scored.Schema["Hidden"]]))
        {
            var score = cursor.GetGetter<float>(scored.Schema["Score"]);
            int r = 0;
            float value = 0;
            while (cursor.MoveNext()) { score(ref value); Assert.Equal(Fingerprint.Bits(withHidden[r++]), Fingerprint.Bits(value)); }
        }
        Assert.All(hidden, h => Assert.Equal(16, h.Length));

        double Downstream(RecurrentPredictionTransformer network)
        {
            var downstream = mlContext.Transforms.CopyColumns("Recurrent", "Score")
                .Append(mlContext.BinaryClassification.Trainers.LbfgsLogisticRegression(featureColumnName: "Hidden"))
                .Fit(network.Transform(train));
            return mlContext.BinaryClassification.Evaluate(downstream.Transform(network.Transform(test))).Accuracy;
        }
        // The baseline: the same logistic regression on the hidden state of the untrained network (random recurrent features,
        // which already carry some of the sum), and on no feature at all (the majority class).
        var untrained = mlContext.BinaryClassification.Trainers.Gru(new RecurrentBinaryTrainer.Options
        {
            FeaturesPerStep = 3, HiddenSize = 8, NumberOfLayers = 2, Bidirectional = true, NumberOfEpochs = 1, LearningRate = 1e-30f, HiddenStateColumnName = "Hidden",
            Readout = SequenceReadout.LastStep,
        }).Fit(train);
        double trained = Downstream(recurrent), random = Downstream(untrained), majority = Baselines.Majority(testRows.Select(row => row.Label));
        Assert.True(trained > majority + 0.3 && trained > random + 0.1,
            $"logistic regression on the hidden state: accuracy {trained:F3}; on the untrained network's {random:F3}; majority class {majority:F3}");
    }

    [Fact]
    public void ParallelCursorsScoreEveryRowAsOneCursorDoes()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.Cache(Synthetic.ToDataView(mlContext, Synthetic.Rows(1000, 8, 1, seed: 13)));
        var model = mlContext.BinaryClassification.Trainers.Lstm(hiddenSize: 8, numberOfEpochs: 1).Fit(data);
        var scored = model.Transform(data);

        var expected = new Dictionary<DataViewRowId, string>();
        using (var cursor = scored.GetRowCursor(scored.Schema))
        {
            var id = cursor.GetIdGetter();
            var score = cursor.GetGetter<float>(scored.Schema["Score"]);
            DataViewRowId rowId = default;
            float value = 0;
            while (cursor.MoveNext()) { id(ref rowId); score(ref value); expected[rowId] = Fingerprint.Bits(value); }
        }
        var cursors = scored.GetRowCursorSet([scored.Schema["Score"]], 2);
        var found = new System.Collections.Concurrent.ConcurrentDictionary<DataViewRowId, string>();
        Parallel.ForEach(cursors, cursor =>
        {
            using (cursor)
            {
                var id = cursor.GetIdGetter();
                var score = cursor.GetGetter<float>(scored.Schema["Score"]);
                DataViewRowId rowId = default;
                float value = 0;
                while (cursor.MoveNext()) { id(ref rowId); score(ref value); found[rowId] = Fingerprint.Bits(value); }
            }
        });

        Assert.Equal(1000, expected.Count);
        Assert.Equal(expected.OrderBy(p => p.Key), found.OrderBy(p => p.Key));
    }

}
