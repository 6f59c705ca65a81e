using System.Globalization;
using TwinGateway.Gateway;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Host.Web;

/// <summary>Parts per minute, real and the twin's, or "n/a" with the reason (the page shows it as a title).</summary>
internal sealed record LineThroughput(string Real, string RealWhy, string Twin, string TwinWhy)
{
    /// <summary>The window the rate is taken over: the demo line finishes a part about every 35 s, so 5 minutes hold several.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    /// <summary>Under this much time between the first and last count in the window, a rate says nothing yet.</summary>
    private static readonly TimeSpan Shortest = TimeSpan.FromSeconds(60);

    /// <summary>
    /// From the flight recorder: the line's output counter (<see cref="LineSignals.OutputCounter"/>) over the last
    /// <see cref="Window"/>; the real rate from its recorded values, the twin's from the expected values recorded beside
    /// them (the twin's own count of the same station). One range read of one signal: a few dozen rows.
    /// </summary>
    public static LineThroughput Of(LineRuntime line, TelemetryRecorder recorder, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(recorder);
        var (counter, reason) = LineSignals.OutputCounter(line.Definition);
        if (counter is null)
        {
            return new("n/a", reason, "n/a", reason);
        }

        (long Time, double Value)? firstReal = null, lastReal = null, firstTwin = null, lastTwin = null;
        try
        {
            foreach (var recorded in recorder.ReadRange(line.Id, TelemetryTime.ToUnixNanoseconds(now - Window), TelemetryTime.ToUnixNanoseconds(now) + 1, [counter.Id]))
            {
                var s = recorded.Sample;
                if (s.Value is { } v && s.Status == 0)
                {
                    firstReal ??= (s.SourceTime, v);
                    lastReal = (s.SourceTime, v);
                }

                if (s.Expected is { } e)
                {
                    firstTwin ??= (s.SourceTime, e);
                    lastTwin = (s.SourceTime, e);
                }
            }
        }
        catch (TelemetryStoreException ex)
        {
            var why = $"the flight recorder cannot be read: {ex.Message}";
            return new("n/a", why, "n/a", why);
        }

        var (real, realWhy) = Rate(counter.Id, firstReal, lastReal);
        var (twin, twinWhy) = Rate(counter.Id, firstTwin, lastTwin);
        return new(real, realWhy, twin, twinWhy);
    }

    private static (string Text, string Why) Rate(string counter, (long Time, double Value)? first, (long Time, double Value)? last)
    {
        if (first is not { } a || last is not { } b)
        {
            return ("n/a", $"no count of {counter} recorded in the last {Window.TotalMinutes:0} minutes");
        }

        var span = TimeSpan.FromTicks((b.Time - a.Time) / 100);
        if (span < Shortest)
        {
            return ("n/a", $"{counter}: counts over {span.TotalSeconds:0} s only in the last {Window.TotalMinutes:0} minutes; a rate needs {Shortest.TotalSeconds:0} s");
        }

        if (b.Value < a.Value)
        {
            return ("n/a", $"{counter} went back from {a.Value} to {b.Value} (a counter reset) in the last {Window.TotalMinutes:0} minutes");
        }

        var perMinute = (b.Value - a.Value) / span.TotalMinutes;
        return (perMinute.ToString("0.00", CultureInfo.InvariantCulture),
            string.Create(CultureInfo.InvariantCulture, $"{b.Value - a.Value:0} parts counted by {counter} over {span.TotalMinutes:0.0} min"));
    }
}
