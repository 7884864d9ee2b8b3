using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Tagging;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>Numeric sequences (step-major, <see cref="FeaturesPerStep"/> floats a step) or token sequences.</summary>
public sealed record SequenceInputs
{
    /// <summary>I, for numeric sequences; 0 for tokens.</summary>
    public int FeaturesPerStep { get; init; }

    /// <summary>Numeric sequences, <c>T·I</c> floats each.</summary>
    public float[][]? Steps { get; init; }

    /// <summary>Token-id sequences.</summary>
    public int[][]? Tokens { get; init; }
}

/// <summary>Source and target id sequences of a sequence-to-sequence model (targets without start and end).</summary>
public sealed record PairInputs(int[][] Sources, int[][] Targets);

/// <summary>Texts to score and prompts to continue greedily.</summary>
public sealed record TextInputs(string[] Texts, string[] Prompts, int MaxLength);

/// <summary>Recent observations of a series and of its exogenous features (step-major), one window each.</summary>
public sealed record SeriesInputs(float[][] Recent, float[][] RecentExogenous);

/// <summary>
/// The core's legacy model files: one per model type and save API, tiny (a few hundred to a few thousand parameters), trained
/// for a few epochs with fixed seeds, each with the inputs it is scored on through today's public API.
/// </summary>
public static class LegacyModelFileCases
{
    /// <summary>Every case, in a fixed order.</summary>
    public static readonly IReadOnlyList<LegacyCase> All =
    [
        LstmRegression(), GruTokensBidirectional(), SequenceToSequence(bahdanau: true), SequenceToSequence(bahdanau: false), CharacterLanguageModel(),
        Tagger(), Forecaster(),
    ];

    /// <summary>The case of a file name.</summary>
    public static LegacyCase Named(string fileName) => All.Single(c => c.FileName == fileName);

    private static LegacyCase LstmRegression() => new LegacyCase<SequenceModel, SequenceInputs>(
        "sequence_model_lstm_floats_regression.safetensors",
        "SequenceModel: LSTM, I = 2, H = 5, one layer, many-to-one regression head (O = 1); 20 epochs of Adam on y = mean(x0) - mean(x1)/2.",
        () =>
        {
            var model = new SequenceModel(new SequenceModelOptions
            {
                Cell = RecurrentCellType.Lstm, FeaturesPerStep = 2, HiddenSize = 5, OutputSize = 1, Seed = 11, MaxDegreeOfParallelism = 1,
            });
            var random = new Random(12);
            var data = new SequenceDataset(featuresPerStep: 2, targetWidth: 1);
            for (int n = 0; n < 96; n++)
            {
                float[] steps = Uniform(random, 2 * random.Next(2, 8));
                double target = 0;
                for (int t = 0; t < steps.Length / 2; t++) target += steps[2 * t] - 0.5 * steps[2 * t + 1];
                data.Add(steps, [(float)(target / (steps.Length / 2))]);
            }
            new SequenceTrainer(model, new MeanSquaredError(), new TrainerOptions { Epochs = 20, BatchSize = 16, LearningRate = 0.02f, Seed = 13 }).Train(data);
            return model;
        },
        SequenceModelFile.Save, SequenceModelFile.Load,
        () =>
        {
            var random = new Random(14);
            return new SequenceInputs { FeaturesPerStep = 2, Steps = [Uniform(random, 12), Uniform(random, 6), Uniform(random, 2), Uniform(random, 8)] };
        },
        (model, inputs) => [LegacyOutput.Floats("output", SequenceModelOutputs(model, inputs))]);

    private static LegacyCase GruTokensBidirectional() => new LegacyCase<SequenceModel, SequenceInputs>(
        "sequence_model_gru_tokens_bidirectional_2_layers.safetensors",
        "SequenceModel: token embedding (V = 12, E = 4), GRU, H = 5, 2 bidirectional layers, learned initial state, dropout 0.1 (training only), " +
        "many-to-one 3-class head; 20 epochs of Adam on (count of tokens 1-3) mod 3.",
        () =>
        {
            var model = new SequenceModel(new SequenceModelOptions
            {
                Cell = RecurrentCellType.Gru, VocabularySize = 12, EmbeddingSize = 4, HiddenSize = 5, Layers = 2, Bidirectional = true,
                LearnedInitialState = true, Dropout = 0.1f, OutputSize = 3, Seed = 21, MaxDegreeOfParallelism = 1,
            });
            var random = new Random(22);
            var data = new SequenceDataset(featuresPerStep: 0, targetWidth: 1);
            for (int n = 0; n < 96; n++)
            {
                int[] tokens = Tokens(random, random.Next(2, 9), 12);
                data.AddTokens(tokens, [tokens.Count(id => id is >= 1 and <= 3) % 3]);
            }
            new SequenceTrainer(model, new SoftmaxCrossEntropy(), new TrainerOptions { Epochs = 20, BatchSize = 16, LearningRate = 0.02f, Seed = 23 }).Train(data);
            return model;
        },
        SequenceModelFile.Save, SequenceModelFile.Load,
        () =>
        {
            var random = new Random(24);
            // Id 0 (unknown) in the last sequence: it has its own trained embedding row.
            return new SequenceInputs { Tokens = [Tokens(random, 7, 12), Tokens(random, 3, 12), Tokens(random, 1, 12), [0, 5, 11, 0, 2]] };
        },
        (model, inputs) => [LegacyOutput.Floats("logits", SequenceModelOutputs(model, inputs))]);

    private static LegacyCase SequenceToSequence(bool bahdanau) => new LegacyCase<SequenceToSequenceModel, PairInputs>(
        bahdanau ? "seq2seq_lstm_bahdanau_bidirectional.safetensors" : "seq2seq_gru_luong_2_layers.safetensors",
        (bahdanau
            ? "SequenceToSequenceModel: LSTM, bidirectional encoder, Bahdanau attention, E = 4, H = 6, one layer"
            : "SequenceToSequenceModel: GRU, unidirectional, Luong attention, E = 4, H = 6, 2 layers") +
        "; source ids 1-10 are digits, target ids 3-12 (1 start, 2 end); 30 epochs of Adam on the reversal of 256 digit strings.",
        () =>
        {
            var model = new SequenceToSequenceModel(new SequenceToSequenceOptions
            {
                Cell = bahdanau ? RecurrentCellType.Lstm : RecurrentCellType.Gru, SourceVocabularySize = 11, TargetVocabularySize = 13,
                EmbeddingSize = 4, HiddenSize = 6, Layers = bahdanau ? 1 : 2, Bidirectional = bahdanau,
                Attention = bahdanau ? AttentionKind.Bahdanau : AttentionKind.Luong, Seed = 31, MaxDegreeOfParallelism = 1,
            });
            var pairs = new SequencePairs();
            var random = new Random(32);
            for (int n = 0; n < 256; n++)
            {
                int[] digits = [.. Enumerable.Range(0, random.Next(2, 6)).Select(_ => random.Next(10))];
                pairs.Add([.. digits.Select(d => d + 1)], [.. Enumerable.Reverse(digits).Select(d => d + 3)]);
            }
            new SequencePairTrainer(model, new TrainerOptions { Epochs = 30, BatchSize = 16, LearningRate = 0.02f, Seed = 33 }).Train(pairs);
            return model;
        },
        SequenceToSequenceModelFile.Save, SequenceToSequenceModelFile.Load,
        () => new PairInputs(
            Sources: [[2, 3, 4], [10, 1, 5, 7, 9], [6], [0, 8, 8, 2]],
            Targets: [[6, 5, 4], [11, 9, 7, 3, 12], [8], [4, 10, 10, 0]]),
        (model, inputs) =>
        {
            var greedy = model.Translate(inputs.Sources, new DecodingOptions { MaxLength = 8 });
            var beam = model.Translate(inputs.Sources, new DecodingOptions { BeamWidth = 3, LengthNormalization = 0.7f, MaxLength = 8 });
            return
            [
                LegacyOutput.Doubles("score", inputs.Sources.Select((source, i) => new[] { model.Score(source, inputs.Targets[i]) })),
                LegacyOutput.Ints("greedy.tokens", greedy.Select(t => t.Tokens.Select(id => (long)id).ToArray())),
                LegacyOutput.Doubles("greedy.log_probability", greedy.Select(t => new[] { t.LogProbability })),
                LegacyOutput.Ints("beam.tokens", beam.Select(t => t.Tokens.Select(id => (long)id).ToArray())),
                LegacyOutput.Doubles("beam.log_probability", beam.Select(t => new[] { t.LogProbability })),
            ];
        });

    private static LegacyCase CharacterLanguageModel() => new LegacyCase<LanguageModel, TextInputs>(
        "language_model_lstm_characters.safetensors",
        "LanguageModel: character vocabulary of the training text, LSTM, E = 6, H = 12, forget-gate bias 1; 60 epochs of Adam, 2 streams of 16-step chunks.",
        () =>
        {
            const string text = "the cat sat on the mat. the dog sat on the log. a cat and a dog.";
            var vocabulary = Vocabulary.FromCharacters(text);
            var model = new LanguageModel(vocabulary, LanguageModel.DefaultOptions(vocabulary) with
            {
                EmbeddingSize = 6, HiddenSize = 12, Seed = 41, MaxDegreeOfParallelism = 1,
            });
            model.Train([text, text, text], null, new LanguageModelTrainingOptions { Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 60, BatchSize = 2, LearningRate = 0.02f, Seed = 42 }, ChunkSteps = 16 });
            return model;
        },
        (model, path) => model.Save(path), LanguageModel.Load,
        // "xyz!" holds characters outside the vocabulary: they are read and scored as the unknown id.
        () => new TextInputs(Texts: ["the cat sat on the mat.", "a dog and a log", "xyz!", "t"], Prompts: ["", "the d", "a c"], MaxLength: 24),
        (model, inputs) =>
        [
            LegacyOutput.Doubles("log_likelihood", inputs.Texts.Select(text => new[] { model.Evaluate(text).LogLikelihood })),
            LegacyOutput.Doubles("log_likelihood_with_end", inputs.Texts.Select(text => new[] { model.Evaluate(text, scoreEnd: true).LogLikelihood })),
            LegacyOutput.Ints("token_count", inputs.Texts.Select(text => new[] { model.Evaluate(text, scoreEnd: true).TokenCount })),
            LegacyOutput.Strings("greedy", inputs.Prompts.Select(prompt => new[] { model.Generate(prompt, inputs.MaxLength, temperature: 0f) })),
            // A sum of log-probabilities dilutes a small change of one logit; the logits at every step of start + text do not.
            LegacyOutput.Floats("logits", SequenceModelOutputs(model.Model, new SequenceInputs
            {
                Tokens = [.. inputs.Texts.Select(text => (int[])[model.Vocabulary.StartId, .. model.Vocabulary.Encode(text)])],
            })),
        ]);

    private static LegacyCase Tagger() => new LegacyCase<SequenceTagger, SequenceInputs>(
        "sequence_tagger_rnn_relu_bidirectional.safetensors",
        "SequenceTagger: token embedding (V = 10, E = 4), Elman RNN with ReLU, H = 4, bidirectional, 3 tags per step; " +
        "20 epochs of Adam on tag = 0 for ids 1-3, 1 for ids 4-9 after an id 1-3, else 2.",
        () =>
        {
            var tagger = new SequenceTagger(SequenceTagger.DefaultOptions(tagCount: 3, vocabularySize: 10) with
            {
                Cell = RecurrentCellType.Rnn, RnnActivation = RnnActivation.Relu, EmbeddingSize = 4, HiddenSize = 4, Seed = 51, MaxDegreeOfParallelism = 1,
            });
            var random = new Random(52);
            var tokens = new List<int[]>();
            var tags = new List<int[]>();
            for (int n = 0; n < 96; n++)
            {
                int[] ids = Tokens(random, random.Next(2, 9), 10);
                tokens.Add(ids);
                tags.Add([.. ids.Select((id, t) => id is >= 1 and <= 3 ? 0 : t > 0 && ids[t - 1] is >= 1 and <= 3 ? 1 : 2)]);
            }
            tagger.Train(TaggedSequences.FromTokens(tokens, tags, 3), null, new TrainerOptions { Epochs = 20, BatchSize = 16, LearningRate = 0.03f, Seed = 53 });
            return tagger;
        },
        (tagger, path) => tagger.Save(path), SequenceTagger.Load,
        () => new SequenceInputs { Tokens = [[1, 4, 5, 2, 9], [7, 3, 8], [0], [6, 6, 1, 1, 4, 0, 2]] },
        (tagger, inputs) =>
        {
            var tags = new List<long[]>();
            var probabilities = new List<float[]>();
            foreach (int[] tokens in inputs.Tokens!)
            {
                var predicted = new int[tokens.Length];
                var p = new float[tokens.Length * tagger.TagCount];
                tagger.Predict(tokens, predicted, p);
                tags.Add([.. predicted.Select(tag => (long)tag)]);
                probabilities.Add(p);
            }
            // The probabilities are nearly 0 or 1 after training; the logits keep small changes of the weights visible.
            return [LegacyOutput.Ints("tags", tags), LegacyOutput.Floats("probabilities", probabilities), LegacyOutput.Floats("logits", SequenceModelOutputs(tagger.Model, inputs))];
        });

    private static LegacyCase Forecaster() => new LegacyCase<RecurrentForecaster, SeriesInputs>(
        "forecaster_gru_exogenous.safetensors",
        "RecurrentForecaster: GRU, H = 4, window 6, horizon 2, one exogenous feature, Gaussian 90% bounds from the held-out 20%, refit on the whole " +
        "series; 20 epochs of Adam on a noisy sine of period 12 with its cosine as the exogenous feature.",
        () =>
        {
            var (series, exogenous) = Seasonal(96, start: 0);
            return RecurrentForecaster.Fit(series, new ForecasterOptions
            {
                WindowSize = 6, Horizon = 2, ExogenousFeatures = 1, ConfidenceLevel = 0.9f, Cell = RecurrentCellType.Gru, HiddenSize = 4, Seed = 61,
                MaxDegreeOfParallelism = 1, Training = new TrainerOptions { Epochs = 20, BatchSize = 16, LearningRate = 0.02f, Seed = 62 },
            }, exogenous);
        },
        (forecaster, path) => forecaster.Save(path), RecurrentForecaster.Load,
        () =>
        {
            var (series, exogenous) = Seasonal(20, start: 96);
            // A window of exactly W = 6, and a longer history whose last 6 are read.
            return new SeriesInputs([series[..6], series[6..]], [exogenous[..6], exogenous[6..]]);
        },
        (forecaster, inputs) =>
        {
            // The engine starts from the window saved in the file; then each stored window is forecast directly.
            Forecast[] forecasts = [forecaster.CreateEngine().Predict(), .. inputs.Recent.Select((recent, i) => forecaster.Forecast(recent, inputs.RecentExogenous[i]))];
            return
            [
                LegacyOutput.Floats("values", forecasts.Select(f => f.Values)),
                LegacyOutput.Floats("lower_bound", forecasts.Select(f => f.LowerBound)),
                LegacyOutput.Floats("upper_bound", forecasts.Select(f => f.UpperBound)),
            ];
        });

    /// <summary>Scores sequences with <see cref="SequenceModel.Forward"/> in one batch: a row <c>[O]</c> per sequence (many-to-one) or <c>[T, O]</c> (many-to-many).</summary>
    private static IEnumerable<float[]> SequenceModelOutputs(SequenceModel model, SequenceInputs inputs)
    {
        bool everyStep = model.Options.Readout == SequenceReadout.EveryStep;
        var data = new SequenceDataset(inputs.FeaturesPerStep, targetWidth: 1, perStepTargets: everyStep);
        int count = inputs.Tokens?.Length ?? inputs.Steps!.Length;
        for (int n = 0; n < count; n++)
        {
            int T = inputs.Tokens?[n].Length ?? inputs.Steps![n].Length / inputs.FeaturesPerStep;
            float[] target = new float[everyStep ? T : 1];
            if (inputs.Tokens is not null) data.AddTokens(inputs.Tokens[n], target);
            else data.Add(inputs.Steps![n], target);
        }
        var batch = new SequenceBatch();
        data.Fill([.. Enumerable.Range(0, count)], batch);
        int O = model.OutputSize, B = batch.BatchSize;
        var output = new float[model.OutputRows(batch) * O];
        model.Forward(batch, output, training: false);
        for (int b = 0; b < B; b++)
        {
            if (!everyStep) { yield return output.AsSpan(b * O, O).ToArray(); continue; }
            var row = new float[batch.Lengths[b] * O];
            for (int t = 0; t < batch.Lengths[b]; t++) output.AsSpan((t * B + b) * O, O).CopyTo(row.AsSpan(t * O));
            yield return row;
        }
    }

    private static float[] Uniform(Random random, int count) => [.. Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1))];

    private static int[] Tokens(Random random, int count, int vocabulary) => [.. Enumerable.Range(0, count).Select(_ => random.Next(1, vocabulary))];

    /// <summary>x_n = sin(2πn/12) + noise, and cos(2πn/12) as the exogenous feature.</summary>
    private static (float[] Series, float[] Exogenous) Seasonal(int count, int start)
    {
        var random = new Random(63 + start);
        var series = new float[count];
        var exogenous = new float[count];
        for (int i = 0; i < count; i++)
        {
            int n = start + i;
            series[i] = (float)(Math.Sin(2 * Math.PI * n / 12) + 0.1 * (random.NextDouble() - 0.5));
            exogenous[i] = (float)Math.Cos(2 * Math.PI * n / 12);
        }
        return (series, exogenous);
    }
}
