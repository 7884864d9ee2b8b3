using System.Globalization;
using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Data;

/// <summary>
/// A key-vector column, read the same way by every task (token features, per-step tags, sequence-to-sequence source and
/// label): a vector (fixed or variable size, sparse ones densified) of keys of K values, of any key raw type (Byte, UInt16,
/// UInt32, UInt64: MapValueToKey gives UInt32 keys, TokenizeIntoCharactersAsKeys UInt16). Keys are ids by
/// <see cref="Vocabulary.OfKeys"/>, the one mapping: key k ∈ [1, K] is id k; key 0 (missing) and any key beyond K are id 0,
/// "unknown" (a tag reads id − 1, and id 0 as a missing tag).
/// </summary>
internal sealed class KeyVectorColumn
{
    /// <summary>What the error messages say a source or label column must be.</summary>
    public const string Expected = "a vector of keys (e.g. from TokenizeIntoCharactersAsKeys, or TokenizeIntoWords + MapValueToKey)";

    public KeyVectorColumn(string name, int keyCount)
    {
        Name = name;
        KeyCount = keyCount;
        Vocabulary = Vocabulary.OfKeys(keyCount);
    }

    /// <summary>The column's name.</summary>
    public string Name { get; }

    /// <summary>K.</summary>
    public int KeyCount { get; }

    /// <summary>The ids of these keys: <c>Vocabulary.OfKeys(K)</c>.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>Ids a model that reads these keys needs (<see cref="Vocabulary.SourceCount"/>: id 0 = unknown, then the K keys).</summary>
    public int VocabularySize => Vocabulary.SourceCount;

    /// <summary>What this model reads, for messages.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"a vector of keys with {KeyCount} keys (as in the training data)");

    /// <summary>Finds and checks the column; throws naming it, its role, its type and what is expected.</summary>
    public static KeyVectorColumn FromSchema(IExceptionContext ectx, DataViewSchema schema, string name, string role)
    {
        var column = schema.GetColumnOrNull(name) ?? throw ectx.ExceptSchemaMismatch(nameof(schema), role, name);
        if (KeyCountOf(column.Type) is int count) return new KeyVectorColumn(name, count);
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
    public KeyVectorReader CreateReader(DataViewRow row) => KeyVectorReader.Create(row, row.Schema[Name], Vocabulary);

    /// <summary>
    /// A getter of a key vector of <paramref name="itemType"/>'s raw type that serves the decoded target ids <paramref name="tokens"/>()
    /// as keys of <paramref name="vocabulary"/>, a vocabulary of keys (<see cref="Vocabulary.KeyOf"/>: an id the label has no key for is key 0).
    /// </summary>
    public static Delegate MakeGetter(KeyDataViewType itemType, Vocabulary vocabulary, Func<int[]> tokens)
    {
        var method = typeof(KeyVectorColumn).GetMethod(nameof(Getter), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(itemType.RawType);
        return (Delegate)method.Invoke(null, [vocabulary, tokens])!;
    }

    private static ValueGetter<VBuffer<T>> Getter<T>(Vocabulary vocabulary, Func<int[]> tokens) where T : struct, IBinaryInteger<T> =>
        (ref VBuffer<T> value) =>
        {
            int[] ids = tokens();
            var editor = VBufferEditor.Create(ref value, ids.Length);
            for (int i = 0; i < ids.Length; i++) editor.Values[i] = T.CreateTruncating(vocabulary.KeyOf(ids[i]));
            value = editor.Commit();
        };
}

/// <summary>Reads one row of a <see cref="KeyVectorColumn"/> as ids (sparse vectors densified).</summary>
internal abstract class KeyVectorReader
{
    private int[] _reused = [];

    /// <summary>The column's name.</summary>
    public abstract string Name { get; }

    /// <summary>A reader of <paramref name="column"/>, a vector of keys read as the ids of <paramref name="vocabulary"/> (of keys), from a row that has it active.</summary>
    public static KeyVectorReader Create(DataViewRow row, DataViewSchema.Column column, Vocabulary vocabulary)
    {
        var type = typeof(KeyVectorReader<>).MakeGenericType(column.Type.GetItemType().RawType);
        return (KeyVectorReader)Activator.CreateInstance(type, row, column, vocabulary)!;
    }

    /// <summary>The current row's ids in [0, K] (<see cref="Vocabulary.IdOfKey"/>), written into <paramref name="ids"/> (replaced when too small); returns their count.</summary>
    public abstract int ReadInto(ref int[] ids);

    /// <summary>The current row's ids in [0, K], in a new array.</summary>
    public int[] Read()
    {
        int[] ids = [];
        int count = ReadInto(ref ids);
        return count == ids.Length ? ids : ids[..count];
    }

    /// <summary>The current row's ids; an empty sequence is an error naming the row, the column and the fix.</summary>
    public int[] ReadNonEmpty(long row, string what)
    {
        int[] ids = Read();
        CheckNotEmpty(ids.Length, row, what);
        return ids;
    }

    /// <summary>As <see cref="ReadNonEmpty"/>, in a buffer the next read reuses (nothing is allocated per row).</summary>
    public ReadOnlySpan<int> ReadNonEmptyReused(long row, string what)
    {
        int count = ReadInto(ref _reused);
        CheckNotEmpty(count, row, what);
        return _reused.AsSpan(0, count);
    }

    private void CheckNotEmpty(int count, long row, string what)
    {
        if (count > 0) return;
        string note = what == "target" ? " (the end token is added by the model)" : "";
        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
            $"Row {row}: column '{Name}' ({what}) is an empty sequence; every {what} needs at least one token{note}. Filter empty rows out first."));
    }
}

internal sealed class KeyVectorReader<T>(DataViewRow row, DataViewSchema.Column column, Vocabulary vocabulary) : KeyVectorReader where T : struct, IBinaryInteger<T>
{
    private readonly ValueGetter<VBuffer<T>> _getter = row.GetGetter<VBuffer<T>>(column);
    private VBuffer<T> _buffer;

    public override string Name => column.Name;

    public override int ReadInto(ref int[] ids)
    {
        _getter(ref _buffer);
        int length = _buffer.Length;
        if (ids.Length < length) ids = new int[Math.Max(length, ids.Length * 2)];
        ids.AsSpan(0, length).Clear();
        var keys = _buffer.GetValues();
        var indices = _buffer.GetIndices();
        for (int i = 0; i < keys.Length; i++)
        {
            ids[_buffer.IsDense ? i : indices[i]] = vocabulary.IdOfKey(ulong.CreateTruncating(keys[i]));
        }
        return length;
    }
}
