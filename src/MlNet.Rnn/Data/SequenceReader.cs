using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Data;

/// <summary>
/// Reads one row's sequence from a <see cref="SequenceColumn"/>: dense step values (sparse vectors densified) or token ids,
/// after checking it is not empty, is whole steps, and (for numbers) is finite; an error names the row and the fix.
/// </summary>
internal sealed class SequenceReader
{
    private readonly SequenceColumn _column;
    private readonly ValueGetter<VBuffer<float>>? _numbers;
    private readonly KeyVectorReader? _keys;
    private VBuffer<float> _numberBuffer;
    private float[] _values = [];
    private int[] _ids = [];

    public SequenceReader(SequenceColumn column, DataViewRow row)
    {
        _column = column;
        var schemaColumn = row.Schema[column.Name];
        if (column.Tokens) _keys = KeyVectorReader.Create(row, schemaColumn, column.Vocabulary!);
        else _numbers = row.GetGetter<VBuffer<float>>(schemaColumn);
    }

    /// <summary>T of the last row read.</summary>
    public int Steps { get; private set; }

    /// <summary>The last numeric row: T·I values, step-major.</summary>
    public ReadOnlySpan<float> Values => _values.AsSpan(0, _column.Tokens ? 0 : Steps * _column.FeaturesPerStep);

    /// <summary>The last token row: T ids.</summary>
    public ReadOnlySpan<int> Ids => _ids.AsSpan(0, _column.Tokens ? Steps : 0);

    /// <summary>Reads the current row; <paramref name="row"/> is its index in the data, for error messages.</summary>
    public void Read(long row)
    {
        if (_column.Tokens)
        {
            int length = _keys!.ReadInto(ref _ids); // an unseen key reads as unknown (id 0)
            if (length == 0) throw EmptyRow(row);
            Steps = length;
            return;
        }

        _numbers!(ref _numberBuffer);
        int valueCount = _numberBuffer.Length, I = _column.FeaturesPerStep;
        if (valueCount == 0) throw EmptyRow(row);
        if (valueCount % I != 0)
            // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Row {row} of column '{_column.Name}' has {valueCount} values, which is not a whole number of steps of featuresPerStep = {I}; " +
                $"give every row a length that is a multiple of {I}, or set featuresPerStep to the number of features per step."));
        if (_values.Length < valueCount) _values = new float[Math.Max(valueCount, _values.Length * 2)];
        Span<float> values = _values.AsSpan(0, valueCount);
        _numberBuffer.CopyTo(values); // densifies a sparse vector
        for (int i = 0; i < valueCount; i++)
            if (!float.IsFinite(values[i]))
                // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"Row {row} of column '{_column.Name}': step {i / I}, feature {i % I} is {values[i]}; every feature must be a finite number " +
                    $"(replace missing values first, e.g. with ReplaceMissingValues)."));
        Steps = valueCount / I;
    }

    private InvalidOperationException EmptyRow(long row) => new(string.Create(CultureInfo.InvariantCulture,
        $"Row {row} of column '{_column.Name}' is an empty sequence; every row needs at least one step (filter empty rows out first)."));
}
