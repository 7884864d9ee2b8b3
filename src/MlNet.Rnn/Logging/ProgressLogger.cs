using Microsoft.Extensions.Logging;
using Microsoft.ML.Runtime;

namespace MlNet.Rnn.Logging;

/// <summary>
/// The <see cref="ILogger"/> the core's training loop reports to: every message goes to the ML.NET channel (so to
/// <c>MLContext.Log</c>) and to the user's logger when one was given in the options.
/// </summary>
internal sealed class ProgressLogger(IChannel channel, ILogger? user) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => user?.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string message = formatter(state, exception);
        if (logLevel >= LogLevel.Warning) channel.Warning(message);
        else channel.Info(message);
        user?.Log(logLevel, eventId, state, exception, formatter);
    }
}
