using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests.Scoring;

/// <summary>
/// The contract of a recurrent model's scored view and row mapper as ML.NET consumers see it: a cursor reads a scoring batch ahead
/// only when it serves an added column, reports its own position and the input's batch, refuses columns it was not asked for and
/// wrong types by name, disposes the input cursor, shuffles and splits into cursor sets as its input does (a forecast, which
/// depends on the rows before it, never); the mapper's dependencies, and a mapped row scored once per input position.
/// </summary>
public sealed class ScoringContractTests
{
    private const int BatchSize = 4;

    private static readonly MLContext s_mlContext = new(seed: 1);

    /// <summary>A binary LSTM (H = 2, one epoch) over 3 steps of 1 feature, scoring 4 rows per batch.</summary>
    private static readonly Lazy<RecurrentPredictionTransformer> s_model = new(() =>
        s_mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
        {
            HiddenSize = 2, NumberOfEpochs = 1, BatchSize = 8, Seed = 1, MaxDegreeOfParallelism = 1, ScoringBatchSize = BatchSize,
        }).Fit(Synthetic.ToDataView(s_mlContext, Synthetic.Rows(16, 3, 1, seed: 4))));

    private static float[][] Features(int count) => [.. Synthetic.Rows(count, 3, 1, seed: 9).Select(row => row.Features)];

    private static DataViewSchema.Column[] Columns(IDataView view, params string[] names) => [.. names.Select(name => view.Schema[name])];

    /// <summary>The model's score of each row of <paramref name="features"/>, read by ML.NET's own column reader.</summary>
    private static float[] ScoresOf(float[][] features) =>
        [.. s_model.Value.Transform(Synthetic.ToDataView(s_mlContext, [.. features.Select(f => new TaskRow { Features = f })])).GetColumn<float>("Score")];

    [Fact]
    public void ACursorReadsAScoringBatchAheadOnlyWhenItServesAnAddedColumn()
    {
        var inputOnly = new ProbeView(Features(10), canShuffle: false);
        var view = s_model.Value.Transform(inputOnly);
        using (var cursor = view.GetRowCursor(Columns(view, "Id")))
        {
            Assert.True(cursor.MoveNext());
            Assert.Equal(1, inputOnly.RowsRead);
            Assert.True(cursor.MoveNext());
            Assert.True(cursor.MoveNext());
            Assert.Equal(3, inputOnly.RowsRead);
        }

        var scoring = new ProbeView(Features(10), canShuffle: false);
        view = s_model.Value.Transform(scoring);
        using (var cursor = view.GetRowCursor(Columns(view, "Score")))
        {
            Assert.True(cursor.MoveNext());
            Assert.Equal(BatchSize, scoring.RowsRead);
            for (int i = 0; i < BatchSize; i++) Assert.True(cursor.MoveNext());
            Assert.Equal(2 * BatchSize, scoring.RowsRead);
        }
    }

    [Fact]
    public void ACursorStagesAtMostSixteenMegabytesOfFeaturesWhateverTheBatchSize()
    {
        // Rows of one step of 2^18 features: 16 rows are 2^22 staged floats (16 MB), the bound; the batch size (256) is not reached.
        const int width = 1 << 18;
        var model = s_mlContext.BinaryClassification.Trainers.Gru(new RecurrentBinaryTrainer.Options
        {
            FeaturesPerStep = width, HiddenSize = 2, NumberOfEpochs = 1, Seed = 1, MaxDegreeOfParallelism = 1,
        }).Fit(Synthetic.ToDataView(s_mlContext, Synthetic.Rows(2, 1, width, seed: 4)));
        var probe = new ProbeView([.. Synthetic.Rows(17, 1, width, seed: 5).Select(row => row.Features)], canShuffle: false);
        var view = model.Transform(probe);
        using var cursor = view.GetRowCursor(Columns(view, "Score"));

        Assert.True(cursor.MoveNext());
        Assert.Equal(16, probe.RowsRead);
        for (int row = 1; row < 16; row++) Assert.True(cursor.MoveNext());
        Assert.Equal(16, probe.RowsRead);
        Assert.True(cursor.MoveNext());
        Assert.Equal(17, probe.RowsRead);
        Assert.False(cursor.MoveNext());
    }

    [Fact]
    public void ACursorReportsItsPositionTheInputBatchAndTheColumnsAskedFor()
    {
        var probe = new ProbeView(Features(6), canShuffle: false);
        var view = s_model.Value.Transform(probe);
        float[] expected = ScoresOf(Features(6));
        using var cursor = view.GetRowCursor(Columns(view, "Id", "Score"));

        Assert.Equal(-1, cursor.Position);
        Assert.Equal(0, cursor.Batch);
        Assert.True(cursor.IsColumnActive(view.Schema["Id"]));
        Assert.True(cursor.IsColumnActive(view.Schema["Score"]));
        Assert.False(cursor.IsColumnActive(view.Schema["Features"]));
        Assert.False(cursor.IsColumnActive(view.Schema["Probability"]));
        var score = cursor.GetGetter<float>(view.Schema["Score"]);
        var id = cursor.GetGetter<float>(view.Schema["Id"]);
        for (int row = 0; row < 6; row++)
        {
            Assert.True(cursor.MoveNext());
            Assert.Equal(row, cursor.Position);
            Assert.Equal(ProbeView.BatchId, cursor.Batch);
            float value = 0, index = 0;
            score(ref value);
            id(ref index);
            Assert.Equal(row, index);
            Assert.Equal(expected[row], value, 1e-6f);
        }
        Assert.False(cursor.MoveNext());
    }

    [Fact]
    public void ACursorRefusesAColumnNotAskedForAndAWrongTypeByName()
    {
        var view = s_model.Value.Transform(new ProbeView(Features(3), canShuffle: false));
        using var cursor = view.GetRowCursor(Columns(view, "Id", "Score"));

        var added = Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<bool>(view.Schema["PredictedLabel"]));
        var input = Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<VBuffer<float>>(view.Schema["Features"]));
        var wrongType = Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<int>(view.Schema["Score"]));

        Assert.Equal("Column 'PredictedLabel' was not requested when the cursor was made; ask for it in columnsNeeded.", added.Message);
        Assert.Contains("Column 'Features' was not requested", input.Message);
        Assert.Equal("Column 'Score' is of type Single; it cannot be read as Int32.", wrongType.Message);
    }

    [Fact]
    public void DisposingACursorDisposesTheInputCursor()
    {
        var probe = new ProbeView(Features(3), canShuffle: false);
        var view = s_model.Value.Transform(probe);
        var cursor = view.GetRowCursor(Columns(view, "Score"));
        Assert.True(cursor.MoveNext());
        Assert.Equal(0, probe.CursorsDisposed);

        cursor.Dispose();

        Assert.Equal(1, probe.CursorsDisposed);
    }

    [Fact]
    public void TheViewShufflesAndSplitsIntoCursorSetsAsItsInputDoes()
    {
        var features = Features(10);
        float[] expected = ScoresOf(features);
        Assert.False(s_model.Value.Transform(new ProbeView(features, canShuffle: false)).CanShuffle);
        var probe = new ProbeView(features, canShuffle: true);
        var view = s_model.Value.Transform(probe);
        Assert.True(view.CanShuffle);

        // A shuffled cursor reads the rows in the order the input's cursor with the same random source reads them.
        int[] shuffled = probe.Order(new Random(5));
        Assert.NotEqual(Enumerable.Range(0, 10), shuffled);
        var read = new List<(float Id, float Score)>();
        using (var cursor = view.GetRowCursor(Columns(view, "Id", "Score"), new Random(5)))
            read.AddRange(Rows(cursor, view));
        Assert.Equal(shuffled.Select(i => (float)i), read.Select(row => row.Id));
        foreach (var (id, score) in read) Assert.Equal(expected[(int)id], score, 1e-6f);

        // A cursor set: as many cursors as the input gives, every row once, each scored as alone.
        var cursors = view.GetRowCursorSet(Columns(view, "Id", "Score"), 2, new Random(5));
        Assert.Equal(2, cursors.Length);
        var fromSet = cursors.SelectMany(cursor => Rows(cursor, view)).ToList();
        foreach (var cursor in cursors) cursor.Dispose();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), fromSet.Select(row => row.Id).Order());
        foreach (var (id, score) in fromSet) Assert.Equal(expected[(int)id], score, 1e-6f);
    }

    private static List<(float Id, float Score)> Rows(DataViewRowCursor cursor, IDataView view)
    {
        var id = cursor.GetGetter<float>(view.Schema["Id"]);
        var score = cursor.GetGetter<float>(view.Schema["Score"]);
        var rows = new List<(float, float)>();
        while (cursor.MoveNext())
        {
            float i = 0, s = 0;
            id(ref i);
            score(ref s);
            rows.Add((i, s));
        }
        return rows;
    }

    [Fact]
    public void AForecastIsReadInOrderByOneCursorWhateverTheConsumerAsks()
    {
        var series = s_mlContext.Data.Cache(s_mlContext.Data.LoadFromEnumerable(SharedModels.Series(40, 0)));
        Assert.True(series.CanShuffle);
        var forecaster = s_mlContext.Forecasting.ForecastByGru(new RecurrentForecastingEstimator.Options
        {
            InputColumnName = nameof(SeriesPoint.Value), WindowSize = 4, Horizon = 1, HiddenSize = 2, NumberOfEpochs = 1, Seed = 1,
            MaxDegreeOfParallelism = 1, RefitOnFullSeries = false,
        }).Fit(series);
        var view = forecaster.Transform(series);
        float[] inOrder = [.. series.GetColumn<float>(nameof(SeriesPoint.Value))];

        Assert.False(view.CanShuffle);
        using (var cursor = view.GetRowCursor(Columns(view, "Value", "Forecast"), new Random(5)))
            Assert.Equal(inOrder, Values(cursor, view));
        var cursors = view.GetRowCursorSet(Columns(view, "Value", "Forecast"), 2, new Random(5));
        var single = Assert.Single(cursors);
        Assert.Equal(inOrder, Values(single, view));
        single.Dispose();
    }

    private static List<float> Values(DataViewRowCursor cursor, IDataView view)
    {
        var value = cursor.GetGetter<float>(view.Schema["Value"]);
        var values = new List<float>();
        while (cursor.MoveNext())
        {
            float v = 0;
            value(ref v);
            values.Add(v);
        }
        return values;
    }

    [Fact]
    public void TheMapperNeedsTheFeatureColumnOnlyForAnAddedColumnAndOnce()
    {
        var mapper = s_model.Value.GetRowToRowMapper(ProbeView.MakeSchema());
        var schema = mapper.OutputSchema;
        string[] Dependencies(params string[] names) => [.. mapper.GetDependencies(names.Select(name => schema[name])).Select(c => c.Name)];

        Assert.Equal(["Features"], Dependencies("Score"));
        Assert.Equal(["Features"], Dependencies("PredictedLabel"));
        Assert.Equal(["Id"], Dependencies("Id"));
        Assert.Equal(["Id", "Features"], Dependencies("Id", "Score"));
        Assert.Equal(["Features"], Dependencies("Features", "Score"));
    }

    [Fact]
    public void AMappedRowIsScoredOncePerInputPositionAndOnEveryReadWhenUnpositioned()
    {
        var features = Features(3);
        float[] expected = ScoresOf(features);
        var mapper = s_model.Value.GetRowToRowMapper(ProbeView.MakeSchema());
        var input = new ProbeRow { CurrentPosition = 1, Features = features[0] };
        var row = mapper.GetRow(input, [mapper.OutputSchema["Score"]]);
        var score = row.GetGetter<float>(mapper.OutputSchema["Score"]);
        float Read()
        {
            float value = 0;
            score(ref value);
            return value;
        }

        Assert.Equal(1, row.Position);
        Assert.True(row.IsColumnActive(mapper.OutputSchema["Score"]));
        Assert.False(row.IsColumnActive(mapper.OutputSchema["Probability"]));
        // First read at a position other than 0: scored.
        Assert.Equal(expected[0], Read(), 1e-6f);
        Assert.Equal(expected[0], Read(), 1e-6f);
        Assert.Equal(1, input.FeatureReads);
        // Position 0 after another: scored once, the value kept while the row does not move.
        input.CurrentPosition = 0;
        input.Features = features[1];
        Assert.Equal(expected[1], Read(), 1e-6f);
        Assert.Equal(expected[1], Read(), 1e-6f);
        Assert.Equal(2, input.FeatureReads);
        // A row with no position (−1) is scored on every read.
        input.CurrentPosition = -1;
        Assert.Equal(expected[1], Read(), 1e-6f);
        input.Features = features[2];
        Assert.Equal(expected[2], Read(), 1e-6f);
        input.Features = features[0];
        Assert.Equal(expected[0], Read(), 1e-6f);
    }

    [Fact]
    public void AMappedRowRefusesAColumnNotAskedForAndAWrongTypeByName()
    {
        var mapper = s_model.Value.GetRowToRowMapper(ProbeView.MakeSchema());
        var row = mapper.GetRow(new ProbeRow { CurrentPosition = 0 }, [mapper.OutputSchema["Score"]]);

        var notAsked = Assert.Throws<InvalidOperationException>(() => row.GetGetter<float>(mapper.OutputSchema["Probability"]));
        var wrongType = Assert.Throws<InvalidOperationException>(() => row.GetGetter<int>(mapper.OutputSchema["Score"]));

        Assert.Equal("Column 'Probability' was not requested when the row was made; ask for it in activeColumns.", notAsked.Message);
        Assert.Equal("Column 'Score' is of type Single; it cannot be read as Int32.", wrongType.Message);
    }
}
