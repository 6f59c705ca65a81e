namespace TwinGateway.Telemetry;

/// <summary>
/// One recorded signal of one line: the key samples are stored under. The recorder hands out one instance per
/// (line, signal), so a producer looks it up once and appends without a lookup per sample.
/// </summary>
public sealed class TelemetrySeries
{
    internal TelemetrySeries(int id, string lineId, string signalId, string? stationId)
    {
        Id = id;
        LineId = lineId;
        SignalId = signalId;
        StationId = stationId;
    }

    /// <summary>The series' key in the recorder's database (stable for the life of the file).</summary>
    public int Id { get; }

    public string LineId { get; }

    public string SignalId { get; }

    /// <summary>The station the signal belongs to; null for a line-wide signal.</summary>
    public string? StationId { get; }

    public override string ToString() => $"{LineId}/{SignalId}";
}

/// <summary>
/// One sample as the gateway received it from a controller, with the twin's expected value for the same instant.
/// Times are Unix nanoseconds (UTC), which holds OPC UA's 100 ns ticks exactly and is InfluxDB's native precision.
/// </summary>
/// <param name="Series">The line and signal.</param>
/// <param name="SourceTime">The controller's source timestamp, Unix ns.</param>
/// <param name="ServerTime">The server timestamp, Unix ns.</param>
/// <param name="Value">The value as a number (Booleans 0 and 1); null when the controller sent no usable number.</param>
/// <param name="Status">The OPC UA status code of the value (0 is Good).</param>
/// <param name="Expected">The twin's expected value at the same instant; null when the twin does not model the signal.</param>
public readonly record struct TelemetrySample(TelemetrySeries Series, long SourceTime, long ServerTime, double? Value, uint Status, double? Expected);

/// <summary>A sample read back from the recorder, with its sequence number (the order it was committed in).</summary>
public readonly record struct RecordedSample(long Seq, TelemetrySample Sample)
{
    public TelemetrySeries Series => Sample.Series;

    public long SourceTime => Sample.SourceTime;
}

/// <summary>Conversions between .NET times and the Unix nanoseconds the recorder stores.</summary>
public static class TelemetryTime
{
    private const long UnixEpochTicks = 621_355_968_000_000_000L;

    public static long ToUnixNanoseconds(DateTime utc) =>
        utc == default ? 0 : (utc.ToUniversalTime().Ticks - UnixEpochTicks) * 100;

    public static long ToUnixNanoseconds(DateTimeOffset time) => (time.UtcTicks - UnixEpochTicks) * 100;

    public static DateTime FromUnixNanoseconds(long nanoseconds) =>
        new(UnixEpochTicks + (nanoseconds / 100), DateTimeKind.Utc);
}
