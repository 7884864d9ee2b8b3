using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Tests.LanguageModeling;
using MlNet.Rnn.Tests.Options;

namespace MlNet.Rnn.Tests.Catalogs;

/// <summary>
/// The catalog extensions beside the trainers (<c>ChangeModelThreshold</c>, <c>PermutationFeatureImportance</c>,
/// <c>WithInferencePrecision</c>) refuse null arguments and unknown values by name with the documented message, a chain
/// before it is searched for a recurrent model; a chain holding two recurrent models changes both; the chain they return keeps each transformer's scopes.
/// </summary>
public sealed class CatalogArgumentTests : IClassFixture<TinyLanguageModel>
{
    private static readonly MLContext s_mlContext = new(seed: 1);
    private static readonly IDataView s_data = OptionProbe.ToDataView(s_mlContext, OptionProbe.Rows(32, seed: 3));
    private static readonly Lazy<RecurrentPredictionTransformer> s_binary = new(() => s_mlContext.BinaryClassification.Trainers.Lstm(
        new RecurrentBinaryTrainer.Options { LabelColumnName = "Label", FeaturesPerStep = 2, HiddenSize = 2, NumberOfEpochs = 1, Seed = 1 }).Fit(s_data));
    private readonly TinyLanguageModel _language;

    public CatalogArgumentTests(TinyLanguageModel language) => _language = language;

    [Fact]
    public void ChangeModelThreshold_RefusesANullCatalogOrModelAndANaNThreshold()
    {
        Assert.Equal("catalog", Assert.Throws<ArgumentNullException>(() => RecurrentBinaryCatalog.ChangeModelThreshold(null!, s_binary.Value, 0.5f)).ParamName);
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => s_mlContext.BinaryClassification.ChangeModelThreshold(null!, 0f)).ParamName);
        var nan = Assert.Throws<ArgumentOutOfRangeException>(() => s_mlContext.BinaryClassification.ChangeModelThreshold(s_binary.Value, float.NaN));
        Assert.Equal("threshold", nan.ParamName);
        Assert.StartsWith("The threshold is NaN; give a number (0 = probability ½).", nan.Message);
    }

    [Fact]
    public void PermutationFeatureImportance_RefusesANullModelOrData()
    {
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => s_mlContext.BinaryClassification.PermutationFeatureImportance(null!, s_data)).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentNullException>(() => s_mlContext.BinaryClassification.PermutationFeatureImportance(s_binary.Value, null!)).ParamName);
    }

    [Theory]
    [InlineData(null, "is not in the data")]
    [InlineData("Single", "is Single")]
    public void AColumnPermutationCannotMeasure_IsNamedWithWhatItHolds(string? type, string holds)
    {
        var error = RecurrentFeatureImportanceCatalog.Unmeasurable("Features", type is null ? null : NumberDataViewType.Single);
        Assert.Equal("Permutation feature importance shuffles one slot of the feature column across rows, so each slot must be the same feature in " +
            "every row: a Single vector of fixed size (slot t·I + i is feature i at step t). Column 'Features' " + holds + ", whose slots are not. " +
            "For tokens or sequences of varying length, measure what matters by evaluating on data with it changed (for example with chosen " +
            "tokens mapped to key 0, the unknown token) and comparing the metrics.", error!.Message);
    }

    [Fact]
    public void WithInferencePrecision_RefusesNullsAndUnknownPrecisions_InEveryOverload()
    {
        var unknown = (InferencePrecision)99;
        var chain = new TransformerChain<ITransformer>([s_binary.Value], [TransformerScope.Everything]);
        Assert.Equal("catalog", Assert.Throws<ArgumentNullException>(() => RecurrentModelOperationsCatalog.WithInferencePrecision(null!, s_binary.Value, InferencePrecision.Int8)).ParamName);
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => s_mlContext.Model.WithInferencePrecision((RecurrentPredictionTransformer)null!, InferencePrecision.Int8)).ParamName);
        Assert.Equal("catalog", Assert.Throws<ArgumentNullException>(() => RecurrentModelOperationsCatalog.WithInferencePrecision(null!, _language.Model, InferencePrecision.Int8)).ParamName);
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => s_mlContext.Model.WithInferencePrecision((LanguageModelTransformer)null!, InferencePrecision.Int8)).ParamName);
        Assert.Equal("catalog", Assert.Throws<ArgumentNullException>(() => RecurrentModelOperationsCatalog.WithInferencePrecision(null!, chain, InferencePrecision.Int8)).ParamName);
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => s_mlContext.Model.WithInferencePrecision((TransformerChain<ITransformer>)null!, InferencePrecision.Int8)).ParamName);
        foreach (var call in new Action[]
        {
            () => s_mlContext.Model.WithInferencePrecision(s_binary.Value, unknown),
            () => s_mlContext.Model.WithInferencePrecision(_language.Model, unknown),
            () => s_mlContext.Model.WithInferencePrecision(chain, unknown),
        })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(call);
            Assert.Equal("precision", error.ParamName);
            Assert.StartsWith("Use InferencePrecision.Float32 or InferencePrecision.Int8.", error.Message);
        }
    }

    [Fact]
    public void AChainWithoutARecurrentModel_IsCheckedForANullCatalogAndAnUnknownPrecisionFirst()
    {
        var featurizer = s_mlContext.Transforms.CopyColumns("Copy", "Label").Fit(s_data);
        var chain = new TransformerChain<ITransformer>([featurizer], [TransformerScope.Everything]);
        Assert.Equal("catalog", Assert.Throws<ArgumentNullException>(() => RecurrentModelOperationsCatalog.WithInferencePrecision(null!, chain, InferencePrecision.Int8)).ParamName);
        Assert.Equal("precision", Assert.Throws<ArgumentOutOfRangeException>(() => s_mlContext.Model.WithInferencePrecision(chain, (InferencePrecision)99)).ParamName);
        var none = Assert.Throws<ArgumentException>(() => s_mlContext.Model.WithInferencePrecision(chain, InferencePrecision.Int8));
        Assert.Equal("model", none.ParamName);
        Assert.StartsWith("The pipeline holds no recurrent model (RecurrentPredictionTransformer or LanguageModelTransformer) to change the inference precision of.", none.Message);
    }

    [Fact]
    public void AChainOfTwoRecurrentModels_ChangesBoth_AndKeepsEachTransformersScopes()
    {
        var featurizer = s_mlContext.Transforms.CopyColumns("Copy", "Label").Fit(s_data);
        var chain = new TransformerChain<ITransformer>([featurizer, s_binary.Value, _language.Model],
            [TransformerScope.Training, TransformerScope.Testing | TransformerScope.Scoring, TransformerScope.Everything]);

        var int8 = s_mlContext.Model.WithInferencePrecision(chain, InferencePrecision.Int8);

        var models = int8.ToArray();
        Assert.Same(featurizer, models[0]);
        Assert.Equal(InferencePrecision.Int8, Assert.IsType<RecurrentPredictionTransformer>(models[1]).Precision);
        Assert.Equal(InferencePrecision.Int8, Assert.IsType<LanguageModelTransformer>(models[2]).Precision);
        Assert.Equal([models[0], models[2]], int8.GetModelFor(TransformerScope.Training).ToArray());
        Assert.Equal([models[1], models[2]], int8.GetModelFor(TransformerScope.Testing).ToArray());
        Assert.Equal([models[1], models[2]], int8.GetModelFor(TransformerScope.Scoring).ToArray());
    }
}
