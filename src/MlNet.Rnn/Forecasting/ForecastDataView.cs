using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Forecasting;

namespace MlNet.Rnn.Forecasting;

/// <summary>
/// The lazy result of <see cref="RecurrentForecastingTransformer.Transform"/>: the input's columns followed by the forecast
/// and bound columns. A cursor that needs them starts a <see cref="ForecastEngine"/> of its own at the end of the fitted
/// series, adds each row's observation as it moves and forecasts from the updated window. Rows are read in order by one
/// cursor (a cursor set has one cursor), since every forecast depends on the rows before it.
/// </summary>
internal sealed class ForecastDataView(IDataView input, RecurrentForecastingTransformer transformer, DataViewSchema schema) : IDataView
{

    /// <summary>What each added column holds: 0 forecast, 1 lower bound, 2 upper bound.</summary>
    private readonly int[] _kinds = [.. transformer.OutputNames.Select((name, kind) => (name, kind)).Where(o => o.name is not null).Select(o => o.kind)];

    private RecurrentForecastingTransformer Transformer => transformer;

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; } = schema;

    public long? GetRowCount() => input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        int inputCount = input.Schema.Count;
        var needed = columnsNeeded.ToArray();
        var outputs = new bool[Schema.Count - inputCount];
        var inputColumns = new List<DataViewSchema.Column>();
        foreach (var column in needed)
        {
            if (column.Index < inputCount) inputColumns.Add(input.Schema[column.Index]);
            else outputs[column.Index - inputCount] = true;
        }
        bool forecasting = outputs.Any(o => o);
        if (forecasting) inputColumns.AddRange(transformer.Columns.Active(input.Schema));
        return new Cursor(this, input.GetRowCursor(inputColumns.Distinct()), outputs, forecasting);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ForecastDataView _parent;
        private readonly DataViewRowCursor _input;
        private readonly int _inputCount;
        private readonly bool[] _outputs;
        private readonly SeriesColumns.Reader? _reader;
        private readonly ForecastEngine? _engine;
        private Forecast? _forecast;

        public Cursor(ForecastDataView parent, DataViewRowCursor input, bool[] outputs, bool forecasting)
        {
            _parent = parent;
            _input = input;
            _inputCount = parent.Schema.Count - outputs.Length;
            _outputs = outputs;
            if (forecasting)
            {
                var transformer = parent.Transformer;
                _engine = transformer.CopyForecaster().CreateEngine();
                _reader = transformer.Columns.CreateReader(input, transformer.Forecaster.ExogenousFeatures);
            }
        }

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index < _inputCount ? _input.IsColumnActive(_input.Schema[column.Index]) : _outputs[column.Index - _inputCount];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < _inputCount) return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was made; ask for it in columnsNeeded.");
            int output = _parent._kinds[column.Index - _inputCount];
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                var forecast = _forecast ?? throw new InvalidOperationException("The cursor is not on a row; call MoveNext first.");
                float[] values = output switch { 0 => forecast.Values, 1 => forecast.LowerBound, _ => forecast.UpperBound };
                var editor = VBufferEditor.Create(ref value, values.Length);
                values.CopyTo(editor.Values);
                value = editor.Commit();
            };
            return getter as ValueGetter<TValue> ?? throw new InvalidOperationException(
                $"Column '{column.Name}' is of type {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        public override bool MoveNext()
        {
            if (!_input.MoveNext()) return false;
            if (_engine is not null)
            {
                _reader!.Read(_input.Position);
                _engine.Add(_reader.Observation, _reader.Exogenous);
                _forecast = _engine.Predict();
            }
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _input.Dispose();
            base.Dispose(disposing);
        }
    }
}
