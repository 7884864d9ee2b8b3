using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests;

/// <summary>A row of every synthetic task: labels of the three kinds and a flat step-major sequence.</summary>
public sealed class TaskRow
{
    /// <summary>Binary label.</summary>
    public bool Label { get; set; }

    /// <summary>Multiclass label, as text ("a", "b", "c"), made a key by MapValueToKey.</summary>
    public string Class { get; set; } = "";

    /// <summary>Regression label.</summary>
    public float Value { get; set; }

    /// <summary>T·I features, step-major.</summary>
    public float[] Features { get; set; } = [];
}

/// <summary>A row of text for the token pipelines.</summary>
public sealed class TextRow
{
    /// <summary>Whether the sentence has more "good" than "bad".</summary>
    public bool Label { get; set; }

    /// <summary>Words.</summary>
    public string Text { get; set; } = "";
}

/// <summary>Learnable synthetic tasks and the data views ML.NET reads them from.</summary>
public static class Synthetic
{
    /// <summary>
    /// <paramref name="count"/> rows of T steps × I features uniform in [−1, 1) (T fixed, or in [minSteps, steps] when
    /// <paramref name="minSteps"/> is given). Binary: the sum of feature 0 over the steps is positive. Multiclass (I ≥ 3):
    /// which of features 0, 1, 2 has the largest sum. Regression: the mean of feature 0, times 2.
    /// </summary>
    public static TaskRow[] Rows(int count, int steps, int featuresPerStep, int seed, int? minSteps = null)
    {
        var random = new Random(seed);
        var rows = new TaskRow[count];
        for (int r = 0; r < count; r++)
        {
            int T = minSteps is int min ? random.Next(min, steps + 1) : steps;
            var features = new float[T * featuresPerStep];
            var sums = new double[featuresPerStep];
            for (int i = 0; i < features.Length; i++)
            {
                features[i] = (float)(random.NextDouble() * 2 - 1);
                sums[i % featuresPerStep] += features[i];
            }
            int best = 0;
            for (int k = 1; k < Math.Min(3, featuresPerStep); k++) if (sums[k] > sums[best]) best = k;
            rows[r] = new TaskRow { Label = sums[0] > 0, Class = ((char)('a' + best)).ToString(), Value = (float)(2 * sums[0] / T), Features = features };
        }
        return rows;
    }

    /// <summary>A data view whose Features column is fixed-size when every row has the same length, else variable-size.</summary>
    public static IDataView ToDataView(MLContext mlContext, IReadOnlyList<TaskRow> rows, bool variableSize = false)
    {
        var schema = SchemaDefinition.Create(typeof(TaskRow));
        int length = rows[0].Features.Length;
        bool fixedSize = !variableSize && rows.All(row => row.Features.Length == length);
        schema[nameof(TaskRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, fixedSize ? length : 0);
        return mlContext.Data.LoadFromEnumerable(rows, schema);
    }

    /// <summary>Sentences of 3 to 12 words from a small vocabulary; the label says whether "good" outnumbers "bad".</summary>
    public static TextRow[] Sentences(int count, int seed)
    {
        string[] filler = ["the", "phone", "is", "very", "and", "battery", "screen", "was", "quite", "it"];
        var random = new Random(seed);
        var rows = new TextRow[count];
        for (int r = 0; r < count; r++)
        {
            int length = random.Next(3, 13), good = 0, bad = 0;
            var words = new string[length];
            for (int i = 0; i < length; i++)
            {
                int pick = random.Next(14);
                words[i] = pick < 10 ? filler[pick] : pick < 12 ? "good" : "bad";
                if (pick is 10 or 11) good++;
                else if (pick >= 12) bad++;
            }
            if (good == bad) words[random.Next(length)] = random.Next(2) == 0 ? "good" : "bad";
            good = words.Count(w => w == "good");
            bad = words.Count(w => w == "bad");
            rows[r] = new TextRow { Label = good > bad, Text = string.Join(' ', words) };
        }
        return rows;
    }
}
