using MlNet.Rnn.Core.Cells;

namespace MlNet.Rnn.Core.Models;

/// <summary>
/// Shape of a <see cref="SequenceModel"/>: an optional token embedding, a recurrent stack and a dense head.
/// Legend: I features per step (or E, the embedding size, for tokens), H hidden size, L layers, O outputs.
/// </summary>
public sealed record SequenceModelOptions
{
    /// <summary>The recurrent cell.</summary>
    public RecurrentCellType Cell { get; init; } = RecurrentCellType.Lstm;

    /// <summary>g1 of an Elman RNN (ignored by LSTM and GRU).</summary>
    public RnnActivation RnnActivation { get; init; } = RnnActivation.Tanh;

    /// <summary>I: floats per time step for numeric sequences. Ignored when <see cref="VocabularySize"/> is set.</summary>
    public int FeaturesPerStep { get; init; } = 1;

    /// <summary>V: when positive, inputs are token ids in [0, V) (0 = unknown) fed through an embedding.</summary>
    public int VocabularySize { get; init; }

    /// <summary>E: embedding width for token inputs.</summary>
    public int EmbeddingSize { get; init; } = 64;

    /// <summary>H.</summary>
    public int HiddenSize { get; init; } = 64;

    /// <summary>L.</summary>
    public int Layers { get; init; } = 1;

    /// <summary>Whether each layer also reads the sequence backwards (D = 2).</summary>
    public bool Bidirectional { get; init; }

    /// <summary>Dropout between recurrent layers and before the head, in training.</summary>
    public float Dropout { get; init; }

    /// <summary>Recurrent (variational) dropout on the state entering W_hh, one mask per sequence for all steps; training only.</summary>
    public float RecurrentDropout { get; init; }

    /// <summary>
    /// Token inputs, training only: the probability p that a token is read as 0 (unknown), so the embedding's row 0 learns to
    /// stand for a word the model has not seen. Without it, row 0 keeps its random start when every training token is known,
    /// as it is when the vocabulary was built from the training rows, and every unseen word at scoring time reads noise. Trained
    /// by <see cref="Training.SequenceTrainer"/>, the rate follows each token's frequency (<see cref="SequenceModel.UseTokenCounts"/>):
    /// p for a token seen once, less for frequent ones. Ignored for numeric inputs.
    /// </summary>
    public float TokenDropout { get; init; }

    /// <summary>Whether the initial state is trained.</summary>
    public bool LearnedInitialState { get; init; }

    /// <summary>O: outputs per sequence (or per step): 1 for regression and binary logits, the class count for multiclass.</summary>
    public int OutputSize { get; init; } = 1;

    /// <summary>Many-to-one (the final states, or their mean over the steps) or many-to-many aligned.</summary>
    public SequenceReadout Readout { get; init; } = SequenceReadout.LastStep;

    /// <summary>How the recurrent weights start.</summary>
    public WeightInitialization Initialization { get; init; } = WeightInitialization.PyTorchDefault;

    /// <summary>LSTM only: when set, the forget-gate bias starts at this value (1 is the usual choice) instead of random.</summary>
    public float? ForgetGateBias { get; init; }

    /// <summary>Seed of initialisation and dropout.</summary>
    public int Seed { get; init; }

    /// <summary>Threads a batch may be split across.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>I seen by the recurrent stack.</summary>
    public int RecurrentInputSize => VocabularySize > 0 ? EmbeddingSize : FeaturesPerStep;

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first invalid option and its valid range.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Cell)) throw new ArgumentOutOfRangeException(nameof(Cell), Cell, "Cell must be Rnn, Lstm or Gru.");
        if (!Enum.IsDefined(RnnActivation)) throw new ArgumentOutOfRangeException(nameof(RnnActivation), RnnActivation, "RnnActivation must be Tanh, Relu or Sigmoid.");
        if (VocabularySize < 0) throw new ArgumentOutOfRangeException(nameof(VocabularySize), VocabularySize, "VocabularySize must be 0 (numeric inputs) or positive.");
        if (VocabularySize == 0 && FeaturesPerStep <= 0) throw new ArgumentOutOfRangeException(nameof(FeaturesPerStep), FeaturesPerStep, "FeaturesPerStep must be at least 1.");
        if (VocabularySize > 0 && EmbeddingSize <= 0) throw new ArgumentOutOfRangeException(nameof(EmbeddingSize), EmbeddingSize, "EmbeddingSize must be at least 1.");
        if (HiddenSize <= 0) throw new ArgumentOutOfRangeException(nameof(HiddenSize), HiddenSize, "HiddenSize must be at least 1.");
        if (Layers <= 0) throw new ArgumentOutOfRangeException(nameof(Layers), Layers, "Layers must be at least 1.");
        if (!(Dropout >= 0f && Dropout < 1f)) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout must be in [0, 1).");
        if (!(RecurrentDropout >= 0f && RecurrentDropout < 1f)) throw new ArgumentOutOfRangeException(nameof(RecurrentDropout), RecurrentDropout, "RecurrentDropout must be in [0, 1).");
        if (!(TokenDropout >= 0f && TokenDropout < 1f)) throw new ArgumentOutOfRangeException(nameof(TokenDropout), TokenDropout, "TokenDropout must be in [0, 1).");
        if (OutputSize <= 0) throw new ArgumentOutOfRangeException(nameof(OutputSize), OutputSize, "OutputSize must be at least 1.");
        if (!Enum.IsDefined(Readout)) throw new ArgumentOutOfRangeException(nameof(Readout), Readout, "Readout must be LastStep, EveryStep or MeanOverSteps.");
        if (!Enum.IsDefined(Initialization))
            throw new ArgumentOutOfRangeException(nameof(Initialization), Initialization, "Initialization must be PyTorchDefault or XavierOrthogonal.");
        if (ForgetGateBias is float forget && (Cell != RecurrentCellType.Lstm || !float.IsFinite(forget)))
            throw new ArgumentOutOfRangeException(nameof(ForgetGateBias), ForgetGateBias, "ForgetGateBias applies to an LSTM only and must be finite.");
        if (MaxDegreeOfParallelism <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "MaxDegreeOfParallelism must be at least 1.");
    }
}

/// <summary>How a <see cref="SequenceModel"/>'s recurrent weights start.</summary>
public enum WeightInitialization
{
    /// <summary>PyTorch's default: every recurrent weight and bias ~ U(−1/√H, 1/√H).</summary>
    PyTorchDefault,
    /// <summary>Xavier (Glorot) uniform input weights and orthogonal recurrent gate blocks; biases as PyTorch's default.</summary>
    XavierOrthogonal,
}
