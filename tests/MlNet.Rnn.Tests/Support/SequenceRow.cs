using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests;

/// <summary>A training or scoring row: a Boolean label and a flat step-major sequence of T·I features.</summary>
public sealed class SequenceRow
{
    /// <summary>The label.</summary>
    public bool Label { get; set; }

    /// <summary>T·I features, step-major; the vector size is set per data view by <see cref="SequenceRows.ToDataView"/>.</summary>
    public float[] Features { get; set; } = [];
}

/// <summary>The scoring columns of ML.NET's binary classifiers.</summary>
public sealed class BinaryPrediction
{
    /// <summary>The logit.</summary>
    public float Score { get; set; }

    /// <summary>sigmoid(Score).</summary>
    public float Probability { get; set; }

    /// <summary>Score &gt; 0.</summary>
    public bool PredictedLabel { get; set; }
}

/// <summary>Synthetic sequences and their transport between processes.</summary>
public static class SequenceRows
{
    /// <summary>
    /// A learnable task: <paramref name="steps"/> steps of <paramref name="featuresPerStep"/> features uniform in [−1, 1);
    /// the label is whether the first feature summed over the steps is positive.
    /// </summary>
    public static SequenceRow[] SignOfSum(int count, int steps, int featuresPerStep, int seed)
    {
        var random = new Random(seed);
        var rows = new SequenceRow[count];
        for (int r = 0; r < count; r++)
        {
            var features = new float[steps * featuresPerStep];
            double sum = 0;
            for (int i = 0; i < features.Length; i++)
            {
                features[i] = (float)(random.NextDouble() * 2 - 1);
                if (i % featuresPerStep == 0) sum += features[i];
            }
            rows[r] = new SequenceRow { Label = sum > 0, Features = features };
        }
        return rows;
    }

    /// <summary>A data view whose Features column is a fixed-size vector of the rows' common length.</summary>
    public static IDataView ToDataView(MLContext mlContext, IReadOnlyList<SequenceRow> rows)
    {
        var schema = SchemaDefinition.Create(typeof(SequenceRow));
        schema[nameof(SequenceRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Features.Length);
        return mlContext.Data.LoadFromEnumerable(rows, schema);
    }

    /// <summary>Writes int count, int length, then per row a label byte and the features.</summary>
    public static void Write(string path, IReadOnlyList<SequenceRow> rows)
    {
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(rows.Count);
        writer.Write(rows[0].Features.Length);
        foreach (var row in rows)
        {
            writer.Write(row.Label);
            foreach (float value in row.Features) writer.Write(value);
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    public static SequenceRow[] Read(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        var rows = new SequenceRow[reader.ReadInt32()];
        int length = reader.ReadInt32();
        for (int r = 0; r < rows.Length; r++)
        {
            rows[r] = new SequenceRow { Label = reader.ReadBoolean(), Features = new float[length] };
            for (int i = 0; i < length; i++) rows[r].Features[i] = reader.ReadSingle();
        }
        return rows;
    }
}
