using System.Globalization;
using System.Text;

namespace TwinGateway.Telemetry.Forwarding;

/// <summary>
/// Writes recorded samples as InfluxDB line protocol: <c>line,signal=S,station=T value=V,expected=E,status=Ni TIME</c>.
/// </summary>
/// <remarks>
/// The measurement is the line id, so one dashboard query covers a line; signal and station are tags because they are
/// what dashboards group by. <c>status</c> is written only for a value that is not Good (or when no number exists,
/// since a line needs at least one field), which keeps the common Good sample to one or two fields.
/// Our own writer rather than InfluxDB.Client's <c>PointData</c>: PointData builds a dictionary and several strings per
/// point, and the forwarder writes batches of thousands into one reused <see cref="StringBuilder"/> instead.
/// </remarks>
public static class InfluxLineProtocol
{
    /// <summary>The tag that carries the signal id.</summary>
    public const string SignalTag = "signal";

    /// <summary>The tag that carries the station id; absent for a line-wide signal.</summary>
    public const string StationTag = "station";

    /// <summary>The field with the controller's value.</summary>
    public const string ValueField = "value";

    /// <summary>The field with the twin's expected value.</summary>
    public const string ExpectedField = "expected";

    /// <summary>The field with the OPC UA status code, as an integer.</summary>
    public const string StatusField = "status";

    /// <summary>Appends one line for <paramref name="sample"/>, ending with a newline.</summary>
    public static void Append(StringBuilder buffer, in TelemetrySample sample)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var series = sample.Series;
        AppendEscaped(buffer, series.LineId, escapeEquals: false);
        if (!string.IsNullOrEmpty(series.SignalId))
        {
            buffer.Append(',').Append(SignalTag).Append('=');
            AppendEscaped(buffer, series.SignalId, escapeEquals: true);
        }

        // Tags with an empty value are rejected by InfluxDB, so an empty station is treated like none.
        if (!string.IsNullOrEmpty(series.StationId))
        {
            buffer.Append(',').Append(StationTag).Append('=');
            AppendEscaped(buffer, series.StationId, escapeEquals: true);
        }

        // Line protocol has no spelling for NaN or infinity (InfluxDB rejects the whole batch), so such a value is
        // written like a missing one; its status (or the status field forced below) still records that it came.
        var hasValue = sample.Value is { } value && double.IsFinite(value);
        var hasExpected = sample.Expected is { } expected && double.IsFinite(expected);
        var separator = ' ';
        if (hasValue)
        {
            buffer.Append(separator).Append(ValueField).Append('=');
            AppendDouble(buffer, sample.Value!.Value);
            separator = ',';
        }

        if (hasExpected)
        {
            buffer.Append(separator).Append(ExpectedField).Append('=');
            AppendDouble(buffer, sample.Expected!.Value);
            separator = ',';
        }

        if (sample.Status != 0 || (!hasValue && !hasExpected))
        {
            buffer.Append(separator).Append(StatusField).Append('=');
            AppendInteger(buffer, sample.Status);
            buffer.Append('i');
        }

        buffer.Append(' ');
        AppendInteger(buffer, TimestampOf(sample));
        buffer.Append('\n');
    }

    /// <summary>One line for <paramref name="sample"/>, with its newline (for tests and diagnostics).</summary>
    public static string Format(in TelemetrySample sample)
    {
        var buffer = new StringBuilder(128);
        Append(buffer, sample);
        return buffer.ToString();
    }

    /// <summary>
    /// The point's time in Unix ns: the controller's source time, or the server time when the controller sent none
    /// (OPC UA leaves SourceTimestamp out for some values; 0 would place the point in 1970).
    /// </summary>
    public static long TimestampOf(in TelemetrySample sample) => sample.SourceTime != 0 ? sample.SourceTime : sample.ServerTime;

    private static void AppendEscaped(StringBuilder buffer, string text, bool escapeEquals)
    {
        foreach (var c in text)
        {
            switch (c)
            {
                case ',':
                case ' ':
                    buffer.Append('\\').Append(c);
                    break;
                case '=' when escapeEquals:
                    buffer.Append('\\').Append(c);
                    break;

                // A newline ends the line and cannot be escaped in line protocol; an escaped space keeps the name
                // readable and the batch parseable.
                case '\n':
                case '\r':
                    buffer.Append("\\ ");
                    break;
                default:
                    buffer.Append(c);
                    break;
            }
        }
    }

    private static void AppendDouble(StringBuilder buffer, double value)
    {
        Span<char> digits = stackalloc char[32];
        if (!value.TryFormat(digits, out var written, "R", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"cannot format {value} in 32 characters");
        }

        buffer.Append(digits[..written]);
    }

    private static void AppendInteger(StringBuilder buffer, long value)
    {
        Span<char> digits = stackalloc char[20];
        value.TryFormat(digits, out var written, provider: CultureInfo.InvariantCulture);
        buffer.Append(digits[..written]);
    }
}
