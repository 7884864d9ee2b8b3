using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MlNet.Rnn.Forecasting;

/// <summary>
/// The columns a forecaster reads, one row per observation in time order: the series (a Single) and K exogenous features
/// (Single columns, or fixed-size Single vectors, concatenated in the given order). Checks the types once and each row's
/// values, naming the row, the column and the value.
/// </summary>
internal sealed class SeriesColumns
{
    public SeriesColumns(string inputColumnName, string[] exogenousColumnNames)
    {
        InputColumnName = inputColumnName;
        ExogenousColumnNames = exogenousColumnNames;
    }

    /// <summary>The series column.</summary>
    public string InputColumnName { get; }

    /// <summary>The exogenous feature columns.</summary>
    public string[] ExogenousColumnNames { get; }

    /// <summary>K: exogenous values per observation in <paramref name="schema"/>; throws naming a missing or mistyped column.</summary>
    public int Check(IExceptionContext ectx, DataViewSchema schema)
    {
        var input = schema.GetColumnOrNull(InputColumnName) ?? throw ectx.ExceptSchemaMismatch(nameof(schema), "input", InputColumnName);
        if (input.Type != NumberDataViewType.Single) throw ectx.ExceptSchemaMismatch(nameof(schema), "input", InputColumnName, "Single", input.Type.ToString());
        int K = 0;
        foreach (string name in ExogenousColumnNames)
        {
            var column = schema.GetColumnOrNull(name) ?? throw ectx.ExceptSchemaMismatch(nameof(schema), "exogenous feature", name);
            K += column.Type switch
            {
                _ when column.Type == NumberDataViewType.Single => 1,
                VectorDataViewType { ItemType: var item, Size: > 0 and var size } when item == NumberDataViewType.Single => size,
                _ => throw ectx.ExceptSchemaMismatch(nameof(schema), "exogenous feature", name, "Single or a fixed-size vector of Single", column.Type.ToString()),
            };
        }
        return K;
    }

    /// <summary>Checks the columns in a schema shape (estimator time).</summary>
    public void Check(IExceptionContext ectx, SchemaShape shape)
    {
        if (!shape.TryFindColumn(InputColumnName, out var input)) throw ectx.ExceptSchemaMismatch(nameof(shape), "input", InputColumnName);
        if (input.Kind != SchemaShape.Column.VectorKind.Scalar || input.IsKey || input.ItemType != NumberDataViewType.Single)
            throw ectx.ExceptSchemaMismatch(nameof(shape), "input", InputColumnName, "Single", Data.SequenceColumn.Describe(input));
        foreach (string name in ExogenousColumnNames)
        {
            if (!shape.TryFindColumn(name, out var column)) throw ectx.ExceptSchemaMismatch(nameof(shape), "exogenous feature", name);
            if (column.IsKey || column.ItemType != NumberDataViewType.Single || column.Kind == SchemaShape.Column.VectorKind.VariableVector)
                throw ectx.ExceptSchemaMismatch(nameof(shape), "exogenous feature", name, "Single or a fixed-size vector of Single", Data.SequenceColumn.Describe(column));
        }
    }

    /// <summary>The columns to activate in <paramref name="schema"/>.</summary>
    public IEnumerable<DataViewSchema.Column> Active(DataViewSchema schema) => ExogenousColumnNames.Prepend(InputColumnName).Select(name => schema[name]);

    /// <summary>A reader of the observation and its exogenous values from a row with the columns active.</summary>
    public Reader CreateReader(DataViewRow row, int exogenousFeatures) => new(this, row, exogenousFeatures);

    /// <summary>Reads one row: the observation and its K exogenous values, all checked finite.</summary>
    internal sealed class Reader
    {
        private readonly SeriesColumns _columns;
        private readonly ValueGetter<float> _input;
        private readonly Delegate[] _exogenous;
        private readonly float[] _values;
        private VBuffer<float> _vector;
        private float _observation;

        public Reader(SeriesColumns columns, DataViewRow row, int exogenousFeatures)
        {
            _columns = columns;
            _input = row.GetGetter<float>(row.Schema[columns.InputColumnName]);
            _exogenous = [.. columns.ExogenousColumnNames.Select(name => row.Schema[name]).Select(column => column.Type is VectorDataViewType
                ? (Delegate)row.GetGetter<VBuffer<float>>(column) : row.GetGetter<float>(column))];
            _values = new float[exogenousFeatures];
        }

        /// <summary>The observation of the last row read.</summary>
        public float Observation => _observation;

        /// <summary>The K exogenous values of the last row read.</summary>
        public ReadOnlySpan<float> Exogenous => _values;

        /// <summary>Reads the current row; <paramref name="row"/> is its index, for messages.</summary>
        public void Read(long row)
        {
            _input(ref _observation);
            if (!float.IsFinite(_observation)) throw NotFinite(row, _columns.InputColumnName, _observation);
            int k = 0;
            for (int c = 0; c < _exogenous.Length; c++)
            {
                string name = _columns.ExogenousColumnNames[c];
                if (_exogenous[c] is ValueGetter<float> scalar)
                {
                    scalar(ref _values[k]);
                    if (!float.IsFinite(_values[k])) throw NotFinite(row, name, _values[k]);
                    k++;
                    continue;
                }
                ((ValueGetter<VBuffer<float>>)_exogenous[c])(ref _vector);
                _vector.CopyTo(_values.AsSpan(k, _vector.Length));
                for (int i = 0; i < _vector.Length; i++)
                    if (!float.IsFinite(_values[k + i])) throw NotFinite(row, $"{name}[{i}]", _values[k + i]);
                k += _vector.Length;
            }
        }

        // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
        private static InvalidOperationException NotFinite(long row, string column, float value) => new(string.Create(CultureInfo.InvariantCulture,
            $"Row {row} of column '{column}' is {value}; every observation of a series must be a finite number (fill or drop missing values first, " +
            $"e.g. with ReplaceMissingValues)."));
    }
}
