using System.Globalization;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>How <see cref="SequenceToSequenceModel.Translate(IReadOnlyList{int[]}, DecodingOptions?)"/> decodes.</summary>
public sealed record DecodingOptions
{
    /// <summary>K: hypotheses kept per step; 1 is greedy decoding (the most likely token at every step).</summary>
    public int BeamWidth { get; init; } = 1;

    /// <summary>
    /// α: beam search ranks finished hypotheses by <c>log P / n^α</c>, n the number of tokens emitted including the end
    /// token; 0 ranks by log P alone (favouring short outputs), 1 by the mean log-probability per token.
    /// </summary>
    public float LengthNormalization { get; init; } = 1f;

    /// <summary>Most tokens emitted (the end token included); a translation that reaches it stops without an end token.</summary>
    public int MaxLength { get; init; } = 100;

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (BeamWidth < 1)
            throw new ArgumentOutOfRangeException(nameof(BeamWidth), BeamWidth,
                string.Create(CultureInfo.InvariantCulture, $"BeamWidth is {BeamWidth}; it must be at least 1 (1 = greedy)."));
        if (!(LengthNormalization >= 0 && float.IsFinite(LengthNormalization)))
            throw new ArgumentOutOfRangeException(nameof(LengthNormalization), LengthNormalization,
                string.Create(CultureInfo.InvariantCulture, $"LengthNormalization is {LengthNormalization}; it must be a finite number ≥ 0."));
        if (MaxLength <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength,
                string.Create(CultureInfo.InvariantCulture, $"MaxLength is {MaxLength}; it must be at least 1 token (the end token counts)."));
    }
}

/// <summary>A decoded target sequence.</summary>
/// <param name="Tokens">Target ids, without start and end tokens.</param>
/// <param name="LogProbability">log P of the emitted tokens (the end token included when <paramref name="Ended"/>).</param>
/// <param name="Ended">Whether the decoder emitted the end token (false: it stopped at <see cref="DecodingOptions.MaxLength"/>).</param>
public sealed record Translation(int[] Tokens, double LogProbability, bool Ended);
