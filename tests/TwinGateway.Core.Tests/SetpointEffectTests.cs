using TwinGateway.Core.Lines;

namespace TwinGateway.Core.Tests;

/// <summary>A setpoint's <c>effects</c>: the shape the loader accepts, every mistake it reports, and the factor.</summary>
public sealed class SetpointEffectTests
{
    private const string Line = """
        id: mini
        name: Mini line
        controllers:
          - id: plc1
            endpointUrl: opc.tcp://localhost:4840
        stations:
          - id: st1
            kind: machine
            cycleTime: 10
          - id: buf
            kind: buffer
            capacity: 5
          - id: st2
            kind: conveyor
            cycleTime: 5
        signals:
          - id: st1.override
            dataType: Double
            unit: '%'
            direction: controllerInput
            nodeId: ns=2;s=Mini.st1.override
            model: { kind: setpoint, initial: 100 }
            effects:
              - { cycleTime: st1, reference: 100, share: 0.5 }
              - { cycleTime: all, reference: 100 }
          - id: st2.running
            dataType: Boolean
            direction: controllerOutput
            nodeId: ns=2;s=Mini.st2.running
            model: { kind: state, is: processing }
        topology:
          - { from: st1, to: buf }
          - { from: buf, to: st2 }

        """;

    [Fact]
    public void Effects_are_read_with_their_station_reference_and_share()
    {
        var result = LineDefinitionLoader.Parse(Line, "mini.yaml");

        Assert.Empty(result.Errors);
        var signal = result.GetDefinitionOrThrow().FindSignal("st1.override")!;
        Assert.Equal(2, signal.Effects.Length);
        Assert.Equal(new SetpointEffect("st1", 100, 0.5) { Source = signal.Effects[0].Source }, signal.Effects[0]);
        Assert.Equal(new SetpointEffect(null, 100, 1) { Source = signal.Effects[1].Source }, signal.Effects[1]);
        Assert.Equal(At(Line, "{ cycleTime: st1"), (signal.Effects[0].Source!.Value.Line, signal.Effects[0].Source!.Value.Column));
        Assert.True(signal.Effects[1].AppliesTo("st2"));
        Assert.False(signal.Effects[0].AppliesTo("st2"));
        Assert.Empty(result.GetDefinitionOrThrow().FindSignal("st2.running")!.Effects);
    }

    [Theory]
    [InlineData(100, 0.6, 100, 1.0)]
    [InlineData(100, 1.0, 50, 2.0)]
    [InlineData(100, 1.0, 40, 2.5)]
    [InlineData(8000, 0.6, 4000, 1.6)]
    [InlineData(8000, 0.6, 16000, 0.7)]
    [InlineData(100, 1.0, 0, double.PositiveInfinity)]
    [InlineData(100, 0.5, -10, double.PositiveInfinity)]
    public void The_factor_scales_the_share_with_reference_over_value_and_a_stop_is_infinite(double reference, double share, double value, double expected)
    {
        Assert.Equal(expected, new SetpointEffect("st1", reference, share).CycleTimeFactor(value), 12);
    }

    [Fact]
    public void The_factor_is_exactly_one_at_the_reference()
    {
        // Bit for bit: a line at its reference setpoints must run exactly as before effects existed.
        Assert.Equal(1.0, new SetpointEffect(null, 8000, 0.6).CycleTimeFactor(8000));
        Assert.Equal(1.0, new SetpointEffect(null, 7500, 0.6).CycleTimeFactor(7500));
    }

    [Theory]
    [InlineData("{ cycleTime: st1, reference: 100, share: 0.5 }", "{ cycleTime: st9, reference: 100, share: 0.5 }", "st9", "signals[0].effects[0].cycleTime",
        "effect names unknown station 'st9' (did you mean 'st1'?) (expected a station id or 'all')")]
    [InlineData("{ cycleTime: st1, reference: 100, share: 0.5 }", "{ cycleTime: buf, reference: 100, share: 0.5 }", "buf, reference", "signals[0].effects[0].cycleTime",
        "station 'buf' is a buffer, which has no cycle time to scale")]
    [InlineData("{ cycleTime: st1, reference: 100, share: 0.5 }", "{ cycleTime: st1, reference: 0, share: 0.5 }", "0, share", "signals[0].effects[0].reference",
        "reference must be above 0, found 0")]
    [InlineData("{ cycleTime: all, reference: 100 }", "{ cycleTime: all, reference: -100 }", "-100", "signals[0].effects[1].reference",
        "reference must be above 0, found -100")]
    [InlineData("{ cycleTime: st1, reference: 100, share: 0.5 }", "{ cycleTime: st1, reference: 100, share: 1.5 }", "1.5", "signals[0].effects[0].share",
        "share must be above 0 and at most 1 (the fraction of the cycle that scales with the value), found 1.5")]
    [InlineData("{ cycleTime: st1, reference: 100, share: 0.5 }", "{ cycleTime: st1, reference: 100, share: 0 }", "0 }", "signals[0].effects[0].share",
        "share must be above 0 and at most 1 (the fraction of the cycle that scales with the value), found 0")]
    [InlineData("{ cycleTime: st1, reference: 100, share: 0.5 }", "{ cycleTime: st1, referense: 100, share: 0.5 }", "referense", "signals[0].effects[0].referense",
        "unknown field 'referense' (did you mean 'reference'?)")]
    [InlineData("{ cycleTime: all, reference: 100 }", "{ cycleTime: st1, reference: 50 }", "st1, reference: 50", "signals[0].effects[1].cycleTime",
        "duplicate effect on the cycle time of 'st1' (first at line 24); write one effect per station and signal")]
    [InlineData("{ cycleTime: all, reference: 100 }", "{ reference: 100 }", "{ reference: 100 }", "signals[0].effects[1]",
        "missing required field 'cycleTime'")]
    public void A_bad_effect_is_reported_at_its_field(string oldText, string newText, string at, string path, string message)
    {
        var yaml = Line.Replace(oldText, newText, StringComparison.Ordinal);
        var error = SingleError(yaml);

        Assert.Equal(message, error.Message);
        Assert.Equal(path, error.Path);
        var offset = yaml.IndexOf(newText, StringComparison.Ordinal) + newText.IndexOf(at, StringComparison.Ordinal);
        Assert.Equal(At(yaml, offset), (error.Line, error.Column));
        Assert.StartsWith($"mini.yaml:{error.Line}:{error.Column}: {path}: ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Effects_on_a_signal_that_is_not_a_setpoint_are_refused()
    {
        var yaml = Line.Replace(
            "model: { kind: state, is: processing }\n",
            "model: { kind: state, is: processing }\n    effects:\n      - { cycleTime: st2, reference: 1 }\n",
            StringComparison.Ordinal);

        var error = SingleError(yaml);

        Assert.Equal("signals[1].effects", error.Path);
        Assert.Equal("effects apply only to setpoint signals; this signal's model is 'state'", error.Message);
        Assert.Equal(At(yaml, "effects:\n      - { cycleTime: st2"), (error.Line, error.Column));
    }

    [Fact]
    public void Effects_need_a_numeric_setpoint_and_a_list()
    {
        var boolean = Line
            .Replace("dataType: Double\n    unit: '%'", "dataType: Boolean", StringComparison.Ordinal)
            .Replace("initial: 100", "initial: true", StringComparison.Ordinal);
        Assert.Equal("effects scale with the setpoint's value, so they need a numeric dataType, not Boolean", SingleError(boolean).Message);

        var empty = Line.Replace(
            "effects:\n      - { cycleTime: st1, reference: 100, share: 0.5 }\n      - { cycleTime: all, reference: 100 }",
            "effects: []",
            StringComparison.Ordinal);
        Assert.Equal("effects is an empty list; leave it out for a setpoint that only holds its value", SingleError(empty).Message);

        var scalar = Line.Replace(
            "effects:\n      - { cycleTime: st1, reference: 100, share: 0.5 }\n      - { cycleTime: all, reference: 100 }",
            "effects: st1",
            StringComparison.Ordinal);
        Assert.Equal("expected effects as a list, found 'st1'", SingleError(scalar).Message);
    }

    [Fact]
    public void The_demo_line_setpoints_scale_the_stations_they_drive()
    {
        var demo = LineDefinitionLoader.LoadFile(RepositoryPaths.DemoLine).GetDefinitionOrThrow();

        Assert.Equal([new SetpointEffect(null, 100, 1)], Strip(demo, "line.speedOverride"));
        Assert.Equal([new SetpointEffect("robot1", 100, 1)], Strip(demo, "robot1.speedOverride"));
        Assert.Equal([new SetpointEffect("robot2", 100, 1)], Strip(demo, "robot2.speedOverride"));
        Assert.Equal([new SetpointEffect("cnc1", 8000, 0.6)], Strip(demo, "cnc1.spindleSpeedSetpoint"));
        Assert.Equal([new SetpointEffect("cnc2", 7500, 0.6)], Strip(demo, "cnc2.spindleSpeedSetpoint"));
        Assert.Equal([new SetpointEffect("cnc1", 100, 0.6)], Strip(demo, "cnc1.feedOverride"));

        // Every effect's reference is the setpoint's initial value: the line as defined runs at factor 1.
        foreach (var signal in demo.Signals.Where(s => !s.Effects.IsEmpty))
        {
            var initial = Assert.IsType<SetpointModel>(signal.Model).Initial;
            Assert.All(signal.Effects, e => Assert.Equal(1.0, e.CycleTimeFactor(initial)));
        }

        static SetpointEffect[] Strip(LineDefinition line, string id) => [.. line.FindSignal(id)!.Effects.Select(e => e with { Source = null })];
    }

    private static LineDefinitionError SingleError(string yaml)
    {
        var errors = LineDefinitionLoader.Parse(yaml, "mini.yaml").Errors;
        Assert.True(errors.Length == 1, $"expected one error, found {errors.Length}:\n{string.Join('\n', errors)}");
        return errors[0];
    }

    /// <summary>The 1-based line and column of the first occurrence of <paramref name="text"/>.</summary>
    internal static (int Line, int Column) At(string yaml, string text)
    {
        var at = yaml.IndexOf(text, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{text}' not found");
        return At(yaml, at);
    }

    /// <summary>The 1-based line and column of the character at <paramref name="at"/>.</summary>
    private static (int Line, int Column) At(string yaml, int at)
    {
        var line = yaml[..at].Count(c => c == '\n') + 1;
        var column = at - (yaml.LastIndexOf('\n', Math.Max(0, at - 1)) + 1) + 1;
        return (line, column);
    }
}
