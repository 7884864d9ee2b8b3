using System.Globalization;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>How the decoder of a <see cref="SequenceToSequenceModel"/> looks at the encoder's outputs.</summary>
public enum AttentionKind
{
    /// <summary>No attention: the decoder sees the source only through the encoder's final state; logits read the decoder's output.</summary>
    None,

    /// <summary>
    /// Luong's global attention with the "general" score, applied after the decoder RNN (over every target step at once
    /// when teacher-forced): <c>score(h_t, m_s) = h_tᵀ W_a m_s</c>, <c>a_t = softmax_s(score)</c>, <c>c_t = Σ_s a_ts m_s</c>,
    /// <c>h̃_t = tanh(W_c [c_t; h_t] + b_c)</c>; logits read <c>h̃_t</c>.
    /// </summary>
    Luong,

    /// <summary>
    /// Bahdanau's additive attention, computed before each decoder step from the decoder's previous top-layer state q:
    /// <c>e_s = vᵀ tanh(W_q q + W_m m_s + b_a)</c>, <c>a = softmax_s(e)</c>, <c>c = Σ_s a_s m_s</c>; the decoder reads
    /// <c>[embedding; c]</c>, so teacher-forced training runs step by step, chaining state gradients backwards (each step's
    /// forward is recomputed during backpropagation); logits read the decoder's output.
    /// </summary>
    Bahdanau,
}

/// <summary>
/// Shape of a <see cref="SequenceToSequenceModel"/>. Legend: S source steps, T target steps, B batch, E embedding size,
/// H hidden size, L layers, D encoder directions, V_s / V_t source and target vocabulary sizes.
/// </summary>
/// <remarks>
/// Token ids follow <see cref="Vocabulary"/>, the one mapping: 0 is the unknown token in both vocabularies (its own
/// trained embedding row, as ML.NET's missing key). The target vocabulary's start id (<see cref="StartId"/>) is fed to the
/// decoder before the first target token, and its end id (<see cref="EndId"/>) is what the decoder learns to emit after the
/// last one; decoding never emits the unknown or the start id. <see cref="For"/> sets the four vocabulary fields from a
/// source and a target <see cref="Vocabulary"/> (ids 1 and 2 for tokens; K + 1 and K + 2 for ML.NET keys, which keep their ids).
/// </remarks>
public sealed record SequenceToSequenceOptions
{
    /// <summary>The recurrent cell of the encoder and the decoder.</summary>
    public RecurrentCellType Cell { get; init; } = RecurrentCellType.Lstm;

    /// <summary>g1 of an Elman RNN (ignored by LSTM and GRU).</summary>
    public RnnActivation RnnActivation { get; init; } = RnnActivation.Tanh;

    /// <summary>V_s: source ids run over [0, V_s), 0 = unknown.</summary>
    public required int SourceVocabularySize { get; init; }

    /// <summary>V_t: target ids run over [0, V_t), 0 = unknown, including <see cref="StartId"/> and <see cref="EndId"/>.</summary>
    public required int TargetVocabularySize { get; init; }

    /// <summary>The start token's target id: the decoder's first input.</summary>
    public int StartId { get; init; } = 1;

    /// <summary>The end token's target id: the decoder's last output; decoding stops when it is emitted.</summary>
    public int EndId { get; init; } = 2;

    /// <summary>E: embedding width of source and target tokens.</summary>
    public int EmbeddingSize { get; init; } = 64;

    /// <summary>H: hidden units per layer (and per direction in the encoder); the decoder has H units per layer.</summary>
    public int HiddenSize { get; init; } = 128;

    /// <summary>L: layers of the encoder and of the decoder; decoder layer l starts from encoder layer l's final state.</summary>
    public int Layers { get; init; } = 1;

    /// <summary>
    /// Whether the encoder also reads the source backwards (D = 2). The bridge to the decoder then sums the two directions'
    /// final states of each layer (<c>h0_dec[l] = h_fwd[l] + h_rev[l]</c>, likewise c for LSTM); attention reads both
    /// directions' outputs <c>[S, B, 2H]</c>.
    /// </summary>
    public bool Bidirectional { get; init; }

    /// <summary>The attention between decoder and encoder.</summary>
    public AttentionKind Attention { get; init; } = AttentionKind.Luong;

    /// <summary>Dropout between stacked recurrent layers (encoder and decoder), during training only.</summary>
    public float Dropout { get; init; }

    /// <summary>LSTM only: when set, the forget-gate bias starts at this value (1 is the usual choice) instead of random.</summary>
    public float? ForgetGateBias { get; init; }

    /// <summary>Seed of initialisation and dropout.</summary>
    public int Seed { get; init; }

    /// <summary>Threads a batch may be split across.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>D.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>
    /// Options (the defaults otherwise; change them with <c>with { … }</c>) whose ids are those of <paramref name="source"/> and
    /// <paramref name="target"/>: <see cref="SourceVocabularySize"/> = <c>source.SourceCount</c> (the encoder never reads start
    /// or end), <see cref="TargetVocabularySize"/> = <c>target.Count</c>, <see cref="StartId"/> and <see cref="EndId"/> the
    /// target's.
    /// </summary>
    public static SequenceToSequenceOptions For(Vocabulary source, Vocabulary target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        return new SequenceToSequenceOptions
        {
            SourceVocabularySize = source.SourceCount, TargetVocabularySize = target.Count, StartId = target.StartId, EndId = target.EndId,
        };
    }

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> (or <see cref="ArgumentException"/>) naming the first invalid option.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Cell)) throw Invalid(nameof(Cell), Cell, "Rnn, Lstm or Gru");
        if (!Enum.IsDefined(RnnActivation)) throw Invalid(nameof(RnnActivation), RnnActivation, "Tanh, Relu or Sigmoid");
        if (SourceVocabularySize < 2) throw Invalid(nameof(SourceVocabularySize), SourceVocabularySize, "at least 2 (id 0 = unknown, then the source tokens)");
        if (TargetVocabularySize < 1) throw Invalid(nameof(TargetVocabularySize), TargetVocabularySize, "positive: ids 0 (unknown), StartId, EndId and the target tokens");
        if (EndId <= 0 || EndId >= TargetVocabularySize)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The target vocabulary has no end token: EndId = {EndId} is not an id in [1, {TargetVocabularySize}) (id 0 is the unknown token). Reserve an end token in the target vocabulary (by default ids 1 = start, 2 = end) and set EndId to it."), nameof(EndId));
        if (StartId <= 0 || StartId >= TargetVocabularySize || StartId == EndId)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"StartId = {StartId} must be an id in [1, {TargetVocabularySize}) other than EndId = {EndId} and the unknown id 0; reserve a start token."),
                nameof(StartId));
        if (EmbeddingSize <= 0) throw Invalid(nameof(EmbeddingSize), EmbeddingSize, "at least 1");
        if (HiddenSize <= 0) throw Invalid(nameof(HiddenSize), HiddenSize, "at least 1");
        if (Layers <= 0) throw Invalid(nameof(Layers), Layers, "at least 1");
        if (!Enum.IsDefined(Attention)) throw Invalid(nameof(Attention), Attention, "None, Luong or Bahdanau");
        if (!(Dropout >= 0f && Dropout < 1f)) throw Invalid(nameof(Dropout), Dropout, "in [0, 1)");
        if (ForgetGateBias is float forget && (Cell != RecurrentCellType.Lstm || !float.IsFinite(forget)))
            throw Invalid(nameof(ForgetGateBias), forget, "unset unless Cell is Lstm, and finite");
        if (MaxDegreeOfParallelism <= 0) throw Invalid(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "at least 1");
    }

    private static ArgumentOutOfRangeException Invalid(string name, object value, string range) =>
        new(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} is {value}; it must be {range}."));
}
