using System.CommandLine;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace TwinGateway.Host.Cli;

/// <summary>
/// What every command that talks to a running gateway shares: the API token, the channel that sends it on every call,
/// and the exit codes of its errors.
/// </summary>
internal static class GatewayCalls
{
    public const string TokenVariable = "TWINGW_TOKEN";

    /// <summary>Every command that calls the gateway adds this option.</summary>
    public static readonly Option<string?> Token = new("--token") { Description = $"API token (default: the {TokenVariable} environment variable); create one with `twingw users add`" };

    /// <summary>
    /// How to get a token, for the error of a command run without one. The gateway's own Unauthenticated message says
    /// the same for other clients.
    /// </summary>
    public const string HowToGetAToken =
        $"pass an API token with --token or set {TokenVariable}; create one with `twingw users add NAME --role viewer` in the gateway's working directory "
        + "(the first admin: `twingw users add admin --role admin`), or ask the gateway's admin";

    /// <summary>The token of <c>--token</c>, else of <c>TWINGW_TOKEN</c>; null when neither is set.</summary>
    public static string? ResolveToken(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var token = parse.GetValue(Token);
        if (string.IsNullOrWhiteSpace(token))
        {
            token = Environment.GetEnvironmentVariable(TokenVariable);
        }

        return string.IsNullOrWhiteSpace(token) ? null : token.Trim();
    }

    /// <summary>
    /// Runs <paramref name="body"/> with a call invoker to <paramref name="server"/> that sends the token on every call.
    /// No token: exit 2 before any call, with how to get one. No gateway there: exit 2 with how to start one; the caller
    /// cancelled: 130; any other gRPC error (Unauthenticated and PermissionDenied included): exit 1 with its status and detail.
    /// </summary>
    public static async Task<int> Guard(ParseResult parse, string server, Func<CallInvoker, Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (ResolveToken(parse) is not { } token)
        {
            await Console.Error.WriteLineAsync($"error: no API token for {server}: {HowToGetAToken}").ConfigureAwait(false);
            return 2;
        }

        using var channel = GrpcChannel.ForAddress(server);

        // Call credentials would need TLS; the gateway's default endpoint is h2c on loopback, so the header is added here.
        var invoker = channel.Intercept(metadata =>
        {
            metadata.Add("authorization", "Bearer " + token);
            return metadata;
        });
        try
        {
            return await body(invoker).ConfigureAwait(false);
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
