using Grpc.Core;
using Grpc.Net.Client;

namespace TwinGateway.Host.Cli;

/// <summary>What every command that talks to a running gateway shares: the channel and the exit codes of its errors.</summary>
internal static class GatewayCalls
{
    /// <summary>
    /// Runs <paramref name="body"/> on a channel to <paramref name="server"/>. No gateway there: exit 2 with how to start
    /// one; the caller cancelled: 130; any other gRPC error: exit 1 with its status and detail.
    /// </summary>
    public static async Task<int> Guard(string server, Func<GrpcChannel, Task<int>> body)
    {
        using var channel = GrpcChannel.ForAddress(server);
        try
        {
            return await body(channel).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && ex.Status.DebugException is not null)
        {
            // A connection failure; an Unavailable the gateway itself sends (the recorder failing) has its own detail.
            await Console.Error.WriteLineAsync($"error: no gateway at {server} ({ex.Status.Detail}); start one with `twingw run`").ConfigureAwait(false);
            return 2;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled)
        {
            await Console.Error.WriteLineAsync("cancelled").ConfigureAwait(false);
            return 130;
        }
        catch (RpcException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Status.StatusCode}: {ex.Status.Detail}").ConfigureAwait(false);
            return 1;
        }
    }
}
