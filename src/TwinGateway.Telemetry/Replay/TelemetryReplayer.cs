using System.Globalization;
using System.Threading.Channels;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Telemetry.Replay;

/// <summary>
/// Replays recorded telemetry of one line into a fresh twin in shadow mode: the recorded controller inputs drive the
/// twin, and every recorded controller output is compared with what the twin computes for the same instant.
/// </summary>
/// <remarks>
/// The recorder's range query is a blocking enumerable, so a dedicated thread reads it into a few recycled batches
/// while the caller's task steps the twin; the two overlap, and the twin side does no lookup and no allocation per
/// sample (state lives in arrays indexed by the twin's signal slot, resolved once per series).
/// </remarks>
public static partial class TelemetryReplayer
{
    /// <summary>OPC UA status codes with the severity bit set are Bad: the value is not to be used.</summary>
    private const uint BadSeverity = 0x8000_0000;

    /// <summary>
    /// Samples handed from the reading thread to the twin at once. Each hand-over may wake a thread: a warm replay of
    /// 1.15 M demo-line samples took 0.12 s in batches of 1024 and 0.09 s in batches of 8192 (2-core dev machine).
    /// </summary>
    private const int BatchSize = 8192;

    /// <summary>A paced replay checks its pace (and progress) every this many samples, so the twin stays close to the recorded time.</summary>
    private const int PaceChunk = 1024;

    /// <summary>Batches in circulation: one being read, one being replayed, two queued to absorb jitter.</summary>
    private const int BatchCount = 4;

    /// <summary>Pacing waits shorter than this are not worth a timer; the next batch catches up.</summary>
    private static readonly TimeSpan _minimumWait = TimeSpan.FromMilliseconds(1);

    /// <summary>Replays the range of <paramref name="options"/> and compares the twin with the recording.</summary>
    /// <exception cref="ArgumentException">The options are invalid (the message lists every problem).</exception>
    /// <exception cref="ReplayException">The recorder holds no samples of the line in the range.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public static async Task<ReplayReport> RunAsync(
        TelemetryRecorder recorder,
        ITwinFactory twins,
        ReplayOptions options,
        IProgress<ReplayProgress>? progress,
        TimeProvider time,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentNullException.ThrowIfNull(twins);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("replay options are invalid: " + string.Join("; ", problems), nameof(options));
        }

        var line = options.Line;
        var fromNs = TelemetryTime.ToUnixNanoseconds(options.FromUtc);
        var toNs = TelemetryTime.ToUnixNanoseconds(options.ToUtc);
        var signalIds = ReadFilter(options);

        // The count and the span are blocking queries; keep them off the caller's thread like the read itself.
        var total = await Task.Run(() => recorder.CountRange(line.Id, fromNs, toNs, signalIds), cancellationToken).ConfigureAwait(false);
        if (total == 0)
        {
            var span = await Task.Run(() => recorder.GetLineSpan(line.Id), cancellationToken).ConfigureAwait(false);
            throw NoData(options, span, signalIds is not null);
        }

        var replay = new ReplayRun(twins, options, fromNs, toNs);
        var filled = Channel.CreateBounded<Batch>(new BoundedChannelOptions(BatchCount) { SingleReader = true, SingleWriter = true });
        var free = Channel.CreateBounded<RecordedSample[]>(new BoundedChannelOptions(BatchCount) { SingleReader = true, SingleWriter = true });
        for (var i = 0; i < BatchCount; i++)
        {
            free.Writer.TryWrite(new RecordedSample[BatchSize]);
        }

        var chunkSize = options.Speed is null ? BatchSize : PaceChunk;
        var started = time.GetTimestamp();
        long? paceStart = null;
        var nextProgress = started;
        var progressTicks = (long)(options.ProgressInterval.TotalSeconds * time.TimestampFrequency);
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = Task.Factory.StartNew(
            () => Read(() => recorder.ReadRange(line.Id, fromNs, toNs, signalIds), free.Reader, filled.Writer, stopReading.Token),
            stopReading.Token,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        try
        {
            while (await filled.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (filled.Reader.TryRead(out var batch))
                {
                    // The pace counts from the first samples, not from the query's start: the recorder sorts the
                    // range before it returns a row, and a paced replay should not race to make up for that.
                    paceStart ??= time.GetTimestamp();
                    for (var offset = 0; offset < batch.Count; offset += chunkSize)
                    {
                        var chunk = batch.Items.AsMemory(offset, Math.Min(chunkSize, batch.Count - offset));
                        if (options.Speed is { } speed)
                        {
                            // Waiting for the chunk's last sample means no result is ever ahead of the recorded pace.
                            var due = TimeSpan.FromSeconds((chunk.Span[^1].SourceTime - fromNs) / 1e9 / speed);
                            var ahead = due - time.GetElapsedTime(paceStart.Value);
                            if (ahead >= _minimumWait)
                            {
                                replay.PacingWaits++;
                                await Task.Delay(ahead, time, cancellationToken).ConfigureAwait(false);
                            }
                        }

                        cancellationToken.ThrowIfCancellationRequested();
                        replay.Process(chunk.Span);
                        if (progress is not null)
                        {
                            var now = time.GetTimestamp();
                            if (now >= nextProgress)
                            {
                                nextProgress = now + progressTicks;
                                progress.Report(replay.Progress(total, time.GetElapsedTime(started), final: false));
                            }
                        }
                    }

                    free.Writer.TryWrite(batch.Items);
                }
            }
        }
        finally
        {
            // Never leave the reader running against the recorder after this returns, whichever way it ends.
            await stopReading.CancelAsync().ConfigureAwait(false);
            await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _ = reading.Exception; // observed here when another exception is already on its way out
        }

        // The read ended by itself: a failure of the query surfaces here.
        await reading.ConfigureAwait(false);
        if (replay.SamplesRead == 0)
        {
            // The count saw samples that the read no longer found (retention deleted them in between).
            throw NoData(options, recorder.GetLineSpan(line.Id), signalIds is not null);
        }

        var elapsed = time.GetElapsedTime(started);
        progress?.Report(replay.Progress(Math.Max(total, replay.SamplesRead), elapsed, final: true));
        return replay.ToReport(elapsed);
    }

    /// <summary>
    /// The signals to read: null (all) without a filter; with one, the filtered outputs plus every input, because the
    /// twin's outputs depend on all of its inputs.
    /// </summary>
    private static HashSet<string>? ReadFilter(ReplayOptions options)
    {
        if (options.Signals is not { Count: > 0 } filter)
        {
            return null;
        }

        var ids = new HashSet<string>(filter, StringComparer.Ordinal);
        foreach (var signal in options.Line.Signals)
        {
            if (signal.Direction == SignalDirection.ControllerInput)
            {
                ids.Add(signal.Id);
            }
        }

        return ids;
    }

    private static ReplayException NoData(ReplayOptions options, (long First, long Last, long Count)? span, bool filtered)
    {
        var range = string.Create(CultureInfo.InvariantCulture, $"from {options.FromUtc:O} to {options.ToUtc:O}");
        var what = filtered ? "no samples of the selected signals or of the line's inputs" : "no samples";
        var where = span is { } s
            ? string.Create(CultureInfo.InvariantCulture, $"its recording of the line runs from {TelemetryTime.FromUnixNanoseconds(s.First):O} to {TelemetryTime.FromUnixNanoseconds(s.Last):O} ({s.Count} samples)")
            : "it holds no data of this line at all";
        return new ReplayException($"cannot replay line '{options.Line.Id}' {range}: the flight recorder holds {what} there; {where}");
    }

    /// <summary>
    /// Runs on its own thread: the recorder's enumerator blocks and stays on the thread that started it. The query is
    /// made here, inside the try, so that even a query that fails at once completes <paramref name="filled"/> and the
    /// replay does not wait for batches that never come.
    /// </summary>
    private static void Read(Func<IEnumerable<RecordedSample>> query, ChannelReader<RecordedSample[]> free, ChannelWriter<Batch> filled, CancellationToken cancellationToken)
    {
        try
        {
            var buffer = Take(free, cancellationToken);
            var count = 0;
            foreach (var sample in query())
            {
                buffer[count++] = sample;
                if (count == buffer.Length)
                {
                    Put(filled, new Batch(buffer, count), cancellationToken);
                    buffer = Take(free, cancellationToken);
                    count = 0;
                }
            }

            if (count > 0)
            {
                Put(filled, new Batch(buffer, count), cancellationToken);
            }
        }
        finally
        {
            filled.TryComplete();
        }

        static RecordedSample[] Take(ChannelReader<RecordedSample[]> free, CancellationToken cancellationToken)
        {
            RecordedSample[]? buffer;
            while (!free.TryRead(out buffer))
            {
                free.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult();
            }

            return buffer;
        }

        static void Put(ChannelWriter<Batch> filled, Batch batch, CancellationToken cancellationToken)
        {
            while (!filled.TryWrite(batch))
            {
                if (!filled.WaitToWriteAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
                {
                    return;
                }
            }
        }
    }

    private readonly record struct Batch(RecordedSample[] Items, int Count);
}
