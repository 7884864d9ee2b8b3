using Microsoft.ML.Runtime;
using MlNet.Rnn;
using MlNet.Rnn.Experiments;

namespace Microsoft.ML;

/// <summary>
/// The recurrent tasks ML.NET has no catalog for, on <see cref="MLContext"/> beside its own (<c>mlContext.BinaryClassification</c>, …),
/// in ML.NET's namespace so that <c>using Microsoft.ML;</c> finds them: <c>mlContext.SequenceTagging</c>,
/// <c>mlContext.SequenceToSequence</c>, <c>mlContext.LanguageModeling</c> and <c>mlContext.RecurrentExperiments</c>.
/// </summary>
/// <remarks>
/// They are C# 14 extension properties. C# 12 (the default on .NET 8) and F# call the methods of the same names with
/// <c>Catalog</c> after them instead: <c>mlContext.SequenceTaggingCatalog()</c>, … (a method cannot share the property's
/// name: C# 14 would find both and call the use ambiguous).
/// </remarks>
public static class RecurrentMLContextExtensions
{
    /// <summary>Extension members of <see cref="MLContext"/>.</summary>
    /// <param name="mlContext">The context whose environment, seed and log the trainers use.</param>
    extension(MLContext mlContext)
    {
        /// <summary>The sequence-tagging task: recurrent taggers and their evaluator.</summary>
        public SequenceTaggingCatalog SequenceTagging => mlContext.SequenceTaggingCatalog();

        /// <summary>The sequence-to-sequence task: recurrent encoder–decoders (with attention) and their evaluator.</summary>
        public SequenceToSequenceCatalog SequenceToSequence => mlContext.SequenceToSequenceCatalog();

        /// <summary>The language-modeling task: recurrent character or token models and their evaluator.</summary>
        public LanguageModelingCatalog LanguageModeling => mlContext.LanguageModelingCatalog();

        /// <summary>Time-budgeted searches over recurrent models (RNN, LSTM, GRU), as ML.NET AutoML's <c>mlContext.Auto()</c>.</summary>
        public RecurrentExperimentCatalog RecurrentExperiments => mlContext.RecurrentExperimentsCatalog();
    }

    /// <summary><c>mlContext.SequenceTagging</c> for C# 12 and F#.</summary>
    /// <param name="mlContext">The context whose environment, seed and log the trainers use.</param>
    public static SequenceTaggingCatalog SequenceTaggingCatalog(this MLContext mlContext) => new(Environment(mlContext));

    /// <summary><c>mlContext.SequenceToSequence</c> for C# 12 and F#.</summary>
    /// <param name="mlContext">The context whose environment, seed and log the trainers use.</param>
    public static SequenceToSequenceCatalog SequenceToSequenceCatalog(this MLContext mlContext) => new(Environment(mlContext));

    /// <summary><c>mlContext.LanguageModeling</c> for C# 12 and F#.</summary>
    /// <param name="mlContext">The context whose environment, seed and log the trainers use.</param>
    public static LanguageModelingCatalog LanguageModelingCatalog(this MLContext mlContext) => new(Environment(mlContext));

    /// <summary><c>mlContext.RecurrentExperiments</c> for C# 12 and F#.</summary>
    /// <param name="mlContext">The context whose environment, seed and log the experiments use.</param>
    public static RecurrentExperimentCatalog RecurrentExperimentsCatalog(this MLContext mlContext) =>
        new(mlContext ?? throw new ArgumentNullException(nameof(mlContext)));

    private static IHostEnvironment Environment(MLContext mlContext) => Contracts.CheckRef(mlContext, nameof(mlContext));
}
