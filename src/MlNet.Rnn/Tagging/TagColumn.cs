using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Data;

namespace MlNet.Rnn.Tagging;

/// <summary>
/// A column of tags per step: a vector (fixed or variable size) of keys of C values, of any key type, read as
/// <see cref="KeyVectorColumn"/> reads keys (key k ≥ 1 is tag index k − 1; key 0 and keys beyond C are a missing tag).
/// Checks the column's type once and reads each row's tags, naming the row and the fix when one is missing; gives the tag
/// names (the key values as text, else "0", "1", …).
/// </summary>
internal sealed class TagColumn(DataViewSchema.Column column, int tagCount)
{
    /// <summary>What the error messages say the column must be.</summary>
    public const string Expected = "a vector of keys (e.g. from MapValueToKey), one per input step";

    /// <summary>The schema column.</summary>
    public DataViewSchema.Column Column { get; } = column;

    /// <summary>C: the key count.</summary>
    public int TagCount { get; } = tagCount;

    /// <summary>Whether a column of this type holds tags.</summary>
    public static bool Fits(DataViewType type) => KeyVectorColumn.KeyCountOf(type) is not null;

    /// <summary>Whether a column of this shape holds tags (estimator time).</summary>
    public static bool Fits(SchemaShape.Column column) => column.Kind != SchemaShape.Column.VectorKind.Scalar && column.IsKey;

    /// <summary>Finds and checks the column; throws naming it, its type and what is expected.</summary>
    public static TagColumn FromSchema(IExceptionContext ectx, DataViewSchema schema, string name, string role)
    {
        var column = schema.GetColumnOrNull(name) ?? throw ectx.ExceptSchemaMismatch(nameof(schema), role, name);
        if (KeyVectorColumn.KeyCountOf(column.Type) is int count) return new TagColumn(column, count);
        throw ectx.ExceptSchemaMismatch(nameof(schema), role, name, Expected, column.Type.ToString());
    }

    /// <summary>The tag names: the key values as text when the column has them (C of them), else the indices.</summary>
    public string[] TagNames() => KeyValueNames.Of(Column, TagCount) ?? Core.Tagging.TaggingMetrics.IndexNames(TagCount);

    /// <summary>A reader of this column's tags from a row that has it active.</summary>
    public Reader CreateReader(DataViewRow row) => new(this, KeyVectorReader.Create(row, row.Schema[Column.Name], Core.Data.Vocabulary.OfKeys(TagCount)));

    /// <summary>The training target of a row: its tags as floats, one per step; a row with a missing tag is skipped.</summary>
    public TargetReader CreateTargetReader(DataViewRow row) => new TagTarget(CreateReader(row));

    /// <summary>Reads one row's tags.</summary>
    internal sealed class Reader(TagColumn column, KeyVectorReader keys)
    {
        private int[] _tags = [];
        private int _length;

        /// <summary>The tags of the last row read: indices in [0, C), or −1 where the key is missing.</summary>
        public ReadOnlySpan<int> Tags => _tags.AsSpan(0, _length);

        /// <summary>Whether the last row read has a missing key.</summary>
        public bool HasMissing { get; private set; }

        /// <summary>Reads the current row's tags.</summary>
        public void Read()
        {
            _length = keys.ReadInto(ref _tags);
            Span<int> tags = _tags.AsSpan(0, _length);
            for (int t = 0; t < tags.Length; t++) tags[t]--; // id 0 (missing) becomes −1
            HasMissing = tags.Contains(-1);
        }

        /// <summary>Throws unless the last row read has <paramref name="steps"/> tags, naming the row, both lengths and both columns.</summary>
        public void CheckAligned(long row, int steps, string inputColumn)
        {
            if (Tags.Length != steps)
                // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"Row {row}: column '{column.Column.Name}' has {Tags.Length} tags but column '{inputColumn}' has {steps} steps; " +
                    $"a tagging label needs exactly one tag per input step (tokenize the text and the tags the same way)."));
        }
    }

    private sealed class TagTarget(Reader tags) : TargetReader
    {
        private float[] _target = [];
        private int _length;

        public override ReadOnlySpan<float> Target => _target.AsSpan(0, _length);

        public override bool Read(long row, int steps, string inputColumn)
        {
            tags.Read();
            tags.CheckAligned(row, steps, inputColumn);
            if (tags.HasMissing) return false;
            _length = tags.Tags.Length;
            if (_target.Length < _length) _target = new float[Math.Max(_length, _target.Length * 2)];
            for (int t = 0; t < _length; t++) _target[t] = tags.Tags[t];
            return true;
        }
    }
}
