using System.Globalization;

namespace MlNet.Rnn.Core.Tests.Forecasting;

/// <summary>
/// Sets the invariant culture until disposed, for tests that compare whole messages holding numbers: the messages format
/// them in the current culture (-0.5 is "−0,5" in some), and an <see cref="ArgumentOutOfRangeException"/> formats its
/// actual value when its message is read.
/// </summary>
internal sealed class InvariantCultureScope : IDisposable
{
    private readonly CultureInfo _saved = CultureInfo.CurrentCulture;

    public InvariantCultureScope() => CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

    public void Dispose() => CultureInfo.CurrentCulture = _saved;
}
