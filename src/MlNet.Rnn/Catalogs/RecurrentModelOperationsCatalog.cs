using Microsoft.ML.Data;
using MlNet.Rnn;
using MlNet.Rnn.Core.Layers;

namespace Microsoft.ML;

/// <summary>
/// Operations on fitted recurrent models, on <c>mlContext.Model</c> beside ML.NET's own (<c>Save</c>, <c>Load</c>, …).
/// </summary>
public static class RecurrentModelOperationsCatalog
{
    /// <summary>
    /// A recurrent model scoring with its recurrent layers' products in <paramref name="precision"/>, sharing its network:
    /// <see cref="InferencePrecision.Int8"/> quantizes each layer's weights to int8 once (per gate unit) and each step's inputs
    /// per row as they arrive, as PyTorch's <c>quantize_dynamic</c> and ONNX Runtime's <c>DynamicQuantizeLSTM</c> do; the
    /// embedding, the gates and the readout stay float. The precision is saved with the model. ONNX export still writes the
    /// float weights.
    /// </summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A model a recurrent binary, multiclass, regression or tagging trainer fitted (or one loaded).</param>
    /// <param name="precision">The precision of the recurrent products.</param>
    /// <returns><paramref name="model"/> when it already scores in <paramref name="precision"/>; else a new transformer.</returns>
    public static RecurrentPredictionTransformer WithInferencePrecision(this ModelOperationsCatalog catalog, RecurrentPredictionTransformer model,
        InferencePrecision precision)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        CheckPrecision(precision);
        return model.Precision == precision ? model : model.WithPrecision(precision);
    }

    /// <summary>
    /// A language model whose <c>Transform</c> and <c>Score</c> compute the recurrent products in <paramref name="precision"/>
    /// (as for <see cref="WithInferencePrecision(ModelOperationsCatalog, RecurrentPredictionTransformer, InferencePrecision)"/>);
    /// generation stays float.
    /// </summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A model the language-model trainer fitted (or one loaded).</param>
    /// <param name="precision">The precision of the recurrent products.</param>
    /// <returns><paramref name="model"/> when it already scores in <paramref name="precision"/>; else a new transformer.</returns>
    public static LanguageModelTransformer WithInferencePrecision(this ModelOperationsCatalog catalog, LanguageModelTransformer model,
        InferencePrecision precision)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        CheckPrecision(precision);
        return model.Precision == precision ? model : model.WithPrecision(precision);
    }

    /// <summary>
    /// A fitted pipeline whose recurrent models (<see cref="RecurrentPredictionTransformer"/> and <see cref="LanguageModelTransformer"/>,
    /// as direct members of the chain) score in <paramref name="precision"/>; the other transformers, and every transformer's scope, are kept
    /// (see <see cref="WithInferencePrecision(ModelOperationsCatalog, RecurrentPredictionTransformer, InferencePrecision)"/>).
    /// </summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A fitted pipeline, or a pipeline <c>mlContext.Model.Load</c> returned.</param>
    /// <param name="precision">The precision of the recurrent products.</param>
    /// <exception cref="ArgumentException">The pipeline holds no recurrent model.</exception>
    public static TransformerChain<TLast> WithInferencePrecision<TLast>(this ModelOperationsCatalog catalog, TransformerChain<TLast> model,
        InferencePrecision precision) where TLast : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        CheckPrecision(precision);
        // A chain keeps each transformer's scope privately; GetModelFor tells which scopes include it.
        var training = model.GetModelFor(TransformerScope.Training).ToHashSet(ReferenceEqualityComparer.Instance);
        var testing = model.GetModelFor(TransformerScope.Testing).ToHashSet(ReferenceEqualityComparer.Instance);
        var scoring = model.GetModelFor(TransformerScope.Scoring).ToHashSet(ReferenceEqualityComparer.Instance);
        var transformers = new List<ITransformer>();
        var scopes = new List<TransformerScope>();
        bool found = false;
        foreach (var transformer in model)
        {
            ITransformer changed = transformer switch
            {
                RecurrentPredictionTransformer recurrent => catalog.WithInferencePrecision(recurrent, precision),
                LanguageModelTransformer language => catalog.WithInferencePrecision(language, precision),
                _ => transformer,
            };
            found |= transformer is RecurrentPredictionTransformer or LanguageModelTransformer;
            transformers.Add(changed);
            scopes.Add((training.Contains(transformer) ? TransformerScope.Training : TransformerScope.None)
                | (testing.Contains(transformer) ? TransformerScope.Testing : TransformerScope.None)
                | (scoring.Contains(transformer) ? TransformerScope.Scoring : TransformerScope.None));
        }
        if (!found)
            throw new ArgumentException("The pipeline holds no recurrent model (RecurrentPredictionTransformer or LanguageModelTransformer) to change the inference precision of.",
                nameof(model));
        return new TransformerChain<TLast>(transformers, scopes);
    }

    /// <summary>
    /// <paramref name="model"/>, a recurrent model or a pipeline holding one (as <c>mlContext.Model.Load</c> returns it), scoring
    /// in <paramref name="precision"/> (see <see cref="WithInferencePrecision(ModelOperationsCatalog, RecurrentPredictionTransformer, InferencePrecision)"/>).
    /// </summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A <see cref="RecurrentPredictionTransformer"/> or <see cref="LanguageModelTransformer"/>, or a <see cref="TransformerChain{TLastTransformer}"/> holding one.</param>
    /// <param name="precision">The precision of the recurrent products.</param>
    /// <exception cref="ArgumentException">The model is neither, or its chain holds no recurrent model.</exception>
    public static ITransformer WithInferencePrecision(this ModelOperationsCatalog catalog, ITransformer model, InferencePrecision precision) => model switch
    {
        RecurrentPredictionTransformer recurrent => catalog.WithInferencePrecision(recurrent, precision),
        LanguageModelTransformer language => catalog.WithInferencePrecision(language, precision),
        TransformerChain<LanguageModelTransformer> chain => catalog.WithInferencePrecision(chain, precision),
        TransformerChain<ITransformer> chain => catalog.WithInferencePrecision(chain, precision),
        TransformerChain<RecurrentPredictionTransformer> chain => catalog.WithInferencePrecision(chain, precision),
        null => throw new ArgumentNullException(nameof(model)),
        _ => throw new ArgumentException(
            $"The model is a {model.GetType().Name}; give the recurrent model (RecurrentPredictionTransformer or LanguageModelTransformer) or the pipeline (TransformerChain) that holds it.",
            nameof(model)),
    };

    private static void CheckPrecision(InferencePrecision precision)
    {
        if (!Enum.IsDefined(precision))
            throw new ArgumentOutOfRangeException(nameof(precision), precision, "Use InferencePrecision.Float32 or InferencePrecision.Int8.");
    }
}
