using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Data;
using MlNet.Rnn.Models;

namespace MlNet.Rnn.Scoring;

/// <summary>
/// The lazy result of <see cref="RecurrentPredictionTransformer.Transform"/>: the input's columns followed by the model's.
/// Nothing is computed until a cursor moves. A cursor that needs an output column reads up to a batch of rows ahead,
/// scores them in one forward pass of its own model copy, and serves them one by one; input columns it must also serve
/// are held for the batch (<see cref="ColumnCache"/>). Memory is bounded by the batch; cursor sets score in parallel.
/// </summary>
internal sealed class ScoredDataView : IDataView
{
    private readonly IDataView _input;
    private readonly RecurrentPredictionTransformer _transformer;

    public ScoredDataView(IDataView input, RecurrentPredictionTransformer transformer)
    {
        _input = input;
        _transformer = transformer;
        Schema = transformer.Outputs.AppendTo(input.Schema);
    }

    public bool CanShuffle => _input.CanShuffle;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var (inputColumns, served, outputs) = Split(columnsNeeded);
        var cursor = _input.GetRowCursor(inputColumns, rand);
        return new ScoringCursor(this, cursor, served, outputs, _transformer.MaxDegreeOfParallelism);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        var (inputColumns, served, outputs) = Split(columnsNeeded);
        var cursors = _input.GetRowCursorSet(inputColumns, n, rand);
        int threads = Math.Max(1, _transformer.MaxDegreeOfParallelism / cursors.Length);
        return [.. cursors.Select(cursor => (DataViewRowCursor)new ScoringCursor(this, cursor, served, outputs, threads))];
    }

    /// <summary>
    /// The input columns to read (the feature column too when an output is needed), those the cursor serves (the ones
    /// asked for), and the outputs asked for.
    /// </summary>
    private (List<DataViewSchema.Column> Input, bool[] Served, bool[] Outputs) Split(IEnumerable<DataViewSchema.Column> columnsNeeded)
    {
        int inputCount = _input.Schema.Count;
        var input = new List<DataViewSchema.Column>();
        var served = new bool[inputCount];
        var outputs = new bool[_transformer.Outputs.Count];
        foreach (var column in columnsNeeded)
        {
            if (column.Index < inputCount)
            {
                input.Add(_input.Schema[column.Index]);
                served[column.Index] = true;
            }
            else outputs[column.Index - inputCount] = true;
        }
        if (outputs.Any(needed => needed)) input.Add(_input.Schema[_transformer.FeatureColumnName]);
        return (input, served, outputs);
    }

    private sealed class ScoringCursor : DataViewRowCursor
    {
        private const int MaxStagedValues = 1 << 22; // 16 MB of staged floats per cursor, whatever the batch size

        private readonly ScoredDataView _parent;
        private readonly DataViewRowCursor _input;
        private readonly int _inputCount;
        private readonly bool[] _outputs;
        private readonly bool _scoring, _hiddenState;
        private readonly ColumnCache?[] _caches;
        private readonly SequenceReader? _reader;
        private readonly BatchScorer? _scorer;
        private readonly ValueGetter<DataViewRowId> _inputIds;
        private DataViewRowId[] _ids = [];
        private long[] _batches = [];
        private readonly int _capacity;
        private int _count, _slot;
        private long _position = -1;

        public ScoringCursor(ScoredDataView parent, DataViewRowCursor input, bool[] served, bool[] outputs, int maxDegreeOfParallelism)
        {
            _parent = parent;
            _input = input;
            _inputCount = input.Schema.Count;
            _outputs = outputs;
            var transformer = parent._transformer;
            _scoring = outputs.Any(needed => needed);
            _hiddenState = Enumerable.Range(0, outputs.Length).Any(i => outputs[i] && transformer.Outputs.KindOf(i) == OutputColumns.Kind.HiddenState);
            _caches = new ColumnCache?[_inputCount];
            for (int i = 0; i < _inputCount; i++)
                if (served[i]) _caches[i] = ColumnCache.Create(input, input.Schema[i]);
            _inputIds = input.GetIdGetter();
            _capacity = _scoring ? transformer.ScoringBatchSize : 1;
            if (_scoring)
            {
                _reader = transformer.Column.CreateReader(input);
                _scorer = new BatchScorer(transformer.Model, transformer.Column, maxDegreeOfParallelism);
            }
        }

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _position;

        public override long Batch => _count == 0 ? 0 : _batches[_slot];

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index < _inputCount ? _caches[column.Index] is not null : _outputs[column.Index - _inputCount];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was made; ask for it in columnsNeeded.");
            Delegate getter = column.Index < _inputCount
                ? _caches[column.Index]!.Getter(() => _slot)
                : _parent._transformer.Outputs.MakeGetter(column.Index - _inputCount, _scorer!, () => _slot);
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

        /// <summary>Reads the next batch of input rows and scores them; false at the end of the input.</summary>
        private bool Fill()
        {
            _count = 0;
            _slot = 0;
            _scorer?.Clear();
            while (_count < _capacity && (_scorer is null || _scorer.StagedValues < MaxStagedValues) && _input.MoveNext())
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
                if (_scoring)
                {
                    _reader!.Read(_input.Position);
                    _scorer!.Add(_reader);
                }
                _count++;
            }
            if (_count == 0) return false;
            _scorer?.Score(_hiddenState);
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _input.Dispose();
            base.Dispose(disposing);
        }
    }
}
