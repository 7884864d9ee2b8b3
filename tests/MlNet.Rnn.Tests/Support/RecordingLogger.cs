using Microsoft.Extensions.Logging;

namespace MlNet.Rnn.Tests;

/// <summary>
/// The one logger of the tests: keeps every line it is given, with its level, in order (from any thread), and hands each to
/// <paramref name="onLine"/> with its level as it comes, for a test that acts at a point of a fit (records the files open at its first line,
/// cancels at epoch 1, …).
/// </summary>
public sealed class RecordingLogger(Action<LogLevel, string>? onLine = null) : ILogger
{
    /// <summary>Every line with its level.</summary>
    public List<(LogLevel Level, string Message)> Lines { get; } = [];

    /// <summary>Every line's text.</summary>
    public List<string> Messages { get; } = [];

    /// <summary>The lines logged at <see cref="LogLevel.Information"/>, in order.</summary>
    public IEnumerable<string> Information
    {
        get
        {
            lock (Lines) return Lines.Where(line => line.Level == LogLevel.Information).Select(line => line.Message).ToArray();
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string message = formatter(state, exception);
        lock (Lines)
        {
            Lines.Add((logLevel, message));
            Messages.Add(message);
        }
        onLine?.Invoke(logLevel, message);
    }
}
