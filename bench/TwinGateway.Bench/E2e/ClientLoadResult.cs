namespace TwinGateway.Bench.E2e;

/// <summary>One client's figures over its measurement window.</summary>
internal sealed record ClientLoadResult
{
    public required string Client { get; init; }

    public required int Items { get; init; }

    /// <summary>Length of the measurement window, measured.</summary>
    public required double DurationS { get; init; }

    /// <summary>Data values delivered to the application in the window.</summary>
    public required long Notifications { get; init; }

    public required double NotificationsPerSec { get; init; }

    /// <summary>The client process's CPU time (all threads, user + system) in the window.</summary>
    public required double CpuMs { get; init; }

    public double? CpuUserMs { get; init; }

    public double? CpuSystemMs { get; init; }

    /// <summary>CPU time per delivered value: the figure the two clients are compared on.</summary>
    public required double? CpuNsPerNotification { get; init; }

    /// <summary>CPU used as a share of one core.</summary>
    public double CoresUsed => DurationS > 0 ? Math.Round(CpuMs / (DurationS * 1000), 3) : 0;

    /// <summary>Our client only: garbage collections and allocations in the window.</summary>
    public GcFigures? Gc { get; init; }

    /// <summary>Our client only: NotificationGap events in the window (lost messages that could not be republished).</summary>
    public long? Gaps { get; init; }

    /// <summary>Our client only: values whose status had the overflow bit (the server's queue dropped values).</summary>
    public long? Overflows { get; init; }

    public int? Reconnects { get; init; }

    public int? ItemsCreated { get; init; }

    public double? RevisedPublishingIntervalMs { get; init; }

    /// <summary>The machine's 1-minute load average when the window closed (the run shares the machine: above the core count, distrust the figures).</summary>
    public double? LoadAverage1m { get; init; }

    /// <summary>The node server's CPU time over the same window (context: it shows whether the server was the limit).</summary>
    public double? ServerCpuMs { get; init; }
}

internal static class ClientLoadFigures
{
    public static double PerSecond(long count, TimeSpan window) => window > TimeSpan.Zero ? Math.Round(count / window.TotalSeconds, 1) : 0;

    public static double? NsPer(TimeSpan cpu, long count) => count > 0 ? Math.Round(cpu.TotalNanoseconds / count, 1) : null;
}

internal sealed record GcFigures(int Gen0, int Gen1, int Gen2, long AllocatedBytes, double AllocatedBytesPerNotification);
