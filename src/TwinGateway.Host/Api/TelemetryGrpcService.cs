using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using TwinGateway.Api.V1;
using TwinGateway.Gateway;
using TwinGateway.Host.Telemetry;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Forwarding;
using TwinGateway.Telemetry.Recording;
using ApiSample = TwinGateway.Api.V1.Sample;
using ApiRecorderStatus = TwinGateway.Api.V1.RecorderStatus;
using ApiForwarderStatus = TwinGateway.Api.V1.ForwarderStatus;
using OpcStatus = TwinGateway.OpcUa.Types.StatusCode;

namespace TwinGateway.Host.Api;

/// <summary>TelemetryService: recorded ranges (raw or aggregated), live samples, and the recorder's and forwarder's state.</summary>
internal sealed class TelemetryGrpcService(TelemetryRecorder recorder, LineRegistry registry, InfluxForwarding forwarding, IOptions<InfluxForwarderOptions> influx) : TelemetryService.TelemetryServiceBase
{
    private const int PageSize = 10_000;

    public override async Task QueryRange(QueryRangeRequest request, IServerStreamWriter<QueryRangeResponse> responseStream, ServerCallContext context)
    {
        var (from, to) = TelemetryRequests.ValidateRange(request.LineId, request.From, request.To);
        var signals = request.SignalIds.Count == 0 ? null : request.SignalIds.ToHashSet(StringComparer.Ordinal);
        var ct = context.CancellationToken;
        if (request.Bucket is { } bucket && bucket.ToTimeSpan() > TimeSpan.Zero)
        {
            var width = bucket.ToTimeSpan().Ticks * 100;
            var buckets = await Task.Run(() => recorder.Aggregate(request.LineId, from, to, width, signals), ct).ConfigureAwait(false);
            if (buckets.Count == 0)
            {
                throw TelemetryRequests.NoData(recorder, registry, request.LineId, from, to);
            }

            foreach (var page in buckets.Chunk(PageSize))
            {
                var response = new QueryRangeResponse();
                response.Aggregates.AddRange(page.Select(ToProto));
                await responseStream.WriteAsync(response, ct).ConfigureAwait(false);
            }

            return;
        }

        var max = request.MaxSamples <= 0 ? long.MaxValue : request.MaxSamples;
        var sent = 0L;
        var pageOut = new QueryRangeResponse();
        // The recorder's reader blocks; one thread-pool thread reads while pages go out as they fill.
        using var enumerator = recorder.ReadRange(request.LineId, from, to, signals).GetEnumerator();
        while (await Task.Run(enumerator.MoveNext, ct).ConfigureAwait(false))
        {
            if (sent == max)
            {
                pageOut.Truncated = true;
                break;
            }

            pageOut.Samples.Add(ToProto(enumerator.Current));
            sent++;
            // Fill a page on the same thread before going back to the network.
            while (pageOut.Samples.Count < PageSize && sent < max && enumerator.MoveNext())
            {
                pageOut.Samples.Add(ToProto(enumerator.Current));
                sent++;
            }

            if (pageOut.Samples.Count >= PageSize)
            {
                await responseStream.WriteAsync(pageOut, ct).ConfigureAwait(false);
                pageOut = new QueryRangeResponse();
            }
        }

        // An empty range is found by the read itself rather than by a count beforehand (a second scan).
        if (sent == 0)
        {
            throw TelemetryRequests.NoData(recorder, registry, request.LineId, from, to);
        }

        if (pageOut.Samples.Count > 0 || pageOut.Truncated)
        {
            await responseStream.WriteAsync(pageOut, ct).ConfigureAwait(false);
        }
    }

    public override async Task StreamSamples(StreamSamplesRequest request, IServerStreamWriter<ApiSample> responseStream, ServerCallContext context)
    {
        var line = string.IsNullOrEmpty(request.LineId) ? null : request.LineId;
        if (line is not null && !registry.TryGet(line, out _) && recorder.Series.All(s => s.LineId != line))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"no line '{line}' (lines: {string.Join(", ", registry.Lines.Select(l => l.Id))})"));
        }

        using var live = recorder.SubscribeLive(line, request.SignalIds.Count == 0 ? null : request.SignalIds.ToHashSet(StringComparer.Ordinal));
        try
        {
            await foreach (var sample in live.Reader.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
            {
                await responseStream.WriteAsync(ToProto(sample), context.CancellationToken).ConfigureAwait(false);
            }
        }
        catch (LiveSubscriberTooSlowException ex)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, ex.Message));
        }
        catch (ChannelClosedException ex) when (ex.InnerException is LiveSubscriberTooSlowException slow)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, slow.Message));
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
    }

    public override Task<TelemetryStatus> GetTelemetryStatus(GetTelemetryStatusRequest request, ServerCallContext context)
    {
        var r = recorder.GetStatus();
        var status = new TelemetryStatus
        {
            Recorder = new ApiRecorderStatus
            {
                DatabasePath = r.DatabasePath,
                LastSeq = r.LastSeq,
                Pending = r.Pending,
                CommittedSinceStart = r.Committed,
                CommitFailures = r.CommitFailures,
                LastError = r.LastError ?? "",
                LastCommit = r.LastCommitAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
                DatabaseBytes = r.DatabaseBytes,
                Healthy = r.Healthy,
            },
            Forwarder = new ApiForwarderStatus { Enabled = false, State = "disabled" },
        };
        if (forwarding.Forwarder is { } forwarder)
        {
            var f = forwarder.Status;
            status.Forwarder = new ApiForwarderStatus
            {
                Enabled = true,
                Url = f.Url,
                Bucket = influx.Value.Bucket,
                State = TelemetryRequests.StateName(f.State),
                HighWater = f.HighWater,
                Backlog = f.Backlog,
                Lag = Duration.FromTimeSpan(f.Lag),
                LastError = f.LastError ?? "",
                LastSuccess = f.LastSuccessAt is { } ok ? Timestamp.FromDateTimeOffset(ok) : null,
                NextAttempt = f.NextAttemptAt is { } next ? Timestamp.FromDateTimeOffset(next) : null,
                PointsForwarded = f.PointsForwarded,
            };
        }

        return Task.FromResult(status);
    }

    internal static ApiSample ToProto(RecordedSample recorded)
    {
        var s = recorded.Sample;
        var sample = new ApiSample
        {
            Seq = recorded.Seq,
            LineId = s.Series.LineId,
            SignalId = s.Series.SignalId,
            StationId = s.Series.StationId ?? "",
            SourceTime = TelemetryRequests.ToTimestamp(s.SourceTime),
            ServerTime = TelemetryRequests.ToTimestamp(s.ServerTime),
            Status = s.Status,
            StatusName = new OpcStatus(s.Status).Name,
        };
        if (s.Value is { } value)
        {
            sample.Value = value;
        }

        if (s.Expected is { } expected)
        {
            sample.Expected = expected;
        }

        return sample;
    }

    private static Aggregate ToProto(AggregateBucket bucket)
    {
        var aggregate = new Aggregate
        {
            SignalId = bucket.Series.SignalId,
            BucketStart = TelemetryRequests.ToTimestamp(bucket.Start),
            Samples = bucket.Samples,
            Values = bucket.Values,
        };
        if (bucket.Min is { } min)
        {
            aggregate.Min = min;
        }

        if (bucket.Max is { } max)
        {
            aggregate.Max = max;
        }

        if (bucket.Mean is { } mean)
        {
            aggregate.Mean = mean;
        }

        if (bucket.First is { } first)
        {
            aggregate.First = first;
        }

        if (bucket.Last is { } last)
        {
            aggregate.Last = last;
        }

        if (bucket.MeanExpected is { } expected)
        {
            aggregate.MeanExpected = expected;
        }

        return aggregate;
    }
}

/// <summary>Checks shared by the telemetry and replay endpoints, with the errors a caller can act on.</summary>
internal static class TelemetryRequests
{
    public static (long From, long To) ValidateRange(string lineId, Timestamp? from, Timestamp? to)
    {
        if (string.IsNullOrEmpty(lineId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "line_id is required"));
        }

        if (from is null || to is null)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "from and to are both required"));
        }

        var f = TelemetryTime.ToUnixNanoseconds(from.ToDateTimeOffset());
        var t = TelemetryTime.ToUnixNanoseconds(to.ToDateTimeOffset());
        if (t <= f)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"the range is empty: to ({to.ToDateTime():O}) is not after from ({from.ToDateTime():O})"));
        }

        return (f, t);
    }

    /// <summary>A range without samples is a NotFound that says what the recorder does hold for the line.</summary>
    public static RpcException NoData(TelemetryRecorder recorder, LineRegistry registry, string lineId, long from, long to) =>
        new(new Status(StatusCode.NotFound, DescribeMissing(recorder, registry, lineId, from, to)));

    public static string DescribeMissing(TelemetryRecorder recorder, LineRegistry registry, string lineId, long from, long to)
    {
        var range = $"{Text(from)} to {Text(to)}";
        if (recorder.GetLineSpan(lineId) is not { } span)
        {
            return registry.TryGet(lineId, out _)
                ? $"the flight recorder holds no samples of line '{lineId}' yet"
                : $"no line '{lineId}' (lines: {string.Join(", ", registry.Lines.Select(l => l.Id))})";
        }

        return $"no samples of line '{lineId}' from {range}; the flight recorder holds {span.Count} samples of it from {Text(span.First)} to {Text(span.Last)}";
    }

    public static string Text(long unixNs) => TelemetryTime.FromUnixNanoseconds(unixNs).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);

    public static Timestamp ToTimestamp(long unixNs) => new() { Seconds = Math.DivRem(unixNs, 1_000_000_000L, out var nanos) - (nanos < 0 ? 1 : 0), Nanos = (int)(nanos < 0 ? nanos + 1_000_000_000L : nanos) };

    public static string StateName(TwinGateway.Telemetry.Forwarding.ForwarderState state) => state switch
    {
        TwinGateway.Telemetry.Forwarding.ForwarderState.CaughtUp => "caught-up",
        _ => state.ToString().ToLowerInvariant(),
    };
}
