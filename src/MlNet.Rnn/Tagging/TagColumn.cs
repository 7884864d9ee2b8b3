using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Data.Conversion;
using Microsoft.ML.Runtime;

namespace MlNet.Rnn.Tagging;

/// <summary>
/// A column of tags per step: a vector (fixed or variable size) of keys of C values, key k ≥ 1 read as tag index k − 1.
/// Checks the column's type once and reads each row's tags, naming the row and the fix when one is missing; gives the
/// tag names (the key values as text, else "0", "1", …).
/// </summary>
internal sealed class TagColumn
{
    /// <summary>What the error messages say the column must be.</summary>
    public const string Expected = "a vector of keys (e.g. from MapValueToKey), one per input step";

    private TagColumn(DataViewSchema.Column column, int tagCount)
    {
        Column = column;
        TagCount = tagCount;
    }

    /// <summary>The schema column.</summary>
    public DataViewSchema.Column Column { get; }

    /// <summary>C: the key count.</summary>
    public int TagCount { get; }

    /// <summary>Finds and checks the column; throws naming it, its type and what is expected.</summary>
    public static TagColumn FromSchema(IExceptionContext ectx, DataViewSchema schema, string name, string role)
    {
        var column = schema.GetColumnOrNull(name) ?? throw ectx.ExceptSchemaMismatch(nameof(schema), role, name);
        if (column.Type is VectorDataViewType { ItemType: KeyDataViewType key } && key.RawType == typeof(uint) && key.Count is >= 1 and < int.MaxValue)
            return new TagColumn(column, (int)key.Count);
        throw ectx.ExceptSchemaMismatch(nameof(schema), role, name, Expected, column.Type.ToString());
    }

    /// <summary>Checks the column in a schema shape (estimator time).</summary>
    public static SchemaShape.Column Check(IExceptionContext ectx, SchemaShape shape, string name, string role)
    {
        if (!shape.TryFindColumn(name, out var column)) throw ectx.ExceptSchemaMismatch(nameof(shape), role, name);
        if (column.Kind == SchemaShape.Column.VectorKind.Scalar || !column.IsKey || column.ItemType.RawType != typeof(uint))
            throw ectx.ExceptSchemaMismatch(nameof(shape), role, name, Expected, Data.SequenceColumn.Describe(column));
        return column;
    }

    /// <summary>The tag names: the key values as text when the column has them (C of them), else the indices.</summary>
    public string[] TagNames()
    {
        var keyValues = Column.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues);
        if (keyValues?.Type is not VectorDataViewType { Size: var size } type || size != TagCount) return Core.Tagging.TaggingMetrics.IndexNames(TagCount);
        var method = typeof(TagColumn).GetMethod(nameof(KeyValuesAsText), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type.ItemType.RawType);
        return (string[])method.Invoke(null, [Column.Annotations, type.ItemType])!;
    }

    /// <summary>A reader of this column's tags from a row that has it active.</summary>
    public Reader CreateReader(DataViewRow row) => new(this, row.GetGetter<VBuffer<uint>>(row.Schema[Column.Name]));

    private static string[] KeyValuesAsText<T>(DataViewSchema.Annotations annotations, DataViewType itemType)
    {
        VBuffer<T> values = default;
        annotations.GetValue(AnnotationUtils.Kinds.KeyValues, ref values);
        var convert = Conversions.DefaultInstance.GetStringConversion<T>(itemType);
        var names = new List<string>();
        var builder = new System.Text.StringBuilder();
        foreach (var value in values.DenseValues())
        {
            T item = value;
            builder.Clear();
            convert(in item, ref builder);
            names.Add(builder.ToString());
        }
        return [.. names];
    }

    /// <summary>Reads one row's tags (dense, sparse vectors densified).</summary>
    internal sealed class Reader(TagColumn column, ValueGetter<VBuffer<uint>> getter)
    {
        private VBuffer<uint> _buffer;
        private int[] _tags = [];
        private int _length;

        /// <summary>The tags of the last row read: indices in [0, C), or −1 where the key is missing (0).</summary>
        public ReadOnlySpan<int> Tags => _tags.AsSpan(0, _length);

        /// <summary>Whether the last row read has a missing key.</summary>
        public bool HasMissing { get; private set; }

        /// <summary>Reads the current row's tags.</summary>
        public void Read()
        {
            getter(ref _buffer);
            int length = _buffer.Length;
            if (_tags.Length < length) _tags = new int[Math.Max(length, _tags.Length * 2)];
            Span<int> tags = _tags.AsSpan(0, length);
            tags.Fill(-1);
            var keys = _buffer.GetValues();
            var indices = _buffer.GetIndices();
            for (int i = 0; i < keys.Length; i++)
            {
                uint key = keys[i];
                tags[_buffer.IsDense ? i : indices[i]] = key >= 1 && key <= (uint)column.TagCount ? (int)key - 1 : -1;
            }
            HasMissing = tags.Contains(-1);
            _length = length;
        }

        /// <summary>Throws unless the last row read has <paramref name="steps"/> tags, naming the row, both lengths and both columns.</summary>
        public void CheckAligned(long row, int steps, string inputColumn)
        {
            if (Tags.Length != steps)
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"Row {row}: column '{column.Column.Name}' has {Tags.Length} tags but column '{inputColumn}' has {steps} steps; " +
                    $"a tagging label needs exactly one tag per input step (tokenize the text and the tags the same way)."));
        }
    }
}
