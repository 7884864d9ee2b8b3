using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Data;

namespace MlNet.Rnn.Scoring;

/// <summary>
/// Maps single rows, for <c>PredictionEngine</c>: the outputs of a row are computed on first read, as a batch of one,
/// in this mapper's own workspace, and kept until the input row moves. Input columns pass through.
/// </summary>
internal sealed class SingleRowMapper : IRowToRowMapper
{
    private readonly RecurrentPredictionTransformer _transformer;

    public SingleRowMapper(RecurrentPredictionTransformer transformer, DataViewSchema inputSchema)
    {
        _transformer = transformer;
        InputSchema = inputSchema;
        OutputSchema = transformer.Outputs.AppendTo(inputSchema);
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var columns = dependingColumns.ToArray();
        var needed = columns.Where(c => c.Index < InputSchema.Count).Select(c => InputSchema[c.Index]).ToList();
        if (columns.Any(c => c.Index >= InputSchema.Count)) needed.Add(InputSchema[_transformer.FeatureColumnName]);
        return needed;
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
        new MappedRow(this, input, activeColumns.Select(c => c.Index).ToHashSet());

    private sealed class MappedRow : DataViewRow
    {
        private readonly SingleRowMapper _parent;
        private readonly DataViewRow _input;
        private readonly HashSet<int> _active;
        private readonly Lazy<(SequenceReader Reader, BatchScorer Scorer)> _workspace;
        private readonly bool _hiddenState;
        private long _scoredPosition = -1;

        public MappedRow(SingleRowMapper parent, DataViewRow input, HashSet<int> active)
        {
            _parent = parent;
            _input = input;
            _active = active;
            var transformer = parent._transformer;
            int inputCount = parent.InputSchema.Count;
            _hiddenState = active.Any(i => i >= inputCount && transformer.Outputs.KindOf(i - inputCount) == OutputColumns.Kind.HiddenState);
            _workspace = new(() => (transformer.Column.CreateReader(input), new BatchScorer(transformer.Model, transformer.Column, maxDegreeOfParallelism: 1)));
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
            Delegate getter = _parent._transformer.Outputs.MakeGetter(column.Index - inputCount, _workspace.Value.Scorer, Current);
            return getter as ValueGetter<TValue> ?? throw new InvalidOperationException(
                $"Column '{column.Name}' is of type {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        /// <summary>Scores the input's current row unless it already has been; the row's index in the scorer (always 0).</summary>
        private int Current()
        {
            if (_scoredPosition != _input.Position || _input.Position < 0)
            {
                var (reader, scorer) = _workspace.Value;
                reader.Read(_input.Position);
                scorer.Clear();
                scorer.Add(reader);
                scorer.Score(_hiddenState);
                _scoredPosition = _input.Position;
            }
            return 0;
        }
    }
}
