using TwinGateway.Core.Lines;

namespace TwinGateway.Core.Tests;

/// <summary>
/// Each bad file is the valid <see cref="MiniLine"/> with one change; the expected line and column are those of the
/// offending text in it (1-based, as an editor shows them).
/// </summary>
public sealed class LineDefinitionErrorTests
{
    internal const string MiniLine = """
        id: mini
        name: Mini line
        controllers:
          - id: plc1
            endpointUrl: opc.tcp://localhost:4840
        stations:
          - id: st1
            kind: machine
            cycleTime: 10
          - id: st2
            kind: conveyor
            cycleTime: { distribution: normal, mean: 5, stddev: 0.5 }
        signals:
          - id: st1.speed
            dataType: Double
            unit: rpm
            direction: controllerOutput
            nominalRange: { low: 0, high: 100 }
            nodeId: ns=2;s=Mini.st1.speed
            model: { kind: motorCurrent, idle: 1, load: 5 }
          - id: st2.running
            dataType: Boolean
            direction: controllerOutput
            nodeId: ns=2;s=Mini.st2.running
            model: { kind: state, is: processing }
        topology:
          - { from: st1, to: st2 }

        """;

    [Fact]
    public void The_mini_line_is_valid()
    {
        var result = LineDefinitionLoader.Parse(MiniLine, "mini.yaml");
        Assert.Empty(result.Errors);
        var line = result.GetDefinitionOrThrow();
        Assert.Equal("plc1", line.FindSignal("st1.speed")!.ControllerId);
        Assert.Equal(new SourceLocation("mini.yaml", 14, 5), line.FindSignal("st1.speed")!.Source);
    }

    [Fact]
    public void Unknown_station_kind_lists_the_kinds()
    {
        var error = SingleError(Change("kind: machine", "kind: robotarm"));
        AssertAt(error, 8, 11, "stations[0].kind", "unknown station kind 'robotarm' (expected machine, conveyor, buffer, robot, inspection)");
    }

    [Fact]
    public void Duplicate_signal_id_names_the_first_definition()
    {
        var error = SingleError(Change("- id: st2.running", "- id: st1.speed"));
        AssertAt(error, 21, 9, "signals[1].id", "duplicate signal id 'st1.speed' (first defined at line 14)");
    }

    [Fact]
    public void Invalid_node_id_says_why()
    {
        var error = SingleError(Change("ns=2;s=Mini.st1.speed", "ns=2;x=Mini.st1.speed"));
        AssertAt(error, 19, 13, "signals[0].nodeId",
            "nodeId 'ns=2;x=Mini.st1.speed' is not a valid node id: unknown identifier type 'x=' (expected 'i=', 's=', 'g=' or 'b=')");
    }

    [Fact]
    public void Duplicate_node_id_on_one_controller_is_rejected()
    {
        var error = SingleError(Change("ns=2;s=Mini.st2.running", "ns=2;s=Mini.st1.speed"));
        AssertAt(error, 24, 13, "signals[1].nodeId",
            "duplicate nodeId 'ns=2;s=Mini.st1.speed' on controller 'plc1' (first used by signal 'st1.speed' at line 14)");
    }

    [Fact]
    public void Nominal_range_low_above_high()
    {
        var error = SingleError(Change("{ low: 0, high: 100 }", "{ low: 10, high: 5 }"));
        AssertAt(error, 18, 19, "signals[0].nominalRange", "nominalRange low 10 is above high 5");
    }

    [Fact]
    public void Topology_edge_to_unknown_station()
    {
        var error = SingleError(Change("to: st2 }", "to: st9 }"));
        AssertAt(error, 27, 22, "topology[0].to", "topology edge references unknown station 'st9' (did you mean 'st1'?)");
    }

    [Fact]
    public void Interlock_with_unknown_signal()
    {
        var yaml = MiniLine + """
            interlocks:
              - id: guard
                when: { signal: st2.running, equals: true }
                forbid: { signal: st1.sped, above: 50 }

            """;
        var error = SingleError(yaml);
        AssertAt(error, 31, 23, "interlocks[0].forbid.signal", "interlock references unknown signal 'st1.sped' (did you mean 'st1.speed'?)");
    }

    [Fact]
    public void Interlock_compares_a_boolean_only_for_equality()
    {
        var yaml = MiniLine + """
            interlocks:
              - id: guard
                when: { signal: st2.running, above: 0 }
                forbid: { signal: st1.speed, above: 50 }

            """;
        var error = SingleError(yaml);
        AssertAt(error, 30, 34, "interlocks[0].when.above", "'above' compares numbers; 'st2.running' is Boolean (use equals or notEquals)");
    }

    [Fact]
    public void Controller_endpoint_must_be_opc_tcp()
    {
        var error = SingleError(Change("opc.tcp://localhost:4840", "http://localhost:4840"));
        AssertAt(error, 5, 18, "controllers[0].endpointUrl", "controller endpoint must be opc.tcp://host:port, found 'http://localhost:4840'");
    }

    [Fact]
    public void A_controller_never_holds_a_password()
    {
        var error = SingleError(Change("endpointUrl: opc.tcp://localhost:4840", "endpointUrl: opc.tcp://localhost:4840\n    password: hunter2"));
        AssertAt(error, 6, 5, "controllers[0].password",
            "field 'password' is not allowed: a line file never holds credentials; keep them in the gateway's secret store and name them with the controller's credentialsRef");
    }

    [Fact]
    public void Data_type_that_is_not_an_opc_ua_built_in_type()
    {
        var error = SingleError(Change("dataType: Double", "dataType: Float64"));
        AssertAt(error, 15, 15, "signals[0].dataType", "dataType 'Float64' is not an OPC UA built-in type (did you mean 'Double'?)");
    }

    [Fact]
    public void Missing_required_id_is_reported_at_the_mapping()
    {
        var errors = Errors(Change("- id: plc1", "- name: plc1"));
        Assert.Contains(errors, e => e is { Line: 4, Column: 5, Path: "controllers[0]", Message: "missing required field 'id'" });
        Assert.Contains(errors, e => e is { Line: 4, Column: 5, Path: "controllers[0].name", Message: "unknown field 'name' (expected id, endpointUrl, credentialsRef)" });
    }

    [Fact]
    public void Misspelt_field_gets_a_suggestion_and_no_second_missing_error()
    {
        var error = SingleError(Change("    cycleTime: 10", "    cycletime: 10"));
        AssertAt(error, 9, 5, "stations[0].cycletime", "unknown field 'cycletime' (did you mean 'cycleTime'?)");
    }

    [Fact]
    public void Distribution_parameter_path_names_the_field()
    {
        var error = SingleError(Change("mean: 5,", "mean: -5,"));
        AssertAt(error, 12, 46, "stations[1].cycleTime.mean", "mean must be above 0, found -5");
    }

    [Fact]
    public void Unknown_distribution_lists_the_distributions()
    {
        var error = SingleError(Change("distribution: normal", "distribution: gauss"));
        AssertAt(error, 12, 32, "stations[1].cycleTime.distribution", "unknown distribution 'gauss' (expected fixed, normal, uniform, exponential)");
    }

    [Fact]
    public void Model_kind_must_suit_the_signal_direction_and_type()
    {
        var errors = Errors(Change("direction: controllerOutput\n    nodeId: ns=2;s=Mini.st2.running", "direction: controllerInput\n    nodeId: ns=2;s=Mini.st2.running"));
        var error = Assert.Single(errors);
        AssertAt(error, 25, 20, "signals[1].model.kind", "a controllerInput signal is written by the gateway, so its model must be setpoint, not 'state'");

        error = SingleError(Change("model: { kind: state, is: processing }", "model: { kind: temperature, ambient: 20, running: 40, timeConstant: 60 }"));
        AssertAt(error, 25, 20, "signals[1].model.kind", "model kind 'temperature' needs a numeric dataType, not Boolean");
    }

    [Fact]
    public void Follow_source_may_point_forward_but_must_exist()
    {
        var valid = Errors(Change("model: { kind: motorCurrent, idle: 1, load: 5 }", "model: { kind: follow, source: st2.speed }")
            .Replace("topology:", """
              - id: st2.speed
                dataType: Float
                direction: controllerOutput
                nodeId: ns=2;s=Mini.st2.speed
            topology:
            """, StringComparison.Ordinal));
        Assert.Empty(valid);

        var error = SingleError(Change("model: { kind: motorCurrent, idle: 1, load: 5 }", "model: { kind: follow, source: st2.speed }"));
        AssertAt(error, 20, 36, "signals[0].model.source", "follow source references unknown signal 'st2.speed' (did you mean 'st1.speed'?)");
    }

    [Fact]
    public void Signal_id_must_name_a_station()
    {
        var error = SingleError(Change("- id: st1.speed", "- id: st3.speed"));
        AssertAt(error, 14, 9, "signals[0].id", "signal id 'st3.speed' names unknown station 'st3' (did you mean 'st1'?)");

        error = SingleError(Change("- id: st1.speed", "- id: speed"));
        AssertAt(error, 14, 9, "signals[0].id", "signal id 'speed' must be 'station.name' (for example cnc1.spindleSpeed), or 'line.name' for a line-wide signal");
    }

    [Fact]
    public void Unconnected_station_is_reported()
    {
        var yaml = Change("  - id: st2\n", "  - id: st3\n    kind: buffer\n    capacity: 3\n  - id: st2\n");
        var error = SingleError(yaml);
        AssertAt(error, 10, 9, "stations[1].id", "station 'st3' is not connected to the part flow (no topology edge names it)");
    }

    [Fact]
    public void Yaml_syntax_error_has_its_position()
    {
        var error = SingleError(Change("name: Mini line", "name: 'Mini line"));
        Assert.Equal(2, error.Line);
        Assert.Equal(7, error.Column);
        Assert.Equal("", error.Path);
        Assert.StartsWith("YAML syntax error: ", error.Message, StringComparison.Ordinal);
        Assert.Equal("mini.yaml:2:7: " + error.Message, error.ToString());
    }

    [Fact]
    public void Yaml_error_in_an_unclosed_flow_collection_has_a_position()
    {
        var error = SingleError(Change("{ low: 0, high: 100 }", "[ 0, 100"));
        Assert.StartsWith("YAML syntax error", error.Message, StringComparison.Ordinal);
        Assert.InRange(error.Line, 18, 19);
    }

    [Fact]
    public void Duplicate_yaml_key_is_named()
    {
        var error = SingleError(Change("    kind: machine", "    id: again"));
        AssertAt(error, 8, 5, "", "duplicate key 'id' (a mapping names each key once)");
    }

    [Fact]
    public void Undefined_alias_is_reported_where_it_is_used()
    {
        var error = SingleError(Change("unit: rpm", "unit: *speedUnit"));
        Assert.Equal((16, 11), (error.Line, error.Column));
    }

    [Fact]
    public void Empty_file_and_second_document_are_rejected()
    {
        AssertAt(SingleError(""), 1, 1, "", "the file is empty: expected a line definition (a mapping with id, name, controllers, stations, signals, topology)");
        var error = SingleError(MiniLine + "---\nid: other\n");
        Assert.Equal(29, error.Line);
        Assert.StartsWith("a line file holds one YAML document", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Top_level_must_be_a_mapping()
    {
        AssertAt(SingleError("- a\n- b\n"), 1, 1, "",
            "expected a line definition as a mapping of fields (id, name, description, controllers, stations, signals, robots, interlocks, topology), found a list");
    }

    [Fact]
    public void Several_problems_are_listed_at_once_in_file_order()
    {
        const string yaml = """
            id: broken
            name: Broken line
            controllers:
              - id: plc1
                endpointUrl: tcp://10.0.0.5:4840
            stations:
              - id: st1
                kind: robotarm
                cycleTime: { distribution: normal, mean: 0, stddev: 1 }
              - id: st2
                kind: inspection
                cycletime: 4
                rejectRate: 1.5
            signals:
              - id: st1.temperature
                dataType: Float64
                direction: controllerOutput
                nominalRange: { low: 80, high: 20 }
                nodeId: ns=2;x=st1.temperature
              - id: st1.temperature
                dataType: Double
                direction: sideways
                nodeId: ns=2;s=st1.temperature2
            topology:
              - { from: st1, to: st9 }
            interlocks:
              - id: guard
                when: { signal: st2.doorOpen, equals: true }
                forbid: { signal: st1.temperature, above: 50 }

            """;
        var errors = LineDefinitionLoader.Parse(yaml, "broken.yaml").Errors;
        var expected = new (int Line, int Column, string Path, string Message)[]
        {
            (5, 18, "controllers[0].endpointUrl", "controller endpoint must be opc.tcp://host:port, found 'tcp://10.0.0.5:4840'"),
            (8, 11, "stations[0].kind", "unknown station kind 'robotarm' (expected machine, conveyor, buffer, robot, inspection)"),
            (9, 46, "stations[0].cycleTime.mean", "mean must be above 0, found 0"),
            (12, 5, "stations[1].cycletime", "unknown field 'cycletime' (did you mean 'cycleTime'?)"),
            (13, 17, "stations[1].rejectRate", "rejectRate must be a fraction from 0 to 1, found 1.5"),
            (16, 15, "signals[0].dataType", "dataType 'Float64' is not an OPC UA built-in type (did you mean 'Double'?)"),
            (18, 19, "signals[0].nominalRange", "nominalRange low 80 is above high 20"),
            (19, 13, "signals[0].nodeId", "nodeId 'ns=2;x=st1.temperature' is not a valid node id: unknown identifier type 'x=' (expected 'i=', 's=', 'g=' or 'b=')"),
            (20, 9, "signals[1].id", "duplicate signal id 'st1.temperature' (first defined at line 15)"),
            (22, 16, "signals[1].direction", "unknown direction 'sideways' (expected controllerInput, controllerOutput)"),
            (25, 22, "topology[0].to", "topology edge references unknown station 'st9' (did you mean 'st1'?)"),
            (28, 21, "interlocks[0].when.signal", "interlock references unknown signal 'st2.doorOpen'"),
        };
        Assert.Equal(expected, errors.Select(e => (e.Line, e.Column, e.Path, e.Message)).ToArray());
        Assert.All(errors, e => Assert.Equal("broken.yaml", e.File));
    }

    [Fact]
    public void Exception_lists_every_problem_as_file_line_column_path_message()
    {
        var result = LineDefinitionLoader.Parse(Change("kind: machine", "kind: robotarm").Replace("dataType: Double", "dataType: Float64", StringComparison.Ordinal), "mini.yaml");
        var exception = Assert.Throws<LineDefinitionException>(result.GetDefinitionOrThrow);
        Assert.Equal(2, exception.Errors.Length);
        Assert.Equal(
            """
            2 problems in line definitions:
            mini.yaml:8:11: stations[0].kind: unknown station kind 'robotarm' (expected machine, conveyor, buffer, robot, inspection)
            mini.yaml:15:15: signals[0].dataType: dataType 'Float64' is not an OPC UA built-in type (did you mean 'Double'?)
            """.ReplaceLineEndings("\n"),
            exception.Message);
    }

    internal static string Change(string oldText, string newText)
    {
        var at = MiniLine.IndexOf(oldText, StringComparison.Ordinal);
        Assert.True(at >= 0 && MiniLine.IndexOf(oldText, at + 1, StringComparison.Ordinal) < 0, $"'{oldText}' must occur once in the mini line");
        return MiniLine.Replace(oldText, newText, StringComparison.Ordinal);
    }

    internal static IReadOnlyList<LineDefinitionError> Errors(string yaml) => LineDefinitionLoader.Parse(yaml, "mini.yaml").Errors;

    private static LineDefinitionError SingleError(string yaml)
    {
        var errors = Errors(yaml);
        Assert.True(errors.Count == 1, $"expected one error, found {errors.Count}:\n{string.Join('\n', errors)}");
        return errors[0];
    }

    private static void AssertAt(LineDefinitionError error, int line, int column, string path, string message)
    {
        Assert.Equal(message, error.Message);
        Assert.Equal(path, error.Path);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Equal("mini.yaml", error.File);
    }
}
