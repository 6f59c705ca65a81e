using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Core.Identity;

namespace TwinGateway.Interop.Tests.Commissioning;

/// <summary>A validation policy with problems stops its line's changes, never the gateway.</summary>
public sealed class PolicyProblemTests : IAsyncLifetime
{
    private readonly GatewayUnderTest _gateway = new();
    private readonly TempFolder _policies = new();

    public async Task InitializeAsync()
    {
        var policy = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "config", "validation", "demo-line.yaml"));
        await File.WriteAllTextAsync(_policies.File("demo-line.yaml"), policy.Replace("seeds: 16", "seeds: 1", StringComparison.Ordinal));
        await _gateway.StartAsync(_gateway.DemoYaml, settings: new Dictionary<string, string?> { ["Commissioning:ValidationDirectory"] = _policies.Path });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _policies.Dispose();
    }

    [Fact]
    public async Task The_gateway_runs_warns_and_refuses_the_lines_changes_with_the_policys_problems()
    {
        var lines = new LineService.LineServiceClient(_gateway.CallInvoker!);
        Assert.Equal("demo-line", Assert.Single((await lines.ListLinesAsync(new ListLinesRequest())).Lines).Id);

        var warning = await WaitForAsync(() => _gateway.Log.Entries.FirstOrDefault(e => e.Id.Id == 6121));
        Assert.Contains("seeds", warning.Message, StringComparison.Ordinal);

        var erin = new CommissioningService.CommissioningServiceClient(_gateway.CallInvokerFor(await _gateway.AddUserAsync("erin", Role.Engineer)));
        var ex = await Assert.ThrowsAsync<RpcException>(() => erin.SubmitChangeAsync(new SubmitChangeRequest
        {
            Change = new ChangeSpec
            {
                Line = "demo-line",
                Title = "t",
                Reason = "r",
                Operations = { new Operation { Set = new SetOperation { Signal = "robot2.speedOverride", Value = new Value { Number = 90 } } } },
            },
        }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Contains("validation policy of line 'demo-line' has problems", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("seeds must be from 2", ex.Status.Detail, StringComparison.Ordinal);
    }

    private static async Task<T> WaitForAsync<T>(Func<T?> probe)
        where T : class
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            if (probe() is { } found)
            {
                return found;
            }

            await Task.Delay(50, timeout.Token);
        }
    }
}
