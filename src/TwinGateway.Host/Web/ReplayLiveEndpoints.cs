namespace TwinGateway.Host.Web;

/// <summary>The console's live (server-sent events) and data endpoints of one area; each declares its RPC with RequireRpc.</summary>
internal static class ReplayLiveEndpoints
{
    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
    }
}
