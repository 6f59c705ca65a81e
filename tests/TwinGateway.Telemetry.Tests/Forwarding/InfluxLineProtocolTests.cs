using TwinGateway.Telemetry.Forwarding;

namespace TwinGateway.Telemetry.Tests.Forwarding;

public sealed class InfluxLineProtocolTests
{
    private static readonly TelemetrySeries Press = new(1, "line1", "press.force", "st10");
    private static readonly TelemetrySeries LineWide = new(2, "line1", "speed", null);

    [Fact]
    public void Good_sample_has_value_and_expected_and_no_status()
    {
        var line = InfluxLineProtocol.Format(new TelemetrySample(Press, 1_700_000_000_123_456_789, 1_700_000_000_200_000_000, 12.5, 0, 12.25));

        Assert.Equal("line1,signal=press.force,station=st10 value=12.5,expected=12.25 1700000000123456789\n", line);
    }

    [Fact]
    public void Line_wide_signal_has_no_station_tag()
    {
        var line = InfluxLineProtocol.Format(new TelemetrySample(LineWide, 1_000, 2_000, 3, 0, null));

        Assert.Equal("line1,signal=speed value=3 1000\n", line);
    }

    [Fact]
    public void Empty_station_is_left_out_like_a_missing_one()
    {
        var series = new TelemetrySeries(3, "line1", "speed", "");

        Assert.Equal("line1,signal=speed value=3 1000\n", InfluxLineProtocol.Format(new TelemetrySample(series, 1_000, 2_000, 3, 0, null)));
    }

    [Fact]
    public void Measurement_escapes_commas_and_spaces_but_not_equals()
    {
        var series = new TelemetrySeries(4, "line 1,a=b", "s", null);

        Assert.Equal(@"line\ 1\,a=b,signal=s value=1 5" + "\n", InfluxLineProtocol.Format(new TelemetrySample(series, 5, 0, 1, 0, null)));
    }

    [Fact]
    public void Tag_values_escape_commas_equals_and_spaces()
    {
        var series = new TelemetrySeries(5, "l", "a,b=c d", "st 1=x,y");

        Assert.Equal(@"l,signal=a\,b\=c\ d,station=st\ 1\=x\,y value=1 5" + "\n", InfluxLineProtocol.Format(new TelemetrySample(series, 5, 0, 1, 0, null)));
    }

    [Fact]
    public void Newline_in_a_name_cannot_break_the_batch()
    {
        var series = new TelemetrySeries(6, "l\nx", "a\r\nb", null);

        var line = InfluxLineProtocol.Format(new TelemetrySample(series, 5, 0, 1, 0, null));

        Assert.Equal(@"l\ x,signal=a\ \ b value=1 5" + "\n", line);
        Assert.Equal(1, line.Count(c => c == '\n'));
    }

    [Fact]
    public void Bad_status_is_written_as_an_unsigned_integer_field()
    {
        var line = InfluxLineProtocol.Format(new TelemetrySample(Press, 10, 20, 1.5, 0x80000000u, null));

        Assert.Equal("line1,signal=press.force,station=st10 value=1.5,status=2147483648i 10\n", line);
    }

    [Fact]
    public void Largest_status_code_fits()
    {
        var line = InfluxLineProtocol.Format(new TelemetrySample(Press, 10, 20, null, uint.MaxValue, null));

        Assert.Equal("line1,signal=press.force,station=st10 status=4294967295i 10\n", line);
    }

    [Fact]
    public void Good_sample_without_any_number_writes_status_so_the_line_has_a_field()
    {
        var line = InfluxLineProtocol.Format(new TelemetrySample(Press, 10, 20, null, 0, null));

        Assert.Equal("line1,signal=press.force,station=st10 status=0i 10\n", line);
    }

    [Fact]
    public void Expected_alone_is_a_field_of_its_own()
    {
        var line = InfluxLineProtocol.Format(new TelemetrySample(Press, 10, 20, null, 0, 7));

        Assert.Equal("line1,signal=press.force,station=st10 expected=7 10\n", line);
    }

    [Fact]
    public void Non_finite_values_are_written_as_missing()
    {
        var line = InfluxLineProtocol.Format(new TelemetrySample(Press, 10, 20, double.NaN, 0, double.PositiveInfinity));

        Assert.Equal("line1,signal=press.force,station=st10 status=0i 10\n", line);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(1.0 / 3)]
    [InlineData(-123456.789012345)]
    [InlineData(1e-300)]
    [InlineData(1.7976931348623157e308)]
    [InlineData(double.Epsilon)]
    [InlineData(-0.0)]
    public void Doubles_round_trip_in_invariant_format(double value)
    {
        var line = InfluxLineProtocol.Format(new TelemetrySample(LineWide, 1, 0, value, 0, null));

        var text = line["line1,signal=speed value=".Length..line.LastIndexOf(' ')];
        Assert.DoesNotContain(",", text, StringComparison.Ordinal);
        Assert.Equal(value, double.Parse(text, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Integral_double_has_no_integer_suffix()
    {
        // "5i" would make the field an integer, and InfluxDB refuses a field whose type changes within a series.
        var line = InfluxLineProtocol.Format(new TelemetrySample(LineWide, 1, 0, 5.0, 0, null));

        Assert.Equal("line1,signal=speed value=5 1\n", line);
    }

    [Fact]
    public void Timestamp_is_the_source_time_in_nanoseconds()
    {
        var source = TelemetryTime.ToUnixNanoseconds(new DateTimeOffset(2024, 3, 1, 12, 0, 0, TimeSpan.Zero)) + 123_456_700;
        var line = InfluxLineProtocol.Format(new TelemetrySample(LineWide, source, source + 5_000_000, 1, 0, null));

        Assert.EndsWith(" 1709294400123456700\n", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Server_time_stands_in_when_the_source_time_is_missing()
    {
        var line = InfluxLineProtocol.Format(new TelemetrySample(LineWide, 0, 1_709_294_400_000_000_000, 1, 0, null));

        Assert.EndsWith(" 1709294400000000000\n", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Lines_append_into_one_buffer()
    {
        var buffer = new System.Text.StringBuilder();
        InfluxLineProtocol.Append(buffer, new TelemetrySample(LineWide, 1, 0, 1, 0, null));
        InfluxLineProtocol.Append(buffer, new TelemetrySample(LineWide, 2, 0, 2, 0, null));

        Assert.Equal("line1,signal=speed value=1 1\nline1,signal=speed value=2 2\n", buffer.ToString());
    }
}
