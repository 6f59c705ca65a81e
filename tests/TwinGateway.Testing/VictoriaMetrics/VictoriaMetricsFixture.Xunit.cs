namespace TwinGateway.Testing;

/// <summary>The xunit side of the fixture: started before a class's tests, stopped after them.</summary>
public sealed partial class VictoriaMetricsFixture : IAsyncLifetime
{
    public Task InitializeAsync() => StartAsync();

    Task IAsyncLifetime.DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }
}
