using System.Text.RegularExpressions;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.SequenceToSequence;

namespace MlNet.Rnn.Tests.SequenceToSequence;

/// <summary>Source and target tokens of one pair, both turned into key vectors by MapValueToKey.</summary>
public sealed class TokenPair
{
    public string[] Source { get; set; } = [];
    public string[] Target { get; set; } = [];
}

/// <summary>
/// The sequence-to-sequence trainer's contract through ML.NET: each invalid option is refused by name with its rule (and
/// a label smoothing of exactly 1 is accepted), missing columns are named by role, validation data of other key types and
/// empty data are refused, an empty pair names its data and side, the start report counts validation pairs, a key type
/// far larger than the keys used warns with the model's row count, a fit stopped early says so in the log (after which epoch,
/// which epoch was kept), and the scored view shuffles when its input can, each row keeping its prediction.
/// </summary>
public sealed class SequenceToSequenceContractTests
{
    private readonly MLContext _mlContext = new(seed: 1);

    private static SequenceToSequenceTrainer.Options Tiny() => new()
    {
        EmbeddingSize = 2, HiddenSize = 2, NumberOfEpochs = 1, BatchSize = 4, Seed = 1, MaxDegreeOfParallelism = 1,
    };

    private static TokenPair Pair(string source, string target) => new() { Source = source.Split(' ', StringSplitOptions.RemoveEmptyEntries), Target = target.Split(' ', StringSplitOptions.RemoveEmptyEntries) };

    private static TokenPair[] Rows(params string[] tokens) => [.. tokens.Select(t => Pair(t, t))];

    /// <summary>Features and Label as key vectors whose key types are learned from <paramref name="keys"/>.</summary>
    private IDataView Keys(TokenPair[] keys, TokenPair[] rows)
    {
        var featurizer = _mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(TokenPair.Source))
            .Append(_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TokenPair.Target)))
            .Fit(_mlContext.Data.LoadFromEnumerable(keys));
        return featurizer.Transform(_mlContext.Data.LoadFromEnumerable(rows));
    }

    private IDataView Keys(params TokenPair[] rows) => Keys(rows, rows);

    // SchemaShape.Create is internal; ML.NET's own tests call it the same way.
    private static SchemaShape ShapeOf(DataViewSchema schema) => (SchemaShape)typeof(SchemaShape)
        .GetMethod("Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.Invoke(null, [schema])!;

    private static ArgumentOutOfRangeException Refused(Action<SequenceToSequenceTrainer.Options> edit)
    {
        var options = Tiny();
        edit(options);
        return Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext(seed: 1).SequenceToSequence.Trainers.Lstm(options));
    }

    [Fact]
    public void EachInvalidOptionIsRefusedByNameWithItsRule()
    {
        var error = Refused(o => o.LabelColumnName = " ");
        Assert.Equal("LabelColumnName", error.ParamName);
        Assert.StartsWith("LabelColumnName =   must name a column.", error.Message);

        error = Refused(o => o.PredictedLabelColumnName = "");
        Assert.Equal("PredictedLabelColumnName", error.ParamName);
        Assert.StartsWith("PredictedLabelColumnName =  must name a column.", error.Message);

        error = Refused(o => o.MaximumOutputLength = 0);
        Assert.Equal("MaximumOutputLength", error.ParamName);
        Assert.StartsWith("MaximumOutputLength = 0 must be at least 1 token (the end token counts).", error.Message);

        foreach (float smoothing in new[] { -0.01f, 1.01f, float.NaN })
        {
            error = Refused(o => o.LabelSmoothing = smoothing);
            Assert.Equal("LabelSmoothing", error.ParamName);
            Assert.Contains("must be in [0, 1].", error.Message);
        }

        // The options every task shares are checked too.
        error = Refused(o => o.FeatureColumnName = "");
        Assert.Equal("FeatureColumnName", error.ParamName);

        // The core model's own checks run when the trainer is created, not first at Fit.
        var options = Tiny();
        options.Attention = (AttentionKind)42;
        Assert.ThrowsAny<ArgumentException>(() => _mlContext.SequenceToSequence.Trainers.Lstm(options));

        // ε = 1 is the edge of the range, accepted and trained with.
        options = Tiny();
        options.LabelSmoothing = 1f;
        var model = _mlContext.SequenceToSequence.Trainers.Lstm(options).Fit(Keys(Rows("a b", "b a", "a")));
        Assert.NotNull(model);
    }

    [Fact]
    public void MissingColumnsAreNamedByRole()
    {
        var data = Keys(Rows("a b", "b"));
        var trainer = _mlContext.SequenceToSequence.Trainers.Lstm(Tiny());
        var noSource = _mlContext.Transforms.DropColumns("Features").Fit(data).Transform(data);
        var noLabel = _mlContext.Transforms.DropColumns("Label").Fit(data).Transform(data);

        Assert.Contains("source (feature) column 'Features'", Assert.ThrowsAny<Exception>(() => trainer.GetOutputSchema(ShapeOf(noSource.Schema))).Message);
        Assert.Contains("label column 'Label'", Assert.ThrowsAny<Exception>(() => trainer.GetOutputSchema(ShapeOf(noLabel.Schema))).Message);
        Assert.Contains("source (feature) column 'Features'", Assert.ThrowsAny<Exception>(() => trainer.Fit(noSource)).Message);
        Assert.Contains("label column 'Label'", Assert.ThrowsAny<Exception>(() => trainer.Fit(noLabel)).Message);
        Assert.Contains("source (feature) column 'Features'", Assert.ThrowsAny<Exception>(() => trainer.Fit(data, noSource)).Message);
        Assert.Contains("label column 'Label'", Assert.ThrowsAny<Exception>(() => trainer.Fit(data, noLabel)).Message);
    }

    [Fact]
    public void ValidationDataOfOtherKeyTypesIsRefusedByRole()
    {
        var rows = Rows("a b", "b a");
        var train = Keys(rows);
        var trainer = _mlContext.SequenceToSequence.Trainers.Lstm(Tiny());

        // Three source keys instead of two, the label keys the same.
        var otherSource = Keys([Pair("a b c", "a b"), Pair("a", "b")], rows);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(train, otherSource));
        Assert.Equal("validationData", error.ParamName);
        Assert.Contains("source (feature) column 'Features'", error.Message);

        var otherLabel = Keys([Pair("a b", "a b c"), Pair("a", "b")], rows);
        error = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(train, otherLabel));
        Assert.Equal("validationData", error.ParamName);
        Assert.Contains("label column 'Label'", error.Message);
    }

    [Fact]
    public void EmptyDataAndEmptyPairsAreRefused()
    {
        var rows = Rows("a b", "b a");
        var train = Keys(rows);
        var empty = Keys(rows, []);
        var trainer = _mlContext.SequenceToSequence.Trainers.Lstm(Tiny());

        Assert.Equal("The training data has no row.", Assert.ThrowsAny<Exception>(() => trainer.Fit(empty)).Message);
        Assert.Equal("The validation data has no row; pass rows or call Fit(trainData).", Assert.ThrowsAny<Exception>(() => trainer.Fit(train, empty)).Message);

        string error = Assert.ThrowsAny<Exception>(() => trainer.Fit(Keys(rows, [Pair("a", "b"), Pair("", "a")]))).Message;
        Assert.StartsWith("The training data: Row 1: column 'Features' (source) is an empty sequence", error);
        error = Assert.ThrowsAny<Exception>(() => trainer.Fit(train, Keys(rows, [Pair("a", "")]))).Message;
        Assert.StartsWith("The validation data: Row 0: column 'Label' (target) is an empty sequence", error);
    }

    [Fact]
    public void TheStartReportCountsValidationPairs()
    {
        var logger = new RecordingLogger();
        var options = Tiny();
        options.Logger = logger;
        var train = Keys(Rows("a b", "b a", "a"));
        var trainer = _mlContext.SequenceToSequence.Trainers.Lstm(options);
        trainer.Fit(train, Keys(Rows("a b", "b a", "a"), Rows("a", "b")));
        // In memory (the pairs are far under TrainingDataMemoryMegabytes) and a set number of epochs: the line ends there.
        Assert.Contains(logger.Messages, m => Regex.IsMatch(m, @": 3 training pairs, 2 validation pairs, 2 source keys, 2 target keys, \d+ parameters, seed 1$"));
        logger.Messages.Clear();
        trainer.Fit(train);
        Assert.Contains(logger.Messages, m => Regex.IsMatch(m, @": 3 training pairs, 2 source keys, 2 target keys, \d+ parameters, seed 1$"));
        // Compact key types do not warn.
        Assert.DoesNotContain(logger.Messages, m => m.Contains("has a key type of"));
    }

    /// <summary>A pair of key vectors of a key type of 200 keys, of which the rows use 4.</summary>
    private sealed class KeysOf200
    {
        [KeyType(200)]
        public uint[] Features { get; set; } = [];

        [KeyType(200)]
        public uint[] Label { get; set; } = [];
    }

    [Fact]
    public void AKeyTypeUnder1024KeysNeverWarns_HoweverFewOfItsKeysAreUsed()
    {
        // 4 of 200 keys: a share that warns for a key type of 1,024 or more (AKeyTypeFarLargerThanTheKeysUsedWarnsWithTheModelsRows).
        var rows = Enumerable.Range(0, 8).Select(i => new KeysOf200 { Features = [(uint)(1 + i % 4), 2], Label = [(uint)(1 + (i + 1) % 4)] });
        var logger = new RecordingLogger();
        var options = Tiny();
        options.Logger = logger;
        _mlContext.SequenceToSequence.Trainers.Lstm(options).Fit(_mlContext.Data.LoadFromEnumerable(rows));

        Assert.Contains(logger.Messages, m => Regex.IsMatch(m, @": 8 training pairs, 200 source keys, 200 target keys, \d+ parameters, seed 1$"));
        Assert.DoesNotContain(logger.Messages, m => m.Contains("has a key type of"));
    }

    [Fact]
    public void AFitCancelledBeforeItStarts_StopsAtTheFirstRowItReads()
    {
        // Key vectors read straight from the rows (no transform, which ML.NET may read ahead of the trainer on a thread of its own).
        int taken = 0;
        IEnumerable<KeysOf200> Rows()
        {
            for (int i = 0; i < 3000; i++)
            {
                taken++;
                yield return new KeysOf200 { Features = [1, 2], Label = [2, 1] };
            }
        }
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        var options = Tiny();
        options.CancellationToken = cancellation.Token;

        Assert.ThrowsAny<OperationCanceledException>(() => _mlContext.SequenceToSequence.Trainers.Lstm(options).Fit(_mlContext.Data.LoadFromEnumerable(Rows())));
        // The check comes every 1,024 rows, from the first: one row was taken, not the 3,000.
        Assert.Equal(1, taken);
    }

    [Fact]
    public void AKeyTypeFarLargerThanTheKeysUsedWarnsWithTheModelsRows()
    {
        // 1024 keys (the smallest type that warns) of which 128 are used: exactly the share that still warns.
        string[] vocabulary = [.. Enumerable.Range(0, 1024).Select(i => $"t{i}")];
        var keys = new[] { new TokenPair { Source = vocabulary, Target = vocabulary } };
        var used = Enumerable.Range(0, 128).Select(i => $"t{i}").ToArray();
        var rows = new[] { new TokenPair { Source = used, Target = used[..4] }, new TokenPair { Source = used[..3], Target = used[..3] } };
        var logger = new RecordingLogger();
        var options = Tiny();
        options.Logger = logger;
        _mlContext.SequenceToSequence.Trainers.Lstm(options).Fit(Keys(keys, rows));

        Assert.Contains(logger.Messages, m => m.StartsWith("The source column 'Features' has a key type of 1024 keys but the training data uses only 128; the model has 1025 embedding rows, which makes it slow."));
        Assert.Contains(logger.Messages, m => m.StartsWith("The label column 'Label' has a key type of 1024 keys but the training data uses only 4; the model has 1027 logits per decoder step, which makes it slow."));

        // Data that uses every key of the large types does not warn.
        logger.Messages.Clear();
        _mlContext.SequenceToSequence.Trainers.Lstm(options).Fit(Keys(keys, keys));
        Assert.DoesNotContain(logger.Messages, m => m.Contains("has a key type of"));
    }

    [Fact]
    public void ValidationLossThatOnlyGrowsStopsEarlyAndTheLogSaysAfterWhichEpochAndWhichWasKept()
    {
        var messages = new List<string>();
        _mlContext.Log += (_, e) => { lock (messages) messages.Add(e.RawMessage); };
        var logger = new RecordingLogger();
        var options = Tiny();
        options.Logger = logger;
        options.NumberOfEpochs = 30;
        options.EarlyStoppingPatience = 1;
        options.LearningRate = 0.1f;
        // Training swaps the tokens, validation copies them: every step towards the training pairs moves away from the validation pairs.
        var keys = Rows("a b");
        var train = Keys(keys, [Pair("a", "b"), Pair("b", "a"), Pair("a b", "b a")]);
        var validation = Keys(keys, [Pair("a", "a"), Pair("b", "b"), Pair("a b", "a b")]);

        var history = _mlContext.SequenceToSequence.Trainers.Lstm(options).Fit(train, validation).History!;

        Assert.True(history.StoppedEarly);
        Assert.InRange(history.Epochs.Count, 2, 29);
        string expected = $"Stopped early after epoch {history.Epochs.Count}; kept epoch {history.BestEpoch}.";
        Assert.Contains(expected, logger.Messages);
        Assert.Contains(expected, messages);
    }

    [Fact]
    public void TheScoredViewShufflesAsItsInputDoesAndEachRowKeepsItsPrediction()
    {
        var rows = Rows("a b", "b a", "a", "b", "a a b", "b b", "a b a", "b a b");
        var data = _mlContext.Data.Cache(Keys(rows));
        Assert.True(data.CanShuffle);
        var model = _mlContext.SequenceToSequence.Trainers.Lstm(Tiny()).Fit(data);
        var scored = model.Transform(data);
        Assert.True(scored.CanShuffle);

        uint[][] inOrder = [.. scored.GetColumn<VBuffer<uint>>("PredictedLabel").Select(v => v.DenseValues().ToArray())];
        var shuffledIds = new List<uint[]>();
        var shuffledPredictions = new List<uint[]>();
        using (var cursor = scored.GetRowCursor([scored.Schema["Features"], scored.Schema["PredictedLabel"]], new Random(5)))
        {
            var features = cursor.GetGetter<VBuffer<uint>>(scored.Schema["Features"]);
            var predicted = cursor.GetGetter<VBuffer<uint>>(scored.Schema["PredictedLabel"]);
            VBuffer<uint> value = default;
            while (cursor.MoveNext())
            {
                features(ref value);
                shuffledIds.Add(value.DenseValues().ToArray());
                predicted(ref value);
                shuffledPredictions.Add(value.DenseValues().ToArray());
            }
        }

        // The input's own cursor with the same random source gives the order; each row keeps the prediction it has in order.
        var order = new List<uint[]>();
        using (var cursor = data.GetRowCursor([data.Schema["Features"]], new Random(5)))
        {
            var features = cursor.GetGetter<VBuffer<uint>>(data.Schema["Features"]);
            VBuffer<uint> value = default;
            while (cursor.MoveNext())
            {
                features(ref value);
                order.Add(value.DenseValues().ToArray());
            }
        }
        uint[][] original = [.. data.GetColumn<VBuffer<uint>>("Features").Select(v => v.DenseValues().ToArray())];
        Assert.NotEqual(original, order);
        Assert.Equal(order, shuffledIds);
        for (int i = 0; i < shuffledIds.Count; i++)
        {
            int row = Array.FindIndex(original, ids => ids.SequenceEqual(shuffledIds[i]));
            Assert.Equal(inOrder[row], shuffledPredictions[i]);
        }
    }
}
