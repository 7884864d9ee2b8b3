using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Scoring;

namespace MlNet.Rnn.SequenceToSequence;

/// <summary>
/// The lazy result of <see cref="SequenceToSequenceTransformer.Transform"/>: the input's columns followed by the predicted
/// label. A cursor that needs the prediction reads up to a scoring batch of rows ahead, decodes them at once in a model copy
/// of its own, and serves them one by one; the input columns it must also serve are held for the batch (<see cref="ColumnCache"/>).
/// </summary>
internal sealed class DecodedDataView(IDataView input, SequenceToSequenceTransformer transformer, DataViewSchema schema) : IDataView
{
    private readonly IDataView _input = input;
    private readonly SequenceToSequenceTransformer _transformer = transformer;

    public bool CanShuffle => _input.CanShuffle;

    public DataViewSchema Schema { get; } = schema;

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var (inputColumns, served, decoding) = Split(columnsNeeded);
        return new Cursor(this, _input.GetRowCursor(inputColumns, rand), served, decoding);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        var (inputColumns, served, decoding) = Split(columnsNeeded);
        return [.. _input.GetRowCursorSet(inputColumns, n, rand).Select(cursor => (DataViewRowCursor)new Cursor(this, cursor, served, decoding))];
    }

    private (List<DataViewSchema.Column> Input, bool[] Served, bool Decoding) Split(IEnumerable<DataViewSchema.Column> columnsNeeded)
    {
        int inputCount = _input.Schema.Count;
        var columns = new List<DataViewSchema.Column>();
        var served = new bool[inputCount];
        bool decoding = false;
        foreach (var column in columnsNeeded)
        {
            if (column.Index < inputCount)
            {
                columns.Add(_input.Schema[column.Index]);
                served[column.Index] = true;
            }
            else decoding = true;
        }
        if (decoding) columns.Add(_input.Schema[_transformer.FeatureColumnName]);
        return (columns, served, decoding);
    }

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly DecodedDataView _parent;
        private readonly DataViewRowCursor _input;
        private readonly int _inputCount;
        private readonly bool _decoding;
        private readonly ColumnCache?[] _caches;
        private readonly KeyVectorReader? _reader;
        private readonly SequenceToSequenceModel? _model;
        private readonly ValueGetter<DataViewRowId> _inputIds;
        private readonly List<int[]> _sources = [];
        private readonly int _capacity;
        private DataViewRowId[] _ids = [];
        private long[] _batches = [];
        private uint[][] _predictions = [];
        private int _count, _slot;
        private long _position = -1;

        public Cursor(DecodedDataView parent, DataViewRowCursor input, bool[] served, bool decoding)
        {
            _parent = parent;
            _input = input;
            _inputCount = input.Schema.Count;
            _decoding = decoding;
            _caches = new ColumnCache?[_inputCount];
            for (int i = 0; i < _inputCount; i++)
                if (served[i]) _caches[i] = ColumnCache.Create(input, input.Schema[i]);
            _inputIds = input.GetIdGetter();
            var transformer = parent._transformer;
            _capacity = decoding ? transformer.ScoringBatchSize : 1;
            if (decoding)
            {
                _reader = transformer.Source.CreateReader(input);
                _model = transformer.CopyModel();
            }
        }

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _position;

        public override long Batch => _count == 0 ? 0 : _batches[_slot];

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index < _inputCount ? _caches[column.Index] is not null : _decoding;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was made; ask for it in columnsNeeded.");
            Delegate getter = column.Index < _inputCount
                ? _caches[column.Index]!.Getter(() => _slot)
                : KeySequenceColumn.MakeGetter(_parent._transformer.OutputType.ItemType as KeyDataViewType ?? throw new InvalidOperationException(), () => _predictions[_slot]);
            return getter as ValueGetter<TValue> ?? throw new InvalidOperationException(
                $"Column '{column.Name}' is of type {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = _ids[_slot];

        public override bool MoveNext()
        {
            if (++_slot >= _count && !Fill()) return false;
            _position++;
            return true;
        }

        /// <summary>Reads the next batch of input rows and decodes them; false at the end of the input.</summary>
        private bool Fill()
        {
            _count = 0;
            _slot = 0;
            _sources.Clear();
            while (_count < _capacity && _input.MoveNext())
            {
                if (_ids.Length <= _count)
                {
                    int size = Math.Max(_count + 1, _ids.Length * 2);
                    Array.Resize(ref _ids, size);
                    Array.Resize(ref _batches, size);
                }
                _inputIds(ref _ids[_count]);
                _batches[_count] = _input.Batch;
                foreach (var cache in _caches) cache?.Store(_count);
                if (_decoding)
                {
                    _sources.Add(_reader!.ReadNonEmpty(_input.Position, "source"));
                }
                _count++;
            }
            if (_count == 0) return false;
            if (_decoding) _predictions = _parent._transformer.Decode(_model!, _sources);
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _input.Dispose();
            base.Dispose(disposing);
        }
    }
}

/// <summary>
/// Maps single rows, for <c>PredictionEngine</c>: a row's prediction is decoded on first read, in this mapper's own model
/// copy, and kept until the input row moves. Input columns pass through.
/// </summary>
internal sealed class DecodingRowMapper(SequenceToSequenceTransformer transformer, DataViewSchema inputSchema, DataViewSchema outputSchema) : IRowToRowMapper
{
    public DataViewSchema InputSchema { get; } = inputSchema;

    public DataViewSchema OutputSchema { get; } = outputSchema;

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var columns = dependingColumns.ToArray();
        var needed = columns.Where(c => c.Index < InputSchema.Count).Select(c => InputSchema[c.Index]).ToList();
        if (columns.Any(c => c.Index >= InputSchema.Count)) needed.Add(InputSchema[_transformer.FeatureColumnName]);
        return needed;
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
        new MappedRow(this, input, activeColumns.Select(c => c.Index).ToHashSet());

    private sealed class MappedRow(DecodingRowMapper parent, DataViewRow input, HashSet<int> active) : DataViewRow
    {
        private readonly Lazy<(KeyVectorReader Reader, SequenceToSequenceModel Model)> _workspace =
            new(() => (parent._transformer.Source.CreateReader(input), parent._transformer.CopyModel()));
        private long _decodedPosition = -1;
        private uint[] _prediction = [];

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
            Delegate getter = KeySequenceColumn.MakeGetter((KeyDataViewType)parent._transformer.OutputType.ItemType, Current);
            return getter as ValueGetter<TValue> ?? throw new InvalidOperationException(
                $"Column '{column.Name}' is of type {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        private uint[] Current()
        {
            if (_decodedPosition != input.Position || input.Position < 0)
            {
                var (reader, model) = _workspace.Value;
                _prediction = parent._transformer.Decode(model, [reader.ReadNonEmpty(input.Position, "source")])[0];
                _decodedPosition = input.Position;
            }
            return _prediction;
        }
    }

    private readonly SequenceToSequenceTransformer _transformer = transformer;
}
