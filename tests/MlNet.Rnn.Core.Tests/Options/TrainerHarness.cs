using Microsoft.Extensions.Logging;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Tests.Trainer;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Options;

/// <summary>What one training run left: its history, the final weights, the weights after every epoch, every log line.</summary>
internal sealed record TrainingRun(TrainingHistory History, float[] Final, IReadOnlyList<float[]> AfterEpoch, IReadOnlyList<string> Lines);

/// <summary>
/// One of the three trainers (sequence, sequence-to-sequence, language model) over a tiny model and data set, driven through
/// its public API only, so the option tests hold for every epoch loop and survive a refactor that merges them. Every epoch
/// is one optimizer step over the whole training set (one batch, no shuffling; one chunk for the language model), so the
/// weights after epoch k are the k-th step of the optimizer the options describe.
/// </summary>
internal abstract class TrainerHarness
{
    public const string Sequence = "sequence", Translation = "seq2seq", Language = "language model";

    public static TheoryData<string> All() => new(Sequence, Translation, Language);

    /// <summary>The trainers that take <see cref="TrainerOptions"/> (the language model trainer has options of its own).</summary>
    public static TheoryData<string> WithTrainerOptions() => new(Sequence, Translation);

    public static TrainerHarness Create(string name) => name switch
    {
        Sequence => new SequenceHarness(),
        Translation => new SequenceToSequenceHarness(),
        Language => new LanguageModelHarness(),
        _ => throw new ArgumentException($"Unknown trainer {name}.", nameof(name)),
    };

    /// <summary>Plain SGD at rate <paramref name="learningRate"/>, one epoch, no clipping: the base every test changes one option of.</summary>
    public static TrainerOptions Sgd(float learningRate) =>
        new() { Optimizer = OptimizerKind.Sgd, LearningRate = learningRate, GradientClipNorm = 0, Epochs = 1 };

    /// <summary>The weights the model starts from.</summary>
    public abstract float[] Initial { get; }

    /// <summary>A learning rate for SGD that moves the weights visibly but stays far from divergence.</summary>
    public abstract float SgdRate { get; }

    /// <summary>
    /// Trains from <paramref name="start"/> with <paramref name="options"/> (batching and shuffling are fixed by the harness;
    /// the logger is wrapped to record the weights after each epoch), validating on data the training makes worse when
    /// <paramref name="validate"/>.
    /// </summary>
    public abstract TrainingRun Train(TrainerOptions options, float[] start, bool validate = false);

    /// <summary>
    /// ∂L/∂θ of the training set at <paramref name="weights"/>, measured through the trainer: one plain SGD step at rate
    /// 2¹⁰ (a power of two, so <c>lr·g</c> is exact and <c>(θ − θ')/lr</c> recovers g to float precision).
    /// </summary>
    public virtual double[] Gradient(float[] weights)
    {
        const float rate = 1024f;
        float[] after = Train(Sgd(rate), weights).Final;
        var gradient = new double[weights.Length];
        for (int i = 0; i < gradient.Length; i++) gradient[i] = ((double)weights[i] - after[i]) / rate;
        return gradient;
    }

    /// <summary>Records every line and, at each "Epoch k:" line (logged once per finished epoch), a copy of the weights in <paramref name="afterEpoch"/>.</summary>
    protected static LineLogger Recording(Func<float[]> weights, List<float[]> afterEpoch, ILogger? inner) =>
        new(line => { if (line.StartsWith("Epoch ", StringComparison.Ordinal)) afterEpoch.Add(weights()); }, inner);
}

/// <summary>
/// An Elman tanh RNN (I = 2, H = 3, O = 1) on six one-step sequences under mean squared error: a two-layer perceptron whose
/// gradient is written out here in double precision, independently of the model's backpropagation.
/// </summary>
internal sealed class SequenceHarness : TrainerHarness
{
    private const int I = 2, H = 3;
    private readonly SequenceModel _model = new(new SequenceModelOptions
    {
        Cell = RecurrentCellType.Rnn, RnnActivation = RnnActivation.Tanh, FeaturesPerStep = I, HiddenSize = H, OutputSize = 1, Seed = 3,
        MaxDegreeOfParallelism = 1,
    });
    private readonly SequenceDataset _training = new(I, 1), _validation = new(I, 1);
    private readonly float[] _initial;

    public SequenceHarness()
    {
        var random = new Random(11);
        for (int n = 0; n < 6; n++)
        {
            float[] x = [random.NextSingle() * 4 - 2, random.NextSingle() * 4 - 2];
            float target = random.NextSingle() * 2 - 1;
            _training.Add(x, [target]);
            // The same inputs with the opposite targets: the better the fit, the worse the validation loss.
            _validation.Add(x, [-target]);
        }
        _initial = _model.Parameters.Values.ToArray();
    }

    public SequenceModel Model => _model;

    public SequenceDataset TrainingData => _training;

    public override float[] Initial => _initial;

    public override float SgdRate => 0.5f;

    public override TrainingRun Train(TrainerOptions options, float[] start, bool validate = false)
    {
        start.CopyTo(_model.Parameters.Values);
        var afterEpoch = new List<float[]>();
        var logger = Recording(() => _model.Parameters.Values.ToArray(), afterEpoch, options.Logger);
        var trainer = new SequenceTrainer(_model, new MeanSquaredError(),
            options with { BatchSize = _training.Count, Shuffle = false, BucketByLength = false, Logger = logger });
        var history = trainer.Train(_training, validate ? _validation : null);
        return new TrainingRun(history, _model.Parameters.Values.ToArray(), afterEpoch, logger.Lines);
    }

    /// <summary>
    /// <c>h = tanh(W_ih x + b_ih + b_hh)</c> (h₀ = 0, so W_hh gets no gradient), <c>y = W_y h + b_y</c>,
    /// <c>L = (1/N) Σ (y − t)²</c>, differentiated by hand.
    /// </summary>
    public override double[] Gradient(float[] weights)
    {
        var parameters = _model.Parameters;
        double[] θ = NetworkFactory.Widen(weights);
        int wih = parameters["weight_ih_l0"].Offset, bih = parameters["bias_ih_l0"].Offset, bhh = parameters["bias_hh_l0"].Offset;
        int wy = parameters["head.weight"].Offset, by = parameters["head.bias"].Offset;
        var gradient = new double[θ.Length];
        int N = _training.Count;
        var batch = new SequenceBatch();
        for (int n = 0; n < N; n++)
        {
            _training.Fill([n], batch);
            ReadOnlySpan<float> x = batch.Input;
            double target = batch.Targets[0];
            var h = new double[H];
            double y = θ[by];
            for (int j = 0; j < H; j++)
            {
                double z = θ[bih + j] + θ[bhh + j];
                for (int i = 0; i < I; i++) z += θ[wih + j * I + i] * x[i];
                h[j] = Math.Tanh(z);
                y += θ[wy + j] * h[j];
            }
            double dy = 2 * (y - target) / N;
            gradient[by] += dy;
            for (int j = 0; j < H; j++)
            {
                gradient[wy + j] += dy * h[j];
                double dz = dy * θ[wy + j] * (1 - h[j] * h[j]);
                gradient[bih + j] += dz;
                gradient[bhh + j] += dz;
                for (int i = 0; i < I; i++) gradient[wih + j * I + i] += dz * x[i];
            }
        }
        return gradient;
    }
}

/// <summary>A GRU encoder-decoder with Luong attention (E = 3, H = 4) on four pairs; source id 5 never occurs, target id 5 only in validation.</summary>
internal sealed class SequenceToSequenceHarness : TrainerHarness
{
    private readonly SequenceToSequenceModel _model = new(new SequenceToSequenceOptions
    {
        Cell = RecurrentCellType.Gru, SourceVocabularySize = 6, TargetVocabularySize = 6, EmbeddingSize = 3, HiddenSize = 4,
        Attention = AttentionKind.Luong, Seed = 2, MaxDegreeOfParallelism = 1,
    });
    private readonly SequencePairs _training = SequencePairs.From(
        [[1, 2, 3], [4, 2], [3, 3, 1, 2], [2]],
        [[3, 4], [4, 3, 4], [4], [3, 3]]);
    // The same sources translated to target id 5, which training never teaches, at other lengths: every step makes them less likely.
    private readonly SequencePairs _validation = SequencePairs.From(
        [[1, 2, 3], [4, 2], [3, 3, 1, 2], [2]],
        [[5], [5, 5, 5, 5], [5, 5], [5, 5, 5]]);
    private readonly float[] _initial;

    public SequenceToSequenceHarness() => _initial = Weights();

    public SequenceToSequenceModel Model => _model;

    public override float[] Initial => _initial;

    public override float SgdRate => 1f;

    public override TrainingRun Train(TrainerOptions options, float[] start, bool validate = false)
    {
        SetWeights(start);
        var afterEpoch = new List<float[]>();
        var logger = Recording(Weights, afterEpoch, options.Logger);
        var trainer = new SequencePairTrainer(_model,
            options with { BatchSize = _training.Count, Shuffle = false, BucketByLength = false, Logger = logger });
        var history = trainer.Train(_training, validate ? _validation : null);
        return new TrainingRun(history, Weights(), afterEpoch, logger.Lines);
    }

    /// <summary>Encoder then decoder parameters, in one array.</summary>
    public float[] Weights() => [.. _model.EncoderParameters.Values, .. _model.DecoderParameters.Values];

    public void SetWeights(float[] weights)
    {
        int encoder = _model.EncoderParameters.Count;
        weights.AsSpan(0, encoder).CopyTo(_model.EncoderParameters.Values);
        weights.AsSpan(encoder).CopyTo(_model.DecoderParameters.Values);
    }
}

/// <summary>
/// A GRU language model (E = 3, H = 4) over the characters a–d, trained on "abcabcabca" as one stream read in one chunk
/// (so each epoch is one step over every next-character pair) and validated on "dddd": training never shows 'd', so every
/// step makes the validation text less likely.
/// </summary>
internal sealed class LanguageModelHarness : TrainerHarness
{
    public const string TrainingText = "abcabcabca", ValidationText = "dddd";

    private readonly LanguageModel _model;
    private readonly float[] _initial;

    public LanguageModelHarness()
    {
        var vocabulary = Vocabulary.FromCharacters("abcd");
        _model = new LanguageModel(vocabulary, LanguageModel.DefaultOptions(vocabulary) with
        {
            Cell = RecurrentCellType.Gru, EmbeddingSize = 3, HiddenSize = 4, ForgetGateBias = null, Seed = 4, MaxDegreeOfParallelism = 1,
        });
        _initial = _model.Model.Parameters.Values.ToArray();
    }

    public LanguageModel Model => _model;

    public override float[] Initial => _initial;

    public override float SgdRate => 1f;

    public override TrainingRun Train(TrainerOptions options, float[] start, bool validate = false) =>
        Train(ToLanguageModelOptions(options) with { Training = options with { BatchSize = 1, Shuffle = false }, ChunkSteps = 1000 }, start, validate);

    public TrainingRun Train(LanguageModelTrainingOptions options, float[] start, bool validate = false,
        string trainingText = TrainingText, string validationText = ValidationText)
    {
        start.CopyTo(_model.Model.Parameters.Values);
        var afterEpoch = new List<float[]>();
        var logger = Recording(() => _model.Model.Parameters.Values.ToArray(), afterEpoch, options.Training.Logger);
        var history = _model.Train(trainingText, validate ? validationText : null, options with { Training = options.Training with { Logger = logger } });
        return new TrainingRun(history, _model.Model.Parameters.Values.ToArray(), afterEpoch, logger.Lines);
    }

    /// <summary>The language model's options with the same training options: every option of the one training loop applies.</summary>
    public static LanguageModelTrainingOptions ToLanguageModelOptions(TrainerOptions options) => new() { Training = options };
}
