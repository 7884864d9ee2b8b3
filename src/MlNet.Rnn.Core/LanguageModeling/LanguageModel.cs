using System.Globalization;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// One-to-many: a character- or word-level language model, <c>p(x_t | start, x_1 … x_(t−1)) = softmax(z_t)</c> with
/// <c>z_t = W_ya·a_t + b_y [V]</c>, <c>a_t</c> the top layer's output of a unidirectional RNN/LSTM/GRU stack over the
/// embedded ids <c>e_t = embedding(x_(t−1)) [E]</c>. A <see cref="SequenceModel"/> with <see cref="SequenceReadout.EveryStep"/>,
/// <c>VocabularySize = OutputSize = V</c>, read and trained as a stream whose state is carried across chunks.
/// </summary>
/// <remarks>
/// <para>Texts are encoded by the <see cref="Vocabulary"/>: characters (or tokens) outside it become id 0 (unknown), which
/// the model reads with its own embedding row and scores like any other id; it is never generated.</para>
/// <para><see cref="Train(IReadOnlyList{int[]}, IReadOnlyList{int[]}?, LanguageModelTrainingOptions, CancellationToken)"/>,
/// <see cref="Generate(string, int, float, int, int?)"/> and <see cref="Evaluate(string, bool, int)"/> use the model's own buffers:
/// one caller at a time. To score documents from many threads, give each its own <see cref="CreateWorkspace"/>.</para>
/// </remarks>
public sealed class LanguageModel
{
    /// <summary>Metadata key of the vocabulary JSON in a model file.</summary>
    public const string VocabularyKey = "language_model.vocabulary";

    private StreamingLogits? _inference;

    /// <summary>Builds an untrained model over <paramref name="vocabulary"/>: <see cref="DefaultOptions"/> unless <paramref name="options"/> are given.</summary>
    public LanguageModel(Vocabulary vocabulary, SequenceModelOptions? options = null)
        : this(vocabulary, new SequenceModel(options ?? DefaultOptions(vocabulary ?? throw new ArgumentNullException(nameof(vocabulary)))))
    {
    }

    /// <summary>Wraps a model built for next-token prediction over <paramref name="vocabulary"/>.</summary>
    /// <exception cref="ArgumentException">The model is bidirectional, reads out the last step only, or its vocabulary or output size is not V.</exception>
    public LanguageModel(Vocabulary vocabulary, SequenceModel model)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(model);
        var options = model.Options;
        int V = vocabulary.Count;
        if (options.VocabularySize != V || options.OutputSize != V)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The vocabulary has V = {V} ids but the model has VocabularySize = {options.VocabularySize} and OutputSize = {options.OutputSize}; both must be V."), nameof(model));
        if (options.Readout != SequenceReadout.EveryStep)
            throw new ArgumentException($"A language model predicts every step: Readout must be EveryStep, not {options.Readout}.", nameof(model));
        if (options.Bidirectional)
            throw new ArgumentException("A language model reads left to right: Bidirectional must be false (the reverse direction would see the token to predict).", nameof(model));
        Vocabulary = vocabulary;
        Model = model;
    }

    /// <summary>
    /// The default shape: a one-layer LSTM (H = 256, E = 64, forget-gate bias 1) over V = <c>vocabulary.Count</c> ids, with
    /// a V-way head at every step. Change the rest with <c>with { … }</c> (keep VocabularySize, OutputSize, Readout, Bidirectional).
    /// </summary>
    public static SequenceModelOptions DefaultOptions(Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        return new SequenceModelOptions
        {
            Cell = RecurrentCellType.Lstm, VocabularySize = vocabulary.Count, EmbeddingSize = 64, HiddenSize = 256, Layers = 1,
            OutputSize = vocabulary.Count, Readout = SequenceReadout.EveryStep, ForgetGateBias = 1f,
        };
    }

    /// <summary>The ids of tokens.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The network: embedding, recurrent stack, V-way head.</summary>
    public SequenceModel Model { get; }

    /// <summary>Trains on one long text (one document: start, the text, end); <paramref name="validationText"/> likewise.</summary>
    public TrainingHistory Train(string trainingText, string? validationText, LanguageModelTrainingOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainingText);
        return Train([trainingText], validationText is null ? null : [validationText], options, cancellationToken);
    }

    /// <summary>Trains on documents (rows of a text column): each is read as <c>start, its tokens, end</c>, one after another.</summary>
    public TrainingHistory Train(IReadOnlyList<string> trainingDocuments, IReadOnlyList<string>? validationDocuments, LanguageModelTrainingOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainingDocuments);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(validationDocuments is not null);
        using var training = Store(trainingDocuments, "training", nameof(trainingDocuments), Vocabulary.Encode);
        using var validation = validationDocuments is null ? null : Store(validationDocuments, "validation", nameof(validationDocuments), Vocabulary.Encode);
        return Train(training, validation, options, cancellationToken);
    }

    /// <summary>
    /// Trains on documents of ids in [0, V) (without start and end, which are added), e.g. the key vectors of ML.NET, held in
    /// memory: as <see cref="Train(TokenStore, TokenStore?, LanguageModelTrainingOptions, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">No training token, an id outside the vocabulary (naming the document and position), or invalid options.</exception>
    /// <exception cref="TrainingDivergedException">The loss or gradient stopped being finite; the model keeps its last finite weights.</exception>
    public TrainingHistory Train(IReadOnlyList<int[]> trainingDocuments, IReadOnlyList<int[]>? validationDocuments, LanguageModelTrainingOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainingDocuments);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(validationDocuments is not null);
        using var training = Store(trainingDocuments, "training", nameof(trainingDocuments), ids => ids);
        using var validation = validationDocuments is null ? null : Store(validationDocuments, "validation", nameof(validationDocuments), ids => ids);
        return Train(training, validation, options, cancellationToken);
    }

    /// <summary>
    /// Trains on the documents of <paramref name="training"/> (in memory, or spilled to a file: the same model either way):
    /// truncated BPTT over B streams of k-step chunks with the state carried (<see cref="LanguageModelTrainingOptions"/>).
    /// The history's epoch reports give the training and validation loss in nats per token, the validation bits per token
    /// as the metric, and tokens per second as the speed. The stores stay the caller's to dispose.
    /// </summary>
    /// <exception cref="ArgumentException">No training token, no validation document, a store of another vocabulary, or invalid options.</exception>
    /// <exception cref="TrainingDivergedException">The loss or gradient stopped being finite; the model keeps its last finite weights.</exception>
    public TrainingHistory Train(TokenStore training, TokenStore? validation, LanguageModelTrainingOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(validation is not null);
        CheckVocabulary(training, nameof(training));
        if (training.TokenCount == 0) throw new ArgumentException("The training documents hold no token; give text to learn from.", nameof(training));
        if (validation is not null)
        {
            CheckVocabulary(validation, nameof(validation));
            if (validation.DocumentCount == 0) throw new ArgumentException("The validation documents are an empty list; pass null for no validation.", nameof(validation));
        }
        training.Complete();
        validation?.Complete();
        var loop = new TrainingLoop(Model.Parameters, options.Training, SequenceModelFile.ToJson(Model.Options), Metadata());
        return loop.Train(new LanguageModelTask(Model, Vocabulary, new StreamingLogits(Model), training, validation, options), cancellationToken);
    }

    /// <summary>
    /// Continues <paramref name="prompt"/> (empty: from the start token alone, one-to-many) and returns the generated text
    /// only, without the prompt. Each next token is drawn from <c>softmax(z / temperature)</c> restricted to the
    /// <paramref name="topK"/> most likely tokens; generation stops after <paramref name="maxLength"/> tokens or at the end
    /// token (which is not returned). The unknown and start tokens are never generated.
    /// </summary>
    /// <param name="prompt">Text to continue; characters outside the vocabulary are read as unknown.</param>
    /// <param name="maxLength">Most tokens to generate, ≥ 0.</param>
    /// <param name="temperature">τ ≥ 0: below 1 sharpens, above 1 flattens the distribution; 0 is greedy (always the most likely token).</param>
    /// <param name="topK">Draw from the k most likely tokens only; 0 = all; 1 = greedy.</param>
    /// <param name="seed">Seed of the draws: the same seed, prompt and model give the same text. Null draws a fresh seed.</param>
    public string Generate(string prompt = "", int maxLength = 200, float temperature = 1f, int topK = 0, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return Vocabulary.Decode(Generate(Vocabulary.Encode(prompt), maxLength, temperature, topK, seed));
    }

    /// <summary>As <see cref="Generate(string, int, float, int, int?)"/> over ids in [0, V); returns the generated ids.</summary>
    public int[] Generate(ReadOnlySpan<int> prompt, int maxLength, float temperature = 1f, int topK = 0, int? seed = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        if (!(temperature >= 0 && float.IsFinite(temperature)))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature,
                string.Create(CultureInfo.InvariantCulture, $"temperature is {temperature}; it must be a finite number ≥ 0 (0 = greedy)."));
        if (topK < 0) throw new ArgumentOutOfRangeException(nameof(topK), topK, $"topK is {topK}; it must be ≥ 0 (0 = every token, 1 = greedy).");
        int V = Vocabulary.Count;
        TokenSequence.CheckIds(prompt, V, "prompt", nameof(prompt));
        var generated = new List<int>(Math.Min(maxLength, 1024));
        if (maxLength == 0) return [];
        var random = new Random(seed ?? Random.Shared.Next());
        var order = new int[V];
        var probabilities = new double[V];
        var logits = Inference();
        logits.Reset(1);
        int[] context = TokenSequence.FromText(prompt, withEnd: false, Vocabulary, nameof(prompt));
        ReadOnlySpan<float> z = logits.Forward(context, context.Length, training: false);
        z = z.Slice((context.Length - 1) * V, V);
        var next = new int[1];
        while (true)
        {
            int id = TokenSampler.Sample(z, Vocabulary, temperature, topK, random, order, probabilities);
            if (id == Vocabulary.EndId) break;
            generated.Add(id);
            if (generated.Count == maxLength) break;
            next[0] = id;
            z = logits.Forward(next, 1, training: false);
        }
        return [.. generated];
    }

    /// <summary>
    /// Scores <paramref name="text"/>: the log-likelihood of its tokens, each given the start token and every token before
    /// it, and from it the perplexity and bits per token (<see cref="LanguageModelMetrics"/>). With <paramref name="scoreEnd"/>
    /// the end token after the text is scored too (the text is a whole document). Tokens outside the vocabulary are scored as
    /// the unknown id.
    /// </summary>
    /// <param name="text">The text; at least one token unless <paramref name="scoreEnd"/>.</param>
    /// <param name="scoreEnd">Whether the end token after the text counts.</param>
    /// <param name="streams">1 scores exactly; B &gt; 1 cuts the text into B pieces scored side by side, each starting from
    /// the initial state (faster on long texts, slightly pessimistic).</param>
    public LanguageModelMetrics Evaluate(string text, bool scoreEnd = false, int streams = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Evaluate(Vocabulary.Encode(text), scoreEnd, streams);
    }

    /// <summary>As <see cref="Evaluate(string, bool, int)"/> for ids in [0, V).</summary>
    public LanguageModelMetrics Evaluate(ReadOnlySpan<int> ids, bool scoreEnd = false, int streams = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(streams);
        if (ids.IsEmpty && !scoreEnd) throw new ArgumentException("The text holds no token to score; give text, or scoreEnd: true to score the end token alone.", nameof(ids));
        int[] sequence = TokenSequence.FromText(ids, scoreEnd, Vocabulary, nameof(ids));
        return LikelihoodScorer.Score(Inference(), new TokenArray(sequence), streams, Vocabulary);
    }

    /// <summary>
    /// A new, empty workspace that scores documents with this model (<see cref="LanguageModelWorkspace"/>), any number at once:
    /// nothing is copied or initialised, buffers grow on first use. The recurrent layers' products run in <paramref name="precision"/>.
    /// </summary>
    public LanguageModelWorkspace CreateWorkspace(int maxDegreeOfParallelism = 1, InferencePrecision precision = InferencePrecision.Float32) =>
        new(this, maxDegreeOfParallelism, precision);

    /// <summary>Writes the model's options, vocabulary and weights to a model file (<see cref="ModelFile"/>, atomically).</summary>
    public void Save(string path) => ModelFile.Save(path, Model.Parameters, SequenceModelFile.ToJson(Model.Options), Metadata());

    /// <summary>Writes the model to a stream.</summary>
    public void Save(Stream stream) => ModelFile.Save(stream, Model.Parameters, SequenceModelFile.ToJson(Model.Options), Metadata());

    /// <summary>Reads a model written by <see cref="Save(string)"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a language model file, or does not fit its configuration.</exception>
    public static LanguageModel Load(string path) => FromContents(ModelFile.Read(path, requireModelFormat: true, ModelFile.CheckpointState));

    /// <summary>Reads a model from a stream.</summary>
    public static LanguageModel Load(Stream stream, string? source = null) => FromContents(ModelFile.Read(stream, requireModelFormat: true, source, ModelFile.CheckpointState));

    private static LanguageModel FromContents(ModelFileContents contents)
    {
        string where = contents.Source ?? "The model file";
        if (!contents.Metadata.TryGetValue(VocabularyKey, out var json))
            throw new InvalidDataException($"{where} has no '{VocabularyKey}' metadata; it is not a language model written by LanguageModel.Save.");
        var vocabulary = Vocabulary.FromJson(json, contents.Source);
        var model = SequenceModelFile.FromContents(contents);
        try
        {
            return new LanguageModel(vocabulary, model);
        }
        catch (ArgumentException exception)
        {
            throw new InvalidDataException($"{where}: the model does not fit a language model: {exception.Message}", exception);
        }
    }

    private Dictionary<string, string> Metadata() => new(StringComparer.Ordinal) { [VocabularyKey] = Vocabulary.ToJson() };

    private StreamingLogits Inference() => _inference ??= new StreamingLogits(Model);

    /// <summary>The documents in a store in memory (past <see cref="Array.MaxLength"/> ids, in a temporary file).</summary>
    private TokenStore Store<TDocument>(IReadOnlyList<TDocument> documents, string role, string name, Func<TDocument, int[]> encode) where TDocument : class
    {
        var store = new TokenStore(Vocabulary, role, long.MaxValue);
        try
        {
            for (int d = 0; d < documents.Count; d++)
                store.Add(encode(documents[d] ?? throw new ArgumentException($"Document {d} of the {role} data is null.", name)));
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private void CheckVocabulary(TokenStore store, string name)
    {
        var vocabulary = store.Vocabulary;
        if (vocabulary.Count != Vocabulary.Count || vocabulary.StartId != Vocabulary.StartId || vocabulary.EndId != Vocabulary.EndId)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The {name} store holds ids of a {vocabulary}, start {vocabulary.StartId}, end {vocabulary.EndId}; the model reads a {Vocabulary}, start {Vocabulary.StartId}, end {Vocabulary.EndId}. Build the store with the model's Vocabulary."), name);
    }
}
