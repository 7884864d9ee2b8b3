namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// An id sequence <see cref="TokenStreams"/> reads at any position: a <see cref="TokenStore"/> (in memory, or spilled to a
/// file), or one text's ids (<see cref="TokenArray"/>). Positions are longs: a spilled store may hold more than 2³¹ ids.
/// </summary>
internal interface ITokenSource
{
    /// <summary>Ids in the sequence.</summary>
    long Count { get; }

    /// <summary>Copies ids <c>position … position + destination.Length − 1</c> into <paramref name="destination"/>.</summary>
    void Read(long position, Span<int> destination);
}

/// <summary>An id sequence held in one array.</summary>
internal sealed class TokenArray(int[] ids) : ITokenSource
{
    public long Count => ids.Length;

    public void Read(long position, Span<int> destination) => ids.AsSpan(checked((int)position), destination.Length).CopyTo(destination);
}
