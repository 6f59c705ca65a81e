using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using TwinGateway.Api.V1;
using TwinGateway.Core.Twins;
using TwinGateway.Gateway;
using TwinGateway.Host.Telemetry;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Recording;
using TwinGateway.Telemetry.Replay;
using ApiReplayProgress = TwinGateway.Api.V1.ReplayProgress;
using ApiReplayReport = TwinGateway.Api.V1.ReplayReport;
using ReplayProgress = TwinGateway.Telemetry.Replay.ReplayProgress;
using ReplayReport = TwinGateway.Telemetry.Replay.ReplayReport;

namespace TwinGateway.Host.Api;

/// <summary>ReplayService: recorded inputs into a fresh twin of the line, progress while it runs, then the report.</summary>
internal sealed class ReplayGrpcService(TelemetryRecorder recorder, ITwinFactory twins, LineRegistry registry, IOptions<GatewayOptions> gateway, TimeProvider time) : ReplayService.ReplayServiceBase
{
    public override async Task Replay(ReplayRequest request, IServerStreamWriter<ReplayUpdate> responseStream, ServerCallContext context)
    {
        var (from, to) = TelemetryRequests.ValidateRange(request.LineId, request.From, request.To);
        ReplayOptions options;
        try
        {
            options = ReplayRuns.Plan(registry, gateway.Value, request.LineId, from, to, request.Speed, request.Seed, request.SignalIds, request.PlotPoints);
        }
        catch (ReplayRefusedException ex)
        {
            throw ToRpc(ex);
        }

        // Progress arrives on the replay's thread; the newest one wins, so a slow client never slows the replay.
        var updates = Channel.CreateBounded<ReplayProgress>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        var progress = new Progress(updates.Writer);
        var run = Task.Run(async () =>
        {
            try
            {
                return await ReplayRuns.RunAsync(recorder, twins, options, progress, time, context.CancellationToken).ConfigureAwait(false);
            }
            finally
            {
                updates.Writer.TryComplete();
            }
        });

        await foreach (var update in updates.Reader.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(new ReplayUpdate { Progress = ToProto(update) }, context.CancellationToken).ConfigureAwait(false);
        }

        ReplayReport report;
        try
        {
            report = await run.ConfigureAwait(false);
        }
        catch (ReplayRefusedException ex)
        {
            throw ToRpc(ex);
        }

        await responseStream.WriteAsync(new ReplayUpdate { Report = ReplayReports.ToProto(report) }, context.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>A refused or failed replay as its status code, with its message.</summary>
    private static RpcException ToRpc(ReplayRefusedException ex) => new(new Status(ex.Kind switch
    {
        ReplayFailure.NotFound => StatusCode.NotFound,
        ReplayFailure.Unavailable => StatusCode.Unavailable,
        _ => StatusCode.InvalidArgument,
    }, ex.Message));

    private static ApiReplayProgress ToProto(ReplayProgress p) => new()
    {
        SamplesProcessed = p.SamplesProcessed,
        SamplesTotal = p.SamplesTotal,
        SimTime = Timestamp.FromDateTime(DateTime.SpecifyKind(p.SimTime, DateTimeKind.Utc)),
        Fraction = p.Fraction,
        SamplesPerSecond = p.SamplesPerSecond,
        Elapsed = Duration.FromTimeSpan(p.Elapsed),
        EstimatedLeft = p.EstimatedTimeLeft is { } left ? Duration.FromTimeSpan(left) : null,
    };

    private sealed class Progress(ChannelWriter<ReplayProgress> writer) : IProgress<ReplayProgress>
    {
        public void Report(ReplayProgress value) => writer.TryWrite(value);
    }
}

/// <summary>The replay report between its gRPC form and the Telemetry library's (the CLI writes files from the latter).</summary>
internal static class ReplayReports
{
    private static Timestamp Ts(DateTime time) => Timestamp.FromDateTime(DateTime.SpecifyKind(time, DateTimeKind.Utc));

    public static ApiReplayReport ToProto(ReplayReport r)
    {
        var proto = new ApiReplayReport
        {
            LineId = r.LineId,
            From = Ts(r.From),
            To = Ts(r.To),
            Speed = r.Speed ?? 0,
            Seed = r.Seed,
            StepSeconds = r.StepSeconds,
            FirstSample = r.FirstSampleTime is { } first ? Ts(first) : null,
            LastSample = r.LastSampleTime is { } last ? Ts(last) : null,
            SamplesRead = r.SamplesRead,
            InputsFed = r.InputsFed,
            OutputsCompared = r.OutputsCompared,
            OutputsNotCompared = r.OutputsNotCompared,
            SamplesSkipped = r.Skipped,
            SamplesUnknown = r.Unknown,
            TwinSteps = r.TwinSteps,
            WallTime = Duration.FromTimeSpan(TimeSpan.FromSeconds(r.WallSeconds)),
            SamplesPerSecond = r.SamplesPerSecond,
            PacingWaits = r.PacingWaits,
        };
        proto.UnknownSignals.AddRange(r.UnknownSignals);
        proto.Signals.AddRange(r.Signals.Select(s => new TwinGateway.Api.V1.ReplaySignalStats
        {
            SignalId = s.SignalId,
            StationId = s.StationId ?? "",
            Unit = s.Unit,
            Tolerance = s.Tolerance,
            Count = s.Count,
            Bias = s.Bias,
            Rms = s.Rms,
            MaxAbsError = s.MaxAbsError,
            MaxErrorAt = Ts(s.MaxErrorAt),
            SecondsAboveTolerance = s.TimeAboveToleranceSeconds,
            FractionAboveTolerance = s.FractionAboveTolerance,
            MeanReal = s.MeanReal,
            MeanTwin = s.MeanTwin,
            SamplesAboveTolerance = s.SamplesAboveTolerance,
        }));
        foreach (var series in r.Series)
        {
            proto.Series.AddRange(series.Buckets.Select(b => new ReplaySeriesPoint
            {
                SignalId = series.SignalId,
                BucketStart = Ts(b.Start),
                RealMean = b.RealMean,
                RealMin = b.RealMin,
                RealMax = b.RealMax,
                TwinMean = b.TwinMean,
                Count = b.Count,
            }));
        }

        return proto;
    }

    public static ReplayReport FromProto(ApiReplayReport p) => new()
    {
        LineId = p.LineId,
        From = p.From.ToDateTime(),
        To = p.To.ToDateTime(),
        Speed = p.Speed > 0 ? p.Speed : null,
        Seed = p.Seed,
        StepSeconds = p.StepSeconds,
        FirstSampleTime = p.FirstSample?.ToDateTime(),
        LastSampleTime = p.LastSample?.ToDateTime(),
        SamplesRead = p.SamplesRead,
        InputsFed = p.InputsFed,
        OutputsCompared = p.OutputsCompared,
        OutputsNotCompared = p.OutputsNotCompared,
        Skipped = p.SamplesSkipped,
        Unknown = p.SamplesUnknown,
        UnknownSignals = [.. p.UnknownSignals],
        WallSeconds = p.WallTime.ToTimeSpan().TotalSeconds,
        SamplesPerSecond = p.SamplesPerSecond,
        TwinSteps = p.TwinSteps,
        PacingWaits = p.PacingWaits,
        Signals = [.. p.Signals.Select(s => new TwinGateway.Telemetry.Replay.ReplaySignalStats(
            s.SignalId, s.StationId.Length == 0 ? null : s.StationId, s.Unit, s.Tolerance, s.Count, s.Bias, s.Rms, s.MaxAbsError,
            s.MaxErrorAt.ToDateTime(), s.SamplesAboveTolerance, s.SecondsAboveTolerance, s.FractionAboveTolerance, s.MeanReal, s.MeanTwin))],
        Series = [.. p.Series.GroupBy(b => b.SignalId, StringComparer.Ordinal).Select(g => new ReplaySignalSeries(g.Key,
            [.. g.Select(b => new ReplayPlotBucket(b.BucketStart.ToDateTime(), b.RealMean, b.RealMin, b.RealMax, b.TwinMean, b.Count))]))],
    };
}
