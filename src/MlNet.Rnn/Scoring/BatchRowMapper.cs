using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Scoring;

/// <summary>
/// Maps single rows, for <c>PredictionEngine</c>, for every task: a row's added columns are computed on first read, as a batch
/// of one, by this row's own <see cref="IBatchScorer"/> (made on first read: creating the mapper or the engine copies nothing),
/// and kept until the input row moves. Input columns pass through.
/// </summary>
internal sealed class BatchRowMapper : IRowToRowMapper
{
    private readonly IBatchScoringTask _task;

    public BatchRowMapper(IBatchScoringTask task, DataViewSchema inputSchema)
    {
        _task = task;
        InputSchema = inputSchema;
        OutputSchema = BatchScoredDataView.AppendTo(inputSchema, task);
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var columns = dependingColumns.ToArray();
        var needed = columns.Where(c => c.Index < InputSchema.Count).Select(c => InputSchema[c.Index]).ToList();
        if (columns.Any(c => c.Index >= InputSchema.Count))
            foreach (var column in _task.Dependencies(InputSchema))
                if (!needed.Any(c => c.Index == column.Index)) needed.Add(column);
        return needed;
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
        new MappedRow(this, input, activeColumns.Select(c => c.Index).ToHashSet());

    private sealed class MappedRow : DataViewRow
    {
        private readonly BatchRowMapper _parent;
        private readonly DataViewRow _input;
        private readonly HashSet<int> _active;
        private readonly Lazy<IBatchScorer> _scorer;
        private long _scoredPosition = -1;

        public MappedRow(BatchRowMapper parent, DataViewRow input, HashSet<int> active)
        {
            _parent = parent;
            _input = input;
            _active = active;
            _scorer = new(() => parent._task.CreateScorer(input, maxDegreeOfParallelism: 1));
        }

        public override DataViewSchema Schema => _parent.OutputSchema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int inputCount = _parent.InputSchema.Count;
            if (column.Index < inputCount) return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the row was made; ask for it in activeColumns.");
            Delegate getter = _scorer.Value.Getter(column.Index - inputCount, Current);
            return getter as ValueGetter<TValue> ?? throw new InvalidOperationException(
                $"Column '{column.Name}' is of type {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        /// <summary>Scores the input's current row unless it already has been; the row's index in the scorer (always 0).</summary>
        private int Current()
        {
            if (_scoredPosition != _input.Position || _input.Position < 0)
            {
                var scorer = _scorer.Value;
                scorer.Clear();
                scorer.Stage(_input.Position);
                scorer.Score();
                _scoredPosition = _input.Position;
            }
            return 0;
        }
    }
}
