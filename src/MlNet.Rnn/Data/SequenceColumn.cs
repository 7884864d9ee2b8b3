using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Data;

/// <summary>
/// The feature column a recurrent model reads, and how: a Single vector (fixed or variable size) of T steps × I values,
/// step-major; or a key vector of T token ids of any key type, read as <see cref="KeyVectorColumn"/> says (key k is embedding
/// row k; key 0, missing, and keys beyond the vocabulary are row 0, "unknown"). Checks the column's type once;
/// <see cref="SequenceReader"/> checks each row.
/// </summary>
internal sealed class SequenceColumn
{
    /// <summary>What the error messages say the column must be.</summary>
    public const string Expected = "a vector of Single (fixed or variable size) or a vector of keys (e.g. from MapValueToKey or TokenizeIntoCharactersAsKeys)";

    private SequenceColumn(string name, int featuresPerStep, int keyCount)
    {
        Name = name;
        FeaturesPerStep = featuresPerStep;
        KeyCount = keyCount;
        Vocabulary = keyCount > 0 ? Vocabulary.OfKeys(keyCount) : null;
    }

    /// <summary>The column's name.</summary>
    public string Name { get; }

    /// <summary>I for a Single vector; 0 for keys.</summary>
    public int FeaturesPerStep { get; }

    /// <summary>The key count of a key vector; 0 for a Single vector.</summary>
    public int KeyCount { get; }

    /// <summary>Whether the column holds token keys.</summary>
    public bool Tokens => KeyCount > 0;

    /// <summary>The ids of the keys (<c>Vocabulary.OfKeys(K)</c>); null for a Single vector.</summary>
    public Vocabulary? Vocabulary { get; }

    /// <summary>V: embedding rows the keys need (<see cref="Vocabulary.SourceCount"/>: row 0 for unknown, then the K keys); 0 for numeric sequences.</summary>
    public int VocabularySize => Vocabulary?.SourceCount ?? 0;

    /// <summary>A Single vector read as steps of <paramref name="featuresPerStep"/>.</summary>
    public static SequenceColumn Numeric(string name, int featuresPerStep) => new(name, featuresPerStep, 0);

    /// <summary>A key vector of <paramref name="keyCount"/> keys.</summary>
    public static SequenceColumn Keys(string name, int keyCount) => new(name, 0, keyCount);

    /// <summary>Reads the column's kind from a schema; throws naming the column, its type and what is expected.</summary>
    public static SequenceColumn FromSchema(IExceptionContext ectx, DataViewSchema schema, string name, int featuresPerStep)
    {
        var column = schema.GetColumnOrNull(name) ?? throw ectx.ExceptSchemaMismatch(nameof(schema), "feature", name);
        if (column.Type is VectorDataViewType vector)
        {
            if (vector.ItemType == NumberDataViewType.Single) return Numeric(name, featuresPerStep);
            if (KeyVectorColumn.KeyCountOf(vector) is int keys) return Keys(name, keys);
        }
        throw ectx.ExceptSchemaMismatch(nameof(schema), "feature", name, Expected, column.Type.ToString());
    }

    /// <summary>Checks the column in a schema shape (estimator time); throws as <see cref="FromSchema"/>.</summary>
    public static void Check(IExceptionContext ectx, SchemaShape shape, string name)
    {
        if (!shape.TryFindColumn(name, out var column)) throw ectx.ExceptSchemaMismatch(nameof(shape), "feature", name);
        bool vector = column.Kind != SchemaShape.Column.VectorKind.Scalar;
        bool fits = vector && (column.IsKey || column.ItemType == NumberDataViewType.Single);
        if (!fits) throw ectx.ExceptSchemaMismatch(nameof(shape), "feature", name, Expected, Describe(column));
    }

    /// <summary>Checks that <paramref name="schema"/> gives this model the kind of column it was trained on.</summary>
    public void CheckMatches(IExceptionContext ectx, DataViewSchema schema)
    {
        var found = FromSchema(ectx, schema, Name, Math.Max(FeaturesPerStep, 1));
        if (found.KeyCount != KeyCount)
            throw ectx.ExceptSchemaMismatch(nameof(schema), "feature", Name, Describe(), schema[Name].Type.ToString());
    }

    /// <summary>What this model reads, for messages.</summary>
    public string Describe() => Tokens
        ? string.Create(CultureInfo.InvariantCulture, $"a vector of keys with {KeyCount} keys (as in the training data)")
        : string.Create(CultureInfo.InvariantCulture, $"a vector of Single read as steps of {FeaturesPerStep} features");

    /// <summary>A column shape as ML.NET prints types.</summary>
    public static string Describe(SchemaShape.Column column)
    {
        string item = column.IsKey ? $"Key<{column.ItemType}>" : $"{column.ItemType}";
        return column.Kind switch
        {
            SchemaShape.Column.VectorKind.Scalar => item,
            SchemaShape.Column.VectorKind.Vector => $"Vector<{item}>",
            _ => $"VarVector<{item}>",
        };
    }

    /// <summary>A reader of this column from a row (the row must have the column active).</summary>
    public SequenceReader CreateReader(DataViewRow row) => new(this, row);
}
