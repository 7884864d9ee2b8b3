using System.Collections.Immutable;
using Microsoft.ML.Data;
using MlNet.Rnn;
using MlNet.Rnn.Models;

namespace Microsoft.ML;

/// <summary>
/// ML.NET's permutation feature importance for a recurrent model, as ML.NET computes it for its own trainers, with one
/// difference: it refuses what it cannot measure. Permuting a slot across rows measures a feature only when the slot is the
/// same feature in every row: a fixed-size Single vector, whose slot <c>t·I + i</c> is feature i at step t (so the result is
/// each step's, and each step-feature's, importance). A variable-length vector or a vector of keys (tokens) has no such slots;
/// ML.NET's generic overloads would return an empty result with only a log warning, these throw, saying why. The same
/// methods on a whole pipeline (<c>PermutationFeatureImportance(ITransformer, …)</c>, and the binary
/// <c>PermutationFeatureImportanceNonCalibrated</c>) are ML.NET's own and find the recurrent predictor at the pipeline's end;
/// they name each slot by the feature column's slot names, which they need (as for any trainer). On a model trained on a
/// variable-length or token column they throw the same <see cref="NotSupportedException"/> (the transformer refuses them
/// its feature column), where ML.NET would otherwise fail with "Invalid call to GetValue".
/// </summary>
public static class RecurrentFeatureImportanceCatalog
{
    /// <summary>
    /// Each slot's importance to a recurrent binary model: ML.NET's <c>PermutationFeatureImportance</c> on a fixed-size
    /// feature column (one result per step × feature, step-major).
    /// </summary>
    /// <exception cref="NotSupportedException">The feature column in <paramref name="data"/> is not a fixed-size Single vector.</exception>
    public static ImmutableArray<BinaryClassificationMetricsStatistics> PermutationFeatureImportance(this BinaryClassificationCatalog catalog,
        RecurrentPredictionTransformer predictionTransformer, IDataView data, string labelColumnName = DefaultColumnNames.Label,
        bool useFeatureWeightFilter = false, int? numberOfExamplesToUse = null, int permutationCount = 1) =>
        PermutationFeatureImportanceExtensions.PermutationFeatureImportance<RecurrentModelParameters>(catalog, Checked(predictionTransformer, data),
            data, labelColumnName, useFeatureWeightFilter, numberOfExamplesToUse, permutationCount);

    /// <summary>
    /// Each slot's importance to a recurrent multiclass model: ML.NET's <c>PermutationFeatureImportance</c> on a fixed-size
    /// feature column (one result per step × feature, step-major).
    /// </summary>
    /// <exception cref="NotSupportedException">The feature column in <paramref name="data"/> is not a fixed-size Single vector.</exception>
    public static ImmutableArray<MulticlassClassificationMetricsStatistics> PermutationFeatureImportance(this MulticlassClassificationCatalog catalog,
        RecurrentPredictionTransformer predictionTransformer, IDataView data, string labelColumnName = DefaultColumnNames.Label,
        bool useFeatureWeightFilter = false, int? numberOfExamplesToUse = null, int permutationCount = 1) =>
        PermutationFeatureImportanceExtensions.PermutationFeatureImportance<RecurrentModelParameters>(catalog, Checked(predictionTransformer, data),
            data, labelColumnName, useFeatureWeightFilter, numberOfExamplesToUse, permutationCount);

    /// <summary>
    /// Each slot's importance to a recurrent regression model: ML.NET's <c>PermutationFeatureImportance</c> on a fixed-size
    /// feature column (one result per step × feature, step-major).
    /// </summary>
    /// <exception cref="NotSupportedException">The feature column in <paramref name="data"/> is not a fixed-size Single vector.</exception>
    public static ImmutableArray<RegressionMetricsStatistics> PermutationFeatureImportance(this RegressionCatalog catalog,
        RecurrentPredictionTransformer predictionTransformer, IDataView data, string labelColumnName = DefaultColumnNames.Label,
        bool useFeatureWeightFilter = false, int? numberOfExamplesToUse = null, int permutationCount = 1) =>
        PermutationFeatureImportanceExtensions.PermutationFeatureImportance<RecurrentModelParameters>(catalog, Checked(predictionTransformer, data),
            data, labelColumnName, useFeatureWeightFilter, numberOfExamplesToUse, permutationCount);

    private static RecurrentPredictionTransformer Checked(RecurrentPredictionTransformer model, IDataView data)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        return Unmeasurable(model.FeatureColumnName, data.Schema.GetColumnOrNull(model.FeatureColumnName)?.Type) is { } error ? throw error : model;
    }

    /// <summary>
    /// Null when permutation feature importance can measure the slots of column <paramref name="name"/> of type
    /// <paramref name="type"/> (a fixed-size Single vector); else the error that says why it cannot.
    /// </summary>
    internal static NotSupportedException? Unmeasurable(string name, DataViewType? type)
    {
        if (type is VectorDataViewType { IsKnownSize: true } vector && vector.ItemType == NumberDataViewType.Single) return null;
        string holds = type switch
        {
            null => "is not in the data",
            VectorDataViewType { ItemType: KeyDataViewType } => "holds keys (token ids)",
            VectorDataViewType { IsKnownSize: false } => "holds vectors of variable size",
            _ => $"is {type}",
        };
        return new NotSupportedException($"Permutation feature importance shuffles one slot of the feature column across rows, so each slot must be " +
            $"the same feature in every row: a Single vector of fixed size (slot t·I + i is feature i at step t). Column '{name}' {holds}, whose " +
            "slots are not. For tokens or sequences of varying length, measure what matters by evaluating on data with it changed (for example " +
            "with chosen tokens mapped to key 0, the unknown token) and comparing the metrics.");
    }
}
