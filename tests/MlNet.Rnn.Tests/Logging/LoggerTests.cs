using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Logging;
using MlNet.Rnn.Tests.Options;

namespace MlNet.Rnn.Tests.Logging;

/// <summary>
/// The two loggers between the core's training loop and the user: <see cref="ProgressLogger"/> sends every message to
/// MLContext.Log with warnings as warnings and the rest as information, and to the user's logger at its own level;
/// <see cref="DebugLogger"/> (an experiment's trials) demotes information to debug and leaves every other level alone.
/// </summary>
public sealed class LoggerTests
{
    [Fact]
    public void ProgressLogger_SendsWarningsAsWarnings_AndTheRestAsInformation_ToMLContextAndTheUser()
    {
        var mlContext = new MLContext(seed: 1);
        var seen = new List<(ChannelMessageKind Kind, string Message)>();
        mlContext.Log += (_, e) => { lock (seen) seen.Add((e.Kind, e.RawMessage)); };
        var user = new RecordingLogger();
        using (var channel = ((IHostEnvironment)mlContext).Start("LoggerTests"))
        {
            ILogger logger = new ProgressLogger(channel, user);
            logger.LogDebug("debug line");
            logger.LogInformation("epoch line");
            logger.LogWarning("warning line");
            logger.LogError("error line");
            logger.Log(LogLevel.None, "never");
            Assert.True(logger.IsEnabled(LogLevel.Trace));
            Assert.False(logger.IsEnabled(LogLevel.None));
        }

        (ChannelMessageKind, string)[] ours = [.. seen.Where(m => m.Message.EndsWith(" line", StringComparison.Ordinal) || m.Message.Contains("never"))];
        Assert.Equal(
            [(ChannelMessageKind.Info, "debug line"), (ChannelMessageKind.Info, "epoch line"),
             (ChannelMessageKind.Warning, "warning line"), (ChannelMessageKind.Warning, "error line")],
            ours);
        Assert.Equal(
            [(LogLevel.Debug, "debug line"), (LogLevel.Information, "epoch line"), (LogLevel.Warning, "warning line"), (LogLevel.Error, "error line")],
            user.Lines);
    }

    [Fact]
    public void ProgressLogger_WithoutAUserLogger_StillReachesMLContext()
    {
        var mlContext = new MLContext(seed: 1);
        var seen = new List<string>();
        mlContext.Log += (_, e) => { lock (seen) seen.Add(e.RawMessage); };
        using (var channel = ((IHostEnvironment)mlContext).Start("LoggerTests"))
        {
            ILogger logger = new ProgressLogger(channel, null);
            Assert.Null(logger.BeginScope("scope"));
            logger.LogInformation("alone");
        }
        Assert.Contains("alone", seen);
    }

    [Fact]
    public void DebugLogger_DemotesInformationToDebug_AndNothingElse()
    {
        var inner = new LevelLogger(LogLevel.Debug);
        ILogger logger = new DebugLogger(inner);
        logger.LogTrace("t");
        logger.LogDebug("d");
        logger.LogInformation("i");
        logger.LogWarning("w");
        logger.LogError("e");
        Assert.Equal([(LogLevel.Debug, "d"), (LogLevel.Debug, "i"), (LogLevel.Warning, "w"), (LogLevel.Error, "e")], inner.Lines);

        // Enabled exactly when the inner logger is enabled for the demoted level: information follows debug.
        Assert.True(logger.IsEnabled(LogLevel.Information));
        Assert.False(new DebugLogger(new LevelLogger(LogLevel.Information)).IsEnabled(LogLevel.Information));
        Assert.True(new DebugLogger(new LevelLogger(LogLevel.Information)).IsEnabled(LogLevel.Warning));
        Assert.Same(inner.Scope, logger.BeginScope("scope"));
    }

    /// <summary>Keeps the messages at or above its minimum level.</summary>
    private sealed class LevelLogger(LogLevel minimum) : ILogger
    {
        public List<(LogLevel Level, string Message)> Lines { get; } = [];

        public IDisposable Scope { get; } = new MemoryStream();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => Scope;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) Lines.Add((logLevel, formatter(state, exception)));
        }
    }
}
