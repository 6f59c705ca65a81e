using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;
using TwinGateway.Gateway;

namespace TwinGateway.Host.Web;

/// <summary>
/// <c>GET /live/lines/{id}/signals?ids=a,b</c>: server-sent events for a line page's plots. The watched values are
/// gathered into one buffer per signal and sent as one <c>points</c> event every <see cref="Interval"/> (columns of
/// times, real and expected values, written straight into one reused buffer: no object per sample), with the stations'
/// state codes when one changed. First comes one <c>meta</c> event (the signals' units and tolerances).
/// </summary>
internal sealed partial class LineSignalStream(LineRuntime line, SignalDefinition[] signals, TimeProvider time, ILogger log) : IResult
{
    /// <summary>150 ms: above the 5 updates a second the plots need, few enough writes that a page of 5 plots stays cheap.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(150);

    /// <summary>With nothing to send for this long, a comment line goes out, so a page that went away is noticed by the failed write.</summary>
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);

    /// <summary>Points kept per signal between two events; beyond it (a stalled connection) the newest are not kept.</summary>
    private const int MaxPending = 4096;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = LineEvents.Start(httpContext);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < signals.Length; i++)
        {
            index[signals[i].Id] = i;
        }

        var stations = line.Definition.Stations
            .Select(s => (s.Id, Code: LineSignals.StateCode(line.Definition, s.Id) is { } c && line.TryGetSignal(c.Id, out var state) ? state : null))
            .ToArray();
        var lastStates = new (double Real, double Expected)[stations.Length];
        Array.Fill(lastStates, (double.NaN, double.NaN));
        var pending = signals.Select(_ => new Points()).ToArray();
        var gate = new Lock();
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using var json = new Utf8JsonWriter(buffer);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted);
        var pump = PumpAsync(index, pending, gate, stop.Token);
        try
        {
            WriteMeta(buffer, json);
            await LineEvents.SendAsync(response, buffer, stop.Token).ConfigureAwait(false);
            var quietSince = time.GetTimestamp();
            using var timer = new PeriodicTimer(Interval, time);
            while (!pump.IsCompleted && await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                bool any;
                lock (gate)
                {
                    any = WritePoints(buffer, json, pending, stations, lastStates);
                }

                if (!any)
                {
                    if (time.GetElapsedTime(quietSince) < Heartbeat)
                    {
                        continue;
                    }

                    buffer.ResetWrittenCount();
                    buffer.Write(": quiet\n\n"u8);
                }

                quietSince = time.GetTimestamp();
                await LineEvents.SendAsync(response, buffer, stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The page went away.
        }
        catch (IOException) when (httpContext.RequestAborted.IsCancellationRequested)
        {
            // A write that raced the page's going away.
        }
        catch (IOException ex)
        {
            // The connection broke before the server noticed the page leave: the stream ends, and says why.
            LineEvents.StreamFailed(log, line.Id, "signals", ex.Message);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await pump.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopped with the stream.
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.Threading.Channels.ChannelClosedException)
            {
                LineEvents.StreamFailed(log, line.Id, "signals", ex.Message);
            }
        }
    }

    private async Task PumpAsync(Dictionary<string, int> index, Points[] pending, Lock gate, CancellationToken stopping)
    {
        await foreach (var update in line.WatchAsync(index.Keys.ToHashSet(StringComparer.Ordinal), stopping).ConfigureAwait(false))
        {
            if (!index.TryGetValue(update.SignalId, out var i))
            {
                continue;
            }

            var at = update.SourceTime != default ? update.SourceTime : update.ServerTime != default ? update.ServerTime : time.GetUtcNow().UtcDateTime;
            lock (gate)
            {
                pending[i].Add(LineEvents.UnixMs(at), update.Real ?? double.NaN, update.Expected ?? double.NaN);
            }
        }
    }

    private void WriteMeta(ArrayBufferWriter<byte> buffer, Utf8JsonWriter json)
    {
        LineEvents.Begin(buffer, json, "meta"u8);
        json.WriteStartObject();
        json.WriteString("line"u8, line.Id);
        json.WriteNumber("intervalMs"u8, (long)Interval.TotalMilliseconds);
        json.WriteStartArray("signals"u8);
        foreach (var signal in signals)
        {
            json.WriteStartObject();
            json.WriteString("id"u8, signal.Id);
            json.WriteString("unit"u8, signal.Unit);
            json.WriteNumber("tolerance"u8, SignalComparison.Tolerance(signal));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        LineEvents.End(buffer, json);
    }

    /// <summary>One <c>points</c> event of what came since the last; false (and nothing written) when nothing came and no station changed.</summary>
    private static bool WritePoints(ArrayBufferWriter<byte> buffer, Utf8JsonWriter json, Points[] pending,
        (string Id, SignalState? Code)[] stations, (double Real, double Expected)[] lastStates)
    {
        var changed = false;
        for (var i = 0; i < stations.Length; i++)
        {
            if (stations[i].Code is { } code)
            {
                var snapshot = code.Snapshot;
                var now = (snapshot.Real ?? double.NaN, snapshot.Expected ?? double.NaN);
                if (!now.Equals(lastStates[i]))
                {
                    lastStates[i] = now;
                    changed = true;
                }
            }
        }

        if (!changed && pending.All(p => p.Count == 0))
        {
            return false;
        }

        LineEvents.Begin(buffer, json, "points"u8);
        json.WriteStartObject();
        json.WriteStartArray("signals"u8);
        foreach (var points in pending)
        {
            points.WriteTo(json);
            points.Clear();
        }

        json.WriteEndArray();
        if (changed)
        {
            json.WriteStartObject("stations"u8);
            for (var i = 0; i < stations.Length; i++)
            {
                if (stations[i].Code is not null)
                {
                    json.WriteStartArray(stations[i].Id);
                    LineEvents.WriteNumberOrNull(json, lastStates[i].Real);
                    LineEvents.WriteNumberOrNull(json, lastStates[i].Expected);
                    json.WriteEndArray();
                }
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        LineEvents.End(buffer, json);
        return true;
    }

    /// <summary>The points of one signal since the last event, as three columns reused from event to event.</summary>
    private sealed class Points
    {
        private readonly List<long> _times = [];
        private readonly List<double> _real = [];
        private readonly List<double> _expected = [];

        public int Count => _times.Count;

        public void Add(long timeMs, double real, double expected)
        {
            if (_times.Count >= MaxPending)
            {
                return;
            }

            _times.Add(timeMs);
            _real.Add(real);
            _expected.Add(expected);
        }

        public void Clear()
        {
            _times.Clear();
            _real.Clear();
            _expected.Clear();
        }

        /// <summary><c>{"t":[ms,...],"r":[real|null,...],"e":[expected|null,...]}</c>.</summary>
        public void WriteTo(Utf8JsonWriter json)
        {
            json.WriteStartObject();
            json.WriteStartArray("t"u8);
            foreach (var t in _times)
            {
                json.WriteNumberValue(t);
            }

            json.WriteEndArray();
            json.WriteStartArray("r"u8);
            foreach (var r in _real)
            {
                LineEvents.WriteNumberOrNull(json, r);
            }

            json.WriteEndArray();
            json.WriteStartArray("e"u8);
            foreach (var e in _expected)
            {
                LineEvents.WriteNumberOrNull(json, e);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }
    }
}
