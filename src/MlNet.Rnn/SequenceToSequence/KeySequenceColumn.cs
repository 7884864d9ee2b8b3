using System.Globalization;
using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Data;

namespace MlNet.Rnn.SequenceToSequence;

/// <summary>
/// A key-vector column of the sequence-to-sequence task (source, label or predicted label): a vector (fixed or variable
/// size) of keys of K values, of any key raw type (MapValueToKey gives UInt32 keys, TokenizeIntoCharactersAsKeys UInt16),
/// read as ids 0…K (0 = missing = the unknown id; keys beyond K also read as 0).
/// </summary>
internal sealed class KeySequenceColumn
{
    /// <summary>What the error messages say a source or label column must be.</summary>
    public const string Expected = "a vector of keys (e.g. from TokenizeIntoCharactersAsKeys, or TokenizeIntoWords + MapValueToKey)";

    public KeySequenceColumn(string name, int keyCount)
    {
        Name = name;
        KeyCount = keyCount;
    }

    /// <summary>The column's name.</summary>
    public string Name { get; }

    /// <summary>K.</summary>
    public int KeyCount { get; }

    /// <summary>Ids a vocabulary over these keys needs: K + 1 (id 0 = unknown).</summary>
    public int VocabularySize => KeyCount + 1;

    /// <summary>What this model reads, for messages.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"a vector of keys with {KeyCount} keys (as in the training data)");

    /// <summary>Finds and checks the column; throws naming it, its role, its type and what is expected.</summary>
    public static KeySequenceColumn FromSchema(IExceptionContext ectx, DataViewSchema schema, string name, string role)
    {
        var column = schema.GetColumnOrNull(name) ?? throw ectx.ExceptSchemaMismatch(nameof(schema), role, name);
        if (KeyCountOf(column.Type) is int count) return new KeySequenceColumn(name, count);
        throw ectx.ExceptSchemaMismatch(nameof(schema), role, name, Expected, column.Type.ToString());
    }

    /// <summary>Checks a key-vector column in a schema shape (estimator time).</summary>
    public static SchemaShape.Column Check(IExceptionContext ectx, SchemaShape shape, string name, string role)
    {
        if (!shape.TryFindColumn(name, out var column)) throw ectx.ExceptSchemaMismatch(nameof(shape), role, name);
        if (column.Kind == SchemaShape.Column.VectorKind.Scalar || !column.IsKey)
            throw ectx.ExceptSchemaMismatch(nameof(shape), role, name, Expected, SequenceColumn.Describe(column));
        return column;
    }

    /// <summary>K of a vector of keys, or null for any other type.</summary>
    public static int? KeyCountOf(DataViewType type) =>
        type is VectorDataViewType { ItemType: KeyDataViewType key } && key.Count is >= 1 and < int.MaxValue - 3 ? (int)key.Count : null;

    /// <summary>A reader of this column from a row that has it active.</summary>
    public KeyVectorReader CreateReader(DataViewRow row)
    {
        var column = row.Schema[Name];
        var type = typeof(KeyVectorReader<>).MakeGenericType(column.Type.GetItemType().RawType);
        return (KeyVectorReader)Activator.CreateInstance(type, row, column, KeyCount)!;
    }

    /// <summary>A getter of a key vector of <paramref name="itemType"/>'s raw type that serves <paramref name="current"/>() (keys as UInt32).</summary>
    public static Delegate MakeGetter(KeyDataViewType itemType, Func<uint[]> current)
    {
        var method = typeof(KeySequenceColumn).GetMethod(nameof(Getter), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(itemType.RawType);
        return (Delegate)method.Invoke(null, [current])!;
    }

    private static ValueGetter<VBuffer<T>> Getter<T>(Func<uint[]> current) where T : struct, IBinaryInteger<T> =>
        (ref VBuffer<T> value) =>
        {
            uint[] keys = current();
            var editor = VBufferEditor.Create(ref value, keys.Length);
            for (int i = 0; i < keys.Length; i++) editor.Values[i] = T.CreateTruncating(keys[i]);
            value = editor.Commit();
        };
}

/// <summary>Reads one row of a <see cref="KeySequenceColumn"/> as ids (sparse vectors densified).</summary>
internal abstract class KeyVectorReader
{
    /// <summary>The column's name.</summary>
    public abstract string Name { get; }

    /// <summary>The current row's ids in [0, K].</summary>
    public abstract int[] Read();

    /// <summary>The current row's ids; an empty sequence is an error naming the row, the column and the fix.</summary>
    public int[] ReadNonEmpty(long row, string what)
    {
        int[] ids = Read();
        if (ids.Length == 0)
        {
            string note = what == "target" ? " (the end token is added by the model)" : "";
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Row {row}: column '{Name}' ({what}) is an empty sequence; every {what} needs at least one token{note}. Filter empty rows out first."));
        }
        return ids;
    }
}

internal sealed class KeyVectorReader<T>(DataViewRow row, DataViewSchema.Column column, int keyCount) : KeyVectorReader where T : struct, IBinaryInteger<T>
{
    private readonly ValueGetter<VBuffer<T>> _getter = row.GetGetter<VBuffer<T>>(column);
    private VBuffer<T> _buffer;

    public override string Name => column.Name;

    public override int[] Read()
    {
        _getter(ref _buffer);
        var ids = new int[_buffer.Length];
        var keys = _buffer.GetValues();
        var indices = _buffer.GetIndices();
        for (int i = 0; i < keys.Length; i++)
        {
            ulong key = ulong.CreateTruncating(keys[i]);
            ids[_buffer.IsDense ? i : indices[i]] = key <= (ulong)keyCount ? (int)key : 0;
        }
        return ids;
    }
}
