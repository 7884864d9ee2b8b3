using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Tagging;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// A model file the fuzzing mutates, its loader, and the rule each mutant is held to: one target per kind of model file
/// (<see cref="ForSequenceModel"/>, <see cref="ForSequenceToSequence"/>, <see cref="ForForecaster"/>, <see cref="ForLanguageModel"/>,
/// <see cref="ForTagger"/>),
/// each a tiny model saved once, whose load takes microseconds. A mutant must load through the kind's own loader and score bit
/// for bit as the original on a fixed input, or throw an <see cref="InvalidDataException"/> whose message starts with the
/// source's name. The metadata carries its own checksum (<see cref="ModelFile.MetadataChecksumKey"/>), so a damaged value
/// that would still describe a valid model (a sequence-to-sequence model's end id 2 flipped to 3, a character of a language
/// model's vocabulary, a forecaster's confidence level 0.9 flipped to 0.8) is refused like any other damage.
/// </summary>
public sealed class ModelFileFuzzTarget
{
    /// <summary>The name the loader is given for the stream, which every error must start with.</summary>
    public const string Source = "fuzz.safetensors";

    private readonly Func<Stream, float[]> _loadAndScore;
    private readonly float[] _expected;

    /// <summary>Saves a model to <paramref name="file"/>; <paramref name="loadAndScore"/> loads it from a stream named <see cref="Source"/>
    /// and returns its outputs on the kind's fixed input (or throws).</summary>
    public ModelFileFuzzTarget(string kind, byte[] file, Func<Stream, float[]> loadAndScore)
    {
        Kind = kind;
        File = file;
        _loadAndScore = loadAndScore;
        _expected = loadAndScore(new MemoryStream(file));
    }

    /// <summary>What the file holds ("sequence model", "sequence-to-sequence model", …).</summary>
    public string Kind { get; }

    /// <summary>The file every mutant is made from.</summary>
    public byte[] File { get; }

    /// <summary>The model's outputs on the fixed input, which a mutant that loads must reproduce bit for bit.</summary>
    public IReadOnlyList<float> Expected => _expected;

    /// <summary>Loads <paramref name="mutant"/> from a seekable stream, or one that is not (<paramref name="forwardOnly"/>), and judges it.</summary>
    public FuzzOutcome Run(Mutant mutant, bool forwardOnly) => FuzzOutcome.Judge(
        forwardOnly ? mutant.Name + " (forward-only stream)" : mutant.Name,
        () => _loadAndScore(forwardOnly ? new SafetensorsBytes.ForwardOnlyStream(mutant.Bytes, maxRead: 4096) : new MemoryStream(mutant.Bytes)),
        _expected,
        exception => exception is InvalidDataException && exception.Message.StartsWith(Source, StringComparison.Ordinal)
            ? null
            : $"threw {exception.GetType().Name}, not an InvalidDataException naming {Source}: {exception.Message}");

    /// <summary>
    /// A checkpoint of a tiny LSTM (I = 2, H = 2, O = 2, learned initial state) with one optimizer tensor, which loading passes
    /// over unread; about 1.4 KB. Loaded with <see cref="SequenceModelFile.Load(Stream, string?)"/>, scored by <see cref="Score"/>.
    /// </summary>
    public static ModelFileFuzzTarget ForSequenceModel()
    {
        var options = new SequenceModelOptions
        {
            Cell = RecurrentCellType.Lstm, FeaturesPerStep = 2, HiddenSize = 2, OutputSize = 2, LearnedInitialState = true, Seed = 3, MaxDegreeOfParallelism = 1,
        };
        var model = new SequenceModel(options);
        Randomize(model.Parameters, seed: 5);
        var stream = new MemoryStream();
        ModelFile.Save(stream, model.Parameters, SequenceModelFile.ToJson(options),
            extraTensors: [("optimizer.m.head.bias", [2], new float[] { 0.5f, -0.5f })]);
        return new("sequence model", stream.ToArray(), file => Score(SequenceModelFile.Load(file, Source)));
    }

    /// <summary>
    /// A tiny sequence-to-sequence model (GRU, Luong attention, 6 source and 7 target ids, E = 2, H = 3), about 1.5 KB. Loaded
    /// with <see cref="SequenceToSequenceModelFile.Load(Stream, string?)"/>; scored by the greedy translation of three fixed sources
    /// (ids and log-probabilities) and the teacher-forced log-probability of three fixed pairs (every logit of every step).
    /// </summary>
    public static ModelFileFuzzTarget ForSequenceToSequence()
    {
        var model = new SequenceToSequenceModel(new SequenceToSequenceOptions
        {
            Cell = RecurrentCellType.Gru, SourceVocabularySize = 6, TargetVocabularySize = 7, EmbeddingSize = 2, HiddenSize = 3,
            Attention = AttentionKind.Luong, Seed = 7, MaxDegreeOfParallelism = 1,
        });
        Randomize(model.Parameters, seed: 8);
        var stream = new MemoryStream();
        SequenceToSequenceModelFile.Save(model, stream);
        int[][] sources = [[1, 2, 3], [5], [4, 0, 2, 2]];
        int[][] targets = [[3, 4, 5], [], [6, 0, 3]];
        return new("sequence-to-sequence model", stream.ToArray(), file =>
        {
            var loaded = SequenceToSequenceModelFile.Load(file, Source);
            var outputs = new List<float>();
            foreach (var translation in loaded.Translate(sources, new DecodingOptions { MaxLength = 5 }))
            {
                outputs.AddRange(translation.Tokens.Select(BitConverter.Int32BitsToSingle));
                outputs.Add(BitConverter.Int32BitsToSingle(translation.Ended ? 1 : 0));
                AddDouble(outputs, translation.LogProbability);
            }
            // A target holding the loaded start or end id (one the damaged configuration moved) is not scored: it marks NaN.
            for (int i = 0; i < sources.Length; i++)
                AddDouble(outputs, targets[i].Any(id => id == loaded.Options.StartId || id == loaded.Options.EndId) ? double.NaN : loaded.Score(sources[i], targets[i]));
            return [.. outputs];
        });
    }

    /// <summary>
    /// A tiny forecaster (GRU, H = 2, window 3, horizon 2, one exogenous feature, Gaussian bounds), fitted for one epoch on 24
    /// observations, about 1.9 KB. Loaded with <see cref="RecurrentForecaster.Load(Stream, string?)"/>; scored by the forecast and
    /// bounds (and their confidence level) from the window saved in the file and from a fixed window.
    /// </summary>
    public static ModelFileFuzzTarget ForForecaster()
    {
        float[] series = [.. Enumerable.Range(0, 24).Select(n => MathF.Sin(n * 0.5f) + 0.01f * n)];
        float[] exogenous = [.. Enumerable.Range(0, 24).Select(n => MathF.Cos(n * 0.5f))];
        var forecaster = RecurrentForecaster.Fit(series, new ForecasterOptions
        {
            WindowSize = 3, Horizon = 2, ExogenousFeatures = 1, ConfidenceLevel = 0.9f, Cell = RecurrentCellType.Gru, HiddenSize = 2, Seed = 9,
            MaxDegreeOfParallelism = 1, Training = new TrainerOptions { Epochs = 1, BatchSize = 8, Seed = 10 },
        }, exogenous);
        var stream = new MemoryStream();
        forecaster.Save(stream);
        float[] recent = [0.3f, -0.2f, 0.8f, 0.1f], recentExogenous = [1f, 0.5f, -0.5f, -1f];
        return new("forecaster", stream.ToArray(), file =>
        {
            var loaded = RecurrentForecaster.Load(file, Source);
            Forecast[] forecasts = [loaded.CreateEngine().Predict(), loaded.Forecast(recent, recentExogenous)];
            return [.. forecasts.SelectMany(f => f.Values.Concat(f.LowerBound).Concat(f.UpperBound).Append(f.ConfidenceLevel))];
        });
    }

    /// <summary>
    /// A tiny character language model (vocabulary of "ab c.", LSTM, E = 2, H = 3), about 1.3 KB. Loaded with
    /// <see cref="LanguageModel.Load(Stream, string?)"/>; scored by the logits of every step of two texts, their log-likelihood
    /// (which reads the vocabulary) and a greedy continuation.
    /// </summary>
    public static ModelFileFuzzTarget ForLanguageModel()
    {
        var vocabulary = Vocabulary.FromCharacters("ab c.");
        var model = new LanguageModel(vocabulary, LanguageModel.DefaultOptions(vocabulary) with
        {
            EmbeddingSize = 2, HiddenSize = 3, Seed = 11, MaxDegreeOfParallelism = 1,
        });
        Randomize(model.Model.Parameters, seed: 12);
        var stream = new MemoryStream();
        model.Save(stream);
        string[] texts = ["ab c.", "cab x"];
        return new("language model", stream.ToArray(), file =>
        {
            var loaded = LanguageModel.Load(file, Source);
            var outputs = new List<float>(Score(loaded.Model, [.. texts.Select(text => (int[])[loaded.Vocabulary.StartId, .. loaded.Vocabulary.Encode(text)])]));
            foreach (string text in texts) AddDouble(outputs, loaded.Evaluate(text, scoreEnd: true).LogLikelihood);
            outputs.AddRange(loaded.Generate("a", maxLength: 6, temperature: 0f).Select(c => (float)c));
            return [.. outputs];
        });
    }

    /// <summary>
    /// A tiny tagger (6 token ids, E = 2, bidirectional LSTM, H = 2, 3 tags), about 1.9 KB. Loaded with
    /// <see cref="SequenceTagger.Load(Stream, string?)"/>; scored by the tags and probabilities of two token sequences.
    /// </summary>
    public static ModelFileFuzzTarget ForTagger()
    {
        var tagger = new SequenceTagger(SequenceTagger.DefaultOptions(tagCount: 3, vocabularySize: 6) with
        {
            EmbeddingSize = 2, HiddenSize = 2, Seed = 13, MaxDegreeOfParallelism = 1,
        });
        Randomize(tagger.Model.Parameters, seed: 14);
        var stream = new MemoryStream();
        tagger.Save(stream);
        int[][] sequences = [[1, 5, 0, 3], [2]];
        return new("tagger", stream.ToArray(), file =>
        {
            var loaded = SequenceTagger.Load(file, Source);
            var outputs = new List<float>();
            foreach (int[] tokens in sequences)
            {
                var tags = new int[tokens.Length];
                var probabilities = new float[tokens.Length * loaded.TagCount];
                loaded.Predict(tokens, tags, probabilities);
                outputs.AddRange(tags.Select(BitConverter.Int32BitsToSingle));
                outputs.AddRange(probabilities);
            }
            return [.. outputs];
        });
    }

    /// <summary>Every kind of model file, in a fixed order.</summary>
    public static IReadOnlyList<ModelFileFuzzTarget> All() => [ForSequenceModel(), ForSequenceToSequence(), ForForecaster(), ForLanguageModel(), ForTagger()];

    /// <summary>The kind of <paramref name="kind"/>.</summary>
    public static ModelFileFuzzTarget For(string kind) => kind switch
    {
        "sequence model" => ForSequenceModel(),
        "sequence-to-sequence model" => ForSequenceToSequence(),
        "forecaster" => ForForecaster(),
        "language model" => ForLanguageModel(),
        "tagger" => ForTagger(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a kind of model file."),
    };

    /// <summary>The model's raw outputs on three numeric sequences of lengths 3, 1 and 2.</summary>
    public static float[] Score(SequenceModel model)
    {
        int I = model.Options.FeaturesPerStep;
        var data = new SequenceDataset(I, targetWidth: 1, perStepTargets: model.Options.Readout == SequenceReadout.EveryStep);
        foreach (int steps in new[] { 3, 1, 2 })
        {
            float[] x = [.. Enumerable.Range(0, steps * I).Select(i => MathF.Sin(1.7f * i + steps))];
            data.Add(x, new float[model.Options.Readout == SequenceReadout.EveryStep ? steps : 1]);
        }
        return Forward(model, data);
    }

    /// <summary>The model's raw outputs on token sequences (one batch).</summary>
    private static float[] Score(SequenceModel model, int[][] tokens)
    {
        bool everyStep = model.Options.Readout == SequenceReadout.EveryStep;
        var data = new SequenceDataset(0, targetWidth: 1, perStepTargets: everyStep);
        foreach (int[] ids in tokens) data.AddTokens(ids, new float[everyStep ? ids.Length : 1]);
        return Forward(model, data);
    }

    private static float[] Forward(SequenceModel model, SequenceDataset data)
    {
        var batch = new SequenceBatch();
        data.Fill([.. Enumerable.Range(0, data.Count)], batch);
        var output = new float[model.OutputRows(batch) * model.OutputSize];
        model.Forward(batch, output, training: false);
        return output;
    }

    /// <summary>Every parameter drawn from U(−1, 1), so that no weight is a round number a damaged file could repeat.</summary>
    private static void Randomize(ParameterSet parameters, int seed)
    {
        var random = new Random(seed);
        foreach (var tensor in parameters.Tensors)
        {
            var values = parameters.ValuesOf(tensor);
            for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        }
    }

    /// <summary>A double's 64 bits as two floats, compared bit for bit like the rest.</summary>
    private static void AddDouble(List<float> outputs, double value) => outputs.AddRange(MemoryMarshal.Cast<double, float>([value]).ToArray());
}
