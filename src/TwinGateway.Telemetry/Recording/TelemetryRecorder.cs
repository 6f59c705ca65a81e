using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;

namespace TwinGateway.Telemetry.Recording;

/// <summary>
/// The flight recorder: every sample the gateway receives, appended durably to one DuckDB file, with the twin's expected
/// value beside it. Producers append into memory (a lock and an array store, no I/O); one writer thread commits what
/// has gathered every <see cref="RecorderOptions.FlushIntervalMilliseconds"/> in one transaction through DuckDB's
/// appender: 2.3 to 3.9 M samples/s sustained on this 2-core machine with the writer thread at one core
/// (bench/results/telemetry.json), against the 1 M samples/s target and the demo line's 1,910 samples/s.
/// </summary>
/// <remarks>
/// Nothing is dropped: a commit that fails (disk full, I/O error) keeps its samples in memory with their sequence
/// numbers and is retried, and producers wait when <see cref="RecorderOptions.MaxPendingSamples"/> are pending or they take
/// <see cref="RecorderOptions.MaxPendingBytes"/> of memory.
/// Sequence numbers are contiguous and assigned in commit order, so a consumer (the InfluxDB forwarder) keeps one
/// number as its high-water mark and the backlog is <c>LastSeq - mark</c>.
/// The partial files hold one concern each: <c>.Open</c> (file and schema), <c>.Series</c>, <c>.Ingest</c> (producers),
/// <c>.Writer</c> (the commit thread), <c>.Consumers</c> (high-water marks, retention), <c>.Queries</c>, <c>.Live</c>
/// and <c>.Database</c> (DuckDB helpers).
/// </remarks>
public sealed partial class TelemetryRecorder : IAsyncDisposable, IDisposable
{
    private readonly RecorderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _connectionString;
    private readonly object _gate = new();
    private readonly Lock _controlLock = new();
    private readonly List<(long Target, TaskCompletionSource Done)> _flushWaiters = [];
    private readonly Thread _writer;
    private DuckDBConnection _control;
    private DuckDBConnection _writeConnection;
    private readonly PendingSamples _pending = new();

    /// <summary>Most samples pending: <see cref="RecorderOptions.MaxPendingSamples"/>, or fewer where <see cref="RecorderOptions.MaxPendingBytes"/> is reached first.</summary>
    private readonly int _maxPending;
    private long _appended;
    private long _committed;
    private long _lastSeq;
    private bool _flushRequested;
    private int _reconnectRequested;
    private bool _stopping;
    private bool _disposed;
    private string? _lastError;
    private long _commitFailures;
    private DateTimeOffset? _lastCommitAt;
    private DateTimeOffset? _failingSince;

    private TelemetryRecorder(RecorderOptions options, TimeProvider time, ILogger logger, DuckDBConnection control, string connectionString)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _control = control;
        _connectionString = connectionString;
        _maxPending = (int)Math.Min(options.MaxPendingSamples, options.MaxPendingBytes / PendingSamples.SampleBytes);
        _writeConnection = new DuckDBConnection(connectionString);
        _writeConnection.Open();
        LoadState();
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "TelemetryRecorder writer" };
        _writer.Start();
    }

    /// <summary>The DuckDB file.</summary>
    public string DatabasePath => _options.DatabasePath;

    public RecorderOptions Options => _options;

    /// <summary>The sequence number of the last committed sample (contiguous from 1); 0 when the recorder is empty.</summary>
    public long LastSeq => Interlocked.Read(ref _lastSeq);

    /// <summary>Where the recorder stands: counts, the commit state and the last error.</summary>
    public RecorderStatus GetStatus()
    {
        // The file system is asked outside the lock: producers take the same lock for every sample.
        long bytes = 0;
        var exists = File.Exists(_options.DatabasePath);
        try
        {
            bytes = (exists ? new FileInfo(_options.DatabasePath).Length : 0) + (File.Exists(_options.DatabasePath + ".wal") ? new FileInfo(_options.DatabasePath + ".wal").Length : 0);
        }
        catch (IOException)
        {
            // The size is informative only.
        }

        lock (_gate)
        {
            return new RecorderStatus(
                _options.DatabasePath,
                _lastSeq,
                _pending.Count,
                _appended,
                _committed,
                _commitFailures,
                _failingSince is null ? null : _lastError,
                _failingSince,
                _lastCommitAt,
                bytes,
                exists);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _stopping = true;
            Monitor.PulseAll(_gate);
        }

        // The writer commits what is pending before it ends (it gives up only when the commit fails).
        await Task.Run(() => _writer.Join()).ConfigureAwait(false);
        CloseLive();
        lock (_controlLock)
        {
            _writeConnection.Dispose();
            _control.Dispose();
        }

        lock (s_openPaths)
        {
            s_openPaths.Remove(_options.DatabasePath);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Flight recorder {Path} {Action}: {LastSeq} samples recorded so far, {SeriesCount} series")]
        public static partial void Opened(ILogger logger, string path, string action, long lastSeq, int seriesCount);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Critical, Message = "The flight recorder file {Path} is not a readable DuckDB database ({Reason}); it was moved to {Aside} and a new file started")]
        public static partial void MovedCorrupt(ILogger logger, string path, string aside, string reason);

        [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "Flight recorder {Path}: commit failed, {Pending} samples kept in memory and retried: {Reason}")]
        public static partial void CommitFailed(ILogger logger, string path, long pending, string reason);

        [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Flight recorder {Path}: commits work again after {Duration}; {Pending} samples still pending")]
        public static partial void CommitRecovered(ILogger logger, string path, TimeSpan duration, long pending);

        [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Flight recorder {Path}: cannot reopen the database yet: {Reason}")]
        public static partial void ReconnectFailed(ILogger logger, string path, string reason);

        [LoggerMessage(EventId = 5006, Level = LogLevel.Critical, Message = "Flight recorder stopped with {Pending} samples that could not be committed to {Path}: {Reason}")]
        public static partial void LostAtStop(ILogger logger, long pending, string path, string reason);
    }
}
