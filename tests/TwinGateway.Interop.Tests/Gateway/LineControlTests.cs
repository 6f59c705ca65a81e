using Microsoft.Extensions.DependencyInjection;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using TwinGateway.Gateway;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>
/// A running line as the commissioning gate's <see cref="ILineControl"/>, against the demo line's simulated PLC: reads
/// and writes over the link's session, every problem a result that names the node, the controller and the status.
/// </summary>
public sealed class LineControlTests : IAsyncLifetime
{
    private readonly GatewayUnderTest _gateway = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private async Task<ILineControl> StartAsync(bool simulate)
    {
        await _gateway.StartAsync(_gateway.DemoYaml, simulate);
        var line = _gateway.App!.Services.GetRequiredService<LineRegistry>().Find("demo-line");
        Assert.NotNull(line);
        Assert.Null(_gateway.App.Services.GetRequiredService<LineRegistry>().Find("no-such-line"));
        return line;
    }

    private static ControllerNode NodeOf(ILineControl line, string signalId)
    {
        var signal = line.Definition.FindSignal(signalId)!;
        return new ControllerNode(signal.ControllerId, signal.NodeId, signal.DataType);
    }

    [Fact]
    public async Task A_controller_that_is_not_connected_is_a_problem_per_item_not_an_exception()
    {
        var line = await StartAsync(simulate: false);
        var node = NodeOf(line, "robot2.speedOverride");

        var read = Assert.Single(await line.ReadAsync([node], CancellationToken.None));
        var write = Assert.Single(await line.WriteAsync([new ControllerWrite(node, ChangeValue.Of(90))], CancellationToken.None));
        var call = await line.CallAsync(new ControllerCall(null, "ns=1;s=DemoLine.Faults", "ns=1;s=DemoLine.Faults.ClearFaults", []), CancellationToken.None);

        Assert.StartsWith("controller plc1 is not connected (state ", read.Problem, StringComparison.Ordinal);
        Assert.Null(read.Value);
        Assert.StartsWith("controller plc1 is not connected (state ", write.Problem, StringComparison.Ordinal);
        Assert.StartsWith("controller plc1 is not connected (state ", call.Problem, StringComparison.Ordinal);
        Assert.Null(line.GetRealValue("robot2.speedOverride"));
        Assert.Equal(0, Assert.Single(line.GetCredibility(["robot2.payload"], TimeSpan.FromSeconds(5))).Samples);
    }

    [Fact]
    public async Task Reads_writes_and_calls_go_to_the_PLC_and_every_refusal_names_the_node_the_controller_and_the_status()
    {
        var line = await StartAsync(simulate: true);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (line.GetRealValue("line.shiftTarget") is null)
        {
            await Task.Delay(100, timeout.Token);
        }

        var shiftTarget = NodeOf(line, "line.shiftTarget");
        var autoMode = NodeOf(line, "line.autoMode");
        var unknown = new ControllerNode("plc1", "ns=1;s=DemoLine.nothing", SignalDataType.Double);
        var reads = await line.ReadAsync([shiftTarget, autoMode, unknown, unknown with { ControllerId = "plc9" }], CancellationToken.None);
        Assert.Equal(ChangeValue.Of(700), reads[0].Value);
        Assert.Equal(ChangeValue.Of(true), reads[1].Value);
        Assert.Equal("BadNodeIdUnknown: reading node ns=1;s=DemoLine.nothing on controller plc1", reads[2].Problem);
        Assert.Equal("line demo-line has no controller 'plc9' (it has: plc1)", reads[3].Problem);

        var writes = await line.WriteAsync(
        [
            new ControllerWrite(shiftTarget, ChangeValue.Of(650)),
            new ControllerWrite(shiftTarget, ChangeValue.Of(1e10)),
            new ControllerWrite(shiftTarget, ChangeValue.Of("many")),
            new ControllerWrite(NodeOf(line, "line.emergencyStop"), ChangeValue.Of(true)),
        ], CancellationToken.None);
        Assert.Null(writes[0].Problem);
        Assert.StartsWith("BadOutOfRange: 10000000000 is outside Int32's range", writes[1].Problem, StringComparison.Ordinal);
        Assert.Contains("controller plc1; nothing was sent", writes[1].Problem, StringComparison.Ordinal);
        Assert.StartsWith("BadTypeMismatch: node ns=1;s=DemoLine.line.shiftTarget is Int32", writes[2].Problem, StringComparison.Ordinal);
        Assert.Equal("BadNotWritable: controller plc1 refused writing true to node ns=1;s=DemoLine.line.emergencyStop", writes[3].Problem);
        Assert.Equal(ChangeValue.Of(650), Assert.Single(await line.ReadAsync([shiftTarget], CancellationToken.None)).Value);

        var refused = await line.CallAsync(new ControllerCall(null, "ns=1;s=DemoLine.Faults", "ns=1;s=DemoLine.Faults.InjectJam", [ChangeValue.Of("no-such-station")]), CancellationToken.None);
        Assert.StartsWith("BadInvalidArgument: calling method ns=1;s=DemoLine.Faults.InjectJam on object ns=1;s=DemoLine.Faults at controller plc1", refused.Problem, StringComparison.Ordinal);
        var cleared = await line.CallAsync(new ControllerCall("plc1", "ns=1;s=DemoLine.Faults", "ns=1;s=DemoLine.Faults.ClearFaults", []), CancellationToken.None);
        Assert.Null(cleared.Problem);

        // The twin's copy is independent and runs the same definition; a running total (counted from when each side
        // started) has no credibility record.
        var snapshot = line.SnapshotTwin();
        Assert.Same(line.Definition, snapshot.Line);
        Assert.Equal(0, Assert.Single(line.GetCredibility(["robot2.partsProduced"], TimeSpan.FromSeconds(5))).Samples);
        Assert.Null(Assert.Single(line.GetCredibility(["no.such"], TimeSpan.FromSeconds(5))).MeanScaledError);
    }
}
