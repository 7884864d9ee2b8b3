using Microsoft.Extensions.Logging;

namespace MlNet.Rnn.Logging;

/// <summary>
/// Passes messages on to another logger with Information demoted to Debug: an experiment's many trials report every epoch,
/// which the user's logger sees only when it asks for Debug; the experiment's own progress stays at Information.
/// </summary>
internal sealed class DebugLogger(ILogger inner) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(Demote(logLevel));

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        inner.Log(Demote(logLevel), eventId, state, exception, formatter);

    private static LogLevel Demote(LogLevel logLevel) => logLevel == LogLevel.Information ? LogLevel.Debug : logLevel;
}
