using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Data.Conversion;

namespace MlNet.Rnn.Data;

/// <summary>A key column's key values as text: the class names of a multiclass score and the tag names of a tagger.</summary>
internal static class KeyValueNames
{
    /// <summary>
    /// The key values of <paramref name="column"/> as text (ML.NET's conversion of each value), or null when the column has
    /// no key values or not <paramref name="count"/> of them.
    /// </summary>
    public static string[]? Of(DataViewSchema.Column column, int count)
    {
        var keyValues = column.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues);
        if (keyValues?.Type is not VectorDataViewType { Size: var size } type || size != count) return null;
        var method = typeof(KeyValueNames).GetMethod(nameof(AsText), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type.ItemType.RawType);
        return (string[])method.Invoke(null, [column.Annotations, type.ItemType])!;
    }

    private static string[] AsText<T>(DataViewSchema.Annotations annotations, DataViewType itemType)
    {
        VBuffer<T> values = default;
        annotations.GetValue(AnnotationUtils.Kinds.KeyValues, ref values);
        var convert = Conversions.DefaultInstance.GetStringConversion<T>(itemType);
        var names = new string[values.Length];
        var builder = new System.Text.StringBuilder();
        int i = 0;
        foreach (var value in values.DenseValues())
        {
            T item = value;
            convert(in item, ref builder); // ML.NET's conversions clear the builder first
            names[i++] = builder.ToString();
        }
        return names;
    }
}
