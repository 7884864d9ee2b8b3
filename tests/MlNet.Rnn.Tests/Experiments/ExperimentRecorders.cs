using Microsoft.Extensions.Logging;

namespace MlNet.Rnn.Tests.Experiments;

/// <summary>Collects a search's reports on the reporting thread (<see cref="Progress{T}"/> would post them elsewhere), calling <paramref name="onReport"/> on each.</summary>
internal sealed class Reports<T>(Action<T>? onReport = null) : IProgress<T>
{
    public List<T> All { get; } = [];

    public void Report(T value)
    {
        All.Add(value);
        onReport?.Invoke(value);
    }
}

/// <summary>Every line logged, with its level, from any thread.</summary>
internal sealed class ListLogger : ILogger
{
    public List<(LogLevel Level, string Message)> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    /// <summary>The lines logged at <see cref="LogLevel.Information"/>, in order.</summary>
    public IEnumerable<string> Information
    {
        get
        {
            lock (Lines) return Lines.Where(line => line.Level == LogLevel.Information).Select(line => line.Message).ToArray();
        }
    }

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Lines) Lines.Add((logLevel, formatter(state, exception)));
    }
}
