using Microsoft.Extensions.Logging;

namespace MlNet.Rnn.Core.Tests.Trainer;

/// <summary>
/// The logger a test hands a trainer: keeps every formatted line, calls <paramref name="onLine"/> with each (to cancel, move
/// a clock or copy the weights at a given line), then passes the entry on to <paramref name="inner"/>.
/// </summary>
internal sealed class LineLogger(Action<string>? onLine = null, ILogger? inner = null) : ILogger
{
    public List<string> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string line = formatter(state, exception);
        Lines.Add(line);
        onLine?.Invoke(line);
        inner?.Log(logLevel, eventId, state, exception, formatter);
    }
}
