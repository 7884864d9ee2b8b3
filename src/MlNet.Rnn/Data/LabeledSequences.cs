using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace MlNet.Rnn.Data;

/// <summary>
/// The training rows of a <see cref="RoleMappedData"/> in memory: each row's feature vector (densified, step-major
/// <c>[T_b · I]</c>), its label as a float, and its weight. Rows with a missing label or a weight that is not positive
/// and finite are skipped and counted; a feature vector that cannot be read as sequence steps is an error naming the row.
/// </summary>
internal sealed class LabeledSequences
{
    private LabeledSequences(List<float[]> sequences, List<float> labels, List<float> weights, long skippedLabels, long skippedWeights)
    {
        Sequences = sequences;
        Labels = labels;
        Weights = weights;
        SkippedMissingLabels = skippedLabels;
        SkippedBadWeights = skippedWeights;
    }

    /// <summary>Each row's features, step-major <c>[T_b · I]</c>, T_b ≥ 1.</summary>
    public IReadOnlyList<float[]> Sequences { get; }

    /// <summary>Each row's label as a float (binary: 1 true, 0 false).</summary>
    public IReadOnlyList<float> Labels { get; }

    /// <summary>Each row's weight (1 without a weight column).</summary>
    public IReadOnlyList<float> Weights { get; }

    /// <summary>Rows dropped because their label was missing (NaN).</summary>
    public long SkippedMissingLabels { get; }

    /// <summary>Rows dropped because their weight was not a positive finite number.</summary>
    public long SkippedBadWeights { get; }

    /// <summary>Reads every row of <paramref name="data"/>, whose label and feature roles have been checked.</summary>
    public static LabeledSequences Read(RoleMappedData data, int featuresPerStep)
    {
        var schema = data.Schema;
        var feature = schema.Feature!.Value;
        var label = schema.Label!.Value;
        var columns = new List<DataViewSchema.Column> { feature, label };
        if (schema.Weight.HasValue) columns.Add(schema.Weight.Value);

        var sequences = new List<float[]>();
        var labels = new List<float>();
        var weights = new List<float>();
        long skippedLabels = 0, skippedWeights = 0;
        using var cursor = data.Data.GetRowCursor(columns);
        var getFeatures = cursor.GetFeatureFloatVectorGetter(data);
        var getLabel = cursor.GetLabelFloatGetter(data);
        var getWeight = cursor.GetOptWeightFloatGetter(data);
        VBuffer<float> features = default;
        float labelValue = 0, weight = 1;
        while (cursor.MoveNext())
        {
            getLabel(ref labelValue);
            if (float.IsNaN(labelValue)) { skippedLabels++; continue; }
            if (getWeight != null)
            {
                getWeight(ref weight);
                if (!(weight > 0 && float.IsFinite(weight))) { skippedWeights++; continue; }
            }
            getFeatures(ref features);
            int length = features.Length;
            if (length == 0 || length % featuresPerStep != 0)
                throw Contracts.Except(string.Create(CultureInfo.InvariantCulture,
                    $"Row {cursor.Position} of feature column '{feature.Name}' holds {length} values, which is not a positive multiple of " +
                    $"featuresPerStep = {featuresPerStep}: each row must hold T ≥ 1 steps of {featuresPerStep} features, step-major."));
            var sequence = new float[length];
            features.CopyTo(sequence); // densifies a sparse vector
            for (int i = 0; i < length; i++)
                if (!float.IsFinite(sequence[i]))
                    throw Contracts.Except(string.Create(CultureInfo.InvariantCulture,
                        $"Row {cursor.Position} of feature column '{feature.Name}': feature {i % featuresPerStep} of step {i / featuresPerStep} is " +
                        $"{sequence[i]}; every feature must be a finite number. Replace or drop missing values first (e.g. ReplaceMissingValues)."));
            sequences.Add(sequence);
            labels.Add(labelValue);
            weights.Add(weight);
        }
        return new LabeledSequences(sequences, labels, weights, skippedLabels, skippedWeights);
    }
}
