namespace TwinGateway.Host.Commissioning;

/// <summary>Wires the commissioning gate: its records (audit log, change store) in the data folder.</summary>
internal static class CommissioningWiring
{
    public static void AddTwinGatewayCommissioning(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CommissioningStores>();
    }
}
