using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Tests.Options;

/// <summary>A row of the option probes: a variable-length sequence of 2 features per step and labels of every task.</summary>
public sealed class ProbeRow
{
    /// <summary>2 · the mean of feature 0 over the steps.</summary>
    public float Value { get; set; }

    /// <summary>−<see cref="Value"/>.</summary>
    public float Negated { get; set; }

    /// <summary>Whether <see cref="Value"/> is positive.</summary>
    public bool Label { get; set; }

    /// <summary>The opposite of <see cref="Label"/>.</summary>
    public bool Flipped { get; set; }

    /// <summary>"a", "b" or "c": which third of [−1, 1] <see cref="Value"/> falls in.</summary>
    public string Class { get; set; } = "";

    /// <summary>A per-row weight (1 unless a test says otherwise).</summary>
    public float Weight { get; set; } = 1;

    /// <summary>T × 2 values in [−1, 1), step-major; T in [2, 6].</summary>
    public float[] Features { get; set; } = [];

    /// <summary>A copy of <see cref="Features"/>.</summary>
    public float[] Copy { get; set; } = [];

    /// <summary>Other random values of the same length as <see cref="Features"/>.</summary>
    public float[] Noise { get; set; } = [];
}

/// <summary>What the option tests read from a fitted model: its weights (from the model file it writes) and its outputs.</summary>
public static class OptionProbe
{
    /// <summary><paramref name="count"/> rows; the same seed gives the same rows.</summary>
    public static ProbeRow[] Rows(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new ProbeRow[count];
        for (int r = 0; r < count; r++)
        {
            int T = random.Next(2, 7);
            var features = new float[2 * T];
            var noise = new float[2 * T];
            double sum = 0;
            for (int i = 0; i < features.Length; i++)
            {
                features[i] = (float)(random.NextDouble() * 2 - 1);
                noise[i] = (float)(random.NextDouble() * 2 - 1);
                if (i % 2 == 0) sum += features[i];
            }
            float value = (float)(2 * sum / T);
            rows[r] = new ProbeRow
            {
                Value = value, Negated = -value, Label = value > 0, Flipped = value <= 0, Class = value < -1f / 3 ? "a" : value < 1f / 3 ? "b" : "c",
                Features = features, Copy = [.. features], Noise = noise,
            };
        }
        return rows;
    }

    /// <summary>The rows as a data view (variable-size vectors).</summary>
    public static IDataView ToDataView(MLContext mlContext, IEnumerable<ProbeRow> rows) => mlContext.Data.LoadFromEnumerable(rows);

    /// <summary>The tensors of a model file written by <paramref name="save"/>, by name.</summary>
    public static Dictionary<string, ModelFileTensor> Tensors(Action<Stream> save)
    {
        using var stream = new MemoryStream();
        save(stream);
        stream.Position = 0;
        return ModelFile.Read(stream).Tensors.ToDictionary(tensor => tensor.Name);
    }

    /// <summary>The tensors of a fitted recurrent model.</summary>
    public static Dictionary<string, ModelFileTensor> Tensors(RecurrentPredictionTransformer model) => Tensors(model.Model.SaveModelFile);

    /// <summary>Every weight, tensors in name order.</summary>
    public static float[] Flat(Dictionary<string, ModelFileTensor> tensors) =>
        [.. tensors.OrderBy(pair => pair.Key, StringComparer.Ordinal).SelectMany(pair => pair.Value.Data)];

    /// <summary>Every weight of a fitted recurrent model, tensors in name order.</summary>
    public static float[] Weights(RecurrentPredictionTransformer model) => Flat(Tensors(model));

    /// <summary>The largest |a − b| over the elements (the arrays must be as long).</summary>
    public static double MaxDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }

    /// <summary>a − b, element by element.</summary>
    public static double[] Difference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return [.. a.Zip(b, (x, y) => (double)x - y)];
    }

    /// <summary>Σ x².</summary>
    public static double SquaredNorm(IEnumerable<double> values) => values.Sum(x => x * x);

    /// <summary>Pearson correlation.</summary>
    public static double Correlation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Count; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>A Single column as doubles.</summary>
    public static double[] Column(IDataView data, string name) => [.. data.GetColumn<float>(data.Schema[name]).Select(v => (double)v)];
}
