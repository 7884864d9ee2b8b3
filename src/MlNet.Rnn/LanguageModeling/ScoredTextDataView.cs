using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.LanguageModeling;

namespace MlNet.Rnn.LanguageModeling;

/// <summary>Reads a row's text and scores it once per row position, in a model copy made on first use.</summary>
internal sealed class RowScorer(LanguageModelTransformer transformer, DataViewRow input, int textColumn)
{
    private readonly Lazy<(ValueGetter<ReadOnlyMemory<char>> Text, LanguageModel Model)> _workspace =
        new(() => (input.GetGetter<ReadOnlyMemory<char>>(input.Schema[textColumn]), transformer.CopyModel()));
    private long _scoredPosition = -1;
    private float[] _scores = new float[4];

    /// <summary>A getter of score <paramref name="index"/> (in <see cref="LanguageModelTransformer.ScoreColumnNames"/> order).</summary>
    public ValueGetter<float> Getter(int index) => (ref float value) => value = Current()[index];

    private float[] Current()
    {
        if (_scoredPosition != input.Position || input.Position < 0)
        {
            var (text, model) = _workspace.Value;
            ReadOnlyMemory<char> value = default;
            text(ref value);
            var metrics = model.Evaluate(value.ToString(), scoreEnd: true);
            _scores = [(float)metrics.LogLikelihood, metrics.TokenCount, (float)metrics.BitsPerToken, (float)metrics.Perplexity];
            _scoredPosition = input.Position;
        }
        return _scores;
    }

    /// <summary>Casts a getter to what the caller asked for, or names the column and its type.</summary>
    public static ValueGetter<TValue> Cast<TValue>(Delegate getter, DataViewSchema.Column column) =>
        getter as ValueGetter<TValue> ?? throw new InvalidOperationException(
            $"Column '{column.Name}' is of type {column.Type}; it cannot be read as {typeof(TValue).Name}.");
}

/// <summary>The lazy result of <see cref="LanguageModelTransformer.Transform"/>: the input's columns followed by the four scores.</summary>
internal sealed class ScoredTextDataView(IDataView input, LanguageModelTransformer transformer, int textColumn, DataViewSchema schema) : IDataView
{
    public bool CanShuffle => input.CanShuffle;

    public DataViewSchema Schema { get; } = schema;

    public long? GetRowCount() => input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var (inputColumns, active) = Split(columnsNeeded);
        return new Cursor(this, input.GetRowCursor(inputColumns, rand), active);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        var (inputColumns, active) = Split(columnsNeeded);
        return [.. input.GetRowCursorSet(inputColumns, n, rand).Select(cursor => (DataViewRowCursor)new Cursor(this, cursor, active))];
    }

    private (List<DataViewSchema.Column> Input, HashSet<int> Active) Split(IEnumerable<DataViewSchema.Column> columnsNeeded)
    {
        var active = columnsNeeded.Select(c => c.Index).ToHashSet();
        var columns = active.Where(i => i < input.Schema.Count).Select(i => input.Schema[i]).ToList();
        if (active.Any(i => i >= input.Schema.Count) && !active.Contains(textColumn)) columns.Add(input.Schema[textColumn]);
        return (columns, active);
    }

    private sealed class Cursor(ScoredTextDataView parent, DataViewRowCursor input, HashSet<int> active) : DataViewRowCursor
    {
        private readonly RowScorer _scorer = new(parent._transformer, input, parent.TextColumn);

        public override DataViewSchema Schema => parent.Schema;

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was made; ask for it in columnsNeeded.");
            int inputCount = input.Schema.Count;
            if (column.Index < inputCount) return input.GetGetter<TValue>(input.Schema[column.Index]);
            return RowScorer.Cast<TValue>(_scorer.Getter(column.Index - inputCount), column);
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool MoveNext() => input.MoveNext();

        protected override void Dispose(bool disposing)
        {
            if (disposing) input.Dispose();
            base.Dispose(disposing);
        }
    }

    private readonly LanguageModelTransformer _transformer = transformer;
    private int TextColumn => textColumn;
}

/// <summary>Maps single rows, for <c>PredictionEngine</c>: a row is scored on first read, in this mapper's own model copy.</summary>
internal sealed class ScoringRowMapper(LanguageModelTransformer transformer, DataViewSchema inputSchema, int textColumn, DataViewSchema outputSchema) : IRowToRowMapper
{
    public DataViewSchema InputSchema { get; } = inputSchema;

    public DataViewSchema OutputSchema { get; } = outputSchema;

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var columns = dependingColumns.ToArray();
        var needed = columns.Where(c => c.Index < InputSchema.Count).Select(c => InputSchema[c.Index]).ToList();
        if (columns.Any(c => c.Index >= InputSchema.Count) && !needed.Any(c => c.Index == textColumn)) needed.Add(InputSchema[textColumn]);
        return needed;
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
        new MappedRow(this, input, activeColumns.Select(c => c.Index).ToHashSet());

    private sealed class MappedRow(ScoringRowMapper parent, DataViewRow input, HashSet<int> active) : DataViewRow
    {
        private readonly RowScorer _scorer = new(parent._transformer, input, parent.TextColumn);

        public override DataViewSchema Schema => parent.OutputSchema;

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < parent.InputSchema.Count) return input.GetGetter<TValue>(input.Schema[column.Index]);
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the row was made; ask for it in activeColumns.");
            return RowScorer.Cast<TValue>(_scorer.Getter(column.Index - parent.InputSchema.Count), column);
        }
    }

    private readonly LanguageModelTransformer _transformer = transformer;
    private int TextColumn => textColumn;
}
