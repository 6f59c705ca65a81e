using System.Diagnostics;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

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
/// numbers and is retried, and producers wait when <see cref="RecorderOptions.MaxPendingSamples"/> are pending.
/// Sequence numbers are contiguous and assigned in commit order, so a consumer (the InfluxDB forwarder) keeps one
/// number as its high-water mark and the backlog is <c>LastSeq - mark</c>.
/// </remarks>
public sealed partial class TelemetryRecorder : IAsyncDisposable, IDisposable
{
    private static readonly HashSet<string> s_openPaths = new(StringComparer.Ordinal);
    private readonly RecorderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _connectionString;
    private readonly object _gate = new();
    private readonly Lock _controlLock = new();
    private readonly Dictionary<(string Line, string Signal), TelemetrySeries> _seriesByKey = [];
    private readonly Dictionary<int, TelemetrySeries> _seriesById = [];
    private readonly List<(long Target, TaskCompletionSource Done)> _flushWaiters = [];
    private readonly Thread _writer;
    private DuckDBConnection _control;
    private DuckDBConnection _writeConnection;
    private List<TelemetrySample> _active;
    private List<TelemetrySample> _inflight = [];
    private int _inflightOffset;
    private long _inflightFirstSeq;
    private long _appended;
    private long _committed;
    private long _lastSeq;
    private bool _flushRequested;
    private int _reconnectRequested;
    private bool _stopping;
    private bool _disposed;
    private int _nextSeriesId;
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
        _active = new List<TelemetrySample>(Math.Min(options.MaxBatchSamples, 65_536));
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

    /// <summary>Every series the recorder knows, in id order.</summary>
    public IReadOnlyList<TelemetrySeries> Series
    {
        get
        {
            lock (_controlLock)
            {
                return [.. _seriesById.Values.OrderBy(s => s.Id)];
            }
        }
    }

    /// <summary>
    /// Opens the recorder's file, or creates it (and its folder) when it is missing. A file that is not a readable
    /// DuckDB database is moved aside and replaced, unless <see cref="RecorderOptions.MoveCorruptDatabaseAside"/> is off.
    /// </summary>
    /// <exception cref="TelemetryStoreException">The file cannot be opened or created; the message says why and where.</exception>
    public static TelemetryRecorder Open(RecorderOptions options, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new TelemetryStoreException($"flight recorder settings are invalid: {string.Join("; ", problems)}");
        }

        logger ??= NullLogger.Instance;
        var path = Path.GetFullPath(options.DatabasePath);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TelemetryStoreException($"cannot create the flight recorder's folder for {path}: {ex.Message}", ex);
        }

        // DuckDB shares one database per file within a process, so a second recorder on the same file would hand out
        // the same sequence numbers twice: refuse it.
        lock (s_openPaths)
        {
            if (!s_openPaths.Add(path))
            {
                throw new TelemetryStoreException($"the flight recorder file {path} is already open in this process; give each gateway its own Telemetry:DataFolder");
            }
        }

        try
        {
            return OpenUnguarded(options, time, logger, path);
        }
        catch
        {
            lock (s_openPaths)
            {
                s_openPaths.Remove(path);
            }

            throw;
        }
    }

    private static TelemetryRecorder OpenUnguarded(RecorderOptions options, TimeProvider? time, ILogger logger, string path)
    {
        var existed = File.Exists(path);
        var connectionString = $"Data Source={path}";
        DuckDBConnection control;
        try
        {
            control = OpenAndPrepare(connectionString, options.MemoryLimitMegabytes);
        }
        catch (DuckDBException ex) when (existed && IsCorruptFileError(ex))
        {
            if (!options.MoveCorruptDatabaseAside)
            {
                throw new TelemetryStoreException($"the flight recorder file {path} is not a readable DuckDB database ({FirstLine(ex.Message)}); move it away or set Telemetry:Recorder:MoveCorruptDatabaseAside", ex);
            }

            var aside = $"{path}.corrupt-{(time ?? TimeProvider.System).GetUtcNow():yyyyMMddTHHmmssZ}";
            File.Move(path, aside);
            if (File.Exists(path + ".wal"))
            {
                File.Move(path + ".wal", aside + ".wal");
            }

            Log.MovedCorrupt(logger, path, aside, FirstLine(ex.Message));
            control = OpenAndPrepare(connectionString, options.MemoryLimitMegabytes);
            existed = false;
        }
        catch (DuckDBException ex)
        {
            throw new TelemetryStoreException($"cannot open the flight recorder file {path}: {FirstLine(ex.Message)}", ex);
        }

        var recorder = new TelemetryRecorder(new RecorderOptions
        {
            DatabasePath = path,
            FlushIntervalMilliseconds = options.FlushIntervalMilliseconds,
            MaxBatchSamples = options.MaxBatchSamples,
            MaxPendingSamples = options.MaxPendingSamples,
            Retention = options.Retention,
            MoveCorruptDatabaseAside = options.MoveCorruptDatabaseAside,
            MaxRetryDelay = options.MaxRetryDelay,
            MemoryLimitMegabytes = options.MemoryLimitMegabytes,
        }, time ?? TimeProvider.System, logger, control, connectionString);
        Log.Opened(logger, path, existed ? "opened" : "created", recorder.LastSeq, recorder._seriesById.Count);
        return recorder;
    }

    private static DuckDBConnection OpenAndPrepare(string connectionString, int memoryLimitMegabytes)
    {
        var connection = new DuckDBConnection(connectionString);
        try
        {
            connection.Open();
            Execute(connection, $"SET memory_limit = '{memoryLimitMegabytes}MB'");
            Execute(connection, """
                CREATE TABLE IF NOT EXISTS series (
                    series_id INTEGER PRIMARY KEY,
                    line_id VARCHAR NOT NULL,
                    signal_id VARCHAR NOT NULL,
                    station_id VARCHAR,
                    UNIQUE (line_id, signal_id));
                CREATE TABLE IF NOT EXISTS samples (
                    seq BIGINT NOT NULL,
                    series_id INTEGER NOT NULL,
                    source_time BIGINT NOT NULL,
                    server_time BIGINT NOT NULL,
                    value DOUBLE,
                    status UINTEGER NOT NULL,
                    expected DOUBLE);
                CREATE TABLE IF NOT EXISTS consumers (
                    name VARCHAR PRIMARY KEY,
                    high_water BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL);
                """);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void LoadState()
    {
        using (var command = _control.CreateCommand())
        {
            command.CommandText = "SELECT series_id, line_id, signal_id, station_id FROM series";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var series = new TelemetrySeries(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3));
                _seriesById[series.Id] = series;
                _seriesByKey[(series.LineId, series.SignalId)] = series;
                _nextSeriesId = Math.Max(_nextSeriesId, series.Id);
            }
        }

        _lastSeq = ScalarInt64(_control, "SELECT coalesce(max(seq), 0) FROM samples");
    }

    /// <summary>The series of one signal of one line, registered (durably) on first use.</summary>
    public TelemetrySeries GetSeries(string lineId, string signalId, string? stationId)
    {
        ArgumentException.ThrowIfNullOrEmpty(lineId);
        ArgumentException.ThrowIfNullOrEmpty(signalId);
        lock (_controlLock)
        {
            if (_seriesByKey.TryGetValue((lineId, signalId), out var known))
            {
                return known;
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            var series = new TelemetrySeries(_nextSeriesId + 1, lineId, signalId, stationId);
            using (var command = _control.CreateCommand())
            {
                command.CommandText = "INSERT INTO series VALUES ($1, $2, $3, $4)";
                command.Parameters.Add(new DuckDBParameter(series.Id));
                command.Parameters.Add(new DuckDBParameter(lineId));
                command.Parameters.Add(new DuckDBParameter(signalId));
                command.Parameters.Add(new DuckDBParameter((object?)stationId ?? DBNull.Value));
                command.ExecuteNonQuery();
            }

            _nextSeriesId = series.Id;
            _seriesById[series.Id] = series;
            _seriesByKey[(lineId, signalId)] = series;
            return series;
        }
    }

    public bool TryGetSeries(string lineId, string signalId, out TelemetrySeries series)
    {
        lock (_controlLock)
        {
            return _seriesByKey.TryGetValue((lineId, signalId), out series!);
        }
    }

    /// <summary>
    /// Adds a sample to the next commit. Waits only while <see cref="RecorderOptions.MaxPendingSamples"/> samples are
    /// waiting for a commit that keeps failing: nothing is ever dropped.
    /// </summary>
    public void Append(in TelemetrySample sample)
    {
        ArgumentNullException.ThrowIfNull(sample.Series);
        lock (_gate)
        {
            WaitForRoomLocked(1);
            _active.Add(sample);
            _appended++;
            if (_active.Count == _options.MaxBatchSamples)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Adds samples to the next commit, in order (see <see cref="Append(in TelemetrySample)"/>).</summary>
    public void Append(ReadOnlySpan<TelemetrySample> samples)
    {
        var offset = 0;
        while (offset < samples.Length)
        {
            lock (_gate)
            {
                var room = WaitForRoomLocked(1);
                var take = Math.Min(room, samples.Length - offset);
                foreach (var sample in samples.Slice(offset, take))
                {
                    ArgumentNullException.ThrowIfNull(sample.Series);
                    _active.Add(sample);
                }

                offset += take;
                _appended += take;
                if (_active.Count >= _options.MaxBatchSamples)
                {
                    Monitor.PulseAll(_gate);
                }
            }
        }
    }

    private int WaitForRoomLocked(int wanted)
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            var room = _options.MaxPendingSamples - PendingLocked;
            if (room >= wanted)
            {
                return room;
            }

            // The writer pulses after every commit; the timeout only guards against a missed pulse.
            Monitor.Wait(_gate, 1000);
        }
    }

    private int PendingLocked => _active.Count + (_inflight.Count - _inflightOffset);

    /// <summary>
    /// Completes when every sample appended before the call is committed to disk.
    /// </summary>
    /// <exception cref="TelemetryStoreException">A commit failed since the call (the samples stay pending and are retried).</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_committed >= _appended)
            {
                return Task.CompletedTask;
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _flushWaiters.Add((_appended, done));
            _flushRequested = true;
            Monitor.PulseAll(_gate);
        }

        return done.Task.WaitAsync(cancellationToken);
    }

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
                PendingLocked,
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

    private void WriterLoop()
    {
        var retryDelay = TimeSpan.FromMilliseconds(100);
        var interval = TimeSpan.FromMilliseconds(_options.FlushIntervalMilliseconds);
        while (true)
        {
            // A failed read or mark update may have invalidated the database while no commit was pending.
            if (Interlocked.Exchange(ref _reconnectRequested, 0) == 1)
            {
                TryReconnect();
            }

            lock (_gate)
            {
                var deadline = _time.GetTimestamp() + (long)(interval.TotalSeconds * Stopwatch.Frequency);
                while (!_stopping && !_flushRequested && _active.Count < _options.MaxBatchSamples && _inflightOffset >= _inflight.Count
                       && Volatile.Read(ref _reconnectRequested) == 0)
                {
                    var left = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
                    if (left <= TimeSpan.Zero)
                    {
                        break;
                    }

                    Monitor.Wait(_gate, left);
                }

                _flushRequested = false;
                if (_inflightOffset >= _inflight.Count)
                {
                    if (_active.Count == 0)
                    {
                        CompleteFlushWaitersLocked(null);
                        if (_stopping)
                        {
                            return;
                        }

                        continue;
                    }

                    // Swap: producers fill a fresh list while this one is committed with its sequence numbers fixed.
                    (_inflight, _active) = (_active, _inflight);
                    _active.Clear();
                    _inflightOffset = 0;
                    _inflightFirstSeq = _lastSeq + 1;
                }
            }

            var failed = CommitInflight();
            if (failed is null)
            {
                retryDelay = TimeSpan.FromMilliseconds(100);
                continue;
            }

            bool stopping;
            lock (_gate)
            {
                stopping = _stopping;
                CompleteFlushWaitersLocked(failed);
            }

            if (stopping)
            {
                Log.LostAtStop(_logger, PendingSnapshot(), _options.DatabasePath, failed.Message);
                return;
            }

            Thread.Sleep(retryDelay);
            retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            TryReconnect();
        }
    }

    private long PendingSnapshot()
    {
        lock (_gate)
        {
            return PendingLocked;
        }
    }

    /// <summary>Commits the in-flight list in batches; returns the error that stopped it, or null when all is committed.</summary>
    private TelemetryStoreException? CommitInflight()
    {
        while (true)
        {
            int offset, count;
            long firstSeq;
            lock (_gate)
            {
                offset = _inflightOffset;
                count = Math.Min(_inflight.Count - offset, _options.MaxBatchSamples);
                firstSeq = _inflightFirstSeq + offset;
                if (count == 0)
                {
                    return null;
                }
            }

            try
            {
                WriteBatch(_inflight, offset, count, firstSeq);
            }
            catch (Exception ex) when (ex is DuckDBException or IOException or InvalidOperationException)
            {
                var error = new TelemetryStoreException($"cannot commit {count} samples to the flight recorder {_options.DatabasePath}: {Describe(ex)}", ex);
                lock (_gate)
                {
                    _commitFailures++;
                    var first = _failingSince is null;
                    _failingSince ??= _time.GetUtcNow();
                    if (first || _lastError != error.Message)
                    {
                        Log.CommitFailed(_logger, _options.DatabasePath, PendingLocked, error.Message);
                    }

                    _lastError = error.Message;
                }

                return error;
            }

            TelemetrySample[]? live = null;
            if (HasLiveSubscribers)
            {
                live = new TelemetrySample[count];
                _inflight.CopyTo(offset, live, 0, count);
            }

            lock (_gate)
            {
                _inflightOffset += count;
                _lastSeq = firstSeq + count - 1;
                _committed += count;
                _lastCommitAt = _time.GetUtcNow();
                if (_failingSince is { } since)
                {
                    Log.CommitRecovered(_logger, _options.DatabasePath, _time.GetUtcNow() - since, PendingLocked);
                    _failingSince = null;
                }

                if (_inflightOffset >= _inflight.Count)
                {
                    _inflight.Clear();
                    _inflightOffset = 0;
                }

                CompleteFlushWaitersLocked(null);
                Monitor.PulseAll(_gate);
            }

            if (live is not null)
            {
                PublishLive(live, firstSeq);
            }
        }
    }

    private void WriteBatch(List<TelemetrySample> samples, int offset, int count, long firstSeq)
    {
        using var transaction = _writeConnection.BeginTransaction();
        using (var appender = _writeConnection.CreateAppender("samples"))
        {
            var seq = firstSeq;
            for (var i = offset; i < offset + count; i++)
            {
                var s = samples[i];
                appender.CreateRow()
                    .AppendValue(seq++)
                    .AppendValue(s.Series.Id)
                    .AppendValue(s.SourceTime)
                    .AppendValue(s.ServerTime)
                    .AppendValue(s.Value)
                    .AppendValue(s.Status)
                    .AppendValue(s.Expected)
                    .EndRow();
            }
        }

        transaction.Commit();
    }

    /// <summary>
    /// After a failed commit DuckDB may have invalidated the database (it does after an I/O error), so every
    /// connection is reopened. A commit whose outcome is unknown (written but not acknowledged) is found by the highest
    /// sequence number on disk, and its samples are not written twice.
    /// </summary>
    private void TryReconnect()
    {
        lock (_controlLock)
        {
            try
            {
                _writeConnection.Dispose();
                _control.Dispose();
                _control = OpenAndPrepare(_connectionString, _options.MemoryLimitMegabytes);
                _writeConnection = new DuckDBConnection(_connectionString);
                _writeConnection.Open();
                var onDisk = ScalarInt64(_control, "SELECT coalesce(max(seq), 0) FROM samples");
                lock (_gate)
                {
                    var first = _inflightFirstSeq + _inflightOffset;
                    if (onDisk >= first && _inflight.Count > _inflightOffset)
                    {
                        var already = (int)Math.Min(onDisk - first + 1, _inflight.Count - _inflightOffset);
                        _inflightOffset += already;
                        _lastSeq = first + already - 1;
                        _committed += already;
                    }
                }
            }
            catch (Exception ex) when (ex is DuckDBException or IOException or InvalidOperationException)
            {
                Log.ReconnectFailed(_logger, _options.DatabasePath, Describe(ex));
            }
        }
    }

    private void CompleteFlushWaitersLocked(Exception? error)
    {
        for (var i = _flushWaiters.Count - 1; i >= 0; i--)
        {
            var (target, done) = _flushWaiters[i];
            if (_committed >= target)
            {
                done.TrySetResult();
                _flushWaiters.RemoveAt(i);
            }
            else if (error is not null)
            {
                done.TrySetException(error);
                _flushWaiters.RemoveAt(i);
            }
        }
    }

    /// <summary>The high-water mark of a consumer (the last sequence number it has fully handled); 0 when never set.</summary>
    public long GetHighWater(string consumer) => Guard("reading a high-water mark", () => GetHighWaterUnguarded(consumer));

    private long GetHighWaterUnguarded(string consumer)
    {
        lock (_controlLock)
        {
            using var command = _control.CreateCommand();
            command.CommandText = "SELECT high_water FROM consumers WHERE name = $1";
            command.Parameters.Add(new DuckDBParameter(consumer));
            return command.ExecuteScalar() is long value ? value : 0;
        }
    }

    /// <summary>Stores a consumer's high-water mark durably.</summary>
    public void SetHighWater(string consumer, long seq) => Guard("storing a high-water mark", () => SetHighWaterUnguarded(consumer, seq));

    private int SetHighWaterUnguarded(string consumer, long seq)
    {
        lock (_controlLock)
        {
            using var command = _control.CreateCommand();
            command.CommandText = "INSERT OR REPLACE INTO consumers VALUES ($1, $2, $3)";
            command.Parameters.Add(new DuckDBParameter(consumer));
            command.Parameters.Add(new DuckDBParameter(seq));
            command.Parameters.Add(new DuckDBParameter(TelemetryTime.ToUnixNanoseconds(_time.GetUtcNow())));
            return command.ExecuteNonQuery();
        }
    }

    /// <summary>Every consumer's high-water mark.</summary>
    public IReadOnlyDictionary<string, long> GetHighWaters()
    {
        lock (_controlLock)
        {
            using var command = _control.CreateCommand();
            command.CommandText = "SELECT name, high_water FROM consumers";
            using var reader = command.ExecuteReader();
            var marks = new Dictionary<string, long>(StringComparer.Ordinal);
            while (reader.Read())
            {
                marks[reader.GetString(0)] = reader.GetInt64(1);
            }

            return marks;
        }
    }

    /// <summary>
    /// Deletes samples whose source time is before <paramref name="cutoff"/> (Unix ns) and whose sequence number is at
    /// most <paramref name="maxSeq"/> (the lowest consumer mark: nothing unforwarded is deleted). Returns how many.
    /// </summary>
    public long DeleteBefore(long cutoff, long maxSeq) => Guard("deleting old samples", () => DeleteBeforeUnguarded(cutoff, maxSeq));

    private long DeleteBeforeUnguarded(long cutoff, long maxSeq)
    {
        lock (_controlLock)
        {
            using var command = _control.CreateCommand();
            command.CommandText = "DELETE FROM samples WHERE source_time < $1 AND seq <= $2";
            command.Parameters.Add(new DuckDBParameter(cutoff));
            command.Parameters.Add(new DuckDBParameter(maxSeq));
            return command.ExecuteNonQuery();
        }
    }

    /// <summary>Runs a database step and turns DuckDB's failure into ours, naming the file and the step.</summary>
    private T Guard<T>(string step, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (DuckDBException ex)
        {
            // DuckDB invalidates the database after an I/O error (a full disk): only new connections work again, and
            // the writer thread is the one that may replace them.
            lock (_gate)
            {
                _reconnectRequested = 1;
                Monitor.PulseAll(_gate);
            }

            throw new TelemetryStoreException($"flight recorder {_options.DatabasePath}: {step} failed: {Describe(ex)}", ex);
        }
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long ScalarInt64(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static bool IsCorruptFileError(DuckDBException ex) =>
        !ex.Message.Contains("lock", StringComparison.OrdinalIgnoreCase);

    private static string FirstLine(string message)
    {
        var end = message.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }

    /// <summary>The real reason, in words an operator acts on (a full disk says so).</summary>
    private static string Describe(Exception ex)
    {
        var text = FirstLine(ex.Message);
        if (text.Contains("No space left", StringComparison.OrdinalIgnoreCase) || text.Contains("disk is full", StringComparison.OrdinalIgnoreCase))
        {
            return $"the disk is full ({text})";
        }

        return text;
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

/// <summary>The flight recorder's state, for the API, the log and health checks.</summary>
/// <param name="DatabasePath">The DuckDB file.</param>
/// <param name="LastSeq">The last committed sequence number.</param>
/// <param name="Pending">Samples in memory waiting for a commit.</param>
/// <param name="Appended">Samples appended since the recorder was opened.</param>
/// <param name="Committed">Samples committed since the recorder was opened.</param>
/// <param name="CommitFailures">Failed commit attempts since the recorder was opened.</param>
/// <param name="LastError">The error of the failing commit; null while commits work.</param>
/// <param name="FailingSince">When commits started failing; null while they work.</param>
/// <param name="LastCommitAt">When the last commit succeeded.</param>
/// <param name="DatabaseBytes">The size of the file and its write-ahead log.</param>
/// <param name="FileExists">False when the file was removed under the running recorder (its data then goes with the last handle).</param>
public sealed record RecorderStatus(
    string DatabasePath,
    long LastSeq,
    long Pending,
    long Appended,
    long Committed,
    long CommitFailures,
    string? LastError,
    DateTimeOffset? FailingSince,
    DateTimeOffset? LastCommitAt,
    long DatabaseBytes,
    bool FileExists)
{
    public bool Healthy => LastError is null && FileExists;
}

/// <summary>The flight recorder cannot do what was asked; the message names the file and the reason.</summary>
public sealed class TelemetryStoreException : Exception
{
    public TelemetryStoreException(string message)
        : base(message)
    {
    }

    public TelemetryStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public TelemetryStoreException()
    {
    }
}
