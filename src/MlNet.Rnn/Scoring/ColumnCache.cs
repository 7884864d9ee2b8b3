using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Scoring;

/// <summary>
/// Holds the values of one input column for the rows of a scoring batch, so a cursor that reads a batch ahead can still
/// serve every row's input columns. Vectors are copied (a getter may reuse its buffers); scalars are stored by value.
/// </summary>
internal abstract class ColumnCache
{
    /// <summary>A cache of <paramref name="column"/> read from <paramref name="source"/>.</summary>
    public static ColumnCache Create(DataViewRow source, DataViewSchema.Column column)
    {
        var type = column.Type is VectorDataViewType vector
            ? typeof(VectorCache<>).MakeGenericType(vector.ItemType.RawType)
            : typeof(ScalarCache<>).MakeGenericType(column.Type.RawType);
        return (ColumnCache)Activator.CreateInstance(type, source, column)!;
    }

    /// <summary>Copies the source row's current value into slot <paramref name="slot"/>.</summary>
    public abstract void Store(int slot);

    /// <summary>A getter of the value in slot <paramref name="slot"/>().</summary>
    public abstract Delegate Getter(Func<int> slot);

    private sealed class ScalarCache<T>(DataViewRow source, DataViewSchema.Column column) : ColumnCache
    {
        private readonly ValueGetter<T> _source = source.GetGetter<T>(column);
        private T[] _values = [];

        public override void Store(int slot)
        {
            if (_values.Length <= slot) Array.Resize(ref _values, Math.Max(slot + 1, _values.Length * 2));
            _source(ref _values[slot]);
        }

        public override Delegate Getter(Func<int> slot) => (ValueGetter<T>)((ref T value) => value = _values[slot()]);
    }

    private sealed class VectorCache<T>(DataViewRow source, DataViewSchema.Column column) : ColumnCache
    {
        private readonly ValueGetter<VBuffer<T>> _source = source.GetGetter<VBuffer<T>>(column);
        private VBuffer<T> _scratch;
        private VBuffer<T>[] _values = [];

        public override void Store(int slot)
        {
            if (_values.Length <= slot) Array.Resize(ref _values, Math.Max(slot + 1, _values.Length * 2));
            _source(ref _scratch);
            _scratch.CopyTo(ref _values[slot]);
        }

        public override Delegate Getter(Func<int> slot) => (ValueGetter<VBuffer<T>>)((ref VBuffer<T> value) => _values[slot()].CopyTo(ref value));
    }
}
