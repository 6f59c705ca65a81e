using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace TwinGateway.Testing;

/// <summary>
/// A logger (and logger factory, and provider) for tests that keeps every entry and fails the test when anything logged
/// an error, or a task's exception went unobserved, that the test did not declare with <see cref="Expect(int)"/> or
/// <see cref="Expect(string)"/> (the way MQTTnet's TestEnvironment does). The check runs in <see cref="Verify"/>, which
/// <see cref="Dispose"/> calls: a test class owning a log disposes it, a fixture owning one disposes it when the fixture
/// ends, and the message carries the whole log.
/// </summary>
/// <remarks>
/// Unobserved task exceptions are process-wide: every log alive when one is reported records it. The runtime reports
/// them from the finalizer, so <see cref="Verify"/> collects garbage and waits for finalizers first.
/// </remarks>
public sealed class TestLog : ILogger, ILoggerFactory, ILoggerProvider
{
    private static readonly ConcurrentDictionary<TestLog, byte> s_live = new();

    private readonly ConcurrentQueue<TestLogEntry> _entries = new();
    private readonly ConcurrentQueue<Exception> _unobserved = new();
    private readonly ConcurrentBag<Func<TestLogEntry, bool>> _expected = [];
    private readonly ConcurrentBag<string> _expectedText = [];
    private int _disposed;

    static TestLog() => TaskScheduler.UnobservedTaskException += (_, e) =>
    {
        foreach (var log in s_live.Keys)
        {
            log._unobserved.Enqueue(e.Exception);
        }
    };

    public TestLog() => s_live.TryAdd(this, 0);

    public IReadOnlyList<TestLogEntry> Entries => [.. _entries];

    /// <summary>Declares errors with this event id expected (the id of a <c>[LoggerMessage]</c>).</summary>
    public TestLog Expect(int eventId)
    {
        _expected.Add(e => e.Id.Id == eventId);
        _expectedText.Add($"event {eventId}");
        return this;
    }

    /// <summary>Declares errors whose message (with the exception's message) matches this regular expression expected.</summary>
    public TestLog Expect([StringSyntax(StringSyntaxAttribute.Regex)] string pattern)
    {
        var regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        _expected.Add(e => regex.IsMatch(e.Message));
        _expectedText.Add($"/{pattern}/");
        return this;
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _entries.Enqueue(new TestLogEntry(logLevel, eventId, formatter(state, exception) + (exception is null ? "" : " | " + exception.Message)));
    }

    /// <summary>Every category logs into this one log.</summary>
    public ILogger CreateLogger(string categoryName) => this;

    void ILoggerFactory.AddProvider(ILoggerProvider provider)
    {
    }

    public bool Contains(string text) => _entries.Any(e => e.Message.Contains(text, StringComparison.Ordinal));

    /// <summary>The errors (and worse) logged so far that no <c>Expect</c> covers.</summary>
    public IReadOnlyList<TestLogEntry> UnexpectedErrors() =>
        [.. _entries.Where(e => e.Level >= LogLevel.Error && !_expected.Any(expected => expected(e)))];

    /// <summary>Fails when an error (or worse) was logged, expected or not: for a step that must log no error at all.</summary>
    public void AssertNoErrors()
    {
        var errors = _entries.Where(e => e.Level >= LogLevel.Error).ToList();
        Assert.True(errors.Count == 0, "errors were logged:\n" + string.Join("\n", errors));
    }

    /// <summary>
    /// Fails when an error that no <c>Expect</c> covers was logged, or a task's exception went unobserved, while this log
    /// was alive.
    /// </summary>
    public void Verify()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var errors = UnexpectedErrors();
        var unobserved = _unobserved.ToArray();
        if (errors.Count == 0 && unobserved.Length == 0)
        {
            return;
        }

        var expected = _expectedText.IsEmpty ? "nothing" : string.Join(", ", _expectedText);
        Assert.Fail(
            (errors.Count > 0 ? $"unexpected errors were logged (expected: {expected}):\n{string.Join("\n", errors)}\n" : "") +
            (unobserved.Length > 0 ? $"unobserved task exceptions:\n{string.Join("\n", unobserved.Select(e => e.ToString()))}\n" : "") +
            $"the whole log:\n{this}");
    }

    /// <summary>Stops recording unobserved task exceptions and runs <see cref="Verify"/> (once).</summary>
    [SuppressMessage(
        "Design",
        "CA1065:Do not raise exceptions in unexpected locations",
        Justification = "Failing the test at the end of its scope is what this log is for; xunit reports the exception.")]
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            Verify();
        }
        finally
        {
            s_live.TryRemove(this, out _);
        }
    }

    public override string ToString() => string.Join("\n", _entries);
}

/// <summary>One entry of a <see cref="TestLog"/>.</summary>
public sealed record TestLogEntry(LogLevel Level, EventId Id, string Message)
{
    public override string ToString() => $"{Level} {Id.Id}: {Message}";
}
