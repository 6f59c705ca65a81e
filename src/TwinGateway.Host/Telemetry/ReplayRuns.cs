using TwinGateway.Core.Twins;
using TwinGateway.Gateway;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Recording;
using TwinGateway.Telemetry.Replay;

namespace TwinGateway.Host.Telemetry;

/// <summary>Why a replay was refused or failed; gRPC maps each to its status code, the console shows the message.</summary>
internal enum ReplayFailure
{
    /// <summary>The request is wrong (an empty range, a negative speed, invalid options): InvalidArgument.</summary>
    Invalid,

    /// <summary>No such line, or no samples of it in the range: NotFound.</summary>
    NotFound,

    /// <summary>The recorder cannot be read: Unavailable.</summary>
    Unavailable,
}

/// <summary>A replay was refused before it started, or failed while it ran; the message says what to fix.</summary>
internal sealed class ReplayRefusedException : Exception
{
    public ReplayRefusedException()
    {
    }

    public ReplayRefusedException(string message)
        : base(message)
    {
    }

    public ReplayRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ReplayRefusedException(ReplayFailure kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public ReplayFailure Kind { get; }
}

/// <summary>
/// The one way the gateway runs a replay, whoever asks: the gRPC ReplayService streams its progress, the console's
/// replay page runs it in the background (<see cref="Web.ReplayJobs"/>). Same checks, same options, same failures.
/// </summary>
internal static class ReplayRuns
{
    /// <summary>The replay options for a request, after checking the line, the range and the speed.</summary>
    /// <param name="registry">The lines the gateway runs (a replay needs the line's definition).</param>
    /// <param name="gateway">The gateway's settings: the twin's seed and step.</param>
    /// <param name="lineId">The line.</param>
    /// <param name="fromNs">Range start, Unix nanoseconds.</param>
    /// <param name="toNs">Range end, Unix nanoseconds (after the start).</param>
    /// <param name="speed">0: as fast as possible; otherwise a factor of the recorded pace.</param>
    /// <param name="seed">0: the gateway's twin seed.</param>
    /// <param name="signals">Only these signals; null or empty: all.</param>
    /// <param name="plotPoints">Plot buckets per signal; 0: 500.</param>
    /// <exception cref="ReplayRefusedException">What is wrong with the request.</exception>
    public static ReplayOptions Plan(LineRegistry registry, GatewayOptions gateway, string lineId, long fromNs, long toNs, double speed, ulong seed,
        IReadOnlyCollection<string>? signals, int plotPoints)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(gateway);
        if (string.IsNullOrEmpty(lineId))
        {
            throw new ReplayRefusedException(ReplayFailure.Invalid, "line_id is required");
        }

        if (toNs <= fromNs)
        {
            throw new ReplayRefusedException(ReplayFailure.Invalid,
                $"the range is empty: to ({TelemetryTime.FromUnixNanoseconds(toNs):O}) is not after from ({TelemetryTime.FromUnixNanoseconds(fromNs):O})");
        }

        if (!registry.TryGet(lineId, out var line))
        {
            throw new ReplayRefusedException(ReplayFailure.NotFound,
                $"no line '{lineId}' (lines: {string.Join(", ", registry.Lines.Select(l => l.Id))}); replay needs the line's definition");
        }

        if (speed < 0 || double.IsNaN(speed) || double.IsInfinity(speed))
        {
            throw new ReplayRefusedException(ReplayFailure.Invalid, $"speed {speed} is not a positive factor (0 replays as fast as possible)");
        }

        return new ReplayOptions
        {
            Line = line.Definition,
            From = TelemetryTime.FromUnixNanoseconds(fromNs),
            To = TelemetryTime.FromUnixNanoseconds(toNs),
            Speed = speed > 0 ? speed : null,
            Seed = seed != 0 ? seed : gateway.TwinSeed,
            Step = TimeSpan.FromMilliseconds(gateway.StepMilliseconds),
            Signals = signals is null || signals.Count == 0 ? null : [.. signals],
            PlotPoints = plotPoints > 0 ? plotPoints : 500,
        };
    }

    /// <summary>Runs the replay; its failures become <see cref="ReplayRefusedException"/> with their kind.</summary>
    /// <exception cref="ReplayRefusedException">No samples in the range, invalid options, the recorder unreadable.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public static async Task<ReplayReport> RunAsync(TelemetryRecorder recorder, ITwinFactory twins, ReplayOptions options, IProgress<ReplayProgress>? progress,
        TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            return await TelemetryReplayer.RunAsync(recorder, twins, options, progress, time, cancellationToken).ConfigureAwait(false);
        }
        catch (ReplayException ex)
        {
            throw new ReplayRefusedException(ReplayFailure.NotFound, ex.Message, ex);
        }
        catch (ArgumentException ex)
        {
            throw new ReplayRefusedException(ReplayFailure.Invalid, ex.Message, ex);
        }
        catch (TelemetryStoreException ex)
        {
            throw new ReplayRefusedException(ReplayFailure.Unavailable, ex.Message, ex);
        }
    }
}
