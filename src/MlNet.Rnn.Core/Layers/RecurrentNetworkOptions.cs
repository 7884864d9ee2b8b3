using System.Globalization;

namespace MlNet.Rnn.Core.Layers;

/// <summary>Shape and behaviour of a <see cref="RecurrentNetwork{TCell}"/>. Legend: I input size, H hidden size, L layers.</summary>
public sealed record RecurrentNetworkOptions
{
    /// <summary>I: features per time step.</summary>
    public required int InputSize { get; init; }

    /// <summary>H: hidden units per layer and direction.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>L: stacked layers; layer k+1 reads layer k's output.</summary>
    public int Layers { get; init; } = 1;

    /// <summary>Whether each layer also runs backwards in time (D = 2), outputs concatenated.</summary>
    public bool Bidirectional { get; init; }

    /// <summary>Probability of zeroing an output of a layer before the next layer reads it, during training only.</summary>
    public float Dropout { get; init; }

    /// <summary>Recurrent (variational) dropout on h' entering W_hh, one mask per sequence kept for all steps; training only.</summary>
    public float RecurrentDropout { get; init; }

    /// <summary>Whether the initial state (h0, and c0 for LSTM) is a trained parameter rather than zeros.</summary>
    public bool LearnedInitialState { get; init; }

    /// <summary>Seed of the dropout masks.</summary>
    public int Seed { get; init; }

    /// <summary>Threads a batch may be split across.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first invalid option and its valid range.</summary>
    public void Validate()
    {
        if (InputSize <= 0) throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize, "InputSize must be at least 1.");
        if (HiddenSize <= 0) throw new ArgumentOutOfRangeException(nameof(HiddenSize), HiddenSize, "HiddenSize must be at least 1.");
        if (Layers <= 0) throw new ArgumentOutOfRangeException(nameof(Layers), Layers, "Layers must be at least 1.");
        if (!(Dropout >= 0f && Dropout < 1f)) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout must be in [0, 1).");
        if (!(RecurrentDropout >= 0f && RecurrentDropout < 1f))
            throw new ArgumentOutOfRangeException(nameof(RecurrentDropout), RecurrentDropout, "RecurrentDropout must be in [0, 1).");
        if (MaxDegreeOfParallelism <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "MaxDegreeOfParallelism must be at least 1.");
        // The largest weight matrix, W_ih or W_hh of an LSTM (4H rows), must fit one array: sizes past that overflow.
        double width = Math.Max(InputSize, (Bidirectional ? 2.0 : 1.0) * HiddenSize), values = 4.0 * HiddenSize * Math.Max(width, HiddenSize);
        if (values > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(HiddenSize), HiddenSize, string.Create(CultureInfo.InvariantCulture,
                $"HiddenSize = {HiddenSize} with InputSize = {InputSize} makes a weight matrix of {values:N0} values, more than an array holds ({Array.MaxLength:N0}); use a smaller network."));
    }
}
