using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;

namespace MlNet.Rnn.Scoring;

/// <summary>
/// The lazy result of every recurrent transformer's <c>Transform</c>: the input's columns followed by the task's. Nothing is
/// computed until a cursor moves. A cursor that needs an added column reads up to a scoring batch of rows ahead, stages them
/// in its own <see cref="IBatchScorer"/>, scores them in one pass over the shared model, and serves them one by one; the input
/// columns it must also serve are held for the batch (<see cref="ColumnCache"/>). Memory is bounded by the batch; the
/// cursors of a cursor set score in parallel, each in its own workspace.
/// <para>It is also the step <c>mlContext.Model.ConvertToOnnx</c> walks back to (ML.NET's internal <c>ITransformCanSaveOnnx</c>): a
/// <see cref="RecurrentPredictionTransformer"/> writes its graph (<see cref="RecurrentOnnxExporter"/>); every other task, and what the
/// exporter does not support yet, throws <see cref="NotSupportedException"/> rather than letting ML.NET write a graph that takes the
/// outputs as inputs.</para>
/// </summary>
internal sealed class BatchScoredDataView : IDataView, ITransformCanSaveOnnx
{
    private readonly IDataView _input;
    private readonly IBatchScoringTask _task;

    public BatchScoredDataView(IDataView input, IBatchScoringTask task)
    {
        _input = input;
        _task = task;
        Schema = AppendTo(input.Schema, task);
    }

    public bool CanShuffle => !_task.InOrder && _input.CanShuffle;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _input.GetRowCount();

    /// <summary>The view this one adds columns to (what ML.NET's ONNX exporter walks back to).</summary>
    public IDataView Source => _input;

    /// <summary>True, so that the exporter calls <see cref="SaveAsOnnx"/>, which throws for what cannot be exported.</summary>
    public bool CanSaveOnnx(OnnxContext ctx) => true;

    /// <summary>Writes the task's nodes into the ONNX graph; throws <see cref="NotSupportedException"/> for what is not supported.</summary>
    public void SaveAsOnnx(OnnxContext ctx)
    {
        if (_task is RecurrentPredictionTransformer transformer) RecurrentOnnxExporter.Save(ctx, transformer, _input);
        else throw new NotSupportedException(
            $"ONNX export of {_task.GetType().Name} is not supported: its output comes from a generation, beam-search or forecasting loop around " +
            $"the network, which this export does not write; of the recurrent transformers {nameof(RecurrentPredictionTransformer)} (classification, " +
            "regression, tagging) exports.");
    }

    /// <summary>Not a saved step: the transformer saves the model (<c>mlContext.Model.Save</c>).</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("A scored view is not saved; save the transformer that made it with mlContext.Model.Save.");

    /// <summary><paramref name="inputSchema"/> followed by the task's columns.</summary>
    public static DataViewSchema AppendTo(DataViewSchema inputSchema, IBatchScoringTask task)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var column in task.OutputColumns) builder.AddColumn(column.Name, column.Type, column.Annotations);
        return builder.ToSchema();
    }

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var (inputColumns, served, outputs) = Split(columnsNeeded);
        var cursor = _input.GetRowCursor(inputColumns, _task.InOrder ? null : rand);
        return new Cursor(this, cursor, served, outputs, _task.MaxDegreeOfParallelism);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        if (_task.InOrder) return [GetRowCursor(columnsNeeded)];
        var (inputColumns, served, outputs) = Split(columnsNeeded);
        var cursors = _input.GetRowCursorSet(inputColumns, n, rand);
        int threads = Math.Max(1, _task.MaxDegreeOfParallelism / cursors.Length);
        return [.. cursors.Select(cursor => (DataViewRowCursor)new Cursor(this, cursor, served, outputs, threads))];
    }

    /// <summary>
    /// The input columns to read (the task's dependencies too when an added column is needed), those the cursor serves (the ones
    /// asked for), and the added columns asked for.
    /// </summary>
    private (List<DataViewSchema.Column> Input, bool[] Served, bool[] Outputs) Split(IEnumerable<DataViewSchema.Column> columnsNeeded)
    {
        int inputCount = _input.Schema.Count;
        var input = new List<DataViewSchema.Column>();
        var served = new bool[inputCount];
        var outputs = new bool[_task.OutputColumns.Length];
        foreach (var column in columnsNeeded)
        {
            if (column.Index < inputCount)
            {
                input.Add(_input.Schema[column.Index]);
                served[column.Index] = true;
            }
            else outputs[column.Index - inputCount] = true;
        }
        if (outputs.Any(needed => needed))
            foreach (var column in _task.Dependencies(_input.Schema))
                if (!input.Any(c => c.Index == column.Index)) input.Add(column);
        return (input, served, outputs);
    }

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly BatchScoredDataView _parent;
        private readonly DataViewRowCursor _input;
        private readonly int _inputCount;
        private readonly bool[] _outputs;
        private readonly ColumnCache?[] _caches;
        private readonly IBatchScorer? _scorer;
        private readonly ValueGetter<DataViewRowId> _inputIds;
        private readonly int _capacity;
        private DataViewRowId[] _ids = [];
        private long[] _batches = [];
        private int _count, _slot;
        private long _position = -1;

        public Cursor(BatchScoredDataView parent, DataViewRowCursor input, bool[] served, bool[] outputs, int maxDegreeOfParallelism)
        {
            _parent = parent;
            _input = input;
            _inputCount = input.Schema.Count;
            _outputs = outputs;
            _caches = new ColumnCache?[_inputCount];
            for (int i = 0; i < _inputCount; i++)
                if (served[i]) _caches[i] = ColumnCache.Create(input, input.Schema[i]);
            _inputIds = input.GetIdGetter();
            bool scoring = outputs.Any(needed => needed);
            _capacity = scoring ? parent._task.ScoringBatchSize : 1;
            if (scoring) _scorer = parent._task.CreateScorer(input, maxDegreeOfParallelism);
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
                : _scorer!.Getter(column.Index - _inputCount, () => _slot);
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
            while (_count < _capacity && (_scorer is null || !_scorer.IsFull) && _input.MoveNext())
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
                _scorer?.Stage(_input.Position);
                _count++;
            }
            if (_count == 0) return false;
            _scorer?.Score();
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _input.Dispose();
            base.Dispose(disposing);
        }
    }
}
