using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TwinGateway.Telemetry.Tests.Fixtures;

/// <summary>
/// A logger for tests that keeps every entry, so a test can fail when anything logged an error it did not expect
/// (the way MQTTnet's TestEnvironment does), and print the log when it fails.
/// </summary>
public sealed class TestLog : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, EventId Id, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, EventId Id, string Message)> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _entries.Enqueue((logLevel, eventId, formatter(state, exception) + (exception is null ? "" : " | " + exception.Message)));
    }

    public bool Contains(string text) => _entries.Any(e => e.Message.Contains(text, StringComparison.Ordinal));

    /// <summary>Fails when an error (or worse) was logged.</summary>
    public void AssertNoErrors()
    {
        var errors = _entries.Where(e => e.Level >= LogLevel.Error).ToList();
        Assert.True(errors.Count == 0, "errors were logged:\n" + string.Join("\n", errors.Select(e => $"{e.Level} {e.Id.Id}: {e.Message}")));
    }

    public override string ToString() => string.Join("\n", _entries.Select(e => $"{e.Level} {e.Id.Id}: {e.Message}"));
}
